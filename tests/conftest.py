"""Shared fixtures: a category, a source, posts in each state, an editor."""

import datetime

import pytest
from django.utils import timezone

from articles.models import Category, Post, Source


@pytest.fixture(autouse=True)
def _plain_http(settings, tmp_path):
    # Production settings redirect to HTTPS; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    # collectstatic's manifest does not exist in a test run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def category(db):
    return Category.objects.create(slug="shanghaizhengquanbao·zhongguozhengquanwang", name="上海证券报·中国证券网新闻")


@pytest.fixture
def source(db):
    return Source.objects.create(name="上海证券报·中国证券网")


@pytest.fixture
def make_post(category, source):
    """Build posts with sensible defaults: `make_post(title=..., status=...)`."""
    counter = iter(range(1, 1_000_000))

    def make(**fields):
        n = next(counter)
        fields.setdefault("title", f"测试新闻 {n}")
        fields.setdefault("category", category)
        fields.setdefault("source", source)
        fields.setdefault("status", Post.Status.PUBLISHED)
        fields.setdefault("published_at", timezone.now() - datetime.timedelta(minutes=n))
        fields.setdefault("body", f"<p>正文 {n}</p>")
        tags = fields.pop("tags", [])
        post = Post.objects.create(**fields)
        if tags:
            post.tags.add(*tags)
        return post

    return make


@pytest.fixture
def published_post(make_post):
    return make_post(title="算力底座不停歇！商汤临港智算中心有序复工", info_code="NW202205252391453833")


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_superuser("editor", "editor@example.com", "correct horse battery")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client
