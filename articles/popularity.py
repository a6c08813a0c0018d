"""Counting article reads without a database write per read, and the most-read (热门) rankings.

Reads are counted by a beacon: the article page's script posts to `/api/views/<id>` once the page is
actually shown, so a read counts even when the page itself came from a page cache (nginx, a CDN) that
Django never sees. Crawlers (User-Agent patterns), prefetches and prerenders (`Purpose` /
`Sec-Purpose`), previews (their page sends no beacon) and a client's repeated reads of one article
within VIEW_REPEAT_SECONDS are not counted.

A counted read is one increment in Redis (a hash of post id → reads) when CACHE_URL names Redis, or
in the process's memory without it (a checkout: there each process flushes its own counts, with the
first read VIEW_FLUSH_SECONDS after its last flush). `flush_views` (the Celery beat task, or
`manage.py flush_views`) moves the counts into the database in one transaction every
VIEW_FLUSH_SECONDS — hourly rows for the rankings, and each post's total for the admin — and
computes the day's and week's rankings, which reader pages read from the cache. A restart of the
app loses nothing with Redis; losing Redis (or, without it, a process) loses at most the reads since
the last flush.
"""

import datetime
import hashlib
import re
import threading
import time
from collections import Counter

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, F, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import freshness
from .models import Post, ViewCount

# What crawlers, link previewers, monitors and scripts call themselves; a browser's User-Agent has none.
BOT_USER_AGENT = re.compile(
    r"bot|crawl|spider|slurp|scrap|archiver|preview|monitor|check|lighthouse|headless|phantom|selenium"
    r"|curl|wget|python|java/|go-http|okhttp|httpclient|http-client|libwww|axios|node-fetch|feed"
    r"|facebookexternalhit|embedly|whatsapp|telegram|baidu|yandex|sogou|bytespider|petal|360spider|yisou",
    re.IGNORECASE,
)
PENDING_KEY = "views:pending"
RANKING_KEY = "views:ranking"
FLUSH_LOCK_KEY = "views:flush-lock"
# Ranked most-read lists: the home page and articles show the day's first ten, the 7-day page thirty.
RANKING_SIZES = {"day": (24, 15), "week": (24 * 7, 30)}
# Hourly rows older than the longest ranking are deleted by the flush.
KEEP_HOURS = 24 * 8


