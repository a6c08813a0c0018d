"""Reader pages: the endpoints, on the reading layer (articles.reading), which decides what readers
see (`scoped_posts`, on Post.objects.published()), how long responses may be cached, and what a
category, source, tag or stock listing is (`SCOPES`).

A page the page cache cannot answer is made from the cache where it can be: which posts a listing
shows, in which order, and an article's post (reading.cached_rows) under the versions of what they
show; a headline in a list or an article's own HTML under its post's id and updated_at (they change
only when the post does); what depends on other posts (the home page's category blocks, an
article's neighbours and related posts) under the site's versions; the category menu and the
site's last change from one query. Each query runs once after something its page shows changed.
Pages answer conditional GETs with 304 and keep to a fixed number of queries whatever their length.
"""

import re

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.db import OperationalError, connection, connections, router, transaction
from django.db.models import Value, prefetch_related_objects
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from . import freshness, popularity
from .context_processors import site
from .models import OldSlug, Post
from .pagination import BadCursor, Cursor, KeysetPaginator, parse_id
from .reading import (
    FRAGMENT_SECONDS,
    LINKED_FRAGMENT_SECONDS,
    PER_PAGE,
    SCOPES,
    absolute_url,
    cached_rows,
    curation,
    depends_on,
    feed_links,
    find_category,
    page_rows,
    post_items,
    reader_methods,
    reader_page,
    scoped_posts,
    set_last_modified,
    site_state,
    site_url,
)
from .routing import replica_reads
from .search import Filters, QueryError, SearchError
from .search import search as run_search

INFO_CODE = re.compile(r"[A-Za-z0-9]{1,40}")
RELATED_COUNT = 6
SEARCH_TIMEOUT_MS = 2000
# The new-posts notice counts up to this many; beyond it says "99+".
NEW_POSTS_CAP = 99


def render_listing(
    request,
    posts,
    shows,
    template="articles/post_list.html",
    poll_scope=None,
    hide_category=False,
    left_out=(),
    **context,
):
    """One page of the newest-first listing of `posts()` (published posts: what the version `shows`
    covers, less the pinned posts `left_out`), with cursor links. `posts` is called only when the
    cache does not hold the page's rows: building a queryset costs as much as the rest of the view.

    `poll_scope` ("" for the whole site, "kind:id" for a scope) makes its first page poll for new
    posts; the query string's `before`, `after` or `date` picks the page, and a bad one is a 400.
    """
    depends_on(request, shows)
    cursors = {name: request.GET.get(name) for name in ("before", "after", "date")}
    try:
        page = cached_rows(
            shows,
            lambda: KeysetPaginator(page_rows(posts()), PER_PAGE).page(
                before=cursors["before"], after=cursors["after"], day=cursors["date"]
            ),
            cursors,
            left_out,
        )
    except BadCursor as error:
        return render(request, "400.html", {"message": str(error)}, status=400)
    if page.reached_top:
        kept = request.GET.copy()
        kept.pop("after")
        return redirect(f"{request.path}?{kept.urlencode()}" if kept else request.path)
    if page.is_first and page.posts and poll_scope is not None:
        query = f"after={Cursor.of(page.posts[0])}" + (f"&scope={poll_scope}" if poll_scope else "")
        context["poll_url"] = f"{site_url('articles:new_posts')}?{query}"
    cursor = next((f"?{name}={value}" for name, value in cursors.items() if value is not None), "")
    context["canonical"] = request.path + cursor
    context["items"] = post_items(page.posts, hide_category=hide_category)
    response = render(request, template, {"page": page, **context})
    return set_last_modified(response, site_state(request).last_change)


