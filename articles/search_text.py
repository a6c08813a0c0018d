"""Chinese full-text search on stock PostgreSQL: the one tokeniser, used to build each post's stored search
document and to turn what a reader types into a query, so both always agree.

PostgreSQL's parsers do not segment Chinese, and its trigram index cannot serve one- or two-character
words. Text is therefore folded (NFKC, so full-width `ＥＴＦ` becomes `ETF`; then lower case) and cut into:

- for each run of Chinese (any letters other than ASCII): every character, and every overlapping pair
  of characters (`宁德时代` → 宁 德 时 代 宁德 德时 时代);
- for each run of ASCII letters and digits: the run (`sh600519`, `etf`), and its letter and digit parts
  when it mixes both (`sh`, `600519`).

Each token keeps its position (one per character of Chinese, one per ASCII run, one per gap), so a query
word of several characters becomes a phrase of its pairs that must stand in order (`宁德 <1> 德时 <1>
时代`), and a quoted phrase keeps its gaps. The document is a `simple`-config tsvector written as
tsvector input text (in COPY and in SQL alike), which no text-search parser reads again.

PostgreSQL keeps positions up to 16,383 and 256 of them per token. A post past either limit gets the
token LONG: its words are then matched by their tokens without order (never missed, rarely a false hit).

The GIN index holds each post's month too, as a second column (`~202509`, UTC; PERIOD_FUNCTION, computed
by PostgreSQL from `published_at`, so it is never stale). A search for a term in many posts asks for it
within the newest months first (`period_tsquery`): the index then hands over those few matches, instead of
every post holding the term, each a visit of the table. A search without months, or one walking the date
index, tests the document alone.
"""

import collections
import contextlib
import datetime
import functools
import html
import itertools
import operator
import re
import unicodedata
from dataclasses import dataclass

from django.db import models
from django.db.models import Lookup

MAX_POSITION = 16383
MAX_POSITIONS_PER_TOKEN = 256
# PostgreSQL refuses a tsvector over 1 MB; tokens past this many bytes of a document are left out
# (about 200,000 characters of Chinese text, far beyond any news article).
MAX_TOKEN_BYTES = 600_000
MAX_ASCII_RUN = 64
# Marks a document whose positions are incomplete (see the module's docstring); the tokeniser never
# makes it, since `_` separates words.
LONG = "_long"

# Limits of a query, as the search page explains them.
MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 8

