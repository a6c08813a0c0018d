"""Reader pages. Every list of posts starts from Post.objects.published(); nothing else decides visibility.

Each request runs the one query that decides what its page shows (which posts, in which order)
and renders the page around it. The rest comes from the cache: a headline in a list or an
article's own HTML under its post's id and updated_at (they change only when the post does);
what depends on other posts (the home page's category blocks, an article's neighbours and
related posts) under the site's last change; the category menu and that last change itself from
one query made at most once a second. Pages answer conditional GETs with 304 and keep to a fixed
number of queries whatever their length.
"""

import datetime
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db import OperationalError, connection, connections, router, transaction
from django.db.models import Value, prefetch_related_objects
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import http_date, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.http import conditional_page
from taggit.models import Tag

from .context_processors import site
from .models import Category, Post, Source, Stock, StockChart
from .pagination import Cursor, paginate
from .routing import replica_reads

PER_PAGE = 30
# How a listing is narrowed: the URL's `scope=kind:id` and each listing view use the same lookups.
SCOPES = {"category": "category", "source": "source", "tag": "tagged_items__tag", "stock": "stocks"}
INFO_CODE = re.compile(r"[A-Za-z0-9]{1,40}")
RELATED_COUNT = 6
# How long cached headlines and articles may show a renamed category, source or stock.
FRAGMENT_SECONDS = 600
# Fragments built from other posts are keyed by the last change; this bounds what a hard delete,
# which does not move it, leaves behind.
LINKED_FRAGMENT_SECONDS = 60
SEARCH_WORDS = 5
SEARCH_TIMEOUT_MS = 500
# The new-posts notice counts up to this many; beyond it says "99+".
NEW_POSTS_CAP = 99
SITE_STATE_KEY = "articles:site-state"


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


@dataclass
class SiteState:
    """The category menu and when anything readers see last changed (None before the first post)."""

    categories: list[MenuCategory]
    last_change: datetime.datetime | None

    def __post_init__(self):
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
        return next((category for category in self.categories if category.slug.lower() == slug.lower()), None)


def site_state(request=None):
    """The SiteState, from one query made at most once a second per cache, read once per request.

    Last-Modified has one-second resolution, so a second-old value loses nothing, and a new or
    renamed category reaches the menu within a second without any invalidation code.
    """
    state = getattr(request, "site_state", None)
    if state is None:
        state = cache.get(SITE_STATE_KEY)
        if state is None:
            rows = list(Category.objects.annotate(last_change=Post.objects.last_change_expression()))
            categories = [MenuCategory(c.pk, c.slug, c.name, c.description, c.get_absolute_url()) for c in rows]
            state = SiteState(categories, rows[0].last_change if categories else None)
            cache.set(SITE_STATE_KEY, state, 1)
        if request is not None:
            request.site_state = state
    return state


def reader_page(max_age):
    """Public caching for `max_age` seconds, an ETag of the content and 304 answers to conditional GETs;
    reads from a replica when there are replicas (articles/routing.py).

    The view sets Last-Modified to the site's last change; browsers send If-None-Match too, which
    Django checks first, so for them the content's ETag decides.
    """

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
    if moment:
        response.headers["Last-Modified"] = http_date(moment.timestamp())
    return response


def scoped_posts(kind=None, pk=None):
    """Published posts, narrowed to one category, source, tag or stock when `kind` names one."""
    posts = Post.objects.published()
    return posts.filter(**{SCOPES[kind]: pk}) if kind else posts


@lru_cache(maxsize=4096)
def fixed_url(name, **kwargs):
    """reverse() for links every page repeats (menu, header, footer, feeds), once per process:
    the site's routes do not change while it runs."""
    return reverse(name, kwargs=kwargs)


def feed_links(name="feed", **kwargs):
    """{format: URL} of a feed route, for <link rel="alternate"> and the page's feed buttons."""
    return {fmt: fixed_url(f"articles:{name}", **kwargs, format=fmt) for fmt in ("rss", "atom")}


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