@reader_page("listing")
def listing(request, scope=None, **kwargs):
    """A newest-first listing: every post (`scope` None), or one category's, source's, tag's or
    stock's, found and described by its entry in reading.SCOPES. A URL spelling the object other
    than its canonical way (another case) redirects there."""
    if scope is None:
        return render_listing(
            request,
            scoped_posts,
            freshness.SITE,
            poll_scope="",
            heading="滚动新闻",
            description="全部栏目的最新财经资讯，按发布时间排列。",
            feeds=feed_links(),
        )
    scope = SCOPES[scope]
    obj = scope.find(request, **kwargs)
    shows = freshness.scope(scope.kind, obj.pk)
    depends_on(request, shows)
    if scope.url_kwargs(obj) != kwargs:
        return redirect(scope.url(obj), permanent=True)
    headlines, left_out = "", ()
    if scope.kind == "category":
        # The category's pinned posts lead its first page and are left out of the list on every page.
        pinned = curation(request).for_category(obj.pk)
        left_out = pinned.pks
        if not any(request.GET.get(name) for name in ("before", "after", "date")):
            headlines = pinned.html
    return render_listing(
        request,
        lambda: scope.posts(obj).exclude(pk__in=left_out) if left_out else scope.posts(obj),
        shows,
        left_out=left_out,
        template=scope.template,
        poll_scope=f"{scope.kind}:{obj.pk}",
        heading=scope.heading(obj),
        kind=scope.label,
        description=scope.describe(obj),
        feeds=scope.feeds(obj),
        hide_category=scope.kind == "category",
        headlines=headlines,
        **scope.extra_context(obj),
    )


def union_all(parts):
    """The rows of the sliced querysets `parts` in order: one UNION ALL query where the database
    allows LIMIT inside one (PostgreSQL); SQLite, the zero-setup database, runs them one by one."""
    if not parts:
        return []
    if connection.features.supports_slicing_ordering_in_compound:
        return list(parts[0].union(*parts[1:], all=True))
    return [row for part in parts for row in part]


def category_sections(state):
    """The home page's category blocks: each category's five newest posts, the categories with the
    freshest news first. One UNION query of small index scans, one per category; home.html caches
    the blocks it renders ({% cache %} under the site's versions), so it runs only after a change."""
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
    return sections


@reader_page("listing")
def home(request):
    """The headlines editors pinned, the newest posts (without those), the day's most read, then each
    category's five newest, categories with the freshest news first."""
    depends_on(request, freshness.SITE, freshness.RANKING)
    state = site_state(request)
    curated = curation(request)

    def newest_posts():
        posts = scoped_posts().order_by("-published_at", "-pk")
        if curated.home.pks:
            posts = posts.exclude(pk__in=curated.home.pks)
        return list(page_rows(posts)[:PER_PAGE])

    newest = cached_rows(freshness.SITE, newest_posts, "home", curated.home.pks)
    context = {
        "headlines": curated.home.html,
        "most_read": curated.most_read,
        "items": post_items(newest),
        # Called by the template only when its {% cache %} block holds no copy.
        "sections": lambda: category_sections(state),
        "site_versions": state.key,
        "fragment_seconds": state.keep_seconds(LINKED_FRAGMENT_SECONDS),
        "feeds": feed_links(),
        "current_category": "home",
    }
    if newest:
        context["poll_url"] = f"{site_url('articles:new_posts')}?after={Cursor.of(newest[0])}"
        context["more"] = f"{site_url('articles:latest')}?before={Cursor.of(newest[-1])}"
    response = render(request, "articles/home.html", context)
    return set_last_modified(response, state.last_change)


@replica_reads
@reader_methods
def legacy_category(request, slug):
    """The old site's `/category/<slug>.html` and `/<slug>/`: 301 to the category page, any case."""
    return redirect(find_category(request, slug), permanent=True)


