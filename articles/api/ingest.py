"""The crawler's ingest: `POST /api/v1/ingest` takes Jekyll posts, one or a batch of up to 500, and imports
them through the importer (`importer.import_files`), with the same parsing, sanitising, keys, hashes and
conflict protection as `import_posts`. Each post is written whole or not at all.

Authentication is an API key made in the admin (`models.APIKey`, scope "ingest"), sent as
`Authorization: Bearer finews_…`; each key has a request rate limit, and every request a size limit.
"""

import json
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone
from ninja import Router
from ninja import Status as Answer
from ninja.errors import HttpError
from ninja.security import HttpBearer
from pydantic import ValidationError as SchemaError

from articles.importer import Status
from articles.importer.files import MAX_POST_BYTES, PostFile
from articles.importer.importing import import_files
from articles.importer.report import Outcome
from articles.models import APIKey, Post
from articles.reading import absolute_url, forget_site_state

from .schemas import Error, IngestBatch, IngestFile, IngestResult

MAX_POSTS = 500
# A name as the crawler writes files: `2022-05-26-<id>.md`, or `-<id>.md` from runs with an empty time.
FILE_NAME = re.compile(r"[^/\\\x00-\x1f\x7f]{1,200}\.(?:md|markdown)")
JSON_TYPES = ("application/json",)
TEXT_TYPES = ("text/markdown", "text/plain")


class IngestKey(HttpBearer):
    """`Authorization: Bearer <key>` with an active key scoped to ingest; anything else is a 401."""

    def authenticate(self, request, token):
        return APIKey.objects.authenticate(token, APIKey.Scope.INGEST)


router = Router(tags=["写入"])

ONE_POST = IngestFile.model_json_schema()
REQUEST_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    ONE_POST,
                    {
                        "title": "IngestBatch",
                        "type": "object",
                        "properties": {
                            "posts": {"type": "array", "minItems": 1, "maxItems": MAX_POSTS, "items": ONE_POST}
                        },
                        "required": ["posts"],
                        "additionalProperties": False,
                    },
                ]
            }
        },
        "text/markdown": {
            "schema": {"type": "string", "description": "一篇 Jekyll 文件的全文；文件名由查询参数 name 给出"}
        },
    },
}


@router.post(
    "/ingest",
    auth=IngestKey(),
    response={200: IngestResult, 400: Error, 401: Error, 409: IngestResult, 413: Error, 415: Error, 429: Error},
    summary="写入文章（爬虫）",
    openapi_extra={
        "requestBody": REQUEST_BODY,
        "parameters": [
            {
                "in": "query",
                "name": "name",
                "required": False,
                "schema": {"type": "string"},
                "description": "text/markdown 请求体的文件名，如 2022-05-26-202205262391921712.md",
            }
        ],
    },
)
def ingest(request, response: HttpResponse):
    """导入 Jekyll 文章：一篇（`{"name": …, "text": …}`，或 `text/markdown` 请求体加 `?name=`）或一批
    （`{"posts": [...]}`，最多 500 篇）。与 `import_posts` 命令同一套导入逻辑：按导入键与资讯编号去重，
    内容未变的文件不会改动文章，编辑在后台改过的文章不会被覆盖（conflict）。

    每篇的结果：created、updated、unchanged、conflict、failed（附原因）或 skipped。一批中个别文件有误时
    仍返回 200，逐篇说明；单篇有误返回 400，编辑改过而未覆盖返回 409。每篇要么完整写入，要么不写。"""
    key = request.auth
    throttle(key)
    files, single = read_files(request)
    outcomes = []
    import_files(files, on_outcome=outcomes.append, reason=key.change_reason)
    # The importer reports unreadable files first: answer in the order the posts were sent.
    order = {}
    for position, file in enumerate(files):
        order.setdefault(file.path, position)
    outcomes.sort(key=lambda outcome: order.get(outcome.path, len(order)))
    if any(outcome.status in (Status.CREATED, Status.UPDATED) for outcome in outcomes):
        forget_site_state()
    result = {"summary": summary(outcomes), "posts": describe(outcomes)}
    if single and outcomes[0].status == Status.FAILED:
        raise HttpError(400, f"{outcomes[0].path}: {outcomes[0].reason}")
    if single and outcomes[0].status == Status.CONFLICT:
        return Answer(409, result)
    return result


