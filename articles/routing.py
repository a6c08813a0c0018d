"""Read replicas: which database each query goes to (settings: DATABASE_REPLICA_URLS; docs/scaling.md).

Reader pages (views marked with `replica_reads`, which `reader_page` applies) read from a PostgreSQL
streaming replica; everything else reads and writes on the primary ("default"):

- admin pages, previews, commands, imports and jobs, which never pass through a marked view;
- writes, and reads inside a transaction on the primary;
- requests carrying a session cookie (a logged-in user, who must see what they just saved), and any
  request within a few seconds of one by the same browser that wrote (a signed cookie), so an editor
  who logs out still reads their own writes.

A replica is checked at most every REPLICA_CHECK_SECONDS per process: one that is down, or more than
REPLICA_MAX_LAG_SECONDS behind the primary, is left out until the next check. A replica that fails in
the middle of a page marks itself down, and the page is made again from the primary: readers get the
page, never a 500. With no replicas configured, neither the router nor the middleware is installed.
"""

import logging
import random
import time
from contextvars import ContextVar

from django.conf import settings
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

# The replica the current request reads from (None: the primary), and whether it wrote anything.
_reading_from = ContextVar("reading_from", default=None)
_writes = ContextVar("writes", default=None)

WROTE_COOKIE = "finews_wrote"
WROTE_SALT = "articles.routing.wrote"

# alias → (when it was last checked, on time.monotonic(); whether it may be read from)
_health = {}

# The replica's lag, in seconds, and whether it holds everything the primary had a moment before
# (`%s`, the primary's WAL position): a replica idle on an idle primary is current, however old its
# last replayed transaction is; one whose stream stopped is not, though it has replayed all it received.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       %s::pg_lsn IS NOT NULL AND pg_last_wal_replay_lsn() >= %s::pg_lsn,
       pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn(),
       EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
"""


def replica_reads(view):
    """Mark `view` as a reader page whose reads may go to a replica."""
    view.replica_reads = True
    return view


def sticky_seconds():
    """How long a browser that wrote reads from the primary: the most a usable replica can be behind,
    its allowed lag plus the time until it is checked again."""
    return settings.REPLICA_MAX_LAG_SECONDS + settings.REPLICA_CHECK_SECONDS


def usable_replica():
    """A replica to read from, chosen at random among those found usable, or None for the primary."""
    usable = [alias for alias in settings.DATABASE_REPLICAS if is_usable(alias)]
    return random.choice(usable) if usable else None


def is_usable(alias):
    """Whether `alias` answers and is at most REPLICA_MAX_LAG_SECONDS behind, asked at most every
    REPLICA_CHECK_SECONDS in this process."""
    checked, usable = _health.get(alias, (None, False))
    if checked is not None and time.monotonic() - checked < settings.REPLICA_CHECK_SECONDS:
        return usable
    lag = replica_lag(alias)
    usable = lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
    if usable != _health.get(alias, (None, True))[1]:
        state = "usable again" if usable else ("down" if lag is None else f"{lag:.1f} s behind")
        logger.warning("Read replica %s is %s", alias, state)
    _health[alias] = (time.monotonic(), usable)
    return usable


def replica_lag(alias):
    """Seconds `alias` is behind the primary (0 when current), or None when it cannot be reached."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            primary_position = cursor.fetchone()[0]
    except DatabaseError:
        # The primary being down is no reason to stop reading from a replica: judge it alone.
        primary_position = None
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL, [primary_position, primary_position])
            in_recovery, has_primary_position, replayed_all_received, replay_age = cursor.fetchone()
    except DatabaseError:
        connections[alias].close()
        return None
    if not in_recovery or has_primary_position or (primary_position is None and replayed_all_received):
        return 0.0
    return float(replay_age) if replay_age is not None else None


def mark_down(alias):
    """Leave `alias` out until its next check, after a query on it failed."""
    if _health.get(alias, (None, True))[1]:
        logger.warning("Read replica %s failed during a request; reading from the primary", alias)
    _health[alias] = (time.monotonic(), False)
    connections[alias].close()


def forget_health():
    """Check every replica again on the next request (tests; a deployment never needs it)."""
    _health.clear()


class ReplicaRouter:
    """Sends reads to the replica the current request chose, if any; everything else to the primary."""

    def db_for_read(self, model, **hints):
        alias = _reading_from.get()
        if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return None
        return alias

    def db_for_write(self, model, **hints):
        writes = _writes.get()
        if writes is not None:
            writes.add(model)
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Replicas hold the primary's rows: objects read from either may be related.
        return True

    def allow_migrate(self, db, app_label, **hints):
        # Replicas follow the primary's schema through replication; nothing migrates them.
        return False if db in settings.DATABASE_REPLICAS else None


class ReplicaMiddleware:
    """Chooses where a request reads from, makes a page again from the primary when its replica fails,
    and marks a browser that wrote so that it reads from the primary for `sticky_seconds()`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        writes = set()
        tokens = _reading_from.set(None), _writes.set(writes)
        try:
            response = self.get_response(request)
        finally:
            _reading_from.reset(tokens[0])
            _writes.reset(tokens[1])
        if writes:
            response.set_signed_cookie(
                WROTE_COOKIE,
                "1",
                salt=WROTE_SALT,
                max_age=sticky_seconds(),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(self, request, view, args, kwargs):
        if getattr(view, "replica_reads", False) and self.may_read_replica(request):
            _reading_from.set(usable_replica())
            request.replica_view = view, args, kwargs

    def process_exception(self, request, exception):
        alias = _reading_from.get()
        if alias is None or not isinstance(exception, DatabaseError):
            return None
        mark_down(alias)
        _reading_from.set(None)
        view, args, kwargs = request.replica_view
        response = view(request, *args, **kwargs)
        # A page failing while its template rendered comes back here; render the new one now.
        return response.render() if hasattr(response, "render") else response

    @staticmethod
    def may_read_replica(request):
        if request.method not in ("GET", "HEAD") or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return False
        try:
            request.get_signed_cookie(WROTE_COOKIE, salt=WROTE_SALT, max_age=sticky_seconds())
        except (KeyError, signing.BadSignature):
            return True
        return False