@reader_page("listing")
def search(request):
    """Search results for `q` (articles.search): the posts holding every word, by relevance or newest
    (`sort=new`), 20 a page (`page`), narrowed by `category`, `source`, `tag`, `from` and `to`; a stock the
    query names comes first. A bad filter or page is a 400; a query that cannot be searched for is
    explained on the page. Every search is bounded; SEARCH_TIMEOUT_MS only guards against the unforeseen.
    """
    depends_on(request, freshness.SITE)
    text = request.GET.get("q", "")
    context = {"query": " ".join(text.split()), "categories": site_state(request).categories}
    if not context["query"]:
        return render(request, "articles/search.html", context)
    try:
        filters = Filters.from_params(request.GET)
        sort = request.GET.get("sort") or "relevance"
        page = request.GET.get("page", "1")
        if not page.isdigit():
            raise SearchError("页码须为数字。")
        results = bounded(lambda: run_search(text, filters, sort=sort, page=int(page)))
    except SearchError as error:
        return render(request, "400.html", {"message": str(error)}, status=400)
    except QueryError as error:
        return render(request, "articles/search.html", {**context, "problem": str(error)})
    except OperationalError:
        return render(request, "articles/search.html", {**context, "too_slow": True})
    links = {"q": context["query"], **filters.params()}
    context.update(
        results=results,
        filters=filters,
        kept=urlencode(links),
        without_source=urlencode({name: value for name, value in links.items() if name != "source"}),
        without_tag=urlencode({name: value for name, value in links.items() if name != "tag"}),
        sorted_kept=urlencode({**links, "sort": sort} if sort != "relevance" else links),
        feed=f"{site_url('articles:search_feed')}?{urlencode(links)}",
    )
    return render(request, "articles/search.html", context)


def bounded(run):
    """`run()` in a transaction on the database searches read (a replica's included) that PostgreSQL stops
    after SEARCH_TIMEOUT_MS (an OperationalError)."""
    database = router.db_for_read(Post)
    with transaction.atomic(using=database):
        if connections[database].vendor == "postgresql":
            with connections[database].cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [SEARCH_TIMEOUT_MS])
        return run()


