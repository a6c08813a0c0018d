"""The JSON endpoint behind a listing's "N new posts" notice."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Category, Post
from articles.pagination import Cursor

pytestmark = pytest.mark.django_db

URL = reverse("articles:new_posts")


def test_counts_only_published_posts_newer_than_the_cursor(client, make_post):
    shown = make_post(title="页面上最新的")
    for n in range(3):
        make_post(title=f"新的 {n}", published_at=timezone.now() + datetime.timedelta(seconds=-n))
    make_post(title="草稿", status=Post.Status.DRAFT, published_at=timezone.now())
    make_post(title="定时", published_at=timezone.now() + datetime.timedelta(hours=1))

    response = client.get(URL, {"after": str(Cursor.of(shown))})

    assert response.json() == {"count": 3, "capped": False, "breaking": None}
    assert response["Cache-Control"] == "public, max-age=15, s-maxage=2, stale-while-revalidate=30"


def test_counts_within_the_listings_scope(client, make_post, category):
    shown = make_post()
    make_post(published_at=timezone.now())
    make_post(published_at=timezone.now(), category=Category.objects.create(slug="emnews", name="东财滚动新闻"))

    response = client.get(URL, {"after": str(Cursor.of(shown)), "scope": f"category:{category.pk}"})

    assert response.json()["count"] == 1


def test_with_items_returns_the_new_list_items_newest_first_and_the_next_cursor(client, make_post):
    shown = make_post()
    older = make_post(title="较早的新消息", published_at=timezone.now() - datetime.timedelta(seconds=2))
    newest = make_post(title="最新的新消息", published_at=timezone.now())

    data = client.get(URL, {"after": str(Cursor.of(shown)), "items": "1"}).json()

    assert data["count"] == 2
    assert data["html"].index(newest.title) < data["html"].index(older.title)
    assert data["after"] == str(Cursor.of(newest))


def test_count_stops_at_99_plus(client, make_post):
    shown = make_post()
    Post.objects.bulk_create(
        Post(title=f"快讯 {n}", slug=f"kuai-xun-{n}", category=shown.category, status=Post.Status.PUBLISHED)
        for n in range(120)
    )

    assert client.get(URL, {"after": str(Cursor.of(shown))}).json() == {"count": 100, "capped": True, "breaking": None}


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"after": "yesterday"},
        {"after": "20220525135107-1", "scope": "author:1"},
        {"after": "20220525135107-1", "scope": "tag:x"},
        {"after": "20220525135107-1", "scope": "category:99999999999999999999"},
        {"after": "99991231235959-1"},
    ],
)
def test_bad_parameters_are_a_400_with_an_explanation(client, db, query):
    response = client.get(URL, query)

    assert response.status_code == 400
    assert "after" in response.json()["error"]