def listing(request, template="articles/post_list.html", scope=(None, None), posts=None, **context):
    """One page of a newest-first listing of `scope` (or of `posts`, published ones, without the
    new-posts notice), with cursor links."""
    page = paginate(request, page_rows(scoped_posts(*scope) if posts is None else posts), PER_PAGE)
    if page.reached_top:
        kept = request.GET.copy()
        kept.pop("after")
        return redirect(f"{request.path}?{kept.urlencode()}" if kept else request.path)
    if page.is_first and page.posts and posts is None:
        kind, pk = scope
        query = f"after={Cursor.of(page.posts[0])}" + (f"&scope={kind}:{pk}" if kind else "")
        context["poll_url"] = f"{reverse('articles:new_posts')}?{query}"
    cursor = next((f"?{name}={request.GET[name]}" for name in ("before", "after", "date") if name in request.GET), "")
    context["canonical"] = request.path + cursor
    context["items"] = post_items(page.posts, hide_category=scope[0] == "category")
    response = render(request, template, {"page": page, **context})
    return set_last_modified(response, site_state(request).last_change)


def union_all(parts):
    """The rows of the sliced querysets `parts` in order: one UNION ALL query where the database
    allows LIMIT inside one (PostgreSQL); SQLite, the zero-setup database, runs them one by one."""
    if not parts:
        return []
    if connection.features.supports_slicing_ordering_in_compound:
        return list(parts[0].union(*parts[1:], all=True))
    return [row for part in parts for row in part]


def category_sections(state):
    """The home page's category blocks as HTML: each category's five newest posts, the categories
    with the freshest news first. One UNION query of small index scans, one per category, run
    again only after something changed."""
    key = f"home-sections:{state.key}"
    html = cache.get(key)
    if html is None:
        per_category = [
            Post.objects.published()
            .in_category(category.pk)
            .only("title", "slug", "published_at", "category")
            .order_by("-published_at", "-pk")[:5]
            for category in state.categories
        ]
        by_category = {}
        for post in union_all(per_category):
            by_category.setdefault(post.category_id, []).append(post)
        sections = [
            {"category": category, "posts": sorted(by_category[category.pk], key=lambda p: p.published_at)[::-1]}
            for category in state.categories
            if category.pk in by_category
        ]
        sections.sort(key=lambda section: section["posts"][0].published_at, reverse=True)
        html = render_to_string("articles/_home_sections.html", {"sections": sections})
        cache.set(key, html, LINKED_FRAGMENT_SECONDS)
    return html


@reader_page(max_age=60)
def home(request):
    """The newest posts, then each category's five newest, categories with the freshest news first."""
    newest = list(page_rows(Post.objects.published().order_by("-published_at", "-pk"))[:PER_PAGE])
    state = site_state(request)
    context = {
        "items": post_items(newest),
        "sections": category_sections(state),
        "feeds": feed_links(),
        "current_category": "home",
    }
    if newest:
        context["poll_url"] = f"{reverse('articles:new_posts')}?after={Cursor.of(newest[0])}"
        context["more"] = f"{reverse('articles:latest')}?before={Cursor.of(newest[-1])}"
    response = render(request, "articles/home.html", context)
    return set_last_modified(response, state.last_change)


@reader_page(max_age=60)
def latest(request):
    return listing(
        request, heading="滚动新闻", description="全部栏目的最新财经资讯，按发布时间排列。", feeds=feed_links()
    )


def find_category(request, slug):
    """The category spelled `slug` in any case, from the site state when it is there, or Http404."""
    category = site_state(request).category(slug)
    if category is None:
        try:
            category = Category.objects.get_by_slug(slug)
        except Category.DoesNotExist:
            raise Http404("没有这个栏目") from None
    return category


@reader_page(max_age=60)
def category_detail(request, slug):
    category = find_category(request, slug)
    if category.slug != slug:
        return redirect(category, permanent=True)
    return listing(
        request,
        scope=("category", category.pk),
        heading=category.name,
        description=category.description or f"{category.name}：最新财经资讯。",
        current_category=category.pk,
        feeds=feed_links("category_feed", slug=category.slug),
    )


@replica_reads
def legacy_category(request, slug):
    """The old site's `/category/<slug>.html` and `/<slug>/`: 301 to the category page, any case."""
    return redirect(find_category(request, slug), permanent=True)


@reader_page(max_age=60)
def source_detail(request, slug):
    source = get_object_or_404(Source, slug=slug)
    return listing(
        request,
        scope=("source", source.pk),
        heading=source.name,
        kind="来源",
        description=f"来自{source.name}的最新财经资讯。",
        feeds=feed_links("source_feed", slug=source.slug),
    )


