"""POST /api/v1/ingest: the crawler's posts through the importer, with API keys, limits and per-post outcomes."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import APIKey, Post

from .test_import_command import post_text

pytestmark = pytest.mark.django_db

URL = "/api/v1/ingest"


@pytest.fixture
def token():
    """The secret of an active ingest key named 东财爬虫."""
    key = APIKey(name="东财爬虫")
    secret = key.issue_token()
    key.save()
    return secret


def send(client, token, payload, **extra):
    return client.post(
        URL,
        json.dumps(payload, ensure_ascii=False),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **extra,
    )


def one(code, **kwargs):
    return {"name": f"2022-05-21-{code}.md", "text": post_text(code, **kwargs)}


def statuses(response):
    return [post["status"] for post in response.json()["posts"]]


def test_a_batch_creates_posts_and_reports_each(client, token):
    response = send(client, token, {"posts": [one("NW1"), one("NW2", title="创业板指走强")]})

    assert response.status_code == 200
    assert statuses(response) == ["created", "created"]
    assert response.json()["summary"]["created"] == 2
    assert response.json()["posts"][0]["url"] == "http://127.0.0.1:8000/news/nw1/"
    assert Post.objects.published().filter(key__in=["NW1", "NW2"]).count() == 2


def test_the_same_batch_twice_changes_nothing(client, token):
    batch = {"posts": [one("NW1"), one("NW2", title="创业板指走强")]}
    send(client, token, batch)
    before = list(Post.objects.values_list("pk", "updated_at"))
    history = Post.history.count()

    again = send(client, token, batch)

    assert statuses(again) == ["unchanged", "unchanged"]
    assert list(Post.objects.values_list("pk", "updated_at")) == before
    assert Post.history.count() == history


def test_a_changed_post_is_updated_and_its_history_names_the_key(client, token):
    send(client, token, one("NW1"))

    response = send(client, token, one("NW1", title="沪指收涨 更正"))

    assert statuses(response) == ["updated"]
    post = Post.objects.get(key="NW1")
    assert post.title == "沪指收涨 更正"
    key = APIKey.objects.get()
    assert [record.history_change_reason for record in post.history.all()] == [
        f"ingest: 东财爬虫 (API key #{key.pk})"
    ] * 2


def test_a_post_an_editor_changed_is_a_conflict_and_left_alone(client, token, editor):
    send(client, token, one("NW1"))
    post = Post.objects.get(key="NW1")
    post.title = "编辑改过的标题"
    post.edited_at = timezone.now()
    post.save()

    single = send(client, token, one("NW1", title="爬虫的新标题"))
    batch = send(client, token, {"posts": [one("NW1", title="爬虫的新标题")]})

    assert single.status_code == 409
    assert statuses(single) == ["conflict"] and "edited in the admin" in single.json()["posts"][0]["reason"]
    assert batch.status_code == 200 and statuses(batch) == ["conflict"]
    assert Post.objects.get(key="NW1").title == "编辑改过的标题"


def test_a_malformed_post_fails_alone_in_a_batch_and_is_a_400_on_its_own(client, token):
    broken = {"name": "2022-05-21-NW9.md", "text": "---\ntitle: [unclosed\n---\n正文"}

    batch = send(client, token, {"posts": [one("NW1"), broken, {"name": "../etc/passwd.md", "text": "x"}]})
    single = send(client, token, broken)

    assert batch.status_code == 200
    assert statuses(batch) == ["created", "failed", "failed"]
    assert all(post["reason"] for post in batch.json()["posts"][1:])
    assert single.status_code == 400 and "2022-05-21-NW9.md" in single.json()["detail"]
    assert list(Post.objects.values_list("key", flat=True)) == ["NW1"]


def test_a_single_post_may_be_sent_as_markdown(client, token):
    response = client.post(
        f"{URL}?name=2022-05-21-NW1.md",
        post_text("NW1"),
        content_type="text/markdown; charset=utf-8",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 200 and statuses(response) == ["created"]


@pytest.mark.parametrize(
    "authorization", [None, "Bearer finews_wrong", "Basic abc", "Bearer "], ids=["none", "wrong", "basic", "empty"]
)
def test_a_missing_or_wrong_key_is_a_401_and_writes_nothing(client, token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.post(URL, json.dumps(one("NW1")), content_type="application/json", **headers)

    assert response.status_code == 401
    assert not Post.objects.exists()


def test_a_revoked_key_is_refused(client, token):
    APIKey.objects.get().revoke()

    assert send(client, token, one("NW1")).status_code == 401


def test_a_key_is_stored_hashed_and_its_last_use_noted(client, token):
    key = APIKey.objects.get()
    assert token not in (key.hashed_token, key.prefix) and token.startswith(key.prefix)
    assert key.last_used_at is None

    send(client, token, one("NW1"))

    key.refresh_from_db()
    assert key.last_used_at is not None


def test_an_oversized_request_is_a_413(client, token, settings):
    settings.API_INGEST_MAX_MB = 1
    text = post_text("NW1") + "<p>" + "长" * 400_000 + "</p>"

    response = send(client, token, {"name": "2022-05-21-NW1.md", "text": text})

    assert response.status_code == 413
    assert not Post.objects.exists()


def test_more_than_500_posts_is_a_413(client, token):
    response = send(client, token, {"posts": [one(f"NW{n}") for n in range(501)]})

    assert response.status_code == 413
    assert not Post.objects.exists()


def test_each_key_is_rate_limited(client, token, settings):
    settings.API_INGEST_RATE_PER_MINUTE = 2

    answers = [send(client, token, one("NW1")).status_code for _ in range(3)]

    assert answers == [200, 200, 429]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{", "application/json"), ('{"posts": "x"}', "application/json"), ("[]", "application/json"), ("x", "image/png")],
    ids=["not-json", "posts-not-a-list", "not-an-object", "wrong-type"],
)
def test_a_malformed_request_is_a_clear_4xx(client, token, body, content_type):
    response = client.post(URL, body, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code in (400, 415)
    assert response.json()["detail"]


def test_ingested_posts_show_at_once_on_the_site_and_in_feeds(client, token, make_post):
    make_post(title="早先的新闻")
    # Pages and feeds cached before the ingest...
    client.get(reverse("articles:latest"))
    client.get(reverse("articles:feed", kwargs={"format": "rss"}))

    send(
        client, token, one("NW1", title="刚刚写入的快讯", date=timezone.localtime().strftime("%Y-%m-%d %H:%M:%S +0800"))
    )

    # ...show the new post on the next request.
    assert "刚刚写入的快讯" in client.get(reverse("articles:latest")).content.decode()
    assert "刚刚写入的快讯" in client.get(reverse("articles:feed", kwargs={"format": "rss"})).content.decode()
    assert "刚刚写入的快讯" in client.get("/api/v1/posts").content.decode()


def test_editors_make_keys_in_the_admin_and_see_the_secret_once(editor_client):
    response = editor_client.post(
        reverse("admin:articles_apikey_add"), {"name": "新爬虫", "scope": "ingest"}, follow=True
    )

    key = APIKey.objects.get(name="新爬虫")
    html = response.content.decode()
    assert key.prefix in html and "请立即复制保存" in html
    assert key.created_by.username == "editor"
    page = editor_client.get(reverse("admin:articles_apikey_change", args=[key.pk])).content.decode()
    assert "请立即复制保存" not in page


def test_keys_are_revoked_from_the_admin_not_deleted(editor_client, token):
    key = APIKey.objects.get()

    editor_client.post(reverse("admin:articles_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert editor_client.get(reverse("admin:articles_apikey_delete", args=[key.pk])).status_code == 403


def test_a_batch_larger_than_djangos_form_limit_is_accepted_within_the_apis(client, token, settings):
    # Django refuses to read request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) as form data; the
    # ingest reads its JSON itself, up to API_INGEST_MAX_MB.
    filler = "<p>" + "市场消息" * 2_500 + "</p>"
    batch = {"posts": [one(f"NW{n}", title=f"快讯 {n}") for n in range(100)]}
    for post in batch["posts"]:
        post["text"] += filler
    assert len(json.dumps(batch, ensure_ascii=False).encode()) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = send(client, token, batch)

    assert response.status_code == 200
    assert response.json()["summary"]["created"] == 100
