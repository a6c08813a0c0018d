"""Publication times outside 1990–2100 cannot be stored by any writer, and those stored before are repaired
without losing them."""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from articles.models import Post

pytestmark = pytest.mark.django_db

repair_migration = importlib.import_module("articles.migrations.0011_repair_out_of_range_publication_times")
drop_ids_migration = importlib.import_module("articles.migrations.0013_drop_ids_from_bodies")

UTC = datetime.UTC


def set_published_at(post, value):
    """Store `value` (SQL text, e.g. year 10000) as the post's time, the way a raw writer could."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_post SET published_at = %s::timestamptz WHERE id = %s", [value, post.pk])


@pytest.mark.parametrize("value", ["10000-01-01 11:59:59+00", "0001-12-31 23:54:17+00 BC", "1989-12-31 23:59:59+00"])
def test_database_refuses_a_publication_time_out_of_range(published_post, value):
    with pytest.raises(IntegrityError, match="post_published_at_in_range"), transaction.atomic():
        set_published_at(published_post, value)


def test_database_refuses_it_from_copy_too(published_post):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bad (id bigint, published_at timestamptz) ON COMMIT DROP")
        with cursor.copy("COPY bad FROM STDIN") as copy:
            copy.write_row([published_post.pk, "10000-01-01 00:00:00+00"])
        cursor.execute(
            "UPDATE articles_post p SET published_at = bad.published_at FROM bad WHERE p.id = bad.id",
        )


@pytest.fixture
def without_the_check():
    """The table as it was before the constraint (the test's transaction puts it back)."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE articles_post DROP CONSTRAINT post_published_at_in_range")


def test_repair_makes_out_of_range_posts_drafts_and_records_the_original_time(
    make_post, editor_client, without_the_check
):
    late, early, fine = make_post(title="年份一万"), make_post(title="公元前"), make_post(title="正常")
    late.tags.add("港股")
    late.save()
    set_published_at(late, "10000-01-01 11:59:59+00")
    set_published_at(early, "0001-12-31 23:54:17+00 BC")
    with connection.cursor() as cursor:  # an earlier version of a post holding such a time too
        cursor.execute(
            "UPDATE articles_historicalpost SET published_at = '10000-01-01 11:59:59+00', "
            "history_change_reason = repeat('长', 100) WHERE id = %s",
            [late.pk],
        )
    fine_before = Post.objects.filter(pk=fine.pk).values().get()

    repair_migration.repair(django_apps, connection.schema_editor())

    late.refresh_from_db()
    early.refresh_from_db()
    last_second, first_second = (
        datetime.datetime(2100, 12, 31, 15, 59, 59, tzinfo=UTC),  # 23:59:59 in Beijing
        datetime.datetime(1990, 1, 1, tzinfo=UTC),
    )
    assert (late.status, late.published_at) == (Post.Status.DRAFT, last_second)
    assert (early.status, early.published_at) == (Post.Status.DRAFT, first_second)
    record = late.history.latest()
    assert record.history_change_reason == (
        "发布时间 10000-01-01 11:59:59+00 超出 1990–2100 年：已改为草稿，暂设为北京时间 2100-12-31 23:59，请核对"
    )
    assert record.tag_names == ["港股"] and record.status == Post.Status.DRAFT
    assert "0001-12-31 23:54:17+00 BC" in early.history.latest().history_change_reason
    older = late.history.earliest()
    assert older.published_at == last_second
    note = "（原发布时间 10000-01-01 11:59:59+00）"
    assert older.history_change_reason == note + "长" * (100 - len(note))
    assert Post.objects.filter(pk=fine.pk).values().get() == fine_before

    # The admin shows and edits them again.
    for post in (late, early):
        for name in ("change", "delete", "history"):
            assert editor_client.get(reverse(f"admin:articles_post_{name}", args=[post.pk])).status_code == 200
    assert editor_client.get(reverse("admin:articles_post_changelist"), {"q": "年份一万"}).status_code == 200


def test_repair_leaves_a_database_without_such_times_alone(published_post):
    before = list(Post.history.values())
    repair_migration.repair(django_apps, connection.schema_editor())
    assert list(Post.history.values()) == before


def test_stored_bodies_lose_their_ids(make_post):
    clobbering = make_post(body='<p><span class="x" id="share-url">甲</span> id="" <span id="stock_1">乙</span></p>')
    untouched = make_post(body='<p><a data-id="1" href="https://example.com/">链接</a></p>')
    before = untouched.body

    drop_ids_migration.drop_ids(django_apps, connection.schema_editor())

    clobbering.refresh_from_db()
    untouched.refresh_from_db()
    assert clobbering.body == '<p><span class="x">甲</span> id="" <span>乙</span></p>'
    assert untouched.body == before
