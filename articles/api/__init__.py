"""The versioned JSON API, `/api/v1/`: reads for apps (`reads`) and the crawler's ingest (`ingest`).

Built with django-ninja: the endpoints are typed functions, and the OpenAPI 3 document
(`/api/v1/openapi.json`) and its page (`/api/v1/docs`, served from the site's own static files) are
generated from those types, so they cannot drift from the code.
"""

from django.conf import settings
from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.renderers import JSONRenderer

from .ingest import router as ingest_router
from .reads import router as reads_router


class UnicodeJSON(JSONRenderer):
    # Chinese as UTF-8, not \u escapes: a third of the bytes, and readable in a terminal.
    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=UnicodeJSON(),
    title=f"{settings.SITE_NAME} API",
    version="1",
    description=(
        "财经资讯的 JSON 接口。读取接口公开、可跨域（CORS），响应带 ETag 与 Last-Modified，"
        "支持条件请求（304）；列表按游标翻页，每页最多 100 条。"
        "写入接口 `POST /api/v1/ingest` 供爬虫使用，需在后台创建的 API 密钥（`Authorization: Bearer …`）。"
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("", reads_router)
api.add_router("", ingest_router)


@api.exception_handler(ValidationError)
def bad_request(request, error):
    """A parameter or body that does not fit the schema is a 400, saying which one and why."""
    problems = "；".join(
        f"{'.'.join(str(part) for part in problem.get('loc', ())[1:]) or '请求'}: {problem.get('msg', '')}"
        for problem in error.errors
    )
    return api.create_response(request, {"detail": f"请求参数有误：{problems}"}, status=400)
