"""Keyset pagination for newest-first post listings.

A page is addressed by the post it starts after (`before`) or ends before (`after`), never by an
offset, so page 3,000 of a category costs one index range scan, like page 1. Cursors read as the
site-local time and id of that post, e.g. `20220525135107-42`; a `day` (`2022-05-01`) opens the
listing at the end of that day. This module knows nothing of requests: the caller passes the
cursor texts and turns BadCursor into its own answer (a 400 page, a JSON error).
"""

import datetime
import re
from dataclasses import dataclass

from django.utils import timezone

from .validators import EARLIEST_PUBLICATION, LATEST_PUBLICATION

CURSOR = re.compile(r"(\d{14})(?:\.(\d{6}))?-(\d{1,19})")
# Post ids are PostgreSQL bigints: a larger number in a cursor would fail in the database.
MAX_ID = 2**63 - 1


class BadCursor(ValueError):
    """A cursor or day that does not parse, or lies outside the publication range; its text says
    which, in words a reader understands."""


@dataclass(frozen=True)
class Cursor:
    """A position in a newest-first listing: just after or before the post (published_at, pk)."""

    published_at: datetime.datetime
    pk: int

    @classmethod
    def of(cls, post):
        return cls(post.published_at, post.pk)

    @classmethod
    def parse(cls, text):
        """The cursor `text` spells, or BadCursor."""
        match = CURSOR.fullmatch(text)
        if not match:
            raise BadCursor("翻页参数格式不对。")
        try:
            naive = datetime.datetime.strptime(match[1], "%Y%m%d%H%M%S").replace(microsecond=int(match[2] or 0))
        except ValueError:
            raise BadCursor("翻页参数中的时间不存在。") from None
        return cls(_in_range(naive), parse_id(match[3]))

    @classmethod
    def end_of_day(cls, text):
        """The cursor after the last post of the day `text` (YYYY-MM-DD, site-local), or BadCursor."""
        try:
            day = datetime.date.fromisoformat(text)
        except ValueError:
            raise BadCursor("日期须写作 年-月-日，例如 2022-05-01。") from None
        if not EARLIEST_PUBLICATION.year <= day.year < LATEST_PUBLICATION.year:
            raise _out_of_range()
        return cls(_in_range(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())), 0)

    def __str__(self):
        local = timezone.localtime(self.published_at)
        fraction = f".{local.microsecond:06d}" if local.microsecond else ""
        return f"{local:%Y%m%d%H%M%S}{fraction}-{self.pk}"


def _in_range(naive):
    """`naive`, a site-local time, made aware; BadCursor outside the years posts may be published in
    (validators.EARLIEST_PUBLICATION, LATEST_PUBLICATION), which also keeps it away from the
    years Python and PostgreSQL cannot hold."""
    # The year first: near year 1 or 9999, converting the time to UTC for the comparison overflows.
    if not EARLIEST_PUBLICATION.year - 1 <= naive.year <= LATEST_PUBLICATION.year:
        raise _out_of_range()
    moment = timezone.make_aware(naive)
    if not EARLIEST_PUBLICATION <= moment < LATEST_PUBLICATION:
        raise _out_of_range()
    return moment


def _out_of_range():
    return BadCursor(f"日期须在 {EARLIEST_PUBLICATION.year} 年至 {LATEST_PUBLICATION.year - 1} 年之间。")


def parse_id(text):
    """The post, category, source, tag or stock id `text` spells, or ValueError (BadCursor when the
    database could not hold it)."""
    pk = int(text)
    if not 0 <= pk <= MAX_ID:
        raise BadCursor("翻页参数中的编号超出范围。")
    return pk


@dataclass
class Page:
    """One page of posts, with the cursors of the pages around it (None at either end)."""

    posts: list
    newer: Cursor | None
    older: Cursor | None
    # Walking back up with `after` reached the newest post: this is really the first page.
    reached_top: bool = False

    @property
    def is_first(self):
        return self.newer is None

    @property
    def has_other_pages(self):
        """Whether there are pages to go to: without them, neither paging links nor a date to jump to
        mean anything."""
        return self.newer is not None or self.older is not None


class KeysetPaginator:
    """Pages of `queryset`, published posts (or rows of them with `pk` and `published_at`), newest first."""

    def __init__(self, queryset, per_page=30):
        self.queryset = queryset
        self.per_page = per_page

    def page(self, *, before=None, after=None, day=None):
        """The page after the cursor text `before`, the one before `after`, or the one ending with
        the day `day` (checked in that order: `after`, `before`, `day`); the first page when all are
        empty. Raises BadCursor for a text that does not parse or is out of range."""
        if after:
            cursor = Cursor.parse(after)
            rows = list(self.queryset.newer_than(cursor.published_at, cursor.pk)[: self.per_page + 1])
            posts = rows[: self.per_page][::-1]
            more = len(rows) > self.per_page
            newer = Cursor.of(posts[0]) if more else None
            return Page(posts, newer, cursor if posts else None, reached_top=not more)
        cursor = Cursor.parse(before) if before else Cursor.end_of_day(day) if day else None
        queryset = self.queryset.older_than(cursor.published_at, cursor.pk) if cursor else self.queryset
        rows = list(queryset.order_by("-published_at", "-pk")[: self.per_page + 1])
        posts = rows[: self.per_page]
        older = Cursor.of(posts[-1]) if len(rows) > self.per_page else None
        newer = Cursor.of(posts[0]) if cursor and posts else None
        return Page(posts, newer, older)
