"""The reading layer: what every reader-facing part shares. Views, feeds, sitemaps, template tags
and URLs sit on this module; it sits on the models, and imports none of them.

- **Visibility**: every post a reader sees comes from `Post.objects.published()`, narrowed here
  by a scope (`scoped_posts`); nothing else decides what readers see.
- **Scopes**: the one table (`SCOPES`) of what a category, source, tag or stock listing is: how its
  URL finds the object, its canonical spelling, heading, description and feeds. One listing view
  and one feed class serve all four.
- **Cache policy**: how long browsers and shared caches may keep each kind of page (`MAX_AGE`),
  how long rendered fragments live, and the site state that keys what depends on other posts.
- **Decorators and links**: `reader_page` (Cache-Control, ETag, 304), `set_last_modified`,
  `site_url` (reverse() once per process), `feed_links` and `absolute_url`.
"""

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, wraps
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db.models import JSONField, Subquery
from django.db.models.functions import JSONObject
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from django.utils.safestring import mark_safe
from django.views.decorators.http import conditional_page
from taggit.models import Tag

from . import popularity
from .models import Category, Post, Source, Stock, StockChart, category_slug_key
from .routing import replica_reads

# Cache policy, in one place. Seconds browsers and shared caches may keep each kind of reader
# response (Cache-Control: public, max-age); pages also answer conditional GETs with 304.
MAX_AGE = {
    "listing": 60,  # home, listings, search: new posts arrive every minute
    "article": 300,
    "feed": 300,
    "sitemap": 600,
    "sitemap_index": 3600,
    "robots": 86400,
    "new_posts": 15,  # the listing's "N 条新资讯" poll
}
# Fragments keyed by their post's updated_at (a headline, an article's own HTML) change only when the
# post does; this bounds how long they show a renamed category, source or stock.
FRAGMENT_SECONDS = 600
# Fragments built from other posts are keyed by the site's last change; this bounds what a hard
# delete, which does not move it, leaves behind.
LINKED_FRAGMENT_SECONDS = 60
# The site state (menu and last change) is read from the database at most this often per cache.
SITE_STATE_SECONDS = 1
# The rendered category menu's key names everything it shows (SiteState.menu_key), so a cached menu
# is never stale; this only bounds how long one nobody asks for any more lingers.
MENU_SECONDS = 600
SITE_STATE_KEY = "articles:site-state"

PER_PAGE = 30
# Pinned posts shown above the home page's list and above a category's; further pins wait their turn.
HEADLINE_SLOTS = {Post.Pin.HOME: 3, Post.Pin.CATEGORY: 2}
# The "24 小时热门" list on the home page and beside articles.
MOST_READ_SHOWN = 10


@lru_cache(maxsize=4096)
def site_url(name, *args, **kwargs):
    """reverse(), once per process for each route and arguments: routes do not change while the site
    runs, and a page repeats the same links (menu, header, footer, feeds) on every request.
    Templates call it as {% site_url %}, with {% url %}'s arguments."""
    return reverse(name, args=args, kwargs=kwargs)


def absolute_url(path):
    """`path` on the site's public address (SITE_URL), for canonical links, feeds, Open Graph and JSON-LD."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL}{path}"


def feed_links(name="feed", **kwargs):
    """{format: URL} of a feed route, for <link rel="alternate"> and the page's feed buttons."""
    return {fmt: site_url(f"articles:{name}", **kwargs, format=fmt) for fmt in ("rss", "atom")}


class MenuCategory(NamedTuple):
    """A category as the site's menu and the category pages need it; plain data, cheap to cache."""

    pk: int
    slug: str
    name: str
    description: str
    url: str

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return self.url


class Breaking(NamedTuple):
    """The breaking-news post the banner on every reader page links to, until `until`."""

    title: str
    url: str
    until: datetime.datetime

    def as_json(self):
        return {"title": self.title, "url": self.url, "until": self.until.isoformat()}


@dataclass
class SiteState:
    """The category menu, when anything readers see last changed (None before the first post), and the
    breaking news running now (None without)."""

    categories: list[MenuCategory]
    last_change: datetime.datetime | None
    breaking: Breaking | None = None
    by_slug: dict = field(init=False, repr=False)
    menu_key: str = field(init=False)

    def __post_init__(self):
        self.by_slug = {category_slug_key(category.slug): category for category in self.categories}
        # The rendered menu is cached under this digest of what it shows, computed once with the
        # state: a new, renamed or moved category changes the menu but not last_change.
        shown = repr([(category.pk, category.url, category.name) for category in self.categories])
        self.menu_key = hashlib.md5(shown.encode(), usedforsecurity=False).hexdigest()

    @property
    def key(self):
        """A cache-key part that changes whenever pages may have."""
        return self.last_change.timestamp() if self.last_change else 0

    def category(self, slug):
        """The category spelled `slug` in any case, or None."""
        return self.by_slug.get(category_slug_key(slug))


def breaking_expression():
    """The running breaking news as one JSON value (title, slug, until), or NULL: an index probe."""
    newest = Post.objects.breaking().values(data=JSONObject(title="title", slug="slug", until="breaking_until"))
    return Subquery(newest[:1], output_field=JSONField())


