"""Breaking news (快讯): a banner on every reader page for a set time, announced by the new-posts poll."""

import datetime

import pytest
import time_machine
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from articles.models import Post
from articles.pagination import Cursor


def banner(html):
    """The banner's link as (href, title), or None when the banner is hidden."""
    block = html.split('<div class="breaking" id="breaking-news"', 1)[1].split("</div></div>", 1)[0]
    if block.startswith(" hidden"):
        return None
    link = block.split('<a class="breaking-link" href="', 1)[1]
    href, title = link.split('">', 1)
    return href, title.split("</a>", 1)[0]


def run_action(client, action, posts):
    return client.post(
        reverse("admin:articles_post_changelist"),
        {"action": action, helpers.ACTION_CHECKBOX_NAME: [post.pk for post in posts]},
    )


@pytest.fixture
def story(make_post):
    return make_post(title="央行宣布全面降准 0.5 个百分点")


def test_flagged_post_shows_on_every_reader_page_within_seconds(client, staff_editor, story, category, make_post):
    other = make_post(title="另一篇")
    client.get("/")  # the site state without breaking news is cached now
    client.force_login(staff_editor)

    run_action(client, "flag_breaking", [story])
    client.logout()

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2)):
        pages = ["/", other.get_absolute_url(), category.get_absolute_url(), "/news/", "/search/?q=降准", "/hot/"]
        for url in pages:
            assert banner(client.get(url).content.decode()) == (story.get_absolute_url(), story.title), url


def test_breaking_news_lasts_thirty_minutes_by_default_then_goes(client, story, staff_editor):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        Post.objects.filter(pk=story.pk).flag_breaking(staff_editor)
    story.refresh_from_db()
    assert story.breaking_until == now + datetime.timedelta(minutes=30)

    with time_machine.travel(now + datetime.timedelta(minutes=29)):
        assert banner(client.get("/").content.decode()) is not None
        during = client.get("/")["Last-Modified"]
    with time_machine.travel(now + datetime.timedelta(minutes=31)):
        after = client.get("/")

    assert banner(after.content.decode()) is None
    # Running out is a change of the site: pages cached under its last change are made again.
    assert after["Last-Modified"] != during


def test_clearing_breaking_news_takes_the_banner_down_and_counts_as_a_change(client, staff_editor, story):
    Post.objects.filter(pk=story.pk).flag_breaking(staff_editor)
    shown = client.get("/")
    client.force_login(staff_editor)

    run_action(client, "clear_breaking", [story])
    client.logout()

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2)):
        cleared = client.get("/")
    assert banner(shown.content.decode()) is not None
    assert banner(cleared.content.decode()) is None
    assert cleared["ETag"] != shown["ETag"]
    story.refresh_from_db()
    assert story.history.first().history_change_reason == "取消快讯"


def test_only_live_posts_become_breaking_news(client, staff_editor, make_post):
    draft = make_post(status=Post.Status.DRAFT)
    scheduled = make_post(published_at=timezone.now() + datetime.timedelta(hours=1))
    client.force_login(staff_editor)

    run_action(client, "flag_breaking", [draft, scheduled])

    assert not Post.objects.filter(breaking_until__isnull=False).exists()


def test_contributors_cannot_flag_breaking_news(client, contributor, make_post):
    draft = make_post(status=Post.Status.DRAFT, created_by=contributor)
    client.force_login(contributor)

    changelist = client.get(reverse("admin:articles_post_changelist")).content.decode()
    run_action(client, "flag_breaking", [draft])

    assert "flag_breaking" not in changelist
    draft.refresh_from_db()
    assert draft.breaking_until is None


def test_the_new_posts_poll_announces_breaking_news(client, staff_editor, story, make_post):
    first = make_post(title="较早的新闻", published_at=story.published_at - datetime.timedelta(hours=1))
    Post.objects.filter(pk=story.pk).flag_breaking(staff_editor)

    data = client.get(reverse("articles:new_posts"), {"after": str(Cursor.of(first))}).json()

    assert data["count"] == 1
    assert data["breaking"]["title"] == story.title
    assert data["breaking"]["url"] == story.get_absolute_url()
    assert datetime.datetime.fromisoformat(data["breaking"]["until"]) > timezone.now()


def test_the_newest_of_two_breaking_posts_leads_the_banner(client, staff_editor, make_post):
    older = make_post(title="较早的快讯", published_at=timezone.now() - datetime.timedelta(minutes=10))
    newer = make_post(title="最新快讯", published_at=older.published_at + datetime.timedelta(minutes=5))
    Post.objects.filter(pk__in=[older.pk, newer.pk]).flag_breaking(staff_editor)

    assert banner(client.get("/").content.decode())[1] == "最新快讯"


def test_the_banner_escapes_the_title(client, staff_editor, make_post):
    post = make_post(title="<script>alert(1)</script> 快讯")
    Post.objects.filter(pk=post.pk).flag_breaking(staff_editor)

    html = client.get("/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert banner(html)[1] == "&lt;script&gt;alert(1)&lt;/script&gt; 快讯"
