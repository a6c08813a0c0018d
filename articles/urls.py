"""Reader-facing URLs. Every route is named; reader code and templates link through reading.site_url
({% site_url %}).

Listings and feeds of a category, source, tag or stock are one view each (views.listing,
feeds.feed), told which entry of reading.SCOPES they serve by the route's `scope`. The old site's
URLs (Jekyll permalinks, `/category/<slug>.html`, `/<slug>/`, share links and `/feed.xml`) keep
working as permanent redirects. The root-level `/<slug>/` comes last so it never shadows a route
of the site's own.
"""

from django.contrib.sitemaps import views as sitemap_views
from django.urls import path, re_path, register_converter
from django.views.generic import RedirectView

from . import feeds, views
from .reading import reader_page
from .sitemaps import SITEMAPS


class FeedFormatConverter:
    regex = "rss|atom"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class CategorySlugConverter:
    """Any category slug the database may hold. New slugs are validated to one path segment, but
    older rows may hold `/` (`A股/港股`) or be empty: their pages, and every page linking them,
    must still work."""

    regex = "(?s:.*)"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FeedFormatConverter, "feed_format")
register_converter(CategorySlugConverter, "category_slug")

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("news/", views.listing, name="latest"),
    path("hot/", views.most_read, name="most_read"),
    path("news/<slug:slug>/", views.post_detail, name="post_detail"),
    path("preview/<int:pk>/", views.post_preview, name="post_preview"),
    path("category/<category_slug:slug>/", views.listing, {"scope": "category"}, name="category_detail"),
    path("source/<str:slug>/", views.listing, {"scope": "source"}, name="source_detail"),
    path("tag/<str:slug>/", views.listing, {"scope": "tag"}, name="tag_detail"),
    path("stock/<int:market>.<str:code>/", views.listing, {"scope": "stock"}, name="stock_detail"),
    path("search/", views.search, name="search"),
    path("search/atom.xml", feeds.search_feed, name="search_feed"),
    path("opensearch.xml", views.opensearch, name="opensearch"),
    path("api/new-posts", views.new_posts, name="new_posts"),
    path("api/views/<int:pk>", views.count_view, name="count_view"),
    # Feeds: /rss.xml, /atom.xml and the same under each listing.
    path("<feed_format:format>.xml", feeds.feed, name="feed"),
    path(
        "category/<category_slug:slug>/<feed_format:format>.xml",
        feeds.feed,
        {"scope": "category"},
        name="category_feed",
    ),
    path("source/<str:slug>/<feed_format:format>.xml", feeds.feed, {"scope": "source"}, name="source_feed"),
    path("tag/<str:slug>/<feed_format:format>.xml", feeds.feed, {"scope": "tag"}, name="tag_feed"),
    path("stock/<int:market>.<str:code>/<feed_format:format>.xml", feeds.feed, {"scope": "stock"}, name="stock_feed"),
    # For crawlers.
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path(
        "sitemap.xml",
        reader_page("sitemap_index")(sitemap_views.index),
        {"sitemaps": SITEMAPS, "sitemap_url_name": "articles:sitemap"},
        name="sitemap_index",
    ),
    path(
        "sitemap-<section>.xml",
        reader_page("sitemap")(sitemap_views.sitemap),
        {"sitemaps": SITEMAPS, "template_name": "sitemaps/sitemap.xml"},
        name="sitemap",
    ),
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
