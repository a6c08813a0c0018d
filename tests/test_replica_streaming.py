"""Read replicas against a real streaming replica: a throwaway primary and a replica of it made with
`pg_basebackup -R` (deploy/postgres.py), on free ports in a temp folder. The site runs in processes of
its own pointed at them (DATABASE_URL, DATABASE_REPLICA_URLS), each reading the home page once.

Which server answered shows in what the page holds: with the replica's replay paused, a post published
on the primary is on the page only when the primary served it.
"""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from deploy.postgres import MissingComponent, Postgres

ROOT = Path(__file__).resolve().parent.parent

# Publish a post on the primary (an editor's write), wait, then read the home page as a reader.
PUBLISH_THEN_READ = """
import json, os, time
from django.test import Client
from django.utils import timezone
from articles.models import Category, Post
category, _ = Category.objects.get_or_create(slug="kuaixun", defaults={"name": "快讯"})
Post.objects.create(title=os.environ["TITLE"], category=category, status="published", published_at=timezone.now())
time.sleep(float(os.environ["WAIT"]))
response = Client().get("/")
print(json.dumps({"status": response.status_code, "page": response.content.decode()}))
"""


@pytest.fixture(scope="module")
def servers():
    """(primary, replica), the finews schema migrated on the primary and streamed to the replica."""
    folder = Path(tempfile.mkdtemp(prefix="finews-replica-"))
    started = []
    try:
        Postgres.give_to_postgres(folder)
        primary = Postgres.primary(folder / "primary")
        started.append(primary)
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE finews")
        site(["migrate", "--no-input", "-v0"], primary)
        started.append(primary.replica(folder / "replica"))
        yield started
    except MissingComponent as missing:
        pytest.skip(f"no streaming replica to test against: {missing}")
    finally:
        for server in started:
            server.stop(mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)


def site(args, primary, replica=None, **env):
    """manage.py `args` in a process of its own with the servers as its databases; returns stdout."""
    env = {
        **os.environ,
        "DATABASE_URL": primary.url("finews"),
        "DATABASE_REPLICA_URLS": replica.url("finews") if replica else "",
        "ALLOWED_HOSTS": "testserver",
        # Static files are not collected here: DEBUG serves their plain names.
        "DEBUG": "1",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def publish_then_read(title, primary, replica, wait=0, max_lag=60):
    """Publish `title`, wait `wait` seconds, then read the home page: (status, page). Each call is a fresh
    process, whose replica is checked at its first reader request."""
    code = ["shell", "--no-startup", "-c", PUBLISH_THEN_READ]
    out = site(code, primary, replica, TITLE=title, WAIT=str(wait), REPLICA_MAX_LAG_SECONDS=str(max_lag))
    answer = json.loads(out.strip().splitlines()[-1])
    return answer["status"], answer["page"]


def on_replica(replica, sql, database="finews"):
    with psycopg.connect(replica.url(database), autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def wait_until_replayed(replica, title):
    for _ in range(100):
        if on_replica(replica, f"SELECT count(*) FROM articles_post WHERE title = '{title}'"):
            return
        time.sleep(0.1)
    raise AssertionError(f"the replica never replayed {title}")


@contextlib.contextmanager
def replay_paused(replica):
    """The replica stops applying what it receives: it answers from where it was."""
    on_replica(replica, "SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        on_replica(replica, "SELECT pg_wal_replay_resume()")


def test_reader_pages_read_from_the_streaming_replica(servers):
    primary, replica = servers
    publish_then_read("甲：已复制到副本", primary, replica)
    wait_until_replayed(replica, "甲：已复制到副本")

    with replay_paused(replica):
        status, page = publish_then_read("乙：副本还没有", primary, replica)

    assert status == 200
    assert "甲：已复制到副本" in page
    assert "乙：副本还没有" not in page


def test_a_replica_lagging_past_the_limit_is_skipped_for_the_primary(servers):
    primary, replica = servers

    with replay_paused(replica):
        status, page = publish_then_read("丙：副本落后时发布", primary, replica, wait=2.5, max_lag=1)

    assert status == 200
    assert "丙：副本落后时发布" in page


def test_a_stopped_replica_is_skipped_and_read_again_once_it_is_back(servers):
    primary, replica = servers
    replica.stop()
    try:
        status, page = publish_then_read("丁：副本停机时发布", primary, replica)
    finally:
        replica.start()
    assert status == 200
    assert "丁：副本停机时发布" in page

    wait_until_replayed(replica, "丁：副本停机时发布")
    with replay_paused(replica):
        status, page = publish_then_read("戊：副本恢复后发布", primary, replica)
    assert status == 200
    assert "丁：副本停机时发布" in page
    assert "戊：副本恢复后发布" not in page


def test_a_replica_replayed_up_to_the_primarys_wal_position_holds_every_commit_before_it(servers):
    # What the router's check (articles/routing.py) and the cluster's tests take a replica at the
    # primary's position to mean. Each commit is checked at once: one only acknowledged, not yet
    # written, would reach the replica a moment later.
    primary, replica = servers
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE committed (n integer)")
        until_on_replica(replica, "SELECT to_regclass('committed') IS NOT NULL")
        for n in range(5):
            conn.execute("INSERT INTO committed VALUES (%s)", [n])
            position = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            until_on_replica(replica, f"SELECT pg_last_wal_replay_lsn() >= '{position}'")
            assert on_replica(replica, f"SELECT count(*) FROM committed WHERE n = {n}", database="postgres") == 1


def until_on_replica(replica, sql):
    """Wait until `sql` is true in the replica's postgres database, failing after 10 s."""
    for _ in range(100):
        if on_replica(replica, sql, database="postgres"):
            return
        time.sleep(0.1)
    raise AssertionError(f"still not so after 10 s: {sql}")
