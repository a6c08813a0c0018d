"""The post changelist must not COUNT(*) the whole table on every page view."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.admin import EstimatedCountPaginator

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyzed_posts(make_post, monkeypatch):
    for _ in range(30):
        make_post()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_post")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 10)


def count_queries(queries):
    return [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "articles_post" in q["sql"]]


def test_unfiltered_changelist_uses_the_planner_estimate(editor_client, analyzed_posts):
    with CaptureQueriesContext(connection) as ctx:
        response = editor_client.get(reverse("admin:articles_post_changelist"))
    assert response.status_code == 200
    assert count_queries(ctx.captured_queries) == []
    assert "30" in response.text


def test_filtered_changelist_counts_exactly(editor_client, analyzed_posts):
    with CaptureQueriesContext(connection) as ctx:
        response = editor_client.get(reverse("admin:articles_post_changelist") + "?status__exact=published")
    assert response.status_code == 200
    assert len(count_queries(ctx.captured_queries)) == 1
