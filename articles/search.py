"""Searching published posts: what the search page, its feed, the admin and the API share.

A query (articles.search_text.parse_query) is matched against each post's search document on
PostgreSQL (`PostQuerySet.search`), or by substring on SQLite. No search does unbounded work: it looks
at the newest CAP + 1 matching posts at most (the count shows "1,000+"), ranks the newest RANK_WINDOW
of those by relevance (ts_rank, title and tags first; newer wins ties) or keeps them newest first, and
shows PER_PAGE a page.

For the newest CAP posts of a common term PostgreSQL walks the date index and checks each post's
document; for a rare term it reads the GIN index's few matches and sorts them; for a term in between it
reads the matches of the newest months first (`windows`), from the same index. Its statistics on the
search column tell it which term is which (the migration raises their sample to 1,000 tokens).
"""

import contextlib
import datetime
import math
from dataclasses import dataclass, field
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection
from django.db.models import F, FloatField, Func, Q, TextField, Value
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import Post, Stock, StockChart
from .search_text import QueryError, fold, html_text, parse_query, with_stock
from .symbols import Market, SymbolError, parse_symbol
from .validators import EARLIEST_PUBLICATION, LATEST_PUBLICATION

CAP = 1000
# Relevance orders the newest this many matches (ten pages); older matches follow, newest first.
RANK_WINDOW = 200
# Checking a post's search document (reading it from TOAST and decompressing it) costs about this many
# visits of an ordinary row; the planner does not know it (choose_plan).
DOCUMENT_COST = 5
# A term expected in more posts than this is looked for in the newest months first: those expected to
# hold this many matches, then WIDER times as many months' worth, then all. Each match the index hands
# over is a visit of the table, which is what makes a term in 50,000 posts slow.
WINDOW_MATCHES = 2 * (CAP + 1)
WIDER = 8
STATS_KEY = "articles:search-stats"
STATS_SECONDS = 600
PER_PAGE = 20
MAX_PAGE = CAP // PER_PAGE
SNIPPET_CHARS = 80
SORTS = ("relevance", "new")

__all__ = ["QueryError", "SearchError", "parse_query", "search"]


class SearchError(ValueError):
    """A filter, sort or page the search cannot use; the message says which, for the reader (a 400)."""


class TsQuery(Func):
    template = "(%(expressions)s)::tsquery"
    output_field = TextField()


class Rank(Func):
    """ts_rank of the post's document for the tsquery text, divided by 1 + log(length) so that long
    bodies do not outrank a title."""

    template = "ts_rank(%(expressions)s, 1)"
    output_field = FloatField()

    def __init__(self, tsquery):
        super().__init__(F("search_document"), TsQuery(Value(tsquery)))


@dataclass(frozen=True)
class Filters:
    """What a search is narrowed to: slugs of a category, source and tag, and a date range (Beijing days)."""

    category: str = ""
    source: str = ""
    tag: str = ""
    start: datetime.date | None = None
    end: datetime.date | None = None

    @classmethod
    def from_params(cls, params):
        """The filters of a query string; SearchError for a date that does not parse or is out of range."""
        start, end = _day(params.get("from", ""), "起始日期"), _day(params.get("to", ""), "截止日期")
        if start and end and start > end:
            raise SearchError("起始日期不能晚于截止日期。")
        return cls(
            category=params.get("category", "").strip(),
            source=params.get("source", "").strip(),
            tag=params.get("tag", "").strip(),
            start=start,
            end=end,
        )

    def apply(self, posts):
        if self.category:
            posts = posts.filter(category__slug=self.category)
        if self.source:
            posts = posts.filter(source__slug=self.source)
        if self.tag:
            posts = posts.filter(tagged_items__tag__slug=self.tag)
        if self.start:
            posts = posts.filter(published_at__gte=_midnight(self.start))
        if self.end:
            posts = posts.filter(published_at__lt=_midnight(self.end + datetime.timedelta(days=1)))
        return posts

    def params(self):
        """The filters as query-string pairs, for links that keep them."""
        pairs = {"category": self.category, "source": self.source, "tag": self.tag}
        pairs["from"] = self.start.isoformat() if self.start else ""
        pairs["to"] = self.end.isoformat() if self.end else ""
        return {name: value for name, value in pairs.items() if value}


def _day(text, label):
    text = text.strip()
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise SearchError(f"{label}须写作 年-月-日，例如 2022-05-01。") from None
    if not EARLIEST_PUBLICATION.year <= day.year < LATEST_PUBLICATION.year:
        raise SearchError(f"{label}须在 {EARLIEST_PUBLICATION.year} 年至 {LATEST_PUBLICATION.year - 1} 年之间。")
    return day


