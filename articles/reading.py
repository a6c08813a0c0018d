"""The reading layer: what every reader-facing part shares. Views, feeds, sitemaps, template tags
and URLs sit on this module; it sits on the models, and imports none of them.

- **Visibility**: every post a reader sees comes from `Post.objects.published()`, narrowed here
  by a scope (`scoped_posts`); nothing else decides what readers see.
- **Scopes**: the one table (`SCOPES`) of what a category, source, tag or stock listing is: how its
  URL finds the object, its canonical spelling, heading, description and feeds. One listing view
  and one feed class serve all four.
- **Cache policy**: how long browsers and shared caches may keep each kind of page (`MAX_AGE`,
  settings.SHARED_CACHE_SECONDS), the whole-page cache of anonymous reader pages (`page_cache`),
  how long rendered fragments live, and the site state that keys what depends on other posts.
- **Invalidation, the rule in one place** (articles/freshness.py has the table): a cached page is
  stored with the versions of what it shows (`depends_on`: the site's posts, or its post, category,
  source, tag or stock, and always the generation) and served only while none has been bumped and
  no scheduled post has gone live since. Writes bump them (signals, the importer); anything else
  that changes what readers see calls `site_changed()` or `scope_changed(kind, pk)`.
- **Decorators and links**: `reader_page` (page cache, Cache-Control, ETag, 304), `set_last_modified`,
  `site_url` (reverse() once per process), `feed_links` and `absolute_url`.
"""

import datetime
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial, wraps
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db.models import JSONField, Subquery
from django.db.models.functions import JSONObject
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import cc_delim_re, get_conditional_response, patch_cache_control, set_response_etag
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date, parse_http_date_safe
from django.utils.safestring import mark_safe
from django.views.decorators.http import conditional_page
from taggit.models import Tag

from . import freshness, popularity
from .models import Category, Post, Source, Stock, StockChart, category_slug_key
from .routing import WROTE_COOKIE, replica_reads

# What other parts call when something readers see changes without a post being saved (a banner on
# every page, a scope's heading): the rule is in articles/freshness.py.
site_changed = freshness.site_changed
scope_changed = freshness.scope_changed

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
# Whole pages (reader_page) are kept for settings.PAGE_CACHE_SECONDS, served only while what they show is
# unchanged (articles/freshness.py); a 404 for at most NOT_FOUND_SECONDS. Shared caches (nginx, a CDN)
# may keep a page settings.SHARED_CACHE_SECONDS and serve it STALE_SECONDS longer while refetching it.
NOT_FOUND_SECONDS = 10
# Pages each process also keeps a copy of (LocalPages), the most recently served first.
LOCAL_PAGES = 128
# Requests with a cookie the page could depend on bypass the page cache, so a page may vary on Cookie.
VARY_KEPT = {"", "cookie", "accept-encoding"}
STALE_SECONDS = 30
# How long shared caches may keep a page made from rows that may predate a change (see page_cache).
UNSURE_SHARED_SECONDS = 1
# Fragments keyed by their post's updated_at and the generation (a headline, an article's own HTML)
# change only when the post or a name does; this only bounds how long an unused one lingers.
FRAGMENT_SECONDS = 600
# Fragments built from other posts are keyed by the site's versions (SiteState.key), which every
# change moves; this only bounds how long an unused one lingers.
LINKED_FRAGMENT_SECONDS = 60
# The site state (menu and last change) is kept under the site's versions; this bounds how long one
# nobody asks for any more lingers.
SITE_STATE_SECONDS = 600
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
    """The category menu, when anything readers see last changed (None before the first post), the
    versions of the site (freshness.GENERATION, freshness.SITE) it was read under and when the newest of
    them was bumped, and the breaking news running now (None without)."""

    categories: list[MenuCategory]
    last_change: datetime.datetime | None
    versions: str = ""
    breaking: Breaking | None = None
    changed_at: float = 0.0
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
        """A cache-key part that changes whenever any post, category, source, tag or stock does."""
        return self.versions

    def keep_seconds(self, seconds, *moments):
        """How long what is read under this state's versions (SiteState.key), and versions bumped at
        `moments`, may be cached: `seconds`, or less while a replica may not have the change that bumped
        them (freshness.keep_seconds)."""
        return freshness.keep_seconds(seconds, max((self.changed_at, *moments)))

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
    """The SiteState, read once per request, from one query made again only after a change.

    It is cached under the site's versions (articles/freshness.py), so any change to posts, the
    menu or names reads it again, and until the next scheduled post goes live, which changes
    last_change without a write.
    The breaking-news banner comes with it: an editor's change to it is a change of the whole site,
    and a flag that runs out is a moment the cache knows in advance, like a scheduled post's.
    """
    state = getattr(request, "site_state", None)
    if state is None:
        versions, changed_at = freshness.key_part([freshness.GENERATION, freshness.SITE])
        # Not {% cache %}: data every view and tag reads (menu, last change, banner), not one template's HTML.
        key = f"{SITE_STATE_KEY}:{versions}"
        state = cache.get(key)
        if state is None:
            rows = list(
                Category.objects.annotate(
                    last_change=Post.objects.last_change_expression(), breaking=breaking_expression()
                )
            )
            categories = [MenuCategory(c.pk, c.slug, c.name, c.description, c.get_absolute_url()) for c in rows]
            last_change = rows[0].last_change if categories else None
            breaking = breaking_from_json(rows[0].breaking) if categories else None
            state = SiteState(categories, last_change, versions, breaking, changed_at)
            cache.set(key, state, state.keep_seconds(state_seconds()))
        if request is not None:
            request.site_state = state
    return state


