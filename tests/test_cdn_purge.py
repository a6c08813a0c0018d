"""The CDN purge hook (CDN_PURGE_URL): committed changes POST the URLs they changed, to a local endpoint here."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from articles import reading
from articles.models import Market

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(settings):
    """A local purge endpoint; yields the list of JSON bodies it received."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CDN_PURGE_URL = f"http://127.0.0.1:{server.server_address[1]}/purge"
    yield received
    server.shutdown()
    server.server_close()


def test_a_saved_post_purges_its_article_listings_and_feeds_once_committed(
    endpoint, make_post, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        post = make_post(title="沪指收涨", info_code="NW1", tags=["A股"])
    assert endpoint == []  # nothing before the commit

    for callback in callbacks:
        callback()

    urls = {url for body in endpoint for url in body["urls"]}
    site = settings.SITE_URL
    tag = post.tags.get()
    assert {
        f"{site}/",
        f"{site}/news/",
        f"{site}/rss.xml",
        f"{site}{post.get_absolute_url()}",
        f"{site}/html_News/NewsShare.html?infoCode=NW1",
        f"{site}{post.category.get_absolute_url()}",
        f"{site}{post.category.get_absolute_url()}atom.xml",
        f"{site}{post.source.get_absolute_url()}",
        f"{site}{reverse('articles:tag_detail', kwargs={'slug': tag.slug})}",
    } <= urls


def test_a_chart_added_purges_its_article_only(endpoint, make_post, settings, django_capture_on_commit_callbacks):
    post = make_post(title="沪指收涨")

    with django_capture_on_commit_callbacks(execute=True):
        post.charts.create(market=Market.SHANGHAI, code="600000")

    assert endpoint == [{"urls": [f"{settings.SITE_URL}{post.get_absolute_url()}"]}]


def test_site_changed_purges_everything(endpoint, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reading.site_changed()

    assert endpoint == [{"all": True}]


def test_a_cdn_that_does_not_answer_is_logged_and_the_save_stands(
    settings, make_post, caplog, django_capture_on_commit_callbacks
):
    settings.CDN_PURGE_URL = "http://127.0.0.1:9/purge"  # discard: nothing listens

    with django_capture_on_commit_callbacks(execute=True):
        post = make_post(title="照常保存")

    assert post.pk
    assert "CDN purge of" in caplog.text
