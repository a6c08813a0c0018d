"""RSS 2.0 and Atom feeds of the newest published posts: the whole site, and each category, source, tag and stock.

One Feed class serves every scope in reading.SCOPES, and both formats: one instance per format,
chosen by the URL's `format`. Links are absolute on SITE_URL, as canonical links are. Feeds
answer conditional GETs like pages do.
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.encoding import escape_uri_path
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.utils.http import urlencode

from . import freshness
from .reading import (
    LINKED_FRAGMENT_SECONDS,
    SCOPES,
    absolute_url,
    depends_on,
    reader_page,
    scoped_posts,
    set_last_modified,
    site_state,
    site_url,
)
from .search import Filters, QueryError, SearchError, parse_query, search

FEED_TYPES = {"rss": Rss201rev2Feed, "atom": Atom1Feed}
ITEMS = 30


class PostFeed(Feed):
    """The newest posts of one scope's object, or of the whole site. The object a feed is about is
    a (scope, object) pair from reading.SCOPES, or None for the whole site."""

    def __init__(self, feed_type):
        super().__init__()
        self.feed_type = feed_type

    def get_object(self, request, scope=None, **kwargs):
        if scope is None:
            return None
        scope = SCOPES[scope]
        return scope, scope.find(request, **kwargs)

    def items(self, about):
        posts = about[0].posts(about[1]) if about else scoped_posts()
        return list(posts.select_related("source").prefetch_related("tags").defer("body")[:ITEMS])

    def title(self, about):
        return f"{about[0].heading(about[1])} - {settings.SITE_NAME}" if about else settings.SITE_NAME

    def description(self, about):
        return about[0].describe(about[1]) if about else "财经新闻：A 股、港股、美股与宏观经济的最新资讯"

    subtitle = description

    def link(self, about):
        return absolute_url(about[0].url(about[1]) if about else site_url("articles:home"))

    def feed_url(self, about):
        return None

    def item_title(self, post):
        return post.title

    def item_description(self, post):
        # Summaries are plain text, and both formats carry HTML here (RSS by custom, Atom as
        # type="html"): escaped, a summary reads as the text it is, never as markup.
        return escape(post.summary)

    def item_link(self, post):
        return absolute_url(post.get_absolute_url())

    def item_guid(self, post):
        return absolute_url(post.get_absolute_url())

    def item_pubdate(self, post):
        return post.published_at

    def item_updateddate(self, post):
        # Feed readers show an entry again when its <updated> moves: only a correction should do that.
        return post.announced_at

    def item_author_name(self, post):
        return post.source.name if post.source else None

    def item_categories(self, post):
        return [tag.name for tag in post.tags.all()]

    def get_feed(self, obj, request):
        feed = super().get_feed(obj, request)
        feed.feed["language"] = "zh-cn"
        return feed


FEEDS = {name: PostFeed(feed_type) for name, feed_type in FEED_TYPES.items()}


class SearchFeed(PostFeed):
    """The newest posts a search finds, for readers who follow a term: the object is (query text, filters)."""

    def get_object(self, request):
        return request.GET.get("q", ""), Filters.from_params(request.GET)

    def items(self, about):
        text, filters = about
        return [hit.post for hit in search(text, filters, sort="new").hits]

    def title(self, about):
        return f"搜索「{' '.join(about[0].split())}」 - {settings.SITE_NAME}"

    def description(self, about):
        return f"{settings.SITE_NAME}中含有「{' '.join(about[0].split())}」的最新文章。"

    subtitle = description

    def link(self, about):
        return absolute_url(f"{site_url('articles:search')}?{urlencode({'q': about[0], **about[1].params()})}")

    def item_categories(self, post):
        return [post.category.name]


SEARCH_FEED = SearchFeed(Atom1Feed)


@reader_page("feed")
def search_feed(request):
    """An Atom feed of a search (`/search/atom.xml?q=…`, with the search page's filters): its newest posts.
    A query or filter the search cannot use is a 400."""
    try:
        parse_query(request.GET.get("q", ""))
        Filters.from_params(request.GET)
    except (QueryError, SearchError) as error:
        return render(request, "400.html", {"message": str(error)}, status=400)
    response = SEARCH_FEED(request)
    return set_last_modified(response, site_state(request).last_change)


@reader_page("feed")
def feed(request, format, **kwargs):
    """A feed as RSS or Atom, by the URL's `format`: the whole site's, or with `scope` and its URL
    arguments, one category's, source's, tag's or stock's.

    A feed shows other posts, so, like the home page's blocks, its XML is kept under the site's
    last change and built again only after something changed.
    """
    # Its XML is kept under the site's versions, so the page depends on every post too.
    depends_on(request, freshness.SITE)
    state = site_state(request)
    # Not {% cache %}: Django's syndication framework writes the XML, no template.
    key = f"feed:{escape_uri_path(request.path)}:{state.key}"
    xml = cache.get(key)
    if xml is None:
        xml = FEEDS[format](request, **kwargs).content
        cache.set(key, xml, state.keep_seconds(LINKED_FRAGMENT_SECONDS))
    response = HttpResponse(xml, content_type=FEED_TYPES[format].content_type)
    # The site's last change, not the newest item's date, so a removed item also counts.
    return set_last_modified(response, state.last_change)