# What a reader's URL answers: it reads, and never changes anything.
READER_METHODS = ("GET", "HEAD", "OPTIONS")


def reader_methods(view):
    """GET and HEAD only: OPTIONS answers which methods, in an empty 200 with Allow (as Django's
    class-based views do), rather than the whole page; any other method is a 405."""

    @wraps(view)
    def answer(request, *args, **kwargs):
        if request.method == "OPTIONS":
            response = HttpResponse()
            response.headers["Allow"] = ", ".join(READER_METHODS)
            response.headers["Content-Length"] = "0"
            return response
        if request.method not in READER_METHODS:
            return HttpResponseNotAllowed(READER_METHODS)
        return view(request, *args, **kwargs)

    return answer


def state_seconds():
    """How long a SiteState may be kept: SITE_STATE_SECONDS, or less when a scheduled post goes live sooner."""
    scheduled = cache.get(freshness.NEXT_SCHEDULED_KEY)
    if scheduled is None:
        return 1
    return max(1, int(min(SITE_STATE_SECONDS, scheduled - time.time())))


def forget_site_state():
    """Read the site state afresh on the next request: after a write readers must see at once (an
    ingest), rather than up to SITE_STATE_SECONDS later."""
    cache.delete(SITE_STATE_KEY)


def reader_page(kind):
    """A reader page: kept whole in the page cache for anonymous readers, public caching for MAX_AGE[kind]
    seconds, an ETag of the content and 304 answers to conditional GETs; reads from a replica when there
    are replicas (articles/routing.py); GET and HEAD only (`reader_methods`).

    The view sets Last-Modified to the site's last change; browsers send If-None-Match too, which
    Django checks first, so for them the content's ETag decides. The view names what its page shows
    with `depends_on()`; a page naming nothing depends on every post (`freshness.SITE`).
    """
    max_age = MAX_AGE[kind]

    def decorate(view):
        @wraps(view)
        def respond(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.has_header("Cache-Control"):
                patch_cache_control(
                    response,
                    public=True,
                    max_age=max_age,
                    s_maxage=min(max_age, settings.SHARED_CACHE_SECONDS),
                    stale_while_revalidate=STALE_SECONDS,
                )
            return response

        return replica_reads(reader_methods(conditional_page(page_cache(respond))))

    return decorate


def depends_on(request, *names):
    """Record that the page being made shows the versions `names` (freshness.scope(kind, pk), or
    freshness.SITE); with none, the page shows nothing that changes but the generation (robots.txt)."""
    if getattr(request, "page_versions", None) is None:
        request.page_versions = set()
    request.page_versions.update(names)


def may_use_page_cache(request):
    """Whether the request may be answered from, and fill, the page cache: a GET or HEAD with no session,
    CSRF or just-wrote cookie and no credentials. The page of such a request is the same for everyone."""
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and not {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, WROTE_COOKIE}.intersection(request.COOKIES)
        and "HTTP_AUTHORIZATION" not in request.META
    )


