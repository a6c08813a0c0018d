"""RSS 2.0 and Atom feeds of the newest published posts: the whole site, and each category, source, tag and stock.

Links are absolute on SITE_URL, as canonical links are. Feeds answer conditional GETs like pages do.
Each feed class serves both formats: one instance per format, chosen by the URL's `format`.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.encoding import escape_uri_path
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from taggit.models import Tag

from .models import Source, Stock
from .templatetags.news import absolute
from .views import LINKED_FRAGMENT_SECONDS, find_category, reader_page, scoped_posts, set_last_modified, site_state

FEED_TYPES = {"rss": Rss201rev2Feed, "atom": Atom1Feed}
ITEMS = 30


class PostFeed(Feed):
    """The newest posts of one scope (`kind`, or the whole site when None)."""

    kind = None

    def __init__(self, feed_type):
        super().__init__()
        self.feed_type = feed_type

    def get_object(self, request, **kwargs):
        return None

    def items(self, obj):
        posts = scoped_posts(self.kind, obj.pk if obj else None)
        return list(posts.select_related("source").prefetch_related("tags").defer("body")[:ITEMS])

    def title(self, obj):
        return f"{obj} - {settings.SITE_NAME}" if obj else settings.SITE_NAME

    def description(self, obj):
        return f"{obj}的最新财经资讯" if obj else "财经新闻：A 股、港股、美股与宏观经济的最新资讯"

    subtitle = description

    def link(self, obj):
        return absolute(obj.get_absolute_url() if obj else "/")

    def feed_url(self, obj):
        return None

    def item_title(self, post):
        return post.title

    def item_description(self, post):
        return post.summary

    def item_link(self, post):
        return absolute(post.get_absolute_url())

    def item_guid(self, post):
        return absolute(post.get_absolute_url())

    def item_pubdate(self, post):
        return post.published_at

    def item_updateddate(self, post):
        return post.updated_at

    def item_author_name(self, post):
        return post.source.name if post.source else None

    def item_categories(self, post):
        return [tag.name for tag in post.tags.all()]

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        feed.feed["language"] = "zh-cn"
        return feed


class CategoryFeed(PostFeed):
    kind = "category"

    def get_object(self, request, slug):
        return find_category(request, slug)


class SourceFeed(PostFeed):
    kind = "source"

    def get_object(self, request, slug):
        return get_object_or_404(Source, slug=slug)


class TagFeed(PostFeed):
    kind = "tag"

    def get_object(self, request, slug):
        return get_object_or_404(Tag.objects.filter(slug__iexact=slug))

    def link(self, obj):
        return absolute(reverse("articles:tag_detail", args=[obj.slug]))


class StockFeed(PostFeed):
    kind = "stock"

    def get_object(self, request, market, code):
        return get_object_or_404(Stock.objects.filter(market=market, code__iexact=code))


def feed_view(feed_class):
    """A view serving `feed_class` as RSS or Atom, by the URL's `format`.

    A feed shows other posts, so, like the home page's blocks, its XML is kept under the site's
    last change and built again only after something changed.
    """
    feeds = {name: feed_class(feed_type) for name, feed_type in FEED_TYPES.items()}

    @reader_page(max_age=300)
    def view(request, format, **kwargs):
        state = site_state(request)
        key = f"feed:{escape_uri_path(request.path)}:{state.key}"
        xml = cache.get(key)
        if xml is None:
            xml = feeds[format](request, **kwargs).content
            cache.set(key, xml, LINKED_FRAGMENT_SECONDS)
        response = HttpResponse(xml, content_type=FEED_TYPES[format].content_type)
        # The site's last change, not the newest item's date, so a removed item also counts.
        return set_last_modified(response, state.last_change)

    return view


latest = feed_view(PostFeed)
category = feed_view(CategoryFeed)
source = feed_view(SourceFeed)
tag = feed_view(TagFeed)
stock = feed_view(StockFeed)
