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
时代`), and a quoted phrase keeps its gaps. The document is a `simple`-config tsvector written directly
(binary in COPY, text in SQL), never re-parsed by PostgreSQL.

PostgreSQL keeps positions up to 16,383 and 256 of them per token. A post past either limit gets the
token LONG: its words are then matched by their tokens without order (never missed, rarely a false hit).
"""

import array
import html
import itertools
import re
import struct
import sys
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
# Weights as PostgreSQL numbers them (A=3 … D=0): ts_rank counts a title match ten times a body match.
WEIGHTS = {"A": 3, "B": 2, "C": 1, "D": 0}

# Limits of a query, as the search page explains them.
MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 8

# COPY's binary format is big-endian; array writes the machine's order.
BIG_ENDIAN_NEEDS_SWAP = sys.byteorder == "little"

MIXED_PARTS = re.compile(r"[a-z]+|[0-9]+")
# After folding: ASCII letters and digits; other letters and digits (Chinese); anything else separates.
TOKENS = re.compile(r"(?P<ascii>[a-z0-9]+)|(?P<cjk>[^\W_a-z0-9]+)|(?P<gap>[\W_]+)")
BLOCK_TAG = re.compile(
    r"<(?:/?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|dd|dt|figure|figcaption|pre|hr)\b)[^>]*>",
    re.IGNORECASE,
)
ANY_TAG = re.compile(r"<[^>]*>")
QUERY_PARTS = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def fold(text):
    """`text` as the index sees it: NFKC (full-width forms to half-width, compatibility forms to plain),
    then lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def html_text(body):
    """A stored HTML body as plain text: blocks become line breaks, inline tags vanish (a link inside a
    sentence does not split its words), entities are decoded."""
    return html.unescape(ANY_TAG.sub("", BLOCK_TAG.sub("\n", body)))


class SearchDocument:
    """A post's search document: token → positions (with weights), within PostgreSQL's limits.

    Build it with `add`, text after text; psycopg writes it (see `register_adapters`). Pickled, as the
    importer's parse workers send it, it travels as its binary form, which COPY writes as it is.
    """

    def __init__(self):
        self.tokens = {}
        self.position = 1
        self.size = 0
        self.long = False
        self._binary = None

    def add(self, text, weight="D"):
        """Append the tokens of `text` (plain text, not yet folded) at the next positions; returns the document."""
        if not text:
            return self
        tokens = self._tokens()
        self._binary = None
        bits = WEIGHTS[weight] << 14
        position = self.position
        for match in TOKENS.finditer(fold(text)):
            kind = match.lastgroup
            if kind == "gap":
                position += 1
                continue
            run = match[kind]
            if kind == "ascii":
                run = run[:MAX_ASCII_RUN]
                parts = MIXED_PARTS.findall(run)
                entries = [(token, position) for token in dict.fromkeys([run, *parts] if len(parts) > 1 else [run])]
                position += 1
            else:
                length = len(run)
                pairs = [run[i : i + 2] for i in range(length - 1)]
                entries = zip(
                    itertools.chain(run, pairs),
                    itertools.chain(range(position, position + length), range(position, position + length - 1)),
                    strict=True,
                )
                position += length
            for token, at in entries:
                positions = tokens.get(token)
                if positions is None:
                    if self.size > MAX_TOKEN_BYTES:
                        self.long = True
                        continue
                    self.size += 3 * len(token) + 4
                    tokens[token] = positions = []
                if at <= MAX_POSITION and len(positions) < MAX_POSITIONS_PER_TOKEN:
                    positions.append(bits | at)
                else:
                    self.long = True
        # A gap between texts: no phrase spans two of them.
        self.position = position + 1
        return self

    def _tokens(self):
        if self._binary is not None and not self.tokens:
            self.tokens = _parse_binary(self._binary)
        return self.tokens

    def _entries(self):
        tokens = self._tokens()
        return itertools.chain(tokens.items(), [(LONG, [])] if self.long and LONG not in tokens else [])

    def text(self):
        """The document in tsvector's input syntax (`'宁德':1A,9 '宁':1A …`)."""
        return " ".join(
            f"'{token}'" + (":" + ",".join(f"{p & 0x3FFF}{'DCBA'[p >> 14]}" for p in positions) if positions else "")
            for token, positions in self._entries()
        )

    def binary(self):
        """The document in tsvector's binary COPY format: count, then each token (NUL-ended) with its positions."""
        if self._binary is None:
            entries = list(self._entries())
            parts = [struct.pack("!i", len(entries))]
            for token, positions in entries:
                counted = array.array("H", [len(positions), *positions])
                if BIG_ENDIAN_NEEDS_SWAP:
                    counted.byteswap()
                parts.append(token.encode() + b"\0" + counted.tobytes())
            self._binary = b"".join(parts)
        return self._binary

    def __getstate__(self):
        return {"binary": self.binary(), "position": self.position, "size": self.size}

    def __setstate__(self, state):
        self.__init__()
        self._binary, self.position, self.size = state["binary"], state["position"], state["size"]

    def __eq__(self, other):
        return isinstance(other, SearchDocument) and self.binary() == other.binary()


def _parse_binary(data):
    """The tokens of a SearchDocument's binary form (LONG among them, when it is)."""
    tokens = {}
    (count,) = struct.unpack_from("!i", data)
    offset = 4
    for _ in range(count):
        end = data.index(b"\0", offset)
        token = data[offset:end].decode()
        (length,) = struct.unpack_from("!H", data, end + 1)
        tokens[token] = list(struct.unpack_from(f"!{length}H", data, end + 3))
        offset = end + 3 + 2 * length
    return tokens


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

    def steps(self):
        """(position, token, is a prefix) of each token the term's documents must hold, in order."""
        steps = []
        runs = list(scan(self.text))
        for index, (kind, position, run) in enumerate(runs):
            if kind == "ascii":
                # The term's last word is a prefix: `etf` finds `etfs` and `600` finds `600519`, as readers
                # expect of a search box; a word followed by more of the term is whole (`a股` is not `ab股`).
                steps.append((position, run, index == len(runs) - 1))
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


# Storage -------------------------------------------------------------------------------------------


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


def register_adapters():
    """Teach psycopg to write a SearchDocument: binary in COPY (the importer), text in SQL (model saves)."""
    try:
        import psycopg
        from psycopg.adapt import Dumper
        from psycopg.pq import Format
    except ImportError:  # SQLite only: no documents are written.
        return

    tsvector = 3614  # a built-in type: the same OID in every PostgreSQL database

    class BinaryDumper(Dumper):
        format = Format.BINARY
        oid = tsvector

        def dump(self, obj):
            return obj.binary()

    class TextDumper(Dumper):
        oid = tsvector

        def dump(self, obj):
            return obj.text().encode()

    psycopg.adapters.register_dumper(SearchDocument, BinaryDumper)
    psycopg.adapters.register_dumper(SearchDocument, TextDumper)
