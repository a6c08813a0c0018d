"""Root URL configuration: the admin, the JSON API (articles/api/, namespace "api"), then the reader site
(articles/urls.py, sitemaps and robots.txt included)."""

import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from articles.api import api

admin.site.site_header = f"{settings.SITE_NAME} 编辑后台"
admin.site.site_title = settings.SITE_NAME
admin.site.index_title = "内容管理"

handler500 = "articles.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("articles.urls")),
]

if settings.SERVE_MEDIA:
    # A local checkout has Django serve uploads, DEBUG on or off; in production the proxy does.
    media = re_path(
        rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}
    )
    urlpatterns = [media, *urlpatterns]
