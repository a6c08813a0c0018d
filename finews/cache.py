"""Django's Redis cache, with one Redis client per connection pool instead of one per call, and reads
that Redis keeps true by telling this process when it changes what they read.

Django's RedisCacheClient makes a new redis.Redis for every get, set or get_many. Making one builds
its table of about 170 response callbacks, which costs more than the round trip itself on a
page-cache hit (one get_many of the page's versions). A client holds no connection of its own (it
borrows one from its pool per command) and may be shared by threads, so one per pool is kept.

`get_many_tracked` is for the few small keys every page-cache hit reads (the versions, see
articles/freshness.py): they are read on one connection with CLIENT TRACKING on (RESP3). When a key
this connection read is changed, expires or is flushed, Redis queues an invalidation for it while it
runs the command that changed it, so the push is on its way before the writer has its answer. A
value read before is served from memory while no invalidation for it waits on that connection (a
poll of the socket, no round trip) and Redis has answered on it within the last second (else a
PING first). A lost connection forgets every value.
"""

import os
import threading
import time

import redis as redis_py
from django.core.cache.backends import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        """The Redis client of the pool Django would choose for `key` and `write`, made once."""
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


# Values a process keeps at most: one version per post whose page it checked, and a few more.
TRACKED_KEYS = 10_000
# A connection Redis has not answered for this long is asked (a PING) before its values are trusted: a
# connection that died with no word (a network cut) would otherwise never bring another invalidation.
CONTACT_SECONDS = 1.0


class TrackedReads:
    """Values read on one tracked connection, kept until Redis pushes their invalidation; per process."""

    def __init__(self, url):
        self.url = url
        self.serializer = redis.RedisSerializer()
        self.lock = threading.Lock()
        self.pid = None
        self.connection = None
        self.values = {}
        self.contact = 0.0

    def get_many(self, keys):
        """{key: value} of the Redis `keys` that exist; only those not held, or invalidated since, are read."""
        with self.lock:
            try:
                return self.read(keys)
            except (redis_py.RedisError, OSError):
                # Whatever a lost connection missed is unknown: forget every value and read on a new one,
                # once (Redis restarted, or closed an idle connection), as the pooled client retries.
                self.forget()
                try:
                    return self.read(keys)
                except (redis_py.RedisError, OSError):
                    self.forget()
                    raise

    def read(self, keys):
        if self.connection is None or self.pid != os.getpid():
            self.connect()
        if time.monotonic() - self.contact > CONTACT_SECONDS:
            # Its answer comes after every invalidation Redis queued before it (handled on the way).
            self.connection.send_command("PING")
            self.connection.read_response()
            self.contact = time.monotonic()
        while self.connection.can_read(timeout=0):
            self.connection.read_response(push_request=True)
        missing = [key for key in keys if key not in self.values]
        if missing and len(self.values) + len(missing) > TRACKED_KEYS:
            self.values.clear()  # bounded memory: forget them all and read these again
            missing = list(keys)
        if missing:
            self.connection.send_command("MGET", *missing)
            # Invalidations sent before the answer are handled on the way (the parser's push handler), so
            # what the answer holds is newer than any of them.
            for key, raw in zip(missing, self.connection.read_response(), strict=True):
                if raw is not None:
                    self.values[key] = self.serializer.loads(raw)
            self.contact = time.monotonic()
        return {key: self.values[key] for key in keys if key in self.values}

    def connect(self):
        self.forget()
        connection = redis_py.ConnectionPool.from_url(self.url, protocol=3).make_connection()
        connection.connect()
        connection.send_command("CLIENT", "TRACKING", "ON")
        connection.read_response()
        connection._parser.set_invalidation_push_handler(self.invalidated)
        self.connection, self.pid = connection, os.getpid()

    def invalidated(self, push):
        """Redis's ["invalidate", [keys]], or ["invalidate", None] when it flushed the database."""
        if push[1] is None:
            self.values.clear()
        for key in push[1] or ():
            self.values.pop(key.decode() if isinstance(key, bytes) else key, None)

    def drop(self, keys):
        """Forget the values of `keys`, which this process has just written: its next read of them is fresh
        without waiting for the invalidation Redis sends."""
        with self.lock:
            for key in keys:
                self.values.pop(key, None)

    def forget(self):
        if self.connection is not None and self.pid == os.getpid():
            self.connection.disconnect()
        self.connection = None
        self.values = {}


class RedisCache(redis.RedisCache):
    """settings.CACHES' backend when CACHE_URL names a Redis server."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._tracked = TrackedReads(self._servers[0])
        self.tracking_refused = False

    # Writes through this backend forget this process's tracked values of what they wrote.

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        super().set(key, value, timeout, version)
        self._tracked.drop([self.make_key(key, version)])

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        added = super().add(key, value, timeout, version)
        self._tracked.drop([self.make_key(key, version)])
        return added

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        failed = super().set_many(data, timeout, version)
        self._tracked.drop([self.make_key(key, version) for key in data])
        return failed

    def delete(self, key, version=None):
        deleted = super().delete(key, version)
        self._tracked.drop([self.make_key(key, version)])
        return deleted

    def delete_many(self, keys, version=None):
        super().delete_many(keys, version)
        self._tracked.drop([self.make_key(key, version) for key in keys])

    def incr(self, key, delta=1, version=None):
        value = super().incr(key, delta, version)
        self._tracked.drop([self.make_key(key, version)])
        return value

    def clear(self):
        cleared = super().clear()
        with self._tracked.lock:
            self._tracked.forget()
        return cleared

    def get_many_tracked(self, keys):
        """As get_many, for small keys read on every request that change rarely: what this process read before
        and Redis has not changed since comes from memory, with no round trip."""
        if not self.tracking_refused:
            full = {self.make_and_validate_key(key): key for key in keys}
            try:
                return {full[key]: value for key, value in self._tracked.get_many(list(full)).items()}
            except redis_py.ResponseError:
                # A server that refuses RESP3 or CLIENT TRACKING (older than Redis 6, or a proxy or managed
                # service that disables CLIENT): read these as any other keys, with a round trip.
                self.tracking_refused = True
        return self.get_many(keys)