@reader_page(max_age=60)
def tag_detail(request, slug):
    tag = get_object_or_404(Tag.objects.filter(slug__iexact=slug))
    if tag.slug != slug:
        return redirect("articles:tag_detail", slug=tag.slug, permanent=True)
    return listing(
        request,
        scope=("tag", tag.pk),
        heading=tag.name,
        kind="标签",
        description=f"标签「{tag.name}」下的财经资讯。",
        feeds=feed_links("tag_feed", slug=tag.slug),
    )


@reader_page(max_age=60)
def stock_detail(request, market, code):
    stock = get_object_or_404(Stock.objects.filter(market=market, code__iexact=code))
    if stock.code != code:
        return redirect(stock, permanent=True)
    return listing(
        request,
        template="articles/stock_detail.html",
        scope=("stock", stock.pk),
        stock=stock,
        chart=StockChart(market=stock.market, code=stock.code),
        heading=str(stock),
        kind="股票",
        description=f"{stock}的相关新闻与行情图。",
        feeds=feed_links("stock_feed", market=stock.market, code=stock.code),
    )


@reader_page(max_age=60)
def search(request):
    """Posts whose titles hold every word typed, newest first.

    On PostgreSQL a trigram index serves words of three characters or more; a rare shorter word
    can only be looked for post by post, so the search gets SEARCH_TIMEOUT_MS and, past it, asks
    for a more specific word instead of tying up the database.
    """
    words = request.GET.get("q", "").split()[:SEARCH_WORDS]
    if not words:
        return render(request, "articles/search.html", {"heading": "搜索"})
    posts = Post.objects.published()
    for word in words:
        posts = posts.filter(title__icontains=word)
    query = " ".join(words)
    context = {"query": query, "heading": f"搜索：{query}", "kind": "搜索"}
    # The timeout holds for a transaction on the database the search reads, a replica's included.
    database = router.db_for_read(Post)
    try:
        with transaction.atomic(using=database):
            if connections[database].vendor == "postgresql":
                with connections[database].cursor() as cursor:
                    cursor.execute("SET LOCAL statement_timeout = %s", [SEARCH_TIMEOUT_MS])
            return listing(
                request,
                template="articles/search.html",
                posts=posts,
                query_prefix=f"{urlencode({'q': query})}&",
                description=f"标题含有「{query}」的财经资讯。",
                **context,
            )
    except OperationalError:
        return render(request, "articles/search.html", {**context, "too_slow": True})


def article_links(post, stock_ids, tag_ids):
    """The posts an article links to: (older, newer in its category, related by stock or tag).

    One query: a UNION of small index scans, each with a constant stock or tag, so PostgreSQL
    plans each for how common that stock or tag is.
    """
    others = Post.objects.published().exclude(pk=post.pk).only("title", "slug", "published_at")
    in_category = others.in_category(post.category_id)
    parts = [
        in_category.older_than(post.published_at, post.pk).annotate(relation=Value("older"))[:1],
        in_category.newer_than(post.published_at, post.pk).annotate(relation=Value("newer"))[:1],
    ]
    # Stocks first: sharing a stock is the stronger tie.
    for lookup, ids in [("stocks", stock_ids), ("tagged_items__tag", tag_ids)]:
        parts += [
            others.filter(**{lookup: pk})
            .order_by("-published_at", "-pk")
            .annotate(relation=Value("related"))[:RELATED_COUNT]
            for pk in ids
        ]
    found = {"older": None, "newer": None}
    related = {}
    for other in union_all(parts):
        if other.relation == "related":
            related.setdefault(other.pk, other)
        else:
            found[other.relation] = other
    return found["older"], found["newer"], list(related.values())[:RELATED_COUNT]


def article_fragments(post):
    """The article's own HTML (its head tags and the <article>) and the stock and tag ids the
    related posts need, cached until the post changes: edits, charts, tags and stocks all save it."""
    key = f"article:{post.pk}:{post.updated_at.timestamp()}"
    fragments = cache.get(key)
    if fragments is None:
        prefetch_related_objects([post], "charts", "tags", "stocks")
        # Rendered without the request, so without context processors: the name is passed here.
        context = {"post": post, "og_image": post.og_image_url, "site_name": settings.SITE_NAME}
        fragments = {
            "head": render_to_string("articles/_article_head.html", context),
            "main": render_to_string("articles/_article_main.html", context),
            "stock_ids": [stock.pk for stock in post.stocks.all()],
            "tag_ids": [tag.pk for tag in post.tags.all()],
        }
        cache.set(key, fragments, FRAGMENT_SECONDS)
    return fragments


