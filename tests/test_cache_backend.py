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


@pytest.fixture
def redis_backends():
    """Two clients of one Redis database, as two processes have: a reader and a writer."""
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis does not answer at {REDIS_URL}: {error}")
    reader, writer = (RedisCache(REDIS_URL, {"KEY_PREFIX": "finews-test-tracked"}) for _ in range(2))
    yield reader, writer
    writer.delete_many(["version", "other"])


def test_a_tracked_read_is_kept_in_memory_until_another_client_changes_the_key(redis_backends):
    reader, writer = redis_backends
    writer.set_many({"version": (1.0, "a"), "other": 2}, 60)

    assert reader.get_many_tracked(["version", "other", "missing"]) == {"version": (1.0, "a"), "other": 2}
    assert reader._tracked.values  # held, so the next read asks Redis nothing

    writer.set("version", (2.0, "b"), 60)
    assert reader.get_many_tracked(["version", "other"]) == {"version": (2.0, "b"), "other": 2}

    writer.delete("other")
    assert reader.get_many_tracked(["version", "other"]) == {"version": (2.0, "b")}


def test_a_tracked_read_sees_a_key_that_appears_later(redis_backends):
    reader, writer = redis_backends
    assert reader.get_many_tracked(["version"]) == {}

    writer.set("version", (3.0, "c"), 60)

    assert reader.get_many_tracked(["version"]) == {"version": (3.0, "c")}


def test_a_tracked_reader_whose_connection_redis_closed_reads_again(redis_backends):
    reader, writer = redis_backends
    writer.set("version", (4.0, "d"), 60)
    assert reader.get_many_tracked(["version"]) == {"version": (4.0, "d")}
    connection = reader._tracked.connection
    connection.send_command("CLIENT", "ID")
    client_id = connection.read_response()

    writer._cache.get_client(write=True).execute_command("CLIENT", "KILL", "ID", client_id)
    writer.set("version", (5.0, "e"), 60)  # its invalidation has no connection to go to

    assert reader.get_many_tracked(["version"]) == {"version": (5.0, "e")}


def test_a_process_reads_its_own_write_at_once(redis_backends):
    reader, _ = redis_backends
    reader.set("version", (6.0, "f"), 60)
    assert reader.get_many_tracked(["version"]) == {"version": (6.0, "f")}

    reader.set_many({"version": (7.0, "g")}, 60)

    assert reader.get_many_tracked(["version"]) == {"version": (7.0, "g")}


def test_a_server_refusing_client_tracking_is_read_with_a_round_trip(redis_backends):
    reader, writer = redis_backends
    writer.set("version", (8.0, "h"), 60)
    # As a server where CLIENT is disabled answers: an error to the command that turns tracking on.
    reader._tracked.url = reader._servers[0] + "?client_name=bad name"

    assert reader.get_many_tracked(["version"]) == {"version": (8.0, "h")}
    assert reader.tracking_refused
