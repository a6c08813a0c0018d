"""Visible updates (更新于), public corrections (更正) and slug history."""

import datetime
import json
import xml.etree.ElementTree as ET

import time_machine
from django.urls import reverse
from django.utils import timezone

from articles.models import OldSlug, Post
from tests.post_form import post_form_data

ATOM = "{http://www.w3.org/2005/Atom}"


def json_ld(html):
    return json.loads(html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0])


def atom_updated(client, post):
    feed = ET.fromstring(client.get("/atom.xml").content)
    entry = next(e for e in feed.iter(f"{ATOM}entry") if e.find(f"{ATOM}title").text == post.title)
    return datetime.datetime.fromisoformat(entry.find(f"{ATOM}updated").text)


def edit(client, post, **fields):
    response = client.post(reverse("admin:articles_post_change", args=[post.pk]), post_form_data(post, **fields))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    post.refresh_from_db()
    return post


def test_a_new_post_shows_no_update(client, published_post):
    html = client.get(published_post.get_absolute_url()).content.decode()

    assert published_post.content_updated_at is None
    assert "更新于" not in html
    assert json_ld(html)["dateModified"] == published_post.published_at.isoformat()


def test_editing_a_live_posts_body_shows_updated_at_and_moves_date_modified(editor_client, client, published_post):
    later = timezone.now() + datetime.timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        edit(editor_client, published_post, body="<p>补充：午后消息。</p>")

    html = client.get(published_post.get_absolute_url()).content.decode()
    assert published_post.content_updated_at == later
    local = timezone.localtime(later)
    assert f'更新于 <time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M}</time>' in html
    assert json_ld(html)["dateModified"] == later.isoformat()
    assert f'<meta property="article:modified_time" content="{local.isoformat()}">' in html


def test_other_edits_do_not_show_an_update(editor_client, published_post, make_post, category):
    edit(editor_client, published_post, tags="港股")

    assert published_post.content_updated_at is None


def test_edits_before_publication_do_not_show_an_update(editor_client, make_post):
    draft = make_post(status=Post.Status.DRAFT)

    edit(editor_client, draft, title="改过的标题")

    assert draft.content_updated_at is None


def test_a_correction_shows_above_the_body_and_feeds_announce_it(editor_client, client, published_post):
    published = published_post.published_at
    before = atom_updated(client, published_post)
    later = (timezone.now() + datetime.timedelta(hours=1)).replace(microsecond=0)

    with time_machine.travel(later, tick=False):
        edit(editor_client, published_post, correction="原文误将「临港」写作「临江」，已更正。")
    html = client.get(published_post.get_absolute_url()).content.decode()

    assert published_post.corrected_at == later
    assert html.index('<aside class="correction" role="note">') < html.index('<div class="article-body">')
    assert "原文误将「临港」写作「临江」，已更正。" in html
    assert before == published
    with time_machine.travel(later + datetime.timedelta(seconds=2)):
        assert atom_updated(client, published_post) == later


def test_a_plain_edit_does_not_make_feeds_announce_the_post_again(editor_client, client, published_post):
    edit(editor_client, published_post, summary="新的摘要")

    assert published_post.content_updated_at is not None
    assert atom_updated(client, published_post) == published_post.published_at


def test_a_correction_note_is_escaped(editor_client, client, published_post):
    edit(editor_client, published_post, correction='<img src=x onerror="alert(1)">')

    html = client.get(published_post.get_absolute_url()).content.decode()

    assert 'onerror="alert(1)"' not in html


def test_a_changed_live_slug_keeps_the_old_url_answering_301(editor_client, client, published_post):
    old_url = published_post.get_absolute_url()

    edit(editor_client, published_post, slug="shangtang-lingang-fugong")
    response = client.get(old_url)

    assert response.status_code == 301
    assert response["Location"] == "/news/shangtang-lingang-fugong/"
    assert client.get(response["Location"]).status_code == 200


def test_renaming_twice_keeps_every_old_url_and_taking_a_slug_back_frees_it(editor_client, client, published_post):
    first = published_post.slug
    edit(editor_client, published_post, slug="second")
    edit(editor_client, published_post, slug="third")

    assert client.get(f"/news/{first}/")["Location"] == "/news/third/"
    assert client.get("/news/second/")["Location"] == "/news/third/"

    edit(editor_client, published_post, slug=first)

    assert client.get(f"/news/{first}/").status_code == 200
    assert client.get("/news/third/")["Location"] == f"/news/{first}/"
    assert not OldSlug.objects.filter(slug=first).exists()


def test_a_drafts_slug_changes_leave_no_old_url(editor_client, client, make_post):
    draft = make_post(status=Post.Status.DRAFT, slug="cao-gao")

    edit(editor_client, draft, slug="new-draft-slug")

    assert not OldSlug.objects.exists()


def test_an_unpublished_posts_old_url_is_a_404(editor_client, client, published_post, editor):
    old_url = published_post.get_absolute_url()
    edit(editor_client, published_post, slug="renamed")

    Post.objects.filter(pk=published_post.pk).unpublish(editor)

    assert client.get(old_url).status_code == 404


def test_restoring_an_earlier_title_is_a_visible_update_and_leaves_pins_alone(editor_client, published_post):
    edit(editor_client, published_post, title="第一版", pinned_to="home")
    first = published_post.history.first()
    edit(editor_client, published_post, title="第二版", pinned_to="")
    stamped = published_post.content_updated_at

    revert_url = reverse("admin:articles_post_simple_history", args=[published_post.pk, first.pk])
    form = post_form_data(published_post, title="第一版")
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        response = editor_client.post(revert_url, form)

    assert response.status_code == 302
    published_post.refresh_from_db()
    assert published_post.title == "第一版"
    assert published_post.content_updated_at > stamped
    # Pins are today's decisions: a version does not bring one back.
    assert published_post.pinned_to == ""