MIXED_PARTS = re.compile(r"[a-z]+|[0-9]+")
# After folding: ASCII letters and digits; other letters and digits (Chinese); anything else separates.
TOKENS = re.compile(r"(?P<ascii>[a-z0-9]+)|(?P<cjk>[^\W_a-z0-9]+)|(?P<gap>[\W_]+)")
ASCII_WORDS = re.compile(r"[a-z0-9]+")
GAPS = re.compile(r"[\W_]+")
# The ideographic space and full-width punctuation (，：（）…), whose NFKC forms separate words, except
# ＂ and －, which mean a phrase and an exclusion in a query.
WIDE_SEPARATORS = re.compile("[\u3000\uff01\uff03-\uff0c\uff0e\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff5e]")
BLOCK_TAG = re.compile(
    r"<(?:/?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|dd|dt|figure|figcaption|pre|hr)\b)[^>]*>",
    re.IGNORECASE,
)
ANY_TAG = re.compile(r"<[^>]*>")
QUERY_PARTS = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def fold(text):
    """`text` as the index sees it: NFKC (full-width forms to half-width, compatibility forms to plain),
    then lower case.

    Full-width punctuation, which separates words either way, becomes spaces first: most Chinese text
    then needs no normalising, which would otherwise be the largest part of building a document.
    """
    text = WIDE_SEPARATORS.sub(" ", text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.lower()


def html_text(body):
    """A stored HTML body as plain text: blocks become line breaks, inline tags vanish (a link inside a
    sentence does not split its words), entities are decoded."""
    return html.unescape(ANY_TAG.sub("", BLOCK_TAG.sub("\n", body)))


class SearchDocument:
    """A post's search document, within PostgreSQL's limits, as tsvector input text (see `text`).

    Build it with `add`, text after text; psycopg writes it (see `register_adapters`). Each token is
    written once per occurrence (`'宁':1 '宁':9`), in one `str.join`: PostgreSQL's tsvector input
    merges a token's occurrences, in C. Grouping them in Python, as tsvector's binary form would need, is
    what made building documents most of a first import's time. Pickled, as the importer's parse workers
    send it, a document travels as its finished text, and is not added to again.
    """

    def __init__(self):
        # (weight, tokens, their positions) of each text added, in order.
        self.texts = []
        self.counts = collections.Counter()
        self.position = 1
        self._text = None

    def add(self, text, weight="D"):
        """Append the tokens of `text` (plain text, not yet folded) at the next positions; returns the document."""
        if not text:
            return self
        self._text = None
        folded = fold(text)
        # One character per position: each run of ASCII letters and digits becomes `a`, each gap a space,
        # and the rest (Chinese) stays. The tokens are then picked out by masks, in C.
        squeezed = ASCII_WORDS.sub("a", GAPS.sub(" ", folded))
        positions = range(self.position, self.position + len(squeezed))
        chinese = list(map(operator.gt, squeezed, itertools.repeat("\x7f")))
        # Every character, then every overlapping pair, each at the position of its first character.
        names = list(itertools.compress(squeezed, chinese))
        places = list(itertools.compress(positions, chinese))
        paired = list(map(operator.and_, chinese, chinese[1:]))
        names += itertools.compress(map(operator.add, squeezed, squeezed[1:]), paired)
        places += itertools.compress(positions, paired)
        words = itertools.compress(positions, map(operator.eq, squeezed, itertools.repeat("a")))
        for run, place in zip(ASCII_WORDS.findall(folded), words, strict=True):
            run = run[:MAX_ASCII_RUN]
            parts = MIXED_PARTS.findall(run)
            found = dict.fromkeys([run, *parts]) if len(parts) > 1 else (run,)
            names += found
            places += [place] * len(found)
        self.texts.append((weight, names, places))
        self.counts.update(names)
        # A gap between texts: no phrase spans two of them.
        self.position += len(squeezed) + 1
        return self

    def _long(self):
        """Whether PostgreSQL cannot keep all of the document: positions past MAX_POSITION, a token with
        more than MAX_POSITIONS_PER_TOKEN of them, or more than MAX_TOKEN_BYTES of tokens."""
        return (
            any(places and max(places) > MAX_POSITION for _, _, places in self.texts)
            or max(self.counts.values(), default=0) > MAX_POSITIONS_PER_TOKEN
            or self._kept_tokens() is not None
        )

    def _kept_tokens(self):
        """None when every token fits in MAX_TOKEN_BYTES, else the tokens that do, first come first kept."""
        if 7 * len(self.counts) + 3 * sum(map(len, self.counts)) <= MAX_TOKEN_BYTES:
            return None
        kept, size = set(), 0
        for token in self.counts:
            if size > MAX_TOKEN_BYTES:
                break
            kept.add(token)
            size += 3 * len(token) + 4
        return kept

    def text(self):
        """The document in tsvector's input syntax, a token once per occurrence (`'宁德':1A '宁':1A '宁':9 …`).

        Positions past MAX_POSITION are left out, their tokens kept; PostgreSQL keeps the first
        MAX_POSITIONS_PER_TOKEN positions of a token. A LONG document says so with the token LONG.
        """
        if self._text is None:
            kept = self._kept_tokens()
            parts = []
            for weight, names, places in self.texts:
                if kept is not None or (places and max(places) > MAX_POSITION):
                    parts += (
                        f"'{name}'" + (f":{place}{weight}" if place <= MAX_POSITION else "")
                        for name, place in zip(names, places, strict=True)
                        if kept is None or name in kept
                    )
                elif names:
                    # `'宁':1A '德':2A`, joined in C: each token, then the text that ends it and opens the
                    # next one (tokens are letters and digits only: nothing in them needs quoting).
                    endings = map(_position_endings(weight).__getitem__, places)
                    parts.append("'" + "".join(itertools.chain.from_iterable(zip(names, endings, strict=True)))[:-2])
            if self._long():
                parts.append(f"'{LONG}'")
            self._text = " ".join(part for part in parts if part)
        return self._text

    def __getstate__(self):
        return {"text": self.text(), "position": self.position}

    def __setstate__(self, state):
        self.__init__()
        self._text, self.position = state["text"], state["position"]

    def __eq__(self, other):
        return isinstance(other, SearchDocument) and self.text() == other.text()


@functools.cache
def _position_endings(weight):
    """`':<position><weight> '` for each position a token can have, indexed by position."""
    return [f"':{position}{weight} '" for position in range(MAX_POSITION + 1)]


def scan(folded):
    """(kind, offset in positions, run) of each ASCII or other word run of folded text; gaps take one position."""
    position = 0
    for match in TOKENS.finditer(folded):
        kind = match.lastgroup
        run = match[kind]
        if kind == "ascii":
            yield kind, position, run[:MAX_ASCII_RUN]
            position += 1
        elif kind == "cjk":
            yield kind, position, run
            position += len(run)
        else:
            position += 1


def document(*weighted_texts):
    """The SearchDocument of (text, weight) pairs, in that order."""
    built = SearchDocument()
    for text, weight in weighted_texts:
        if text:
            built.add(text, weight)
    return built


# Queries -----------------------------------------------------------------------------------------


class QueryError(ValueError):
    """A query that cannot be searched for; the message says why, for the reader."""


@dataclass(frozen=True)
class Term:
    """A word or quoted phrase of a query, folded; `excluded` for `-word`."""

    text: str
    excluded: bool = False
    # A whole word: its last word is not a prefix (a stock's code).
    whole: bool = False

    def steps(self):
        """(position, token, is a prefix) of each token the term's documents must hold, in order."""
        steps = []
        runs = list(scan(self.text))
        for index, (kind, position, run) in enumerate(runs):
            if kind == "ascii":
                # The term's last word is a prefix: `etf` finds `etfs` and `600` finds `600519`, as readers
                # expect of a search box; a word followed by more of the term is whole (`a股` is not `ab股`).
                steps.append((position, run, index == len(runs) - 1 and not self.whole))
            elif len(run) == 1:
                steps.append((position, run, False))
            else:
                steps += [(position + i, run[i : i + 2], False) for i in range(len(run) - 1)]
        return steps

    def tsquery(self, *, ordered=True):
        """This term as tsquery text: its tokens, as a phrase when `ordered`, else all of them in any order."""
        steps = [(position, f"'{token}'" + (":*" if prefix else "")) for position, token, prefix in self.steps()]
        if not steps:
            return None
        if not ordered:
            return " & ".join(token for _, token in steps)
        text = steps[0][1]
        for (before, _), (position, token) in itertools.pairwise(steps):
            text = f"{text} <{position - before}> {token}"
        return f"({text})"

    def match(self):
        """tsquery text finding documents that hold this term: in order, or in any order in a LONG document."""
        ordered = self.tsquery()
        if ordered is None:
            return None
        if ordered.count("'") <= 2:
            return ordered
        return f"({ordered} | ({self.tsquery(ordered=False)} & '{LONG}'))"


@dataclass(frozen=True)
class Query:
    """What a reader typed, parsed: the words that must match, those that must not, and the whole text."""

    raw: str
    terms: tuple

    @property
    def included(self):
        return [term for term in self.terms if not term.excluded]

    @property
    def excluded(self):
        return [term for term in self.terms if term.excluded]

    def tsquery(self, *, loose=False):
        """The whole query as tsquery text: every included term, and none of the excluded ones.

        `loose`: every token of the included terms, in any order, exclusions aside: a superset of the
        matches that the GIN index answers alone, without reading a document to check positions.
        """
        if loose:
            return " & ".join(f"({term.tsquery(ordered=False)})" for term in self.included)
        parts = [term.match() for term in self.included]
        parts += [f"!{term.match()}" for term in self.excluded]
        return " & ".join(parts)

    @property
    def loose_is_exact(self):
        """Whether the loose tsquery finds just the matches: no phrases, no exclusions."""
        return not self.excluded and all(len(term.steps()) == 1 for term in self.included)

    @property
    def words(self):
        """The included terms' texts, for highlighting."""
        return [term.text for term in self.included]


def parse_query(text):
    """The Query `text` spells: words separated by spaces, `"quoted phrases"`, `-excluded` words.

    Raises QueryError for an empty, over-long or word-less query, or one that excludes only.
    """
    raw = " ".join(text.split())
    if not raw:
        raise QueryError("请输入要搜索的词。")
    if len(raw) > MAX_QUERY_CHARS:
        raise QueryError(f"搜索词太长了，请控制在 {MAX_QUERY_CHARS} 个字以内。")
    terms = []
    for match in QUERY_PARTS.finditer(fold(raw)):
        excluded, phrase, word = match[1], match[2], match[3]
        if phrase is None:
            excluded, phrase = word.startswith("-") and len(word) > 1, word
            phrase = phrase[1:] if excluded else phrase
        phrase = " ".join(phrase.split())
        if phrase and any(kind != "gap" for kind, _, _ in scan(phrase)):
            terms.append(Term(phrase, bool(excluded)))
    if len(terms) > MAX_QUERY_WORDS:
        raise QueryError(f"搜索词太多了，请用不超过 {MAX_QUERY_WORDS} 个词。")
    if not terms:
        raise QueryError("搜索词里没有文字或数字，请换个词试试。")
    if all(term.excluded for term in terms):
        raise QueryError("请至少输入一个要包含的词（以 - 开头的词表示排除）。")
    return Query(raw, tuple(terms))


def with_stock(query, stock=None):
    """What a search for `query` finds posts by: `query` itself or, when it names `stock` (by its code or
    name, articles.search.find_stock), the stock's code as a whole word or its name as a phrase. As a
    prefix, a code would also find every longer number (`20`, Hong Kong's 00020, every year 20xx), which
    the index answers by reading them all. A name of punctuation only is left out."""
    if stock is None:
        return [query]
    queries = [Query(stock.code, (Term(fold(stock.code), whole=True),))]
    if stock.name:
        with contextlib.suppress(QueryError):
            queries.append(parse_query(f'"{stock.name}"'))
    return queries


def period_tsquery(since, until):
    """tsquery text matching the period tokens of every month from `since`'s to `until`'s (UTC)."""
    since, until = min(since, until).astimezone(datetime.UTC), until.astimezone(datetime.UTC)
    months = range(since.year * 12 + since.month - 1, until.year * 12 + until.month)
    return " | ".join(f"'~{month // 12:04d}{month % 12 + 1:02d}'" for month in months)


# Storage -------------------------------------------------------------------------------------------

# The SQL function giving a post's period token, the GIN index's second column (migration 0020).
PERIOD_FUNCTION = "post_search_period"


class SearchDocumentField(models.Field):
    """A post's search document: a tsvector on PostgreSQL, written from a SearchDocument; unused on SQLite,
    where search reads the text itself."""

    description = "search document (tsvector)"

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else "text"

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor != "postgresql":
            return None
        return value

    def from_db_value(self, value, expression, connection):
        # Read back as its text; nothing reads it but PostgreSQL itself.
        return value


class PostPeriod(models.Func):
    """A post's period token, as the GIN index's second column holds it: matched by period_tsquery text."""

    function = PERIOD_FUNCTION
    output_field = SearchDocumentField()

    def __init__(self):
        super().__init__(models.F("published_at"))


@SearchDocumentField.register_lookup
class Matches(Lookup):
    """`search_document__matches=tsquery_text`: the document matches the tsquery (given as tsquery text)."""

    lookup_name = "matches"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ ({rhs})::tsquery", [*lhs_params, *rhs_params]

    def get_db_prep_lookup(self, value, connection):
        # The right-hand side is tsquery text, not a document: pass it as the string it is.
        return "%s", [value]


@SearchDocumentField.register_lookup
class MatchesRow(Matches):
    """`search_document__matches_row=tsquery_text`: the same test, as the function behind `@@`, which the GIN
    index does not serve. For posts found another way (a thousand candidates by id): given `@@`, the
    planner may read every post holding the tokens instead."""

    lookup_name = "matches_row"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"ts_match_vq({lhs}, ({rhs})::tsquery)", [*lhs_params, *rhs_params]


def register_adapters():
    """Teach psycopg to write a SearchDocument, as tsvector input text (in COPY and in SQL)."""
    try:
        import psycopg
        from psycopg.adapt import Dumper
    except ImportError:  # SQLite only: no documents are written.
        return

    class TextDumper(Dumper):
        oid = 3614  # tsvector, a built-in type: the same OID in every PostgreSQL database

        def dump(self, obj):
            return obj.text().encode()

    psycopg.adapters.register_dumper(SearchDocument, TextDumper)