def breaking_from_json(data):
    """A Breaking from breaking_expression()'s value (its time as PostgreSQL or SQLite writes it)."""
    if not data:
        return None
    until = parse_datetime(data["until"].replace(" ", "T"))
    if timezone.is_naive(until):
        until = timezone.make_aware(until, datetime.UTC)
    return Breaking(data["title"], site_url("articles:post_detail", data["slug"]), until)


def site_state(request=None):
    """The SiteState, from one query made at most once a second per cache, read once per request.

    Last-Modified has one-second resolution, so a second-old value loses nothing, and a new or
    renamed category reaches the menu within a second without any invalidation code. The breaking
    news banner comes with it: it shows or goes within a second of an editor's change, and a flag
    that runs out is a change of the site like an edit (PostQuerySet.last_change_expression).
    """
    state = getattr(request, "site_state", None)
    if state is None:
        state = cache.get(SITE_STATE_KEY)
        if state is None:
            rows = list(
                Category.objects.annotate(
                    last_change=Post.objects.last_change_expression(), breaking=breaking_expression()
                )
            )
            categories = [MenuCategory(c.pk, c.slug, c.name, c.description, c.get_absolute_url()) for c in rows]
            if categories:
                state = SiteState(categories, rows[0].last_change, breaking_from_json(rows[0].breaking))
            else:
                state = SiteState(categories, None)
            cache.set(SITE_STATE_KEY, state, SITE_STATE_SECONDS)
        if request is not None:
            request.site_state = state
    return state


