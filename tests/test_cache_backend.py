"""The Redis cache backend (finews.cache): Django's, with one Redis client per connection pool."""

import pytest
import redis

from finews.cache import RedisCache

REDIS_URL = "redis://127.0.0.1:6379/7"


def test_a_redis_client_is_made_once_and_used_for_every_call():
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": "finews-test"})

    assert backend._cache.get_client() is backend._cache.get_client(write=True)


def test_values_round_trip_through_the_shared_client():
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis does not answer at {REDIS_URL}: {error}")
    backend = RedisCache(REDIS_URL, {"KEY_PREFIX": "finews-test"})
    backend.set_many({"a": 1, "b": [2]}, 10)

    assert backend.get_many(["a", "b", "c"]) == {"a": 1, "b": [2]}
    backend.delete_many(["a", "b"])
    assert backend.get("a") is None
