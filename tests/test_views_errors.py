"""The friendly error pages."""

import pytest
from django.template.loader import render_to_string
from django.test import Client

pytestmark = pytest.mark.django_db


def test_unknown_page_is_a_404_in_the_sites_style_with_a_way_home(client, published_post):
    response = client.get("/news/no-such-story/")

    html = response.content.decode()
    assert response.status_code == 404
    assert '<nav class="category-nav"' in html
    assert '<a class="button" href="/">返回首页</a>' in html
    assert '<meta name="robots" content="noindex">' in html


def test_server_error_page_needs_neither_database_nor_context():
    html = render_to_string("500.html")

    assert "服务暂时出了点问题" in html
    assert 'lang="zh-CN"' in html


def test_unexpected_error_answers_the_500_page(settings, published_post, monkeypatch):
    # The one broken thing here is the database; the page must still come out of the template.
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    client = Client(raise_request_exception=False)
    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", _refuse)

    response = client.get(published_post.get_absolute_url())

    assert response.status_code == 500
    assert "服务暂时出了点问题" in response.content.decode()


def _refuse(*args, **kwargs):
    raise RuntimeError("database unavailable")
