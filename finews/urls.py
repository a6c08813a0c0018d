"""Root URL configuration: the admin, then the reader site."""

import re

from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps import views as sitemap_views
from django.urls import include, path, re_path
from django.views.static import serve

from articles.sitemaps import SITEMAPS
from articles.views import reader_page, robots_txt

admin.site.site_header = f"{settings.SITE_NAME} 编辑后台"
admin.site.site_title = settings.SITE_NAME
admin.site.index_title = "内容管理"

handler500 = "articles.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("robots.txt", robots_txt, name="robots_txt"),
    path(
        "sitemap.xml",
        reader_page(max_age=3600)(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap"},
        name="sitemap_index",
    ),
    path(
        "sitemap-<section>.xml",
        reader_page(max_age=600)(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS, "template_name": "sitemaps/sitemap.xml"},
        name="sitemap",
    ),
    path("", include("articles.urls")),
]

if settings.SERVE_MEDIA:
    # A local checkout has Django serve uploads, DEBUG on or off; in production the proxy does.
    media = re_path(
        rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}
    )
    urlpatterns = [media, *urlpatterns]
