"""Pooled connections (DATABASE_POOL_SIZE): more clients than the pool holds wait for a connection, are
served when one comes back in time, and fail with psycopg's PoolTimeout when none does; every connection
returns to the pool and the server never sees more than the pool's size.

The clients are threads of a process started with the pool settings, as a threaded app server's are.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
APPLICATION = "finews-pool-test"

CLIENTS = """
import json, threading
import psycopg
from django.db import OperationalError, connection

def run_clients(count, hold_seconds):
    outcomes = []

    def client():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(%s)", [hold_seconds])
            outcomes.append("served")
        except OperationalError as error:
            outcomes.append(f"{type(error.__cause__).__name__}: {error}")
        finally:
            # What the end of a request does: the connection goes back to the pool.
            connection.close()

    threads = [threading.Thread(target=client) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)

def server_connections():
    # Counted apart from the pool, on a connection of its own.
    params = connection.get_connection_params()
    params.pop("pool", None)
    params["application_name"] = "finews-pool-counter"
    with psycopg.connect(**params) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP]).fetchone()[0]

report = {
    # Each holds its connection past the wait limit: the pool's two are served, the rest give up.
    "overloaded": run_clients(5, hold_seconds=4),
    "server_connections_after_overload": server_connections(),
    # Each holds its connection briefly: the third waits for one to come back and is served.
    "briefly_busy": run_clients(3, hold_seconds=0.5),
    "stats": connection.pool.get_stats(),
    "server_connections": server_connections(),
}
print(json.dumps(report))
"""


@pytest.fixture
def pooled_site(db):
    """Runs `code` in a process whose database is the test database, with a pool of 2 and a 2-second wait."""
    settings = connection.settings_dict
    url = f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"

    def run(code):
        env = {
            **os.environ,
            "DATABASE_URL": f"{url}?application_name={APPLICATION}",
            "DATABASE_POOL_SIZE": "2",
            "DATABASE_POOL_TIMEOUT": "2",
            "CONN_MAX_AGE": "0",
        }
        command = [sys.executable, "manage.py", "shell", "--no-startup", "-c", f"APP = {APPLICATION!r}\n{code}"]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    return run


def test_clients_beyond_the_pool_wait_then_time_out_with_a_clear_error_and_nothing_leaks(pooled_site):
    report = pooled_site(CLIENTS)

    timed_out = "PoolTimeout: couldn't get a connection after 2.00 sec"
    assert report["overloaded"] == [timed_out] * 3 + ["served"] * 2
    assert report["server_connections_after_overload"] <= 2
    assert report["briefly_busy"] == ["served"] * 3
    stats = report["stats"]
    assert stats["pool_max"] == 2
    # Every connection came back: all of the pool's are free, and nobody is left waiting.
    assert stats["pool_available"] == stats["pool_size"] <= 2
    assert stats.get("requests_waiting", 0) == 0
    assert stats["requests_errors"] == 3
    assert report["server_connections"] <= 2
