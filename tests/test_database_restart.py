"""The site served by gunicorn through a real PostgreSQL restart: while the server is stopped,
readers get the 503 page with Retry-After; the first request after it is back gets its page, from a
worker whose kept connection died with the old server."""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from deploy.postgres import MissingComponent, Postgres, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def database():
    """A throwaway PostgreSQL server with the finews schema migrated into its `finews` database."""
    folder = Path(tempfile.mkdtemp(prefix="finews-restart-"))
    server = None
    try:
        Postgres.give_to_postgres(folder)
        server = Postgres.primary(folder / "server")
        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE finews")
        yield server
    except MissingComponent as missing:
        pytest.skip(f"no PostgreSQL server to restart: {missing}")
    finally:
        if server:
            server.stop(mode="immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def site(database, tmp_path_factory):
    """The site under gunicorn (one worker, production settings, connections kept) on `database`."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database.url("finews"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "STATIC_ROOT": str(tmp_path_factory.mktemp("static")),
        "MEDIA_ROOT": str(tmp_path_factory.mktemp("media")),
        "CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }
    for command in (["migrate", "--no-input", "-v0"], ["collectstatic", "--no-input", "-v0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, timeout=300)
    gunicorn = [sys.executable, "-m", "gunicorn", "finews.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"]
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while get(f"{base}/robots.txt")[0] != 200:
            assert time.monotonic() < deadline and server.poll() is None, "gunicorn never answered"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.communicate(timeout=30)


def get(url):
    """(status, headers, body) of a GET of `url`; (None, {}, "") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()
    except OSError:
        return None, {}, ""


def test_a_stopped_database_gives_the_503_page_and_its_return_the_pages_again(database, site):
    assert get(f"{site}/news/")[0] == 200  # now in the page cache
    uncached = f"{site}/news/?date=2022-05-01"

    database.stop(mode="fast")
    try:
        status, headers, body = get(uncached)
        cached_status, cached_headers, _ = get(f"{site}/news/")
    finally:
        database.start()

    assert status == 503
    assert headers["Retry-After"] == "30"
    assert "服务正在恢复，请稍候" in body
    # A page in the page cache needs no database: readers keep getting it.
    assert cached_status == 200
    assert cached_headers["X-Page-Cache"] == "hit"
    status, _, body = get(uncached)
    assert status == 200
    assert "滚动新闻" in body
