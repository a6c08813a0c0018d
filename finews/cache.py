"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's RedisCacheClient makes a new redis.Redis for every get, set or get_many. Making one builds
its table of about 170 response callbacks, which costs more than the round trip itself on a
page-cache hit (one get_many of the page's versions). A client holds no connection of its own (it
borrows one from its pool per command) and may be shared by threads, so one per pool is kept.
"""

from django.core.cache.backends import redis


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


class RedisCache(redis.RedisCache):
    """settings.CACHES' backend when CACHE_URL names a Redis server."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