@reader_page("robots")
def opensearch(request):
    """The OpenSearch description that lets browsers add the site's search as a search engine."""
    return render(request, "articles/opensearch.xml", content_type="application/opensearchdescription+xml")


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
    for kind, ids in [("stock", stock_ids), ("tag", tag_ids)]:
        parts += [
            others.in_scope(kind, pk)
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
    related posts need, cached until the post changes (its version: an edit, its charts, tags and
    stocks) or a name it shows does (the generation)."""
    versions, changed_at = freshness.key_part([freshness.GENERATION, freshness.scope("post", post.pk)])
    # Not {% cache %}: the view needs the stock and tag ids (depends_on, article_links) before rendering.
    key = f"article:{post.pk}:{post.updated_at.timestamp()}:{versions}"
    fragments = cache.get(key)
    if fragments is None:
        prefetch_related_objects([post], "charts", "tags", "stocks")
        # Rendered without the request, so without context processors: the name is passed here.
        context = {
            "post": post,
            "og_image": post.og_image_url,
            "site_name": settings.SITE_NAME,
            # A tag stored with an empty slug (a name of punctuation only, before validation) has no page.
            "linked_tags": [tag for tag in post.tags.all() if tag.slug],
        }
        fragments = {
            "head": render_to_string("articles/_article_head.html", context),
            "main": render_to_string("articles/_article_main.html", context),
            "aside": render_to_string("articles/_article_aside.html", context),
            "stock_ids": [stock.pk for stock in post.stocks.all()],
            "tag_ids": [tag.pk for tag in post.tags.all()],
        }
        cache.set(key, fragments, freshness.keep_seconds(FRAGMENT_SECONDS, changed_at))
    return fragments


def article_links_html(request, post, article):
    """The article's neighbours in its category (`neighbours`, under it) and its related posts
    (`related`, in its sidebar) as HTML, built again only after something changed on the site."""
    # Not {% cache %}: one query fills two places of the page (under the article, in the sidebar).
    state = site_state(request)
    key = f"article-links:{post.pk}:{state.key}"
    links = cache.get(key)
    if links is None:
        older, newer, related = article_links(post, article["stock_ids"], article["tag_ids"])
        links = {
            "neighbours": render_to_string("articles/_article_neighbours.html", {"older": older, "newer": newer}),
            "related": render_to_string("articles/_article_related.html", {"related": related}),
        }
        cache.set(key, links, state.keep_seconds(LINKED_FRAGMENT_SECONDS))
    return links


def render_article(request, post, **context):
    article = article_fragments(post)
    # Its neighbours are in its category, its related posts in its stocks and tags.
    depends_on(
        request,
        freshness.scope("post", post.pk),
        freshness.scope("category", post.category_id),
        *(freshness.scope("stock", pk) for pk in article["stock_ids"]),
        *(freshness.scope("tag", pk) for pk in article["tag_ids"]),
    )
    context = {"post": post, "article": article, "links": article_links_html(request, post, article), **context}
    return render(request, "articles/post_detail.html", context)


@reader_page("article")
def post_detail(request, slug):
    """An article. Slugs are made lower-case, so an upper-case spelling (`/news/NW2022…/`, as info
    codes are written) redirects to it, found by the same single indexed query."""

    def posts_by_slug():
        posts = Post.objects.published().select_related("category", "source")
        return {post.slug: post for post in posts.filter(slug__in={slug, slug.lower()}).order_by()}

    # Under the site's posts: a post saved, published or unpublished anywhere may take or free the slug.
    found = cached_rows(freshness.SITE, posts_by_slug, "article", slug)
    post = found.get(slug)
    if post is None:
        if slug.lower() in found:
            depends_on(request, freshness.scope("post", found[slug.lower()].pk))
            return redirect(found[slug.lower()], permanent=True)
        # A live post's earlier slug: its old URL answers for good (only a missing article looks here).
        old = OldSlug.objects.filter(slug=slug.lower(), post__in=Post.objects.published()).select_related("post")
        old = old.only("post__slug").first()
        if old is None:
            raise Http404("没有这篇文章")
        depends_on(request, freshness.scope("post", old.post.pk))
        return redirect(old.post, permanent=True)
    # The sidebar's most read changes with the ranking, not with this post.
    depends_on(request, freshness.RANKING)
    response = render_article(
        request,
        post,
        current_category=post.category_id,
        most_read=curation(request).most_read,
        count_reads=settings.VIEW_COUNTING,
    )
    return set_last_modified(response, site_state(request).last_change)


def post_preview(request, pk):
    """Any post as readers will see it, for staff who may view posts; never cached, never indexed."""
    if not request.user.is_authenticated or not request.user.is_staff:
        return redirect_to_login(request.get_full_path(), site_url("admin:login"))
    if not request.user.has_perm("articles.view_post"):
        raise Http404("没有查看文章的权限")
    post = get_object_or_404(Post.objects.select_related("category", "source"), pk=pk)
    response = render_article(request, post, preview=True)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@replica_reads
@reader_methods
def legacy_post(request, key, **_category_and_date):
    """Old Jekyll permalinks `/<category>/<yyyy>/<mm>/<dd>/<file id>.html`: the file id is the post's key."""
    post = get_object_or_404(Post.objects.published().filter(key__in={key, key.upper()}).only("slug"))
    return redirect(post, permanent=True)


@reader_page("article")
def share(request):
    """`/html_News/NewsShare.html?infoCode=NW…`, the links readers shared: 301 to the article.

    A redirect rather than a page of its own: the article page is already light and phone-first,
    and one canonical URL per story keeps search engines and caches from seeing duplicates.
    """
    code = request.GET.get("infoCode", "").strip()
    if not INFO_CODE.fullmatch(code):
        message = "分享链接缺少 infoCode 参数。" if not code else "分享链接中的 infoCode 格式不对。"
        return render(request, "400.html", {"message": message}, status=400)

    def post_of_code():
        return Post.objects.published().filter(info_code__in={code, code.upper()}).only("slug").first()

    # Under the site's posts, as an article's slug (post_detail).
    post = cached_rows(freshness.SITE, post_of_code, "share", code)
    if post is None:
        message = f"找不到编号为 {code} 的文章，它可能已下线或链接有误。"
        return render(request, "404.html", {"message": message}, status=404)
    depends_on(request, freshness.scope("post", post.pk))
    return redirect(post, permanent=True)


def server_error(request):
    """The 500 page. Django's default renders it without any context; this one adds the site's
    name, and nothing that needs the database or the session, which may be what failed."""
    return HttpResponseServerError(render_to_string("500.html", site(request)))


@reader_page("robots")
def robots_txt(request):
    """Crawlers: keep out of the admin, previews and the JSON API; here are the sitemaps."""
    depends_on(request)  # nothing but the generation
    lines = ["User-agent: *"]
    private = (site_url("admin:index"), "/preview/", site_url("articles:search"), "/api/")
    lines += [f"Disallow: {path}" for path in private]
    lines += [
        f"Sitemap: {absolute_url(site_url('articles:sitemap_index'))}",
        f"Sitemap: {absolute_url(site_url('articles:sitemap', section='news'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@reader_page("new_posts")
def new_posts(request):
    """JSON for the listing's "N new posts" notice: how many posts are newer than `after` in `scope`.

    With `items=1` it also carries the rendered list items, newest first, for the page to insert.
    """
    try:
        cursor = Cursor.parse(request.GET.get("after", ""))
        kind, _, pk = request.GET.get("scope", "").partition(":")
        pk = parse_id(pk) if kind else None
        posts = scoped_posts(kind or None, pk).newer_than(cursor.published_at, cursor.pk)
    except ValueError:
        return JsonResponse({"error": "after 须为列表游标，scope 须为 category/source/tag/stock:编号"}, status=400)
    depends_on(request, freshness.scope(kind, pk) if kind else freshness.SITE)
    count = posts[: NEW_POSTS_CAP + 1].count()
    data = {"count": count, "capped": count > NEW_POSTS_CAP}
    breaking = site_state(request).breaking
    # Breaking news is announced to every open page, whatever its scope, for the banner.
    data["breaking"] = breaking.as_json() if breaking else None
    if request.GET.get("items") and 0 < count <= PER_PAGE:
        rows = list(page_rows(posts))[::-1]
        data["html"] = post_items(rows, hide_category=kind == "category")
        data["after"] = str(Cursor.of(rows[0]))
    return JsonResponse(data)


@reader_page("listing")
def most_read(request):
    """The week's most read posts (热门), most first, from the ranking the last flush of read counts made."""
    depends_on(request, freshness.SITE, freshness.RANKING)
    state = site_state(request)
    version, top = popularity.most_read_now("week")

    def ranked():
        """Called by the template only when its {% cache %} block (under the site's and the ranking's
        versions) holds no copy."""
        hours = popularity.RANKING_SIZES["week"][0]
        posts = (
            Post.objects.published()
            .filter(pk__in=top())
            .select_related("category", "source")
            .defer("body")
            .annotate(recent_views=popularity.recent_views(hours))
        )
        return sorted((p for p in posts if p.recent_views), key=lambda p: (-p.recent_views, -p.pk))

    context = {
        "heading": "7 日热门",
        "kind": "热门",
        "ranked": ranked,
        "versions": (state.key, version),
        "fragment_seconds": state.keep_seconds(LINKED_FRAGMENT_SECONDS, freshness.bumped_at([freshness.RANKING])),
        "description": "过去 7 天读者最多的财经资讯。",
    }
    response = render(request, "articles/most_read.html", context)
    return set_last_modified(response, state.last_change)


@csrf_exempt
@never_cache
def count_view(request, pk):
    """The article page's read beacon (POST, no body): counts a read of post `pk` in the cache, never in
    the database (articles.popularity). Cross-site posts do no harm: all they can do is what a reader's
    visit does, once per client and window. Answers 204 whether or not the read counted."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    popularity.record_view(request, pk)
    return HttpResponse(status=204)
