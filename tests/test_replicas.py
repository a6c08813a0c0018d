"""Read replicas: where each request reads (articles/routing.py), one test per rule, against Django's
test mirror of the database ("replica", tests/conftest.py). tests/test_replica_streaming.py does the
same against a real streaming replica."""

import socket
import time
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.http import JsonResponse
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from articles import routing
from articles.models import Category, Source
from articles.routing import replica_reads

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

DEMO_POSTS = Path(__file__).resolve().parent.parent / "articles" / "demo_posts"


@replica_reads
def where_reads_go(request):
    """A reader page that says where its reads, its reads inside a transaction and its write went."""
    read = Category.objects.all().db
    with transaction.atomic():
        in_transaction = Category.objects.all().db
    written = Source.objects.create(name="探针")
    return JsonResponse({"read": read, "in_transaction": in_transaction, "write": written._state.db})


urlpatterns = [path("where/", where_reads_go)]


@pytest.fixture
def probe_urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.fixture
def where():
    """Runs `request()` and returns (its result, SQL run on the primary, SQL run on the replica)."""

    def run(request):
        with (
            CaptureQueriesContext(connections["default"]) as primary,
            CaptureQueriesContext(connections["replica"]) as replica,
        ):
            result = request()
        return result, [q["sql"] for q in primary.captured_queries], [q["sql"] for q in replica.captured_queries]

    return run


READER_PAGES = {
    # Expect at most 6 with nothing cached, as without replicas (tests/test_views_*.py); an article 7 with
    # the headlines and most read beside it.
    "home": (lambda post: reverse("articles:home"), 6),
    "category": (lambda post: post.category.get_absolute_url(), 6),
    "article": (lambda post: post.get_absolute_url(), 7),
    # The feed's posts with their categories and tags, the site state.
    "feed": (lambda post: reverse("articles:feed", args=["rss"]), 4),
    # As tests/test_search.py counts them: the site state; the search's transaction (BEGIN, SET LOCAL
    # statement_timeout, COMMIT); the stock lookup, the token statistics and the plan they choose, the
    # candidates, their ranks and the page's posts.
    "search": (lambda post: f"{reverse('articles:search')}?q=港股", 10),
    "sitemap": (lambda post: reverse("articles:sitemap", args=["posts"]), 3),
    # The count, and the site state for the breaking news it announces.
    "new-posts": (lambda post: f"{reverse('articles:new_posts')}?after=20200101000000-1", 2),
}


@pytest.mark.parametrize("page", READER_PAGES)
def test_reader_pages_read_only_from_the_replica_within_their_query_budgets(
    page, client, replica, charted_posts, django_assert_max_num_queries
):
    url_of, budget = READER_PAGES[page]
    url = url_of(charted_posts[0])

    with (
        django_assert_max_num_queries(0, connection=connections["default"]),
        django_assert_max_num_queries(budget, connection=replica) as on_replica,
    ):
        response = client.get(url)

    assert response.status_code == 200
    assert on_replica.captured_queries
    assert routing.WROTE_COOKIE not in response.cookies


@pytest.mark.parametrize("page", ["admin", "preview"])
def test_admin_pages_and_previews_read_from_the_primary(
    page, client, replica, published_post, editor, where, monkeypatch
):
    client.force_login(editor)
    # Let the session through: only the kind of page decides here.
    monkeypatch.setattr(routing.ReplicaMiddleware, "may_read_replica", staticmethod(lambda request: True))
    url = (
        reverse("admin:articles_post_changelist")
        if page == "admin"
        else reverse("articles:post_preview", args=[published_post.pk])
    )

    response, on_primary, on_replica = where(lambda: client.get(url))

    assert response.status_code == 200
    assert on_primary
    assert on_replica == []


def test_a_logged_in_user_reads_reader_pages_from_the_primary(client, replica, published_post, editor, where):
    client.force_login(editor)

    response, on_primary, on_replica = where(lambda: client.get(published_post.get_absolute_url()))

    assert response.status_code == 200
    assert on_primary
    assert on_replica == []


