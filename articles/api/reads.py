"""The read API: posts, categories, sources, tags and stocks, as JSON.

It reads what readers may see through the reading layer (`reading.scoped_posts`, on
`Post.objects.published()`), pages posts with the site's keyset cursors (`pagination.KeysetPaginator`)
and caches as reader pages do (`reading.reader_page`: Cache-Control, ETag, 304; Last-Modified is the
site's last change). Every list takes a fixed number of queries, whatever its length.
"""

import datetime
import html
import re
from typing import Annotated
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Q, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.html import strip_tags
from ninja import Router
from ninja.decorators import decorate_view
from ninja.errors import HttpError
from pydantic import Field
from taggit.models import Tag

from articles.html import sanitize_html
from articles.models import STOCK_SHORTCODE, Post, Source, Stock
from articles.pagination import BadCursor, KeysetPaginator
from articles.reading import (
    SCOPES,
    absolute_url,
    page_rows,
    post_keys,
    reader_page,
    scoped_posts,
    set_last_modified,
    site_state,
    site_url,
)
from articles.search_text import MAX_QUERY_CHARS, QueryError, parse_query
from articles.validators import EARLIEST_PUBLICATION, LATEST_PUBLICATION

from .schemas import CategoryList, Error, PostOut, PostPage, SourcePage, StockOut, StockPage, TagPage

router = Router(tags=["读取"])

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# Query texts: printable, bounded. A NUL or a megabyte of text is refused before it reaches the database.
TEXT = r"^[^\x00-\x1f\x7f]{1,200}$"
CURSOR = r"^\d{14}(\.\d{6})?-\d{1,19}$"
SYMBOL = re.compile(r"(\d{1,3})\.([A-Za-z0-9.\-]{1,20})")

Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description=f"每页条数，1–{MAX_LIMIT}")]
Text = Annotated[str | None, Field(pattern=TEXT)]
CursorText = Annotated[str | None, Field(pattern=CURSOR)]
# A time as ISO 8601 (`2022-05-26`, `2022-05-26T09:30:00+08:00`); without an offset, Beijing time. Typed as
# text and parsed here: pydantic would also take a bare number as a Unix time, which no client means.
TIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
TimeText = Annotated[
    str | None,
    Field(pattern=TIME, description="ISO 8601 时间，不带时区时按北京时间", examples=["2022-05-26T09:30:00+08:00"]),
]
IdCursor = Annotated[int | None, Field(ge=0, le=2**63 - 1, description="上一页最后一项的 id")]


def reader_cached(kind):
    """A read endpoint: public caching for MAX_AGE[kind], ETag, 304, Last-Modified of the site's last change."""
    return decorate_view(reader_page(kind))


def last_modified(request, response):
    set_last_modified(response, site_state(request).last_change)


def filtered_posts(category, source, tag, stock, published_after, published_before, q=None):
    """Published posts narrowed by the filters (slugs, a stock symbol, a search), or HttpError 400 naming
    the filter that names nothing or cannot be searched for. One query per named object."""
    posts = scoped_posts()
    if q is not None:
        # The site search's matching (articles.search_text): every word, "phrases", -exclusions. A filter
        # like the others, so its results page by the same cursors, newest first.
        try:
            posts = posts.text_search(parse_query(q))
        except QueryError as error:
            raise HttpError(400, f"q：{error}") from None
    named = {"category": category, "source": source, "tag": tag}
    for kind, value in named.items():
        if value is not None:
            posts = posts.in_scope(kind, find(kind, value))
    if stock is not None:
        posts = posts.in_scope("stock", find_stock(stock, status=400))
    if published_after is not None:
        posts = posts.filter(published_at__gte=parse_time("published_after", published_after))
    if published_before is not None:
        posts = posts.filter(published_at__lt=parse_time("published_before", published_before))
    return posts


def parse_time(name, text):
    """The moment `text` (ISO 8601, matched by TIME) names, Beijing time without an offset; HttpError 400
    for a date that does not exist or lies outside the years posts may have."""
    try:
        moment = datetime.datetime.fromisoformat(text)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        if not EARLIEST_PUBLICATION.year <= moment.year < LATEST_PUBLICATION.year:
            raise ValueError
    except (ValueError, OverflowError):
        raise HttpError(
            400, f"{name} 须为 {EARLIEST_PUBLICATION.year}–{LATEST_PUBLICATION.year - 1} 年间的 ISO 8601 时间"
        ) from None
    return moment


WHAT = {"category": "栏目", "source": "来源", "tag": "标签", "stock": "股票"}


def find(kind, slug):
    try:
        return SCOPES[kind].find(None, slug=slug) if kind != "category" else _category(slug)
    except Http404:
        raise HttpError(400, f"没有这个{WHAT[kind]}：{slug}") from None


def _category(slug):
    # The category menu (site state) knows every category: no query.
    category = site_state().category(slug)
    if category is None:
        raise Http404
    return category.pk


def find_stock(symbol, status=404):
    match = SYMBOL.fullmatch(symbol)
    try:
        if match is None:
            raise Http404
        return SCOPES["stock"].find(None, market=int(match[1]), code=match[2])
    except Http404:
        raise HttpError(status, f"没有这只股票：{symbol}（写作「市场.代码」，如 116.00020）") from None


