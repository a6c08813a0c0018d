"""Input no page can answer (NUL in a URL, a Host the site does not serve, a method other than
GET and HEAD) is a 400, 404 or 405 with one log line, never a database error's 500 or a page."""

import io
import logging

import pytest
from django.test import Client

from articles.models import Market

pytestmark = pytest.mark.django_db

# Every reader URL that looks something up by what the URL spells, with NUL (%00) in it.
NUL_URLS = [
    "/category/a%00b/",
    "/category/a%00b/rss.xml",
    "/category/a%00b/atom.xml",
    "/source/a%00b/",
    "/source/a%00b/rss.xml",
    "/tag/a%00b/",
    "/tag/a%00b/atom.xml",
    "/stock/1.60%000/",
    "/stock/1.60%000/rss.xml",
    "/news/a%00b/",
    "/category/a%00b.html",
    "/a%00b/",
    "/a%00b/2022/05/25/NW2022%0005.html",
    "/search/?q=%00",
    "/search/?q=a%00b",
    "/news/?date=%00",
    "/news/?before=%00",
    "/html_News/NewsShare.html?infoCode=NW%00",
    "/api/new-posts?after=%00",
    "/?%00=1",
]

# One URL of each reader page and redirect, for the methods they answer.
READER_URLS = [
    "/",
    "/news/",
    "/news/{post}/",
    "/category/{category}/",
    "/category/{category}/rss.xml",
    "/source/{source}/",
    "/tag/港股/",
    "/tag/港股/atom.xml",
    "/stock/116.00700/",
    "/search/?q=商汤",
    "/rss.xml",
    "/sitemap.xml",
    "/sitemap-news.xml",
    "/robots.txt",
    "/api/new-posts?after=20200101000000-1",
    "/category/{category}.html",
    "/{category}/2022/05/25/NW2022.html",
    "/html_News/NewsShare.html?infoCode=NW202205252391453833",
]


@pytest.fixture
def reader_site(published_post):
    published_post.tags.add("港股")
    published_post.charts.create(market=Market.HONG_KONG, code="00700")
    published_post.key = "NW2022"
    published_post.save()
    published_post.sync_stocks()
    return published_post


def reader_url(template, post):
    return template.format(post=post.slug, category=post.category.slug, source=post.source.slug)


@pytest.fixture
def log_output():
    """Everything the site's configured log handlers write, while the test runs."""
    stream = io.StringIO()
    handlers = {
        handler
        for name in ["", "django.security.DisallowedHost"]
        for handler in logging.getLogger(name).handlers
        if type(handler) is logging.StreamHandler
    }
    assert handlers
    previous = {handler: handler.setStream(stream) for handler in handlers}
    yield stream
    for handler, old in previous.items():
        handler.setStream(old)


@pytest.mark.parametrize("url", NUL_URLS)
def test_nul_anywhere_in_a_reader_url_is_a_400_not_a_database_error(url, reader_site, log_output):
    client = Client(raise_request_exception=False)

    response = client.get(url)

    assert response.status_code == 400
    assert "链接中含有无效字符" in response.content.decode()
    assert "Traceback" not in log_output.getvalue()


def test_nul_in_an_admin_search_is_a_400_too(admin_client, reader_site):
    response = admin_client.get("/admin/articles/post/?q=%00")

    assert response.status_code == 400


@pytest.mark.parametrize("cookie", ["sessionid", "csrftoken", "anything"])
def test_nul_in_a_cookie_is_a_400_not_a_database_error(cookie, admin_client, reader_site):
    # The session key is looked up in the database; a quoted cookie may spell NUL as \000.
    admin_client.cookies[cookie] = "abcdefgh\x00ijklmnop"
    admin_client.raise_request_exception = False

    response = admin_client.get("/admin/articles/post/")

    assert response.status_code == 400


def test_urls_without_nul_still_find_what_they_name(client, reader_site):
    assert client.get(reader_url("/category/{category}/", reader_site)).status_code == 200
    assert client.get("/search/?q=商汤").status_code == 200


def test_a_host_the_site_does_not_serve_is_a_400_logged_in_one_line(reader_site, log_output):
    client = Client(raise_request_exception=False, HTTP_HOST="attacker.example")

    response = client.get("/")

    assert response.status_code == 400
    lines = log_output.getvalue().splitlines()
    assert len(lines) == 1
    assert "Invalid HTTP_HOST header: 'attacker.example'" in lines[0]


@pytest.mark.parametrize("url", READER_URLS)
def test_options_on_a_reader_url_says_what_it_allows_without_the_page(url, client, reader_site):
    url = reader_url(url, reader_site)
    assert client.get(url).status_code in {200, 301, 302}

    response = client.options(url)

    assert response.status_code == 200
    assert set(response["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "OPTIONS"}
    assert response.content == b""


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_on_a_reader_page_are_not_allowed(method, reader_site):
    client = Client(enforce_csrf_checks=False)

    response = getattr(client, method)(reader_url("/news/{post}/", reader_site))

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_nul_in_an_api_request_is_a_json_400(client):
    response = client.get("/api/v1/posts", {"category": "a\x00b"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