def page_cache_seconds(response):
    """How long the page cache may keep `response`, or 0 when it must not: a page or redirect for
    PAGE_CACHE_SECONDS, a 404 for NOT_FOUND_SECONDS, anything else (a 400, a 500) never; nor a response
    setting a cookie, marked private or no-store, or varying on a header other than Cookie (bypassed)."""
    seconds = {200: settings.PAGE_CACHE_SECONDS, 301: settings.PAGE_CACHE_SECONDS, 302: settings.PAGE_CACHE_SECONDS}
    seconds[404] = min(NOT_FOUND_SECONDS, settings.PAGE_CACHE_SECONDS)
    control = response.get("Cache-Control", "")
    if (
        response.cookies
        or response.streaming
        or any(word in control for word in ("private", "no-store", "no-cache"))
        or {header.strip().lower() for header in cc_delim_re.split(response.get("Vary", ""))} - VARY_KEPT
    ):
        return 0
    return seconds.get(response.status_code, 0)


def page_key(request):
    address = f"{request.get_host()}{request.get_full_path()}"
    # The entry's layout is in the key: a deploy that changes it starts with an empty page cache.
    return "articles:page:3:" + hashlib.md5(address.encode(), usedforsecurity=False).hexdigest()


def still_true(versions):
    """Whether a page stored with `versions` may be served: none of them bumped, and no scheduled post gone
    live since (articles/freshness.py). At most one read of the shared cache."""
    wanted = freshness.version_keys(versions)
    current = freshness.read_tracked([*wanted, freshness.NEXT_SCHEDULED_KEY])
    next_scheduled = current.pop(freshness.NEXT_SCHEDULED_KEY, None)
    if next_scheduled is None or next_scheduled <= time.time():
        return False
    return all(current.get(key) == versions[name] for key, name in wanted.items())


class LocalPage(NamedTuple):
    """A page as this process answered it: when it expires, the versions it was stored with, and the
    response as it left the middleware below PageCacheMiddleware (status, headers, body)."""

    expires: float
    versions: dict
    status: int
    headers: dict
    body: bytes

    def response(self):
        return HttpResponse(self.body, status=self.status, headers=self.headers)


class LocalPages:
    """The pages this process served last, the most recently served first. A hit then reads only the
    versions from the shared cache (Redis), not the whole page (about 100 KB for the home page), and
    unpickles nothing: the page is kept as bytes and headers."""

    def __init__(self, size):
        self.size = size
        self.pages = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        """The LocalPage under `key`, unless there is none or it has expired."""
        with self.lock:
            found = self.pages.get(key)
            if found is not None:
                self.pages.move_to_end(key)
        if found is None or found.expires <= time.time():
            return None
        return found

    def put(self, key, page):
        with self.lock:
            self.pages[key] = page
            self.pages.move_to_end(key)
            while len(self.pages) > self.size:
                self.pages.popitem(last=False)


local_pages = LocalPages(LOCAL_PAGES)


def local_page(request, key):
    """The response to `request` from this process's copy of the page under `key` while it is still true
    (one read of the shared cache), a 304 when the request's validators match it, or None."""
    page = local_pages.get(key)
    if page is None or not still_true(page.versions):
        return None
    response = page.response()
    response.headers["X-Page-Cache"] = "hit"
    # As conditional_page answers on the view's way out: its ETag, or its Last-Modified, for a GET.
    if request.method != "GET":
        return response
    last_modified = parse_http_date_safe(response.get("Last-Modified", ""))
    return get_conditional_response(request, etag=response.get("ETag"), last_modified=last_modified, response=response)


