"""KeysetPaginator: pages of posts by cursor, with no request in sight."""

import datetime

import pytest
from django.utils import timezone

from articles.models import Post
from articles.pagination import BadCursor, Cursor, KeysetPaginator

pytestmark = pytest.mark.django_db


def titles(page):
    return [post.title for post in page.posts]


def test_pages_walk_down_by_before_and_back_up_by_after(make_post):
    for n in range(5):
        make_post(title=f"第{n}条")
    paginator = KeysetPaginator(Post.objects.published(), per_page=2)

    first = paginator.page()
    second = paginator.page(before=str(first.older))
    back = paginator.page(after=str(second.newer))

    assert (titles(first), first.is_first, first.newer) == (["第0条", "第1条"], True, None)
    assert titles(second) == ["第2条", "第3条"]
    assert titles(back) == ["第0条", "第1条"]
    assert back.reached_top


def test_a_day_opens_the_listing_at_the_end_of_that_day_in_site_time(make_post):
    make_post(title="5月2日晚", published_at=datetime.datetime(2022, 5, 2, 15, 59, tzinfo=datetime.UTC))
    make_post(title="5月3日凌晨", published_at=datetime.datetime(2022, 5, 2, 16, 1, tzinfo=datetime.UTC))

    page = KeysetPaginator(Post.objects.published()).page(day="2022-05-02")

    assert titles(page) == ["5月2日晚"]


@pytest.mark.parametrize(
    "cursor",
    [
        {"day": "9999-12-31"},
        {"day": "0001-01-01"},
        {"day": "1989-12-31"},
        {"day": "2101-01-01"},
        {"day": "2022-02-30"},
        {"day": "tomorrow"},
        {"before": "99991231235959-1"},
        {"before": "00010101000000-1"},
        {"before": "19891231235959-1"},
        {"before": "21010101080000-1"},
        {"before": "20220230120000-1"},
        {"before": "20220525135107-9999999999999999999"},
        {"after": "99991231235959.999999-1"},
        {"after": "2022-05-25"},
    ],
)
def test_a_cursor_or_day_that_is_malformed_or_outside_1990_to_2100_is_a_bad_cursor(cursor):
    with pytest.raises(BadCursor):
        KeysetPaginator(Post.objects.published()).page(**cursor)


def test_cursor_text_round_trips_with_microseconds(make_post):
    post = make_post(published_at=timezone.now().replace(microsecond=123456))

    assert Cursor.parse(str(Cursor.of(post))) == Cursor.of(post)
