"""Reader-facing URLs. Every route is named; code and templates use reverse()/{% url %}.

The old site's URLs (Jekyll permalinks, `/category/<slug>.html`, `/<slug>/`, share links and
`/feed.xml`) keep working as permanent redirects. The root-level `/<slug>/` comes last so it
never shadows a route of the site's own.
"""

from django.urls import path, re_path, register_converter
from django.views.generic import RedirectView

from . import feeds, views


class FeedFormatConverter:
    regex = "rss|atom"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FeedFormatConverter, "feed_format")

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("news/", views.latest, name="latest"),
    path("news/<slug:slug>/", views.post_detail, name="post_detail"),
    path("preview/<int:pk>/", views.post_preview, name="post_preview"),
    path("category/<str:slug>/", views.category_detail, name="category_detail"),
    path("source/<str:slug>/", views.source_detail, name="source_detail"),
    path("tag/<str:slug>/", views.tag_detail, name="tag_detail"),
    path("stock/<int:market>.<str:code>/", views.stock_detail, name="stock_detail"),
    path("search/", views.search, name="search"),
    path("api/new-posts", views.new_posts, name="new_posts"),
    # Feeds: /rss.xml, /atom.xml and the same under each listing.
    path("<feed_format:format>.xml", feeds.latest, name="feed"),
    path("category/<str:slug>/<feed_format:format>.xml", feeds.category, name="category_feed"),
    path("source/<str:slug>/<feed_format:format>.xml", feeds.source, name="source_feed"),
    path("tag/<str:slug>/<feed_format:format>.xml", feeds.tag, name="tag_feed"),
    path("stock/<int:market>.<str:code>/<feed_format:format>.xml", feeds.stock, name="stock_feed"),
    # The old site's URLs.
    path("html_News/NewsShare.html", views.share, name="share"),
    path("index.html", RedirectView.as_view(pattern_name="articles:home", permanent=True)),
    path("feed.xml", RedirectView.as_view(pattern_name="articles:feed", permanent=True), {"format": "atom"}),
    path("category/<str:slug>.html", views.legacy_category, name="legacy_category"),
    re_path(
        r"^(?P<category>[^/]+(?:/[^/]+)*)/(?P<year>\d{4})/(?P<month>\d{2})/(?P<day>\d{2})/(?P<key>[^/]+)\.html$",
        views.legacy_post,
        name="legacy_post",
    ),
    path("<str:slug>/", views.legacy_category, name="legacy_category_root"),
]