def keep_local_page(request, key, response):
    """Keep `response` in this process's pages when the page cache stored it or served it from the shared cache
    (it names the versions, `request.page_entry`) and nothing above the view made it unfit to keep (a
    cookie, a 304, a Vary of its own)."""
    entry = getattr(request, "page_entry", None)
    if entry is None or entry[2] != response.status_code or not page_cache_seconds(response):
        return
    versions, expires, _ = entry
    local_pages.put(key, LocalPage(expires, versions, response.status_code, dict(response.items()), response.content))


def stored_page(request, key):
    """The page stored under `key` in the shared cache if it may still be served; `request.page_entry` then
    names its versions, expiry and status for PageCacheMiddleware."""
    entry = cache.get(key)
    if entry is None or not still_true(entry[0]):
        return None
    versions, response, expires = entry
    request.page_entry = (versions, expires, response.status_code)
    return response


def page_cache(respond):
    """The whole-page cache: a page is stored with the versions it depends on (freshness) and served while
    they are all unchanged and no scheduled post has gone live since; a hit makes no query. This process
    also keeps its own copy of the page (local_pages), which PageCacheMiddleware serves before the view."""

    @wraps(respond)
    def serve(request, *args, **kwargs):
        if not may_use_page_cache(request):
            # What the page reads under versions (fragments, cached rows) must not outlive a scheduled post.
            freshness.catch_up()
            return respond(request, *args, **kwargs)
        key = page_key(request)
        response = stored_page(request, key)
        if response is not None:
            response.headers["X-Page-Cache"] = "hit"
            return response
        freshness.catch_up()
        request.page_versions = None
        started = time.time()
        response = respond(request, *args, **kwargs)
        seconds = page_cache_seconds(response)
        if seconds:
            names = request.page_versions
            if names is None or response.status_code == 404:
                names = {freshness.SITE}
            versions = freshness.versions({freshness.GENERATION, *names})
            # Not kept if what it shows changed while it was being made (it may show the rows before), or,
            # read from a replica, within the most that replica can be behind; nor for longer than
            # UNSURE_SHARED_SECONDS by nginx or a CDN, which would otherwise hold it past the change.
            if freshness.changed_since(versions.values(), started - freshness.replica_lag()):
                if response.has_header("Cache-Control") and "public" in response["Cache-Control"]:
                    patch_cache_control(response, s_maxage=min(settings.SHARED_CACHE_SECONDS, UNSURE_SHARED_SECONDS))
            else:
                if hasattr(response, "render"):  # a TemplateResponse (the sitemaps)
                    response.render()
                if response.status_code == 200 and not response.has_header("ETag"):
                    set_response_etag(response)
                expires = time.time() + seconds
                cache.set(key, (versions, response, expires), seconds)
                request.page_entry = (versions, expires, response.status_code)
        response.headers["X-Page-Cache"] = "miss"
        return response

    return serve


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


# A source, tag or stock saved or deleted bumps the generation (freshness.named_changed), under which
# these are kept (cached_rows); one not found is looked for again on the next request.


def find_source(request, slug):
    return cached_rows(freshness.GENERATION, partial(get_object_or_404, Source, slug=slug), "source", slug)


def find_tag(request, slug):
    """The tag spelled `slug` in any case (taggit makes slugs lower-case)."""
    tag = partial(get_object_or_404, Tag, slug__iexact=slug)
    return cached_rows(freshness.GENERATION, tag, "tag", slug.lower())


def find_stock(request, market, code):
    """The stock `code` on `market`, in any case (`aapl` for `AAPL`)."""
    stock = partial(get_object_or_404, Stock, market=market, code__iexact=code)
    return cached_rows(freshness.GENERATION, stock, "stock", market, code.upper())


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
    `kind` names a scope (ValueError for an unknown one); a story stored twice is listed once, as its
    canonical post, when both copies are in the listing."""
    posts = Post.objects.published()
    posts = posts.in_scope(kind, pk) if kind else posts
    return posts.one_per_story(kind, pk)


def page_rows(posts):
    """What a page needs of its posts on every request: ids and times. The rest is post_items()'s."""
    return posts.values_list("pk", "published_at", "updated_at", named=True)


