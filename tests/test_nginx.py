"""The shipped nginx configuration (deploy/nginx.conf) in front of gunicorn, as scripts/serve-production runs them.

The test process and the site share the test database and a Redis cache, as app servers and an
editor's save share them in production. Needs nginx (Debian's package) and Redis on 127.0.0.1:6379.
"""

import gzip
import http.client
import os
import time
import urllib.parse

import pytest
import redis
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.db import connection

from deploy.postgres import MissingComponent

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def shared_cache(settings):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis does not answer at {REDIS_URL}: {error}")
    backend = "finews.cache.RedisCache"
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": REDIS_URL, "KEY_PREFIX": "finews"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site(shared_cache, category):
    """nginx on deploy/nginx.conf in front of gunicorn, both on free ports, serving the test database."""
    from deploy.production import Production

    database = connection.settings_dict
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "CACHE_URL": REDIS_URL,
    }
    env.pop("DATABASE_REPLICA_URLS", None)
    try:
        production = Production(workers=2, env=env, nginx_workers=1)
    except MissingComponent as missing:
        pytest.skip(f"{missing}: the nginx integration test needs it")
    env["SITE_URL"] = production.url
    production.start()
    yield production
    production.stop()


def get(site, path, cookie=None, encoding=None):
    """GET `path` through nginx, accepting `encoding` (e.g. gzip) if given; (status, headers, body text),
    the body decompressed. Redirects are not followed."""
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    headers = {"Cookie": cookie} if cookie else {}
    if encoding:
        headers["Accept-Encoding"] = encoding
    connection.request("GET", urllib.parse.quote(path, safe="/?=&%"), headers=headers)
    response = connection.getresponse()
    body = response.read()
    if response.headers["Content-Encoding"] == "gzip":
        body = gzip.decompress(body)
    connection.close()
    return response.status, response.headers, body.decode("utf-8", errors="replace")


def editor_cookie(editor):
    session = SessionStore()
    session["_auth_user_id"] = str(editor.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = editor.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def test_anonymous_readers_are_served_from_nginx_s_cache(site, make_post):
    post = make_post(title="沪指收涨")

    for path in ["/", post.get_absolute_url(), "/rss.xml", post.category.get_absolute_url()]:
        status, first, body = get(site, path)
        assert status == 200, site.log("gunicorn")
        assert first["X-Cache-Status"] in ("MISS", "EXPIRED"), path
        _, again, body_again = get(site, path)
        assert again["X-Cache-Status"] == "HIT", path
        assert body_again == body


def test_browsers_get_a_gzipped_copy_from_nginx_s_cache_and_others_a_plain_one(site, make_post):
    make_post(title="沪指收涨")
    plain_body = get(site, "/")[2]

    # Browsers spell Accept-Encoding differently; each is served the one gzipped copy, kept as it is sent.
    for encoding in ["gzip, deflate, br", "gzip, deflate, br, zstd", "gzip", "gzip, deflate, br"]:
        status, headers, body = get(site, "/", encoding=encoding)
        assert status == 200 and headers["Content-Encoding"] == "gzip", encoding
        assert body == plain_body
    assert headers["X-Cache-Status"] == "HIT"
    # Sent as kept, its length known: nginx compressing a page as it sends it would send it in chunks.
    assert int(headers["Content-Length"]) < len(plain_body.encode())
    assert headers.get_all("Vary") == ["Accept-Encoding"]

    _, again, body = get(site, "/", encoding="br")  # no gzip: the plain copy, still kept
    assert again["X-Cache-Status"] == "HIT" and "Content-Encoding" not in again
    assert body == plain_body


def test_the_app_s_cache_control_lets_shared_caches_keep_pages_briefly(site, make_post):
    make_post()
    _, headers, _ = get(site, "/")

    assert headers["Cache-Control"] == "public, max-age=60, s-maxage=2, stale-while-revalidate=30"
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in headers["Content-Security-Policy"]


def test_a_logged_in_editor_never_gets_a_cached_page_nor_leaks_one(site, make_post, editor):
    post = make_post(title="沪指收涨")
    cookie = editor_cookie(editor)
    get(site, "/")  # anonymous: now in nginx's cache

    status, headers, body = get(site, "/", cookie=f"other=1; {cookie}")
    assert status == 200
    assert headers["X-Cache-Status"] == "BYPASS"
    assert "X-Page-Cache" not in headers  # nor from the app's own page cache

    # A page only the editor asked for is not in any cache afterwards.
    get(site, post.get_absolute_url(), cookie=cookie)
    _, anonymous, body = get(site, post.get_absolute_url())
    assert anonymous["X-Cache-Status"] == "MISS"
    assert anonymous["X-Page-Cache"] == "miss"
    assert editor.username not in body
    assert "Set-Cookie" not in anonymous


def test_a_published_post_shows_on_the_home_page_through_nginx_within_the_micro_cache_ttl(site, make_post):
    make_post(title="较早的新闻")
    get(site, "/")
    assert get(site, "/")[1]["X-Cache-Status"] == "HIT"

    make_post(title="刚刚发布的新闻")
    published = time.monotonic()
    while "刚刚发布的新闻" not in get(site, "/")[2]:
        assert time.monotonic() - published < settings.SHARED_CACHE_SECONDS + 3, "not visible in time"
        time.sleep(0.2)


def test_previews_and_the_admin_are_never_cached(site, make_post, editor):
    post = make_post(title="草稿", status="draft")
    cookie = editor_cookie(editor)

    for _ in range(2):
        status, headers, body = get(site, f"/preview/{post.pk}/", cookie=cookie)
        assert status == 200
        assert headers["Cache-Control"] == "private, no-store"
        assert "X-Cache-Status" not in headers
        assert "草稿" in body
        status, headers, _ = get(site, f"/preview/{post.pk}/")
        assert status == 302  # to the login page, never the editor's preview
        assert "X-Cache-Status" not in headers
        assert "X-Cache-Status" not in get(site, "/admin/login/")[1]


def test_static_files_are_served_by_nginx_compressed_and_kept_for_a_year(site):
    connection = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    connection.request("GET", "/robots.txt")
    connection.getresponse().read()
    static = sorted((settings.BASE_DIR / "static").rglob("*.css"))[0].relative_to(settings.BASE_DIR / "static")
    connection.request("GET", f"/static/{static}", headers={"Accept-Encoding": "gzip"})
    response = connection.getresponse()
    response.read()

    assert response.status == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