def test_a_browser_that_wrote_reads_from_the_primary_for_a_few_seconds(client, replica, published_post, editor, where):
    client.force_login(editor)
    logged_out = client.post(reverse("admin:logout"))
    # The browser drops the session cookie the logout expired; the write leaves its own behind.
    del client.cookies[settings.SESSION_COOKIE_NAME]
    assert logged_out.cookies[routing.WROTE_COOKIE]["max-age"] == routing.sticky_seconds()

    _, on_primary, on_replica = where(lambda: client.get(published_post.get_absolute_url()))
    assert on_primary
    assert on_replica == []

    with time_machine.travel(time.time() + routing.sticky_seconds() + 1):
        _, on_primary, on_replica = where(lambda: client.get(published_post.get_absolute_url()))
    assert on_primary == []
    assert on_replica


def test_a_forged_write_cookie_changes_nothing(client, replica, published_post, where):
    client.cookies[routing.WROTE_COOKIE] = "1"

    _, on_primary, on_replica = where(lambda: client.get(published_post.get_absolute_url()))

    assert on_primary == []
    assert on_replica


def test_reads_on_a_reader_page_go_to_the_replica(client, replica, probe_urls):
    assert client.get("/where/").json()["read"] == "replica"


def test_writes_on_a_reader_page_go_to_the_primary(client, replica, probe_urls):
    response = client.get("/where/")

    assert response.json()["write"] == "default"
    assert routing.WROTE_COOKIE in response.cookies


def test_reads_inside_a_transaction_go_to_the_primary(client, replica, probe_urls):
    assert client.get("/where/").json()["in_transaction"] == "default"


def test_commands_and_imports_read_from_the_primary(replica, where):
    _, on_primary, on_replica = where(lambda: call_command("import_posts", str(DEMO_POSTS), verbosity=0))

    assert on_primary
    assert on_replica == []


def test_a_replica_is_checked_at_most_every_few_seconds_per_process(client, replica, published_post, settings, where):
    url = published_post.get_absolute_url()
    routing.forget_health()

    checks = [query for _ in range(3) for query in where(lambda: client.get(url))[2] if "pg_is_in_recovery" in query]
    assert len(checks) == 1

    settings.REPLICA_CHECK_SECONDS = 0
    assert any("pg_is_in_recovery" in query for query in where(lambda: client.get(url))[2])


def test_a_replica_too_far_behind_is_skipped(client, replica, published_post, settings, monkeypatch, where):
    monkeypatch.setattr(routing, "replica_lag", lambda alias: settings.REPLICA_MAX_LAG_SECONDS + 1.0)
    routing.forget_health()

    response, on_primary, on_replica = where(lambda: client.get(published_post.get_absolute_url()))

    assert response.status_code == 200
    assert on_primary
    assert on_replica == []


def test_a_replica_within_the_allowed_lag_is_read(client, replica, published_post, settings, monkeypatch, where):
    monkeypatch.setattr(routing, "replica_lag", lambda alias: settings.REPLICA_MAX_LAG_SECONDS - 1.0)
    routing.forget_health()

    _, on_primary, on_replica = where(lambda: client.get(published_post.get_absolute_url()))

    assert on_primary == []
    assert on_replica


def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_replica_that_is_down_is_skipped_and_readers_get_the_page_from_the_primary(
    client, replica, published_post, monkeypatch
):
    routing.forget_health()
    replica.close()
    monkeypatch.setitem(replica.settings_dict, "PORT", str(unused_port()))

    with CaptureQueriesContext(connections["default"]) as on_primary:
        response = client.get(published_post.get_absolute_url())

    assert response.status_code == 200
    assert published_post.title in response.text
    assert on_primary.captured_queries
    assert routing.is_usable("replica") is False


def test_a_replica_failing_during_a_page_is_left_out_and_the_page_made_from_the_primary(
    client, replica, published_post, monkeypatch
):
    # It answered its check (the fixture's), then went away.
    replica.close()
    monkeypatch.setitem(replica.settings_dict, "PORT", str(unused_port()))

    with CaptureQueriesContext(connections["default"]) as on_primary:
        response = client.get(published_post.get_absolute_url())

    assert response.status_code == 200
    assert published_post.title in response.text
    assert on_primary.captured_queries
    assert routing.is_usable("replica") is False


def test_without_replicas_reader_pages_read_from_the_primary(client, published_post, where):
    assert "articles.routing.ReplicaMiddleware" not in settings.MIDDLEWARE

    response, on_primary, on_replica = where(lambda: client.get(published_post.get_absolute_url()))

    assert response.status_code == 200
    assert on_primary
    assert on_replica == []
    assert routing.WROTE_COOKIE not in response.cookies
