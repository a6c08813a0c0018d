"""The site's name comes from one setting, SITE_NAME, wherever pages, feeds and sitemaps show it."""

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

NAME = "Acme 金融快讯"


@pytest.fixture
def renamed(settings):
    settings.SITE_NAME = NAME


def test_pages_take_their_titles_masthead_and_metadata_from_site_name(renamed, client, published_post):
    home = client.get(reverse("articles:home")).content.decode()
    article = client.get(published_post.get_absolute_url()).content.decode()

    assert f"<title>{NAME}</title>" in home
    assert '<span class="brand-name">Acme</span><span class="brand-tagline">金融快讯</span>' in home
    assert f'<meta property="og:site_name" content="{NAME}">' in home
    assert f'"@type":"WebSite","name":"{NAME}"' in home
    assert f"<title>{published_post.title} - {published_post.category.name} - {NAME}</title>" in article
    assert f'<meta property="og:site_name" content="{NAME}">' in article
    assert f'"publisher": {{"@type": "Organization", "name": "{NAME}"' in article
    assert "finews" not in home and "finews" not in article


def test_feeds_and_news_sitemap_are_named_by_site_name(renamed, client, published_post):
    feed = client.get(reverse("articles:feed", kwargs={"format": "rss"})).content.decode()
    sitemap = client.get(reverse("sitemap", args=["news"])).content.decode()

    assert f"<title>{NAME}</title>" in feed
    assert f"<news:name>{NAME}</news:name>" in sitemap


def test_server_error_page_is_named_by_site_name(renamed, settings, published_post, monkeypatch):
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    client = Client(raise_request_exception=False)
    monkeypatch.setattr("django.db.backends.utils.CursorWrapper.execute", _refuse)

    response = client.get(published_post.get_absolute_url())

    assert response.status_code == 500
    assert f"<title>服务暂时不可用 - {NAME}</title>" in response.content.decode()


def _refuse(*args, **kwargs):
    raise RuntimeError("database unavailable")