def article_links_html(request, post, article):
    """The article's neighbours in its category and its related posts as HTML, built again only
    after something changed on the site."""
    key = f"article-links:{post.pk}:{site_state(request).key}"
    html = cache.get(key)
    if html is None:
        older, newer, related = article_links(post, article["stock_ids"], article["tag_ids"])
        html = render_to_string("articles/_article_links.html", {"older": older, "newer": newer, "related": related})
        cache.set(key, html, LINKED_FRAGMENT_SECONDS)
    return html


def render_article(request, post, **context):
    article = article_fragments(post)
    context = {"post": post, "article": article, "links": article_links_html(request, post, article), **context}
    return render(request, "articles/post_detail.html", context)


@reader_page(max_age=300)
def post_detail(request, slug):
    post = get_object_or_404(Post.objects.published().select_related("category", "source"), slug=slug)
    response = render_article(request, post, current_category=post.category_id)
    return set_last_modified(response, site_state(request).last_change)


def post_preview(request, pk):
    """Any post as readers will see it, for staff who may view posts; never cached, never indexed."""
    if not request.user.is_authenticated or not request.user.is_staff:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not request.user.has_perm("articles.view_post"):
        raise Http404("没有查看文章的权限")
    post = get_object_or_404(Post.objects.select_related("category", "source"), pk=pk)
    response = render_article(request, post, preview=True)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@replica_reads
def legacy_post(request, key, **_category_and_date):
    """Old Jekyll permalinks `/<category>/<yyyy>/<mm>/<dd>/<file id>.html`: the file id is the post's key."""
    post = get_object_or_404(Post.objects.published().filter(key__in={key, key.upper()}).only("slug"))
    return redirect(post, permanent=True)


@replica_reads
def share(request):
    """`/html_News/NewsShare.html?infoCode=NW…`, the links readers shared: 301 to the article.

    A redirect rather than a page of its own: the article page is already light and phone-first,
    and one canonical URL per story keeps search engines and caches from seeing duplicates.
    """
    code = request.GET.get("infoCode", "").strip()
    if not INFO_CODE.fullmatch(code):
        message = "分享链接缺少 infoCode 参数。" if not code else "分享链接中的 infoCode 格式不对。"
        return render(request, "400.html", {"message": message}, status=400)
    post = Post.objects.published().filter(info_code__in={code, code.upper()}).only("slug").first()
    if post is None:
        message = f"找不到编号为 {code} 的文章，它可能已下线或链接有误。"
        return render(request, "404.html", {"message": message}, status=404)
    return redirect(post, permanent=True)


def server_error(request):
    """The 500 page. Django's default renders it without any context; this one adds the site's
    name, and nothing that needs the database or the session, which may be what failed."""
    return HttpResponseServerError(render_to_string("500.html", site(request)))


@reader_page(max_age=86400)
def robots_txt(request):
    """Crawlers: keep out of the admin, previews and the JSON API; here are the sitemaps."""
    lines = ["User-agent: *"]
    private = (reverse("admin:index"), "/preview/", reverse("articles:search"), "/api/")
    lines += [f"Disallow: {path}" for path in private]
    lines += [
        f"Sitemap: {settings.SITE_URL}{reverse('sitemap_index')}",
        f"Sitemap: {settings.SITE_URL}{reverse('sitemap', args=['news'])}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@replica_reads
def new_posts(request):
    """JSON for the listing's "N new posts" notice: how many posts are newer than `after` in `scope`.

    With `items=1` it also carries the rendered list items, newest first, for the page to insert.
    """
    try:
        cursor = Cursor.parse(request.GET.get("after", ""))
        kind, _, pk = request.GET.get("scope", "").partition(":")
        if kind and kind not in SCOPES:
            raise ValueError(kind)
        posts = scoped_posts(kind or None, int(pk) if kind else None).newer_than(cursor.published_at, cursor.pk)
    except ValueError:
        return JsonResponse({"error": "after 须为列表游标，scope 须为 category/source/tag/stock:编号"}, status=400)
    count = posts[: NEW_POSTS_CAP + 1].count()
    data = {"count": count, "capped": count > NEW_POSTS_CAP}
    if request.GET.get("items") and 0 < count <= PER_PAGE:
        rows = list(page_rows(posts))[::-1]
        data["html"] = post_items(rows, hide_category=kind == "category")
        data["after"] = str(Cursor.of(rows[0]))
    response = JsonResponse(data)
    patch_cache_control(response, public=True, max_age=15)
    return response