def is_countable(request):
    """Whether `request` is a person's read: not a crawler, a prefetch or a prerender."""
    agent = request.headers.get("User-Agent", "")
    if not agent or BOT_USER_AGENT.search(agent):
        return False
    purpose = " ".join(request.headers.get(name, "") for name in ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"))
    return not re.search(r"prefetch|prerender|preview", purpose, re.IGNORECASE)


def client_digest(request):
    """Who is reading, as far as a cacheable page can tell: the address the site's own proxy saw (the
    last X-Forwarded-For entry, which a client cannot forge past it, else the connection's) and the
    User-Agent, hashed. No cookie: pages stay cacheable and readers untracked."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    address = forwarded.rsplit(",", 1)[-1].strip() or request.META.get("REMOTE_ADDR", "")
    seen = f"{address}|{request.headers.get('User-Agent', '')}"
    return hashlib.blake2b(seen.encode(), digest_size=12).hexdigest()


def record_view(request, post_id):
    """Count a read of post `post_id` by `request`'s client; returns whether it counted.

    Costs two cache operations (the repeat check, the increment) and no database access: the post's
    existence is checked when the counts are flushed.
    """
    if not settings.VIEW_COUNTING or not is_countable(request):
        return False
    if not cache.add(f"views:seen:{post_id}:{client_digest(request)}", 1, settings.VIEW_REPEAT_SECONDS):
        return False
    store = pending_store()
    store.add(post_id)
    if store.flush_due():
        flush_views()
    return True


class RedisPending:
    """Reads not yet flushed, in a Redis hash all workers share. A flush renames the hash aside (atomic:
    reads counted meanwhile start a new one) and deletes it once the database has the counts."""

    def __init__(self, client):
        self.client = client
        self.key = cache.make_key(PENDING_KEY)
        self.taken = self.key + ":flushing"

    def add(self, post_id):
        self.client.hincrby(self.key, post_id, 1)

    def take(self):
        # A hash left aside by a flush that died before writing is flushed first.
        if not self.client.exists(self.taken) and self.client.exists(self.key):
            self.client.rename(self.key, self.taken)
        return {int(pk): int(n) for pk, n in self.client.hgetall(self.taken).items()}

    def done(self):
        self.client.delete(self.taken)

    def flush_due(self):
        # Celery beat (or cron) flushes the shared hash.
        return False


class LocalPending:
    """Reads not yet flushed, in this process's memory: the arrangement without Redis (a checkout)."""

    counts = Counter()
    lock = threading.Lock()
    last_flush = time.monotonic()

    def add(self, post_id):
        with self.lock:
            self.counts[post_id] += 1

    def take(self):
        with self.lock:
            taken = dict(self.counts)
            self.counts.clear()
        return taken

    def done(self):
        pass

    def flush_due(self):
        """No other process can see these counts: the process flushes them itself, with the first read
        counted VIEW_FLUSH_SECONDS after its last flush."""
        with self.lock:
            if time.monotonic() - LocalPending.last_flush < settings.VIEW_FLUSH_SECONDS:
                return False
            LocalPending.last_flush = time.monotonic()
        return True


def pending_store():
    """Where reads wait for the flush: Redis when the cache is Redis, else this process's memory."""
    backend = getattr(cache, "_cache", None)
    if hasattr(backend, "get_client"):
        return RedisPending(backend.get_client(write=True))
    return LocalPending()


def most_read_ids(hours, limit, now=None):
    """A query for the ids of the `limit` live posts read most in the last `hours` hours, most first."""
    since = (now or timezone.now()) - datetime.timedelta(hours=hours)
    return (
        ViewCount.objects.filter(hour__gte=since, post__in=Post.objects.published())
        .values("post")
        .annotate(total=Sum("views"))
        .order_by("-total", "-post")
        .values_list("post", flat=True)[:limit]
    )


def recent_views(hours, now=None):
    """An expression for a post's reads in the last `hours` hours (0 when none), to annotate posts with:
    a sum over the post's few hourly rows."""
    since = (now or timezone.now()) - datetime.timedelta(hours=hours)
    rows = ViewCount.objects.filter(post=OuterRef("pk"), hour__gte=since).values("post").annotate(total=Sum("views"))
    return Coalesce(Subquery(rows.values("total")), 0)


def ranking():
    """The rankings the last flush computed ({"version", "day", "week"}: ids, most read first), or None."""
    return freshness.read_tracked([RANKING_KEY]).get(RANKING_KEY)


def most_read_now(period):
    """(version, ids) of the `period`'s ranking ("day" or "week"): the one the last flush computed, or, when
    the cache lost it, the ranking itself as a subquery under version 0. `ids` is a function: a page whose
    list is cached under the version builds no query (the subquery's ORM work is a few ms a page)."""
    ranked = ranking()
    if ranked:
        return ranked["version"], lambda: ranked[period]
    hours, size = RANKING_SIZES[period]
    return 0, lambda: most_read_ids(hours, size)


def update_ranking(now=None, changed=True):
    """Compute the day's and week's rankings and keep them in the cache for reader pages. The version, which
    keys the cached lists, moves only when a ranking or a count in it did: a flush that changed nothing
    readers see leaves every cached list in place."""
    now = now or timezone.now()
    data = {name: list(most_read_ids(hours, size, now)) for name, (hours, size) in RANKING_SIZES.items()}
    previous = ranking()
    if previous and all(previous.get(name) == data[name] for name in RANKING_SIZES) and not changed:
        data["version"] = previous["version"]
    else:
        data["version"] = now.timestamp()
    cache.set(RANKING_KEY, data, 2 * 24 * 3600)
    if not previous or data["version"] != previous["version"]:
        freshness.changed(freshness.RANKING)
    return data


def flush_views(now=None):
    """Write the reads counted since the last flush to the database; returns how many reads it wrote.

    One transaction: the hour's rows (ViewCount) and the posts' totals (Post.view_count, by update(), which
    leaves updated_at and so every cached page alone). Reads of posts deleted meanwhile are dropped. Only
    one flush runs at a time; the counts are removed from the store only once the transaction committed,
    so a flush that fails leaves them for the next (a crash between the commit and that removal would
    count one batch twice).
    """
    now = now or timezone.now()
    if not cache.add(FLUSH_LOCK_KEY, 1, 300):
        return 0
    try:
        store = pending_store()
        counts = store.take()
        written = write_counts(counts, now) if counts else 0
        store.done()
        ViewCount.objects.filter(hour__lt=now - datetime.timedelta(hours=KEEP_HOURS)).delete()
        # New counts change the reads the lists show (the week's page prints them) even in the same order.
        update_ranking(now, changed=bool(written))
        return written
    finally:
        cache.delete(FLUSH_LOCK_KEY)


def write_counts(counts, now, batch_size=500):
    """Add `counts` (post id → reads) to the hour of `now` and to the posts' totals; returns reads written."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    written = 0
    ids = sorted(counts)
    with transaction.atomic():
        for start in range(0, len(ids), batch_size):
            batch = set(Post.objects.filter(pk__in=ids[start : start + batch_size]).values_list("pk", flat=True))
            if not batch:
                continue
            rows = {row.post_id: row for row in ViewCount.objects.select_for_update().filter(hour=hour, post__in=batch)}
            for row in rows.values():
                row.views += counts[row.post_id]
            ViewCount.objects.bulk_update(rows.values(), ["views"])
            ViewCount.objects.bulk_create(
                [ViewCount(post_id=pk, hour=hour, views=counts[pk]) for pk in batch if pk not in rows]
            )
            added = Case(*(When(pk=pk, then=Value(counts[pk])) for pk in batch), default=Value(0))
            Post.objects.filter(pk__in=batch).update(view_count=F("view_count") + added)
            written += sum(counts[pk] for pk in batch)
    return written