def _midnight(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def find_stock(query):
    """The stock a one-word query names by its code (`600519`, `sh600519`, `00020`, `00020.HK`, `AAPL`) or its
    name (`贵州茅台`), or None. One query at most."""
    if len(query.terms) != 1 or query.excluded:
        return None
    name = query.raw.strip('"')
    text = fold(name)
    names = Q(name__iexact=name)
    try:
        symbol = parse_symbol(text)
    except SymbolError:
        symbol = None
    if symbol is not None and symbol.market is not None:
        names |= Q(market=symbol.market, code=symbol.code)
    elif symbol is not None:
        names |= Q(code=symbol.code)
    if text.isdigit() and len(text) <= 5:  # a bare Hong Kong code: 00020, 700
        names |= Q(market=Market.HONG_KONG, code=text.zfill(5))
    return Stock.objects.filter(names).order_by("market", "code").first()


def matching_posts(query, stock=None):
    """Published posts that hold every included term of `query` (a parsed Query) and none of its excluded ones;
    with `stock`, also those that chart or mention it. Unordered: the queryset the API filters with."""
    return Post.objects.published().search(query, stock=stock)


@dataclass
class Hit:
    """A post in the results, with its title and snippet as safe HTML, the query's words in <mark>."""

    post: Post
    title_html: str
    snippet_html: str


@dataclass
class Results:
    """A page of a search: its hits, how many posts match (at most CAP, `capped` past it), the stock it names."""

    query: object
    filters: Filters
    sort: str
    page: int
    hits: list = field(default_factory=list)
    total: int = 0
    capped: bool = False
    stock: Stock | None = None

    @property
    def pages(self):
        return max(1, -(-min(self.total, CAP) // PER_PAGE))

    @property
    def stock_chart(self):
        """The chart of the stock the query names (its daily K-line), for the stock box."""
        return StockChart(market=self.stock.market, code=self.stock.code) if self.stock else None

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def has_previous(self):
        return self.page > 1


def search(text, filters=Filters(), *, sort="relevance", page=1):
    """A page of results for the query `text`. Raises QueryError for a query that cannot be searched
    for, SearchError for a sort or page out of range (filters are checked by Filters.from_params)."""
    query = parse_query(text)
    if sort not in SORTS:
        raise SearchError("排序方式只能是相关度或最新。")
    if not 1 <= page <= MAX_PAGE:
        raise SearchError(f"页码须在 1 到 {MAX_PAGE} 之间；要看更早的结果，请加上日期范围。")
    stock = find_stock(query)
    postgresql = connection.vendor == "postgresql"
    rank = sort == "relevance" and postgresql
    # Read once: they choose the plan and, for a plan through the GIN index, its windows. Steering needs
    # the search's transaction on this connection (choose_plan); without one, as when reading from a
    # replica, the statistics are not read.
    stats = statistics() if postgresql and connection.in_atomic_block else None
    spans = windows(query, stats, stock)
    with steered(query, stats, stock, since=spans[0]) as plan:
        # Unless walking the date index (which reads each document it passes anyway), the candidates come
        # from the GIN index alone (tokens in any order), and only they are confirmed against the
        # documents' positions (confirmed): CAP + 1 documents read at most, however many posts hold the
        # tokens, and past CAP candidates only those ranked and shown.
        walking = plan == "enable_bitmapscan"
        loose = postgresql and not walking and not is_exact(query, stock)
        for since in spans if plan == "enable_indexscan" else [None]:
            posts = Post.objects.published().text_search(query, stock, loose=loose, since=since)
            rows = filters.apply(posts).order_by("-published_at", "-pk").values_list("pk", "published_at")
            rows = list(rows[: CAP + 1])
            # The window holds every post since its first month: past CAP matches, the newest are in it.
            if len(rows) > CAP:
                break
    # Past CAP candidates there are more matches than the count shows, whatever confirming removes: then
    # only those that ranking and this page show need confirming. Otherwise every one, for the count.
    more = len(rows) > CAP
    if loose:
        needed = max(RANK_WINDOW if rank else 0, page * PER_PAGE) if more else len(rows)
        rows = confirmed(rows, query, stock, needed)
    if rank and len(rows) > 1:
        # Ranking reads each document again: the newest RANK_WINDOW matches are ranked, the rest follow.
        window = [pk for pk, _ in rows[:RANK_WINDOW]]
        ranked = Post.objects.filter(pk__in=window).annotate(rank=Rank(query.tsquery()))
        ranks = dict(ranked.values_list("pk", "rank"))
        rows[:RANK_WINDOW] = sorted(rows[:RANK_WINDOW], key=lambda row: (ranks.get(row[0], 0), row[1]), reverse=True)
    capped = more or len(rows) > CAP
    results = Results(query, filters, sort, page, total=min(len(rows), CAP), capped=capped, stock=stock)
    ids = [row[0] for row in rows[(page - 1) * PER_PAGE : page * PER_PAGE]]
    # A stock's posts may name it other than the query did: 600519 finds 贵州茅台 too, marked as well.
    words = [*query.words, *((stock.code, stock.name) if stock else ())]
    results.hits = hits(ids, words)
    return results


class Statistics(NamedTuple):
    """PostgreSQL's statistics on posts: {token: share of posts holding it} for the most common tokens, the
    share below which tokens are left out, the number of posts, and the bounds of its histogram of
    `published_at` (oldest first; each part holds as many posts)."""

    frequencies: dict
    floor: float
    rows: float
    published: list


def statistics():
    """The Statistics, or None before any ANALYZE. Read at most every STATS_SECONDS."""
    stats = cache.get(STATS_KEY)
    if stats is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples, "
                "(SELECT d.histogram_bounds::text::timestamptz[] FROM pg_stats d WHERE d.schemaname = "
                "s.schemaname AND d.tablename = s.tablename AND d.attname = 'published_at') "
                "FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename AND c.relnamespace = "
                "(SELECT oid FROM pg_namespace WHERE nspname = s.schemaname) "
                "WHERE s.schemaname = current_schema() AND s.tablename = %s AND s.attname = 'search_document'",
                [Post._meta.db_table],
            )
            row = cursor.fetchone()
        stats = False
        if row and row[0]:
            tokens, frequencies, rows, published = row
            stats = Statistics(dict(zip(tokens, frequencies, strict=False)), frequencies[len(tokens)], rows, published)
        cache.set(STATS_KEY, stats, STATS_SECONDS)
    return stats or None


def estimated_share(query, stats, stock=None):
    """The share of posts that hold every included term of `query` or, with `stock`, its code or name, by
    the statistics (terms taken as independent, a term as common as its rarest token, the alternatives as
    never in the same post)."""
    frequencies, floor = stats.frequencies, stats.floor
    total = 0.0
    for alternative in with_stock(query, stock):
        share = 1.0
        for term in alternative.included:
            term_share = 1.0
            for _, token, prefix in term.steps():
                if prefix:
                    found = sum(f for t, f in frequencies.items() if t.startswith(token))
                else:
                    found = frequencies.get(token, 0)
                term_share = min(term_share, max(found, floor / 2))
            share *= min(term_share, 1.0)
        total += share
    return min(total, 1.0)


def choose_plan(query, stats, stock=None, since=None):
    """Within the search's transaction, steer PostgreSQL to the cheaper of its two plans for the newest
    CAP + 1 matches of `query` (or of `stock`'s code or name): walking the date index, reading each post's
    document until enough match, or the GIN index's bitmap of every match from the month of `since` on
    (every match without it), sorted, of which those ranked and shown (RANK_WINDOW) are then confirmed
    unless the index's answer is exact. The planner prices reading a document like any other column; it
    costs more (DOCUMENT_COST row visits), which moves the crossover. Its own statistics give each term's
    share of posts (`stats`, from statistics())."""
    if not stats:
        return None
    share, rows = estimated_share(query, stats, stock), stats.rows
    walk = min(rows, (CAP + 1) / max(share, 1e-9)) * DOCUMENT_COST
    # A prefix (`etf`, `5g`) is answered by gathering every match of every token it begins, whatever the
    # window: only whole tokens are narrowed by the month within the index.
    prefixed = any(prefix for each in with_stock(query, stock) for t in each.included for _, _, prefix in t.steps())
    bitmap = share * rows * _share_since(None if prefixed else since, stats)
    if not is_exact(query, stock):
        bitmap += RANK_WINDOW * DOCUMENT_COST
    # Turning off the other plan, and reading the whole table (every document), leaves PostgreSQL this one.
    setting = "enable_indexscan" if bitmap < walk else "enable_bitmapscan"
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true), set_config(%s, 'off', true)", [setting])
    return setting


def is_exact(query, stock=None):
    """Whether the GIN index alone finds just the posts matching `query` (or `stock`'s code or name), tokens
    in any order: no phrases, no exclusions, no stock (whose name is a phrase). Otherwise its candidates are
    confirmed against their documents."""
    return query.loose_is_exact and stock is None


def _share_since(since, stats):
    """The share of posts published from the start of `since`'s month (UTC) until now, by the statistics'
    histogram of `published_at`; every post without `since`."""
    if since is None:
        return 1.0
    start = since.astimezone(datetime.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    now = timezone.now()
    parts = max(1, len(stats.published) - 1)
    return max(1, sum(start <= bound <= now for bound in stats.published)) / parts


def windows(query, stats, stock=None):
    """Where to look for the newest CAP + 1 matches of `query` (or `stock`'s code or name) through the GIN
    index: moments from whose month on (Post.objects.text_search's `since`), the nearest first, and then
    None, every post. Only None for a term expected in few posts, or without statistics (`stats`, from
    statistics())."""
    if not stats or not stats.published:
        return [None]
    expected = estimated_share(query, stats, stock) * stats.rows
    # Scheduled posts (not yet searchable) are in the histogram too; the parts after now are theirs.
    now = timezone.now()
    found, bounds = [], [bound for bound in stats.published if bound <= now]
    if not bounds:
        return [None]
    # The newest posts holding WINDOW_MATCHES matches, as a share of all posts, then WIDER times as many.
    share = WINDOW_MATCHES / max(expected, 1)
    while share < 0.5:  # past half of all posts, the whole index costs little more
        # The histogram bound with that share of posts after it (its parts hold as many posts each).
        found.append(bounds[max(0, math.floor((len(bounds) - 1) * (1 - share)))])
        share *= WIDER
    return [*found, None]


@contextlib.contextmanager
def steered(query, stats, stock=None, since=None):
    """choose_plan for the query that finds the candidates, and for it alone: confirming them and ranking
    look posts up by id, which either setting would forbid (a bitmap of every post holding the tokens,
    each document read, instead of a thousand lookups). Yields the setting turned off, or None."""
    setting = choose_plan(query, stats, stock, since)
    yield setting
    if setting is not None:
        with connection.cursor() as cursor:
            cursor.execute(f"RESET enable_seqscan; RESET {setting}")


def confirmed(rows, query, stock, needed):
    """`rows` ((pk, published_at), newest first) less the posts whose documents do not match `query` (or
    `stock`'s code or name): checked in order, a document read each, until `needed` match; the rest are
    left as they are."""
    kept, checked = [], 0
    while checked < len(rows) and len(kept) < needed:
        batch = rows[checked : checked + max(needed - len(kept), PER_PAGE)]
        ids = [pk for pk, _ in batch]
        matching = set(
            Post.objects.filter(pk__in=ids).text_search(query, stock, by_row=True).values_list("pk", flat=True)
        )
        kept += [row for row in batch if row[0] in matching]
        checked += len(batch)
    return kept + rows[checked:]


def hits(ids, words):
    """The Hits of the posts `ids`, in that order: one query."""
    posts = Post.objects.filter(pk__in=ids).select_related("category", "source")
    by_id = {post.pk: post for post in posts}
    found = [by_id[pk] for pk in ids if pk in by_id]
    return [
        Hit(
            post,
            highlight(post.title, words),
            snippet(" ".join(f"{post.summary} {html_text(post.body)}".split()), words),
        )
        for post in found
    ]


# Highlighting -------------------------------------------------------------------------------------


def _folded(text):
    """`text` folded as the index folds it, and for each folded character the index of the character of
    `text` it came from."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded, None
    pieces, origins = [], []
    for index, char in enumerate(text):
        piece = fold(char)
        pieces.append(piece)
        origins += [index] * len(piece)
    return "".join(pieces), origins


def _spans(text, words):
    """(start, end) in `text` of every occurrence of `words`, longest words first, without overlaps, in order."""
    folded, origins = _folded(text)
    taken = []
    for word in sorted({fold(word) for word in words if word}, key=len, reverse=True):
        start = folded.find(word)
        while start >= 0:
            end = start + len(word)
            if not any(start < other_end and other_start < end for other_start, other_end in taken):
                taken.append((start, end))
            start = folded.find(word, end)
    if origins is not None:
        taken = [(origins[start], origins[end - 1] + 1) for start, end in taken]
    return sorted(taken)


def _marked(text, spans, start=0, end=None):
    end = len(text) if end is None else end
    html, at = [], start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        html += [escape(text[at:span_start]), "<mark>", escape(text[span_start:span_end]), "</mark>"]
        at = span_end
    html.append(escape(text[at:end]))
    return "".join(html)


def highlight(text, words):
    """`text` escaped, with every occurrence of `words` in <mark>: safe HTML."""
    return mark_safe(_marked(text, _spans(text, words)))


def snippet(text, words, length=SNIPPET_CHARS):
    """About `length` characters of `text` around the first occurrence of any of `words`, escaped, the
    words in <mark>, with "…" where it was cut: safe HTML. The opening of `text` when none occurs."""
    spans = _spans(text, words)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - length // 4, len(text) - length))
    end = min(len(text), start + length)
    inner = _marked(text, spans, start, end)
    return mark_safe(("…" if start else "") + inner + ("…" if end < len(text) else ""))