def throttle(key):
    """At most API_INGEST_RATE_PER_MINUTE requests a minute for one key, else 429."""
    window = int(time.time() // 60)
    counter = f"api-ingest-rate:{key.pk}:{window}"
    cache.add(counter, 0, 90)
    try:
        count = cache.incr(counter)
    except ValueError:  # expired between add and incr: a new window
        count = 1
    if count > settings.API_INGEST_RATE_PER_MINUTE:
        raise HttpError(429, f"请求过于频繁：每个密钥每分钟最多 {settings.API_INGEST_RATE_PER_MINUTE} 次，请稍后再试。")


def read_files(request):
    """The request's posts as PostFiles (or failed Outcomes for unusable names and sizes), and whether it
    sent a single post; HttpError for a body too large (413), of another type (415) or malformed (400)."""
    limit = settings.API_INGEST_MAX_MB * 1024 * 1024
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        raise HttpError(400, "Content-Length 不是数字。") from None
    if declared > limit:
        raise HttpError(413, f"请求体超过 {settings.API_INGEST_MAX_MB} MB，请分批发送。")
    # Read at most one byte past the limit, whatever the request claims (a chunked body declares nothing).
    body = request.read(limit + 1)
    if len(body) > limit:
        raise HttpError(413, f"请求体超过 {settings.API_INGEST_MAX_MB} MB，请分批发送。")
    content_type = request.content_type or ""
    if content_type in TEXT_TYPES:
        name = request.GET.get("name", "")
        return [post_file(name, body)], True
    if content_type not in JSON_TYPES:
        raise HttpError(415, "请求体须为 application/json（一篇或一批）或 text/markdown（一篇，文件名在 ?name=）。")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise HttpError(400, "请求体不是有效的 JSON。") from None
    try:
        if isinstance(data, dict) and "posts" in data:
            posts = IngestBatch.model_validate(data).posts
            single = False
        else:
            posts = [IngestFile.model_validate(data)]
            single = True
    except SchemaError as error:
        problems = "；".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise HttpError(400, f"请求体格式不对：{problems}") from None
    if not posts:
        raise HttpError(400, "posts 为空。")
    if len(posts) > MAX_POSTS:
        raise HttpError(413, f"一批最多 {MAX_POSTS} 篇，这批有 {len(posts)} 篇，请分批发送。")
    return [post_file(post.name, post.text) for post in posts], single


def post_file(name, text):
    """A PostFile named `name` holding `text` (str or UTF-8 bytes), or the failed Outcome saying why not."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    shown = name[:200] or "(未命名)"
    if not FILE_NAME.fullmatch(name):
        reason = "name must be a post file name such as 2022-05-26-202205262391921712.md (no folders)"
        return Outcome(shown, Status.FAILED, reason=reason)
    if len(data) > MAX_POST_BYTES:
        return Outcome(shown, Status.FAILED, reason=f"larger than {MAX_POST_BYTES // (1024 * 1024)} MB: not a post")
    # Received now, as a file the crawler wrote now would have been modified now: of two versions of a
    # post with one date, the later one wins, here as in a directory.
    return PostFile(name, data, timezone.now())


def summary(outcomes):
    counts = dict.fromkeys(map(str, Status), 0)
    for outcome in outcomes:
        counts[str(outcome.status)] += 1
    return counts


def describe(outcomes):
    """Each outcome as the API reports it, with the post's page for posts that are published or scheduled."""
    keys = [outcome.key for outcome in outcomes if outcome.key]
    slugs = dict(Post.objects.filter(key__in=keys, status=Post.Status.PUBLISHED).values_list("key", "slug"))
    return [
        {
            "name": outcome.path,
            "status": str(outcome.status),
            "key": outcome.key,
            "reason": outcome.reason,
            "warnings": outcome.warnings,
            "twin": outcome.twin,
            "url": absolute_url(Post(slug=slugs[outcome.key]).get_absolute_url()) if outcome.key in slugs else None,
        }
        for outcome in outcomes
    ]
