"""PostgreSQL out of reach: readers get a designed 503 page with Retry-After, made without the
database, and the site recovers by itself once the database answers again."""

import io
import logging

import pytest
from django.db import ProgrammingError, connections
from django.template.loader import render_to_string
from django.test import Client

from deploy.postgres import free_port

# The connection is closed and reopened during these tests: only a transactional test case allows it.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_away(monkeypatch):
    """Point the site's connection at a port nothing listens on, as when PostgreSQL is stopped;
    calling the returned function brings it back."""
    connection = connections["default"]
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "PORT", str(free_port()))

    def back():
        connection.close()
        monkeypatch.undo()

    yield back
    back()


@pytest.fixture
def log_output():
    """What the site's own log handler writes while the test runs."""
    stream = io.StringIO()
    handlers = [handler for handler in logging.getLogger().handlers if type(handler) is logging.StreamHandler]
    previous = [handler.setStream(stream) for handler in handlers]
    yield stream
    for handler, old in zip(handlers, previous, strict=True):
        handler.setStream(old)


READER_PATHS = ["/", "/news/", "/news/{slug}/", "/category/{category}/", "/rss.xml", "/search/?q=商汤"]


@pytest.mark.parametrize("path", READER_PATHS)
def test_reader_pages_answer_a_designed_503_while_the_database_is_away(path, published_post, database_away):
    path = path.format(slug=published_post.slug, category=published_post.category.slug)
    client = Client(raise_request_exception=False)

    response = client.get(path)

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert "服务正在恢复，请稍候" in html
    assert '<meta http-equiv="refresh" content="30">' in html
    assert 'lang="zh-CN"' in html
    assert 'href="/static/css/site.css"' in html


def test_pages_in_the_page_cache_are_still_served_while_the_database_is_away(published_post, monkeypatch):
    client = Client(raise_request_exception=False)
    article = published_post.get_absolute_url()
    assert client.get(article).status_code == 200  # now in the page cache

    connection = connections["default"]
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "PORT", str(free_port()))
    try:
        cached = client.get(article)
        assert cached.status_code == 200
        assert cached["X-Page-Cache"] == "hit"
        assert published_post.title in cached.content.decode()
        assert client.get("/news/").status_code == 503  # never cached: made now, without the database
    finally:
        connection.close()
        monkeypatch.undo()


def test_the_outage_is_logged_in_one_line_per_request(published_post, database_away, log_output):
    Client(raise_request_exception=False).get("/news/")

    lines = log_output.getvalue().splitlines()
    assert any("Database unavailable, answered 503 for /news/" in line for line in lines)
    assert "Traceback" not in log_output.getvalue()


def test_the_site_recovers_by_itself_on_the_first_request_once_the_database_is_back(published_post, database_away):
    client = Client(raise_request_exception=False)
    assert client.get(published_post.get_absolute_url()).status_code == 503

    database_away()
    response = client.get(published_post.get_absolute_url())

    assert response.status_code == 200
    assert published_post.title in response.content.decode()


def test_the_retry_button_asks_again_for_the_same_page(published_post, database_away):
    response = Client(raise_request_exception=False).get("/news/?date=2022-05-25")

    assert 'href="/news/?date=2022-05-25"' in response.content.decode()


def test_other_database_errors_are_still_500s(published_post, monkeypatch):
    # A query the database refuses is a bug to see in the log, not an outage to wait out.
    def refuse(*args, **kwargs):
        raise ProgrammingError("column does not exist")

    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", refuse)

    response = Client(raise_request_exception=False).get("/news/")

    assert response.status_code == 500


def test_the_503_page_needs_no_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        html = render_to_string("503.html", {"site_name": "finews 财经新闻", "retry_after": 30, "retry_url": "/"})

    assert "503" in html
    assert "30 秒后自动刷新" in html