def reader_page(kind):
    """Public caching for MAX_AGE[kind] seconds, an ETag of the content and 304 answers to conditional GETs;
    reads from a replica when there are replicas (articles/routing.py).

    The view sets Last-Modified to the site's last change; browsers send If-None-Match too, which
    Django checks first, so for them the content's ETag decides.
    """
    max_age = MAX_AGE[kind]

    def decorate(view):
        @wraps(view)
        def cached(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.has_header("Cache-Control"):
                patch_cache_control(response, public=True, max_age=max_age)
            return response

        return replica_reads(conditional_page(cached))

    return decorate


def set_last_modified(response, moment):
    """Last-Modified: `moment` (the site's last change), when there is one."""
    if moment:
        response.headers["Last-Modified"] = http_date(moment.timestamp())
    return response


def find_category(request, slug):
    """The category spelled `slug` in any case, from the site state when it is there, or Http404."""
    category = site_state(request).category(slug)
    if category is None:
        try:
            category = Category.objects.get_by_slug(slug)
        except Category.DoesNotExist:
            raise Http404("没有这个栏目") from None
    return category


def find_source(request, slug):
    return get_object_or_404(Source, slug=slug)


def find_tag(request, slug):
    """The tag spelled `slug` in any case (taggit makes slugs lower-case)."""
    return get_object_or_404(Tag.objects.filter(slug__iexact=slug))


def find_stock(request, market, code):
    """The stock `code` on `market`, in any case (`aapl` for `AAPL`)."""
    return get_object_or_404(Stock.objects.filter(market=market, code__iexact=code))


@dataclass(frozen=True)
class Scope:
    """A kind of listing narrower than the whole site: a category, source, tag or stock.

    Its listing route is `articles:<kind>_detail` and its feeds `articles:<kind>_feed`, both taking
    the URL arguments `url_kwargs` gives; a URL spelling them otherwise redirects to that spelling.
    """

    kind: str
    label: str  # the listing's kicker
    find: Callable  # (request, **URL arguments) → the object, or Http404
    url_kwargs: Callable  # object → the URL arguments of its canonical spelling
    describe: Callable  # object → what its listing and feeds are about
    template: str = "articles/post_list.html"
    extra_context: Callable = lambda obj: {}

    def posts(self, obj):
        return scoped_posts(self.kind, obj.pk)

    def heading(self, obj):
        return str(obj)

    def url(self, obj):
        return site_url(f"articles:{self.kind}_detail", **self.url_kwargs(obj))

    def feeds(self, obj):
        return feed_links(f"{self.kind}_feed", **self.url_kwargs(obj))


SCOPES = {
    scope.kind: scope
    for scope in [
        Scope(
            "category",
            "栏目",
            find=find_category,
            url_kwargs=lambda category: {"slug": category.slug},
            describe=lambda category: category.description or f"{category.name}：最新财经资讯。",
            extra_context=lambda category: {"current_category": category.pk},
        ),
        Scope(
            "source",
            "来源",
            find=find_source,
            url_kwargs=lambda source: {"slug": source.slug},
            describe=lambda source: f"来自{source.name}的最新财经资讯。",
        ),
        Scope(
            "tag",
            "标签",
            find=find_tag,
            url_kwargs=lambda tag: {"slug": tag.slug},
            describe=lambda tag: f"标签「{tag.name}」下的财经资讯。",
        ),
        Scope(
            "stock",
            "股票",
            find=find_stock,
            url_kwargs=lambda stock: {"market": stock.market, "code": stock.code},
            describe=lambda stock: f"{stock}的相关新闻与行情图。",
            template="articles/stock_detail.html",
            extra_context=lambda stock: {"stock": stock, "chart": StockChart(market=stock.market, code=stock.code)},
        ),
    ]
}


def scoped_posts(kind=None, pk=None):
    """What readers may see: published posts, narrowed to one category, source, tag or stock when
    `kind` names a scope (ValueError for an unknown one)."""
    posts = Post.objects.published()
    return posts.in_scope(kind, pk) if kind else posts


def page_rows(posts):
    """What a page needs of its posts on every request: ids and times. The rest is post_items()'s."""
    return posts.values_list("pk", "published_at", "updated_at", named=True)


def post_items(rows, hide_category=False):
    """The list items of `rows` (published posts; pk and updated_at suffice) as HTML, in order.

    A headline changes only when its post does, so each item is cached under the post's id and
    updated_at and rendering a page costs a cache lookup; misses are fetched and rendered together.
    A category, source or stock renamed meanwhile shows in old items after FRAGMENT_SECONDS.
    """
    keys = {row.pk: f"post-item:{row.pk}:{row.updated_at.timestamp()}:{int(hide_category)}" for row in rows}
    # The whole list is also kept under a digest of its items: one lookup instead of thirty while
    # no post on the page changes or moves.
    list_key = "post-items:" + hashlib.md5("|".join(keys.values()).encode(), usedforsecurity=False).hexdigest()
    joined = cache.get(list_key)
    if joined is not None:
        return joined
    html = cache.get_many(list(keys.values()))
    missing = [pk for pk, key in keys.items() if key not in html]
    if missing:
        posts = (
            Post.objects.published()
            .filter(pk__in=missing)
            .select_related("category", "source")
            .prefetch_related("stocks")
            .defer("body")
        )
        context = {"hide_category": hide_category}
        fresh = {
            keys[post.pk]: render_to_string("articles/_post_item.html", {**context, "post": post}) for post in posts
        }
        cache.set_many(fresh, FRAGMENT_SECONDS)
        html.update(fresh)
    joined = mark_safe("".join(html.get(key, "") for key in keys.values()))
    cache.set(list_key, joined, FRAGMENT_SECONDS)
    return joined


@dataclass
class Headlines:
    """Pinned posts leading a page: their ids (which the list below leaves out) and their block as HTML."""

    pks: list = field(default_factory=list)
    html: str = ""


@dataclass
class Curation:
    """What editors and readers put on top of the newest-first lists: the home page's headlines, each
    category's pinned posts (by category id) and the day's most read posts, rendered."""

    home: Headlines
    categories: dict
    most_read: str

    def for_category(self, pk):
        return self.categories.get(pk, Headlines())


def curation(request=None):
    """The site's Curation, from one query when the cache has none, else from the cache.

    Cached under the site's last change, which an edit, a new pin or one that ran out moves, and the
    version of the most-read ranking, which each flush of the read counts moves. The query fetches the
    running pins and the day's most-read posts together (the ranking the last flush computed, or the
    ranking itself as a subquery when the cache lost it), each with its reads of the day.
    """
    found = getattr(request, "curation", None)
    if found is not None:
        return found
    state = site_state(request)
    ranked = popularity.ranking()
    key = f"curation:{state.key}:{ranked['version'] if ranked else 0}"
    found = cache.get(key)
    if found is None:
        hours, size = popularity.RANKING_SIZES["day"]
        top = ranked["day"] if ranked else popularity.most_read_ids(hours, size)
        posts = list(
            (Post.objects.pinned() | Post.objects.published().filter(pk__in=top))
            .select_related("category")
            .defer("body")
            .annotate(recent_views=popularity.recent_views(hours))
        )
        found = build_curation(posts)
        cache.set(key, found, LINKED_FRAGMENT_SECONDS)
    if request is not None:
        request.curation = found
    return found


def build_curation(posts):
    """The Curation of `posts`: running pins and posts annotated with their `recent_views`."""
    pins = sorted(
        (post for post in posts if post.pin_running),
        key=lambda post: (post.pin_order, -post.published_at.timestamp(), -post.pk),
    )

    def headlines(chosen, where):
        chosen = chosen[: HEADLINE_SLOTS[where]]
        if not chosen:
            return Headlines()
        html = render_to_string("articles/_headlines.html", {"posts": chosen, "where": where})
        return Headlines([post.pk for post in chosen], mark_safe(html))

    by_category = {}
    for post in pins:
        if post.pinned_to == Post.Pin.CATEGORY:
            by_category.setdefault(post.category_id, []).append(post)
    read = sorted((post for post in posts if post.recent_views), key=lambda post: (-post.recent_views, -post.pk))
    most_read = render_to_string("articles/_most_read.html", {"posts": read[:MOST_READ_SHOWN]})
    return Curation(
        home=headlines([post for post in pins if post.pinned_to == Post.Pin.HOME], Post.Pin.HOME),
        categories={pk: headlines(chosen, Post.Pin.CATEGORY) for pk, chosen in by_category.items()},
        most_read=mark_safe(most_read),
    )
