"""Headlines (头条) and category pins: editors choose what leads, readers see it once."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from articles.models import Post
from tests.post_form import post_form_data


def headline_titles(html):
    """The titles in the headline block, in order."""
    block = html.split('<section class="headlines', 1)[1].split("</section>", 1)[0]
    return [part.split("</h2>", 1)[0] for part in block.split('<h2 class="headline-title">')[1:]]


def list_titles(html):
    """The titles of the newest-first list under the headlines."""
    items = html.split('id="post-list">', 1)[1].split("</ol>", 1)[0]
    return [part.split(">", 1)[1].split("</a>", 1)[0] for part in items.split('<h3 class="post-title"><a href=')[1:]]


@pytest.fixture
def pinned(make_post):
    """Three live posts pinned to the home page, set in the order 2, 1, 3 (by pin_order)."""
    return [
        make_post(title="第二条头条", pinned_to=Post.Pin.HOME, pin_order=2),
        make_post(title="第一条头条", pinned_to=Post.Pin.HOME, pin_order=1, summary="央行宣布降准"),
        make_post(title="第三条头条", pinned_to=Post.Pin.HOME, pin_order=3),
    ]


def test_home_leads_with_pins_in_the_editors_order_and_lists_them_nowhere_else(client, make_post, pinned):
    make_post(title="普通新闻")

    html = client.get("/").content.decode()

    assert headline_titles(html) == ["第一条头条", "第二条头条", "第三条头条"]
    assert "央行宣布降准" in html
    assert list_titles(html) == ["普通新闻"]


def test_only_the_first_slots_show_and_later_pins_stay_in_the_list(client, make_post, pinned):
    make_post(title="第四条头条", pinned_to=Post.Pin.HOME, pin_order=4)

    html = client.get("/").content.decode()

    assert headline_titles(html) == ["第一条头条", "第二条头条", "第三条头条"]
    assert "第四条头条" in list_titles(html)


def test_a_pin_drops_back_into_the_flow_at_its_end_time(client, make_post):
    now = timezone.now()
    make_post(title="限时头条", pinned_to=Post.Pin.HOME, pinned_until=now + datetime.timedelta(hours=1))

    with time_machine.travel(now + datetime.timedelta(minutes=59)):
        assert headline_titles(client.get("/").content.decode()) == ["限时头条"]
    with time_machine.travel(now + datetime.timedelta(minutes=61)):
        html = client.get("/").content.decode()

    assert 'class="headlines' not in html
    assert list_titles(html) == ["限时头条"]


def test_an_ended_pin_is_a_change_of_the_site(client, make_post):
    now = timezone.now()
    make_post(title="限时头条", pinned_to=Post.Pin.HOME, pinned_until=now + datetime.timedelta(hours=1))
    before = client.get("/")["Last-Modified"]

    with time_machine.travel(now + datetime.timedelta(hours=2)):
        after = client.get("/")["Last-Modified"]

    assert after != before


def test_category_pins_lead_its_first_page_and_leave_its_list(client, make_post, category):
    make_post(title="栏目置顶", pinned_to=Post.Pin.CATEGORY)
    make_post(title="栏目新闻")

    category_html = client.get(category.get_absolute_url()).content.decode()
    home_html = client.get("/").content.decode()

    assert headline_titles(category_html) == ["栏目置顶"]
    assert list_titles(category_html) == ["栏目新闻"]
    # A category pin leads its category, not the home page.
    assert 'class="headlines' not in home_html


def test_only_live_posts_can_be_pinned(make_post):
    for post in [
        make_post(status=Post.Status.DRAFT, pinned_to=Post.Pin.HOME),
        make_post(published_at=timezone.now() + datetime.timedelta(hours=1), pinned_to=Post.Pin.HOME),
    ]:
        post.pinned_to = Post.Pin.HOME
        with pytest.raises(ValidationError) as error:
            post.clean_curation()
        assert "pinned_to" in error.value.message_dict


def test_a_post_saved_as_draft_is_never_stored_pinned(make_post):
    post = make_post(status=Post.Status.DRAFT, pinned_to=Post.Pin.HOME)

    post.refresh_from_db()

    assert post.pinned_to == ""


def test_unpublishing_unpins_and_clears_breaking_news_in_the_history(make_post, editor, client):
    post = make_post(pinned_to=Post.Pin.HOME, breaking_until=timezone.now() + datetime.timedelta(minutes=30))

    Post.objects.filter(pk=post.pk).unpublish(editor)

    post.refresh_from_db()
    assert (post.pinned_to, post.breaking_until) == ("", None)
    record = post.history.first()
    assert (record.pinned_to, record.breaking_until, record.history_change_reason) == ("", None, "撤回为草稿")
    assert 'class="headlines' not in client.get("/").content.decode()


def test_editor_pins_in_the_admin_and_the_pin_is_in_the_history(client, staff_editor, make_post):
    post = make_post(title="要闻")
    client.force_login(staff_editor)

    response = client.post(
        reverse("admin:articles_post_change", args=[post.pk]),
        post_form_data(post, pinned_to="home", pin_order="1"),
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.pinned_to == Post.Pin.HOME
    assert post.history.first().pinned_to == Post.Pin.HOME
    assert headline_titles(client.get("/").content.decode()) == ["要闻"]


def test_a_pin_end_already_past_is_refused_in_the_admin(client, staff_editor, make_post):
    post = make_post()
    client.force_login(staff_editor)
    past = timezone.localtime() - datetime.timedelta(hours=1)

    response = client.post(
        reverse("admin:articles_post_change", args=[post.pk]),
        post_form_data(
            post,
            pinned_to="home",
            pinned_until_0=past.strftime("%Y-%m-%d"),
            pinned_until_1=past.strftime("%H:%M:%S"),
        ),
    )

    assert response.status_code == 200
    assert "pinned_until" in response.context["adminform"].form.errors


def test_contributors_cannot_pin(client, contributor, make_post):
    draft = make_post(status=Post.Status.DRAFT, created_by=contributor)
    client.force_login(contributor)

    form = client.get(reverse("admin:articles_post_change", args=[draft.pk])).context["adminform"].form
    client.post(
        reverse("admin:articles_post_change", args=[draft.pk]),
        post_form_data(draft, pinned_to="home", breaking_until_0="2030-01-01", breaking_until_1="00:00:00"),
    )

    assert not {"pinned_to", "pin_order", "pinned_until", "breaking_until"} & set(form.fields)
    draft.refresh_from_db()
    assert (draft.pinned_to, draft.breaking_until) == ("", None)


def test_contributors_cannot_reorder_pins(client, contributor, pinned):
    client.force_login(contributor)

    response = client.post(reverse("admin:articles_pinnedpost_move", args=[pinned[0].pk, "up"]))
    listing = client.get(reverse("admin:articles_pinnedpost_changelist"))

    assert response.status_code == 403
    assert listing.status_code == 403
    assert [p.pin_order for p in Post.objects.filter(pk__in=[p.pk for p in pinned]).order_by("pk")] == [2, 1, 3]


def test_editor_moves_a_pin_up_and_each_moved_post_records_it(client, staff_editor, pinned):
    client.force_login(staff_editor)
    listing = client.get(reverse("admin:articles_pinnedpost_changelist")).content.decode()
    assert listing.index("第一条头条") < listing.index("第二条头条") < listing.index("第三条头条")

    response = client.post(reverse("admin:articles_pinnedpost_move", args=[pinned[2].pk, "up"]))

    assert response.status_code == 302
    assert headline_titles(client.get("/").content.decode()) == ["第一条头条", "第三条头条", "第二条头条"]
    moved = Post.objects.get(pk=pinned[2].pk)
    assert moved.history.first().history_change_reason == "调整置顶顺序"
    assert moved.history.first().history_user == staff_editor


def test_moving_a_pin_needs_post(client, staff_editor, pinned):
    client.force_login(staff_editor)

    response = client.get(reverse("admin:articles_pinnedpost_move", args=[pinned[0].pk, "down"]))

    assert response.status_code == 405


def test_headline_block_and_most_read_cost_one_query_cold_and_none_warm(
    client, make_post, pinned, django_assert_max_num_queries
):
    make_post(title="普通新闻")

    with django_assert_max_num_queries(10) as cold:
        client.get("/")
    with django_assert_max_num_queries(10) as warm:
        client.get("/")

    def curation_queries(captured):
        return [q["sql"] for q in captured.captured_queries if "articles_viewcount" in q["sql"]]

    # One query fetches the pins and the most-read posts with their reads; none once cached.
    assert len(curation_queries(cold)) == 1
    assert '"pinned_to"' in curation_queries(cold)[0].split("WHERE", 1)[1]
    assert curation_queries(warm) == []


def test_the_next_end_of_a_pin_or_breaking_flag_is_known(make_post):
    now = timezone.now()
    assert Post.objects.next_curation_end() is None
    make_post(pinned_to=Post.Pin.HOME, pinned_until=now + datetime.timedelta(hours=2))
    make_post(breaking_until=now + datetime.timedelta(minutes=30))
    make_post(pinned_to=Post.Pin.HOME, pinned_until=now - datetime.timedelta(hours=1))

    assert Post.objects.next_curation_end() == now + datetime.timedelta(minutes=30)
