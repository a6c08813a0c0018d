"""Settings come from the environment and fail loudly, in one line; production settings pass Django's
deploy checks; the local arrangement (bin/finews) serves plain HTTP without weakening production."""

import ast
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Variables the test run sets (pyproject.toml) or a developer may have: each test starts without them.
PROJECT_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "SITE_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
    "SERVE_MEDIA",
    "ALLOWED_HOSTS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)
PRODUCTION = {"SECRET_KEY": secrets.token_urlsafe(50), "SITE_URL": "https://news.example.com"}


def run(*command, **env):
    base = {k: v for k, v in os.environ.items() if k not in PROJECT_VARIABLES}
    return subprocess.run(command, cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=60)


def manage(*args, **env):
    return run(sys.executable, "manage.py", *args, **env)


def setting(name, **env):
    """A setting's value as a process started with `env` sees it."""
    result = manage(
        "shell",
        "--no-startup",
        "--verbosity",
        "0",
        "-c",
        f"from django.conf import settings; print(settings.{name})",
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def assert_one_line(result, message):
    assert result.returncode != 0
    assert result.stderr.strip() == f"finews: {message}", result.stderr
    assert "Traceback" not in result.stderr


def test_production_settings_pass_deploy_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", ALLOWED_HOSTS="news.example.com", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_without_debug_is_one_line_not_a_traceback():
    result = manage("check", SITE_URL="https://news.example.com")
    assert_one_line(result, "SECRET_KEY must be set when DEBUG is off (bin/finews sets one up for a checkout)")


def test_missing_site_url_without_debug_is_one_line_not_a_traceback():
    # Otherwise canonical links, feeds, sitemaps and share cards would point at localhost.
    result = manage("check", SECRET_KEY="x")
    assert_one_line(result, "SITE_URL must be set when DEBUG is off, e.g. SITE_URL=https://news.example.com")


def test_site_url_must_be_an_origin():
    result = manage("check", SECRET_KEY="x", SITE_URL="news.example.com/finance")
    assert_one_line(result, "SITE_URL must be http(s)://host[:port] with no path, not 'news.example.com/finance'")


def test_wsgi_start_up_without_secret_key_is_one_line_and_stops_gunicorn():
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = run(str(gunicorn), "finews.wsgi", "--bind", "127.0.0.1:0", "--no-control-socket", SITE_URL="https://x.y")
    assert result.returncode != 0
    assert "finews: SECRET_KEY must be set when DEBUG is off" in result.stderr
    assert "Traceback" not in result.stderr
    # Gunicorn gives up (exit status 4, "app failed to load") rather than restart workers forever.
    assert result.stderr.count("Booting worker") == 1


def test_bad_boolean_is_refused_with_its_name():
    result = manage("check", DEBUG="maybe")
    assert_one_line(result, "DEBUG must be a boolean (1/0, true/false), not 'maybe'")


def test_debug_runs_without_secret_key_or_site_url_on_sqlite(tmp_path):
    result = manage("check", "--database", "default", DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert setting("SITE_URL", DEBUG="1") == "http://127.0.0.1:8000"


def test_production_cookies_are_https_only_unless_the_local_arrangement_turns_that_off():
    assert setting("SESSION_COOKIE_SECURE", **PRODUCTION) == "True"
    assert setting("CSRF_COOKIE_SECURE", **PRODUCTION) == "True"
    assert setting("SECURE_SSL_REDIRECT", **PRODUCTION) == "True"
    # What bin/finews sets for a checkout served over plain HTTP on 127.0.0.1.
    local = {**PRODUCTION, "SECURE_COOKIES": "0", "SECURE_SSL_REDIRECT": "0"}
    assert setting("SESSION_COOKIE_SECURE", **local) == "False"
    assert setting("CSRF_COOKIE_SECURE", **local) == "False"
    assert setting("SECURE_SSL_REDIRECT", **local) == "False"


def test_replica_urls_add_mirrored_replica_databases_a_router_and_the_middleware():
    env = {**PRODUCTION, "DATABASE_REPLICA_URLS": "postgres://app@replica-a/finews, postgres://app@replica-b/finews"}
    databases = ast.literal_eval(setting("DATABASES", **env))
    assert [(alias, db["HOST"], db["TEST"].get("MIRROR")) for alias, db in databases.items()][1:] == [
        ("replica1", "replica-a", "default"),
        ("replica2", "replica-b", "default"),
    ]
    assert setting("DATABASE_ROUTERS", **env) == "['articles.routing.ReplicaRouter']"
    assert "articles.routing.ReplicaMiddleware" in setting("MIDDLEWARE", **env)


def test_without_replicas_there_is_no_router_and_no_replica_middleware():
    assert setting("DATABASE_ROUTERS", **PRODUCTION) == "[]"
    assert "Replica" not in setting("MIDDLEWARE", **PRODUCTION)


def test_pool_size_gives_each_database_a_psycopg_pool_and_no_persistent_connections():
    env = {**PRODUCTION, "DATABASE_POOL_SIZE": "4", "DATABASE_REPLICA_URLS": "postgres://app@replica-a/finews"}
    databases = ast.literal_eval(setting("DATABASES", **env))
    for alias in ("default", "replica1"):
        assert databases[alias]["CONN_MAX_AGE"] == 0
        assert databases[alias]["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10}


def test_pool_with_persistent_connections_is_refused_in_one_line():
    result = manage("check", DATABASE_POOL_SIZE="4", CONN_MAX_AGE="600", **PRODUCTION)
    assert_one_line(result, "CONN_MAX_AGE must be 0 with DATABASE_POOL_SIZE: the pool keeps the connections")


def test_replicas_need_postgresql():
    result = manage(
        "check", DATABASE_URL="sqlite:///x.sqlite3", DATABASE_REPLICA_URLS="sqlite:///y.sqlite3", **PRODUCTION
    )
    assert_one_line(result, "DATABASE_URL must be a postgres:// URL with DATABASE_POOL_SIZE or replicas")


def test_site_name_comes_from_the_environment(tmp_path):
    result = manage(
        "shell",
        "--verbosity=0",
        "-c",
        "from django.conf import settings; print(settings.SITE_NAME)",
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SITE_NAME="Acme 金融快讯",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Acme 金融快讯"