def cached_rows(shows, read, *variant):
    """What `read()` fetches of the database for a page showing what the version `shows` covers
    (freshness.SITE, a scope's, or the generation): a listing's posts in order, an article's post,
    the source, tag or stock a listing is about. Kept under that version and the generation, so that
    a page the page cache cannot answer (a signed-in reader's, one with a CSRF cookie) is made from
    the cache until something it shows changes; `variant` is everything else the rows depend on (the
    cursors, the pins left out, a slug). A scheduled post going live bumps the versions first
    (catch_up, which reader_page runs before every page it makes). An exception (BadCursor, Http404)
    is raised, not kept; nor is None, read again on the next request."""
    # Not {% cache %}: the view needs the rows (a redirect, cursors) before any template runs.
    versions, changed_at = freshness.key_part([freshness.GENERATION, shows])
    digest = hashlib.md5(repr(variant).encode(), usedforsecurity=False).hexdigest()
    key = f"rows:{shows}:{digest}:{versions}"
    found = cache.get(key)
    if found is None:
        found = read()
        # Read from a replica within the most it can be behind a change, the rows may predate it: not kept,
        # as no such page is (page_cache), so the page shows the change once the replica has it.
        if changed_at < time.time() - freshness.replica_lag():
            cache.set(key, found, LINKED_FRAGMENT_SECONDS)
    return found


def post_keys(prefix, rows, *extra):
    """Cache keys ({pk: key}, under `prefix`, ending in `extra`) for what is kept of each of `rows` (pk and
    updated_at suffice), and for how long it may be kept (seconds). What is kept of a post changes only
    when the post does (its updated_at and version, articles/freshness.py: an edit, its tags and stocks)
    or a name it shows (the generation: a category, source, tag or stock renamed). One cache read."""
    versions = freshness.versions([freshness.GENERATION, *(freshness.scope("post", row.pk) for row in rows)])
    generation = versions[freshness.GENERATION][1]
    suffix = "".join(f":{part}" for part in extra)
    keys = {
        row.pk: (
            f"{prefix}:{row.pk}:{row.updated_at.timestamp()}:{generation}"
            f":{versions[freshness.scope('post', row.pk)][1]}{suffix}"
        )
        for row in rows
    }
    return keys, freshness.keep_seconds(FRAGMENT_SECONDS, freshness.newest(versions.values()))


def post_items(rows, hide_category=False):
    """The list items of `rows` (published posts; pk and updated_at suffice) as HTML, in order.

    Each item is cached under post_keys, so rendering a page costs two cache lookups; misses are
    fetched and rendered together.
    """
    # Not {% cache %}: a block per item would be a cache read per item; these are read in one get_many.
    keys, seconds = post_keys("post-item", rows, int(hide_category))
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
        cache.set_many(fresh, seconds)
        html.update(fresh)
    joined = mark_safe("".join(html.get(key, "") for key in keys.values()))
    cache.set(list_key, joined, seconds)
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
    version, top = popularity.most_read_now("day")
    # Not {% cache %}: views need the pinned ids (left out of their lists) as well as the HTML.
    key = f"curation:{state.key}:{version}"
    found = cache.get(key)
    if found is None:
        hours = popularity.RANKING_SIZES["day"][0]
        posts = list(
            (Post.objects.pinned() | Post.objects.published().filter(pk__in=top()))
            .select_related("category")
            .defer("body")
            .annotate(recent_views=popularity.recent_views(hours))
        )
        found = build_curation(posts)
        ranked_at = freshness.bumped_at([freshness.RANKING])
        cache.set(key, found, state.keep_seconds(LINKED_FRAGMENT_SECONDS, ranked_at))
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
