"""Cursor pagination for newest-first post listings.

A page is addressed by the post it starts after (`?before=`) or ends before (`?after=`), never by
an offset, so page 3,000 of a category costs one index range scan, like page 1. Cursors read as
the site-local time and id of that post, e.g. `20220525135107-42`; `?date=2022-05-01` opens the
listing at the end of that day.
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import BadRequest
from django.utils import timezone

CURSOR = re.compile(r"(\d{14})(?:\.(\d{6}))?-(\d{1,19})")


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
        """The cursor `text` spells, or ValueError."""
        match = CURSOR.fullmatch(text)
        if not match:
            raise ValueError(text)
        naive = datetime.datetime.strptime(match[1], "%Y%m%d%H%M%S").replace(microsecond=int(match[2] or 0))
        return cls(timezone.make_aware(naive), int(match[3]))

    @classmethod
    def end_of_day(cls, text):
        """The cursor after the last post of the day `text` (YYYY-MM-DD, site-local), or ValueError."""
        day = datetime.date.fromisoformat(text)
        return cls(timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())), 0)

    def __str__(self):
        local = timezone.localtime(self.published_at)
        fraction = f".{local.microsecond:06d}" if local.microsecond else ""
        return f"{local:%Y%m%d%H%M%S}{fraction}-{self.pk}"


@dataclass
class Page:
    """One page of posts, with the cursors of the pages around it (None at either end)."""

    posts: list
    newer: Cursor | None
    older: Cursor | None
    # Walking back up with ?after= reached the newest post: this is really the first page.
    reached_top: bool = False

    @property
    def is_first(self):
        return self.newer is None


def paginate(request, queryset, per_page=30):
    """The page of `queryset` (published posts) that the request's `before`, `after` or `date` asks for.

    Raises BadRequest for a cursor or date that does not parse.
    """
    before, after, day = (request.GET.get(name) for name in ("before", "after", "date"))
    try:
        if after:
            cursor = Cursor.parse(after)
            rows = list(queryset.newer_than(cursor.published_at, cursor.pk)[: per_page + 1])
            posts = rows[:per_page][::-1]
            more = len(rows) > per_page
            newer = Cursor.of(posts[0]) if more else None
            return Page(posts, newer, cursor if posts else None, reached_top=not more)
        cursor = Cursor.parse(before) if before else Cursor.end_of_day(day) if day else None
    except ValueError:
        raise BadRequest("翻页参数格式不对") from None
    if cursor:
        queryset = queryset.older_than(cursor.published_at, cursor.pk)
    rows = list(queryset.order_by("-published_at", "-pk")[: per_page + 1])
    posts = rows[:per_page]
    older = Cursor.of(posts[-1]) if len(rows) > per_page else None
    newer = Cursor.of(posts[0]) if cursor and posts else None
    return Page(posts, newer, older)