def with_related(posts):
    return (
        posts.select_related("category", "source", "twin_of")
        .defer("twin_of__body")
        .prefetch_related("tags", "stocks", "charts")
    )


def post_page(request, posts, limit, before, after):
    """One page of `posts` as PostPage data, with next and prev links that keep the request's filters."""
    try:
        page = KeysetPaginator(page_rows(posts), limit).page(before=before, after=after)
    except BadCursor as error:
        raise HttpError(400, str(error)) from None
    kept = {name: value for name, value in request.GET.items() if name not in ("before", "after")}

    def link(**cursor):
        return absolute_url(f"{request.path}?{urlencode({**kept, **cursor})}")

    newer = None if page.reached_top else page.newer
    return {
        "items": post_payloads(page.posts),
        "next": link(before=str(page.older)) if page.older else None,
        "prev": link(after=str(newer)) if newer else None,
    }


def post_payloads(rows):
    """What the API says of `rows` (published posts; pk and updated_at suffice), in order.

    As with the reader's headlines (reading.post_items), each post's data is cached under
    reading.post_keys, so a page costs two cache lookups; the posts not cached are fetched and
    serialised together.
    """
    # Not {% cache %}: JSON data, no template; a page's posts are read in one get_many.
    keys, seconds = post_keys("api-post", rows)
    found = cache.get_many(list(keys.values()))
    missing = [pk for pk, key in keys.items() if key not in found]
    if missing:
        fresh = {keys[post.pk]: post_data(post) for post in with_related(Post.objects.filter(pk__in=missing))}
        cache.set_many(fresh, seconds)
        found.update(fresh)
    return [found[key] for key in keys.values() if key in found]


BLOCK_END = re.compile(r"</(?:p|h[1-6]|li|tr|blockquote|figure|figcaption|div|pre|table)>|<br\s*/?>", re.IGNORECASE)


def plain_text(body):
    """A body's text: one line per paragraph, entities decoded, stock-chart short codes left out."""
    text = html.unescape(strip_tags(BLOCK_END.sub("\n", STOCK_SHORTCODE.sub("", body))))
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def post_data(post):
    """What the API says of a published post (its category, source, tags, stocks and charts loaded)."""
    picture = post.lead_picture
    share = post.share_url()
    return {
        "id": post.pk,
        "title": post.title,
        "slug": post.slug,
        "url": absolute_url(post.get_absolute_url()),
        "canonical_url": absolute_url(post.canonical_url()),
        "share_url": absolute_url(share) if share else None,
        "info_code": post.info_code,
        "key": post.key,
        "published_at": timezone.localtime(post.published_at),
        "updated_at": timezone.localtime(post.updated_at),
        "summary": post.summary,
        "body_html": sanitize_html(str(post.body_html)),
        "body_text": plain_text(post.body),
        "category": category_data(post.category),
        "source": source_data(post.source) if post.source else None,
        "tags": [tag_data(tag) for tag in post.tags.all()],
        "charts": [
            {
                "market": chart.market,
                "code": chart.code,
                "type": chart.chart_type,
                "image_url": chart.image_src,
                "quote_url": chart.quote_href,
            }
            for chart in post.charts.all()
        ],
        "stocks": [stock_data(stock) for stock in post.stocks.all()],
        "lead_image": (
            {
                "width": picture.width,
                "height": picture.height,
                "renditions": [
                    {"url": absolute_url(r.url), "width": r.width, "height": r.height, "format": r.format}
                    for r in picture.renditions
                ],
            }
            if picture
            else None
        ),
        "original_url": post.original_url,
    }


def category_data(category):
    return {
        "slug": category.slug,
        "name": category.name,
        "description": category.description,
        "url": absolute_url(category.get_absolute_url()),
    }


def source_data(source):
    return {"slug": source.slug, "name": source.name, "url": absolute_url(source.get_absolute_url())}


def tag_data(tag):
    # A tag stored with an empty slug (punctuation only, before validation) has no page.
    url = absolute_url(site_url("articles:tag_detail", slug=tag.slug)) if tag.slug else None
    return {"slug": tag.slug, "name": tag.name, "url": url}


def stock_data(stock):
    return {
        "symbol": f"{stock.market}.{stock.code}",
        "market": stock.market,
        "code": stock.code,
        "name": stock.name,
        "url": absolute_url(stock.get_absolute_url()),
    }


@router.get("/posts", response={200: PostPage, 400: Error}, summary="文章列表（最新在前）")
@reader_cached("listing")
def list_posts(
    request,
    response: HttpResponse,
    category: Text = None,
    source: Text = None,
    tag: Text = None,
    stock: Annotated[str | None, Field(pattern=r"^\d{1,3}\.[A-Za-z0-9.\-]{1,20}$", examples=["116.00020"])] = None,
    published_after: TimeText = None,
    published_before: TimeText = None,
    q: Annotated[str | None, Field(max_length=MAX_QUERY_CHARS, examples=["芯片 减持"])] = None,
    before: CursorText = None,
    after: CursorText = None,
    limit: Limit = DEFAULT_LIMIT,
):
    """已发布的文章，最新在前。`category`、`source`、`tag` 为 URL 标识，`stock` 为「市场.代码」；
    `published_after`/`published_before` 为 ISO 8601 时间（含时区）；`q` 为全文搜索（与站内搜索相同：
    每个词都须出现，"引号"内为短语，-词 为排除）。翻页用响应中的 `next`、`prev` 链接（游标，不是页码）。"""
    posts = filtered_posts(category, source, tag, stock, published_after, published_before, q)
    last_modified(request, response)
    return post_page(request, posts, limit, before, after)


@router.get("/posts/{ident}", response={200: PostOut, 404: Error}, summary="一篇文章")
@reader_cached("article")
def get_post(request, response: HttpResponse, ident: str):
    """按 URL 标识（slug）、导入键或资讯编号（如 NW202205262391921712）找一篇已发布的文章。"""
    if not re.fullmatch(TEXT, ident):
        raise Http404
    candidates = {ident, ident.lower(), ident.upper()}
    found = list(
        Post.objects.published()
        .select_related("category", "source", "twin_of")
        .defer("twin_of__body")
        # Three unique indexes, one bitmap OR in PostgreSQL.
        .filter(Q(slug__in=candidates) | Q(key__in=candidates) | Q(info_code__in=candidates))
    )
    # A slug names a post before a key does, a key before an info code.
    for field in ("slug", "key", "info_code"):
        for post in found:
            if getattr(post, field) in candidates:
                last_modified(request, response)
                return cached_post_data(post)
    raise Http404


def cached_post_data(post):
    """post_data of one post, cached as post_payloads caches a page's."""
    keys, seconds = post_keys("api-post", [post])
    data = cache.get(keys[post.pk])
    if data is None:
        prefetch_related_objects([post], "tags", "stocks", "charts")
        data = post_data(post)
        cache.set(keys[post.pk], data, seconds)
    return data


@router.get("/categories", response=CategoryList, summary="全部栏目")
@reader_cached("listing")
def list_categories(request, response: HttpResponse):
    """网站的全部栏目，按菜单顺序。"""
    last_modified(request, response)
    return {"items": [category_data(category) for category in site_state(request).categories]}


def id_page(queryset, cursor, limit, data):
    """A page of `queryset` in id order after the id `cursor`, and the id to ask for next."""
    rows = list(queryset.filter(pk__gt=cursor or 0).order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [data(row) for row in rows], "next_id": rows[-1].pk if more else None}


def with_next(request, page):
    next_id = page.pop("next_id")
    kept = {name: value for name, value in request.GET.items() if name != "cursor"}
    page["next"] = absolute_url(f"{request.path}?{urlencode({**kept, 'cursor': next_id})}") if next_id else None
    return page


@router.get("/sources", response={200: SourcePage, 400: Error}, summary="来源")
@reader_cached("listing")
def list_sources(request, response: HttpResponse, cursor: IdCursor = None, limit: Limit = MAX_LIMIT):
    """文章的来源（发布者），按编号顺序；`next` 为下一页。"""
    last_modified(request, response)
    return with_next(request, id_page(Source.objects.all(), cursor, limit, source_data))


@router.get("/tags", response={200: TagPage, 400: Error}, summary="标签")
@reader_cached("listing")
def list_tags(request, response: HttpResponse, cursor: IdCursor = None, limit: Limit = MAX_LIMIT):
    """全部标签，按编号顺序；`next` 为下一页。"""
    last_modified(request, response)
    return with_next(request, id_page(Tag.objects.all(), cursor, limit, tag_data))


@router.get("/stocks", response={200: StockPage, 400: Error}, summary="股票")
@reader_cached("listing")
def list_stocks(request, response: HttpResponse, cursor: IdCursor = None, limit: Limit = MAX_LIMIT):
    """文章图表展示或提及的股票，按编号顺序；`next` 为下一页。"""
    last_modified(request, response)
    return with_next(request, id_page(Stock.objects.all(), cursor, limit, stock_data))


@router.get("/stocks/{symbol}", response={200: StockOut, 404: Error}, summary="一只股票")
@reader_cached("listing")
def get_stock(request, response: HttpResponse, symbol: str):
    """按「市场.代码」找一只股票，如 116.00020（商汤-W）、1.600519（贵州茅台）。"""
    last_modified(request, response)
    return stock_data(find_stock(symbol))


@router.get("/stocks/{symbol}/posts", response={200: PostPage, 400: Error, 404: Error}, summary="一只股票的文章")
@reader_cached("listing")
def list_stock_posts(
    request,
    response: HttpResponse,
    symbol: str,
    before: CursorText = None,
    after: CursorText = None,
    limit: Limit = DEFAULT_LIMIT,
):
    """图表展示或提及这只股票的已发布文章，最新在前。"""
    stock = find_stock(symbol)
    last_modified(request, response)
    return post_page(request, scoped_posts("stock", stock.pk), limit, before, after)
