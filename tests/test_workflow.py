"""The editorial workflow: states, scheduling, actions, history and restore, slugs, roles."""

import datetime
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from articles.models import Post, StockChart
from articles.roles import ROLE_PERMISSIONS
from tests.post_form import post_form_data

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:articles_post_changelist")


def change_url(post):
    return reverse("admin:articles_post_change", args=[post.pk])


def detail_status(client, post):
    return client.get(post.get_absolute_url()).status_code


# States and what readers see


def test_each_state_is_visible_to_readers_only_when_live(client, make_post):
    now = timezone.now()
    draft = make_post(status=Post.Status.DRAFT)
    scheduled = make_post(published_at=now + datetime.timedelta(hours=2))
    live = make_post(published_at=now - datetime.timedelta(hours=2))

    assert [draft.state, scheduled.state, live.state] == ["draft", "scheduled", "live"]
    assert list(Post.objects.published()) == [live]
    assert [detail_status(client, p) for p in (draft, scheduled, live)] == [404, 404, 200]
    home = client.get(reverse("articles:home")).text
    assert live.title in home and scheduled.title not in home and draft.title not in home


def test_scheduled_post_appears_at_its_second_and_not_before(client, make_post, time_machine):
    moment = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)
    post = make_post(title="定时发布的文章", published_at=moment)

    time_machine.move_to(moment - datetime.timedelta(seconds=1), tick=False)
    assert post.state == Post.State.SCHEDULED
    assert not Post.objects.published().filter(pk=post.pk).exists()
    assert detail_status(client, post) == 404

    time_machine.move_to(moment, tick=False)
    assert post.state == Post.State.LIVE
    assert Post.objects.published().filter(pk=post.pk).exists()
    assert detail_status(client, post) == 200


def test_unpublished_post_leaves_the_site(editor_client, client, published_post):
    assert detail_status(client, published_post) == 200
    editor_client.post(CHANGELIST, {"action": "unpublish", "_selected_action": [published_post.pk]})
    published_post.refresh_from_db()
    assert published_post.state == Post.State.DRAFT
    assert detail_status(client, published_post) == 404


# Actions


def test_publish_keeps_a_future_time_so_the_post_is_scheduled(editor_client, make_post):
    later = timezone.now() + datetime.timedelta(hours=3)
    draft = make_post(status=Post.Status.DRAFT, published_at=later)
    editor_client.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.state == Post.State.SCHEDULED
    assert draft.published_at == later


def test_publish_now_brings_drafts_and_scheduled_posts_forward(editor_client, make_post, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    now = timezone.now()
    draft = make_post(status=Post.Status.DRAFT, published_at=now - datetime.timedelta(days=2))
    scheduled = make_post(published_at=now + datetime.timedelta(days=2))
    live = make_post(published_at=now - datetime.timedelta(days=1))

    response = editor_client.post(
        CHANGELIST, {"action": "publish_now", "_selected_action": [draft.pk, scheduled.pk, live.pk]}, follow=True
    )

    assert "已立即发布 2 篇文章" in response.text
    for post in (draft, scheduled, live):
        post.refresh_from_db()
    assert draft.published_at == scheduled.published_at == now
    assert draft.state == scheduled.state == Post.State.LIVE
    assert live.published_at == now - datetime.timedelta(days=1)


def test_status_actions_mark_the_edit_and_record_who_and_why(editor_client, editor, make_post):
    draft = make_post(status=Post.Status.DRAFT)
    editor_client.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk]})

    draft.refresh_from_db()
    latest = draft.history.latest()
    assert draft.edited_at is not None
    assert (latest.history_user, latest.history_change_reason, latest.status) == (editor, "发布", "published")


# History and restore


def test_admin_edit_records_one_version_with_fields_tags_and_charts(editor_client, editor, published_post):
    published_post.tags.add("港股")
    published_post.save()
    versions_before = published_post.history.count()
    data = post_form_data(
        published_post,
        title="改过的标题",
        tags="港股, 科技",
        charts=[{"symbol": "00020.HK"}],
    )

    response = editor_client.post(change_url(published_post), data)

    assert response.status_code == 302
    assert published_post.history.count() == versions_before + 1
    latest, previous = published_post.history.all()[:2]
    assert (latest.history_user, latest.history_change_reason) == (editor, "后台编辑")
    assert latest.tag_names == ["港股", "科技"]
    assert [(c["market"], c["code"]) for c in latest.charts] == [(116, "00020")]
    changes = {
        change.field: (change.old, change.new)
        for change in [*latest.diff_against(previous).changes, *latest.snapshot_changes(previous)]
    }
    assert changes["title"] == (published_post.title, "改过的标题")
    assert changes["tag_names"] == (["港股"], ["港股", "科技"])
    assert changes["charts"][0] == []


def test_history_page_lists_who_changed_which_fields_including_tags_and_charts(editor_client, published_post):
    editor_client.post(
        change_url(published_post), post_form_data(published_post, tags="新能源", charts=[{"symbol": "sh600519"}])
    )
    response = editor_client.get(reverse("admin:articles_post_history", args=[published_post.pk]))
    assert response.status_code == 200
    assert "editor" in response.text
    assert "标签" in response.text and "新能源" in response.text
    assert "股票图表" in response.text and "K 线图 1.600519" in response.text
    assert "后台编辑" in response.text


def test_a_save_outside_the_admin_records_the_tags_and_charts_the_post_has(published_post):
    versions = published_post.history.count()
    fresh = Post.objects.get(pk=published_post.pk)
    fresh.tags.add("央行")
    fresh.charts.create(market=116, code="00020")
    fresh._change_reason = "修改标签"
    fresh.save()
    assert published_post.history.count() == versions + 1
    latest = published_post.history.latest()
    assert latest.tag_names == ["央行"] and latest.history_change_reason == "修改标签"
    assert [chart["code"] for chart in latest.charts] == ["00020"]


def test_restoring_an_earlier_version_brings_back_fields_tags_and_charts(editor_client, published_post):
    editor_client.post(
        change_url(published_post),
        post_form_data(published_post, title="第一版", tags="港股", charts=[{"symbol": "00020.HK"}]),
    )
    first = published_post.history.latest()
    published_post.refresh_from_db()
    chart = published_post.charts.get()
    editor_client.post(
        change_url(published_post),
        post_form_data(published_post, title="第二版", tags="美股", delete_charts=[chart.pk]),
    )
    published_post.refresh_from_db()
    assert (published_post.title, list(published_post.tags.names()), published_post.charts.count()) == (
        "第二版",
        ["美股"],
        0,
    )

    revert_url = reverse("admin:articles_post_simple_history", args=[published_post.pk, first.pk])
    form = editor_client.get(revert_url)
    assert form.status_code == 200
    assert 'value="港股" selected' in form.text
    assert "将恢复的股票图表：K 线图 116.00020" in form.text
    revert_data = post_form_data(published_post, title="第一版", tags="港股")
    response = editor_client.post(revert_url, revert_data)

    assert response.status_code == 302
    published_post.refresh_from_db()
    assert published_post.title == "第一版"
    assert list(published_post.tags.names()) == ["港股"]
    assert [c.symbol for c in published_post.charts.all()] == ["116.00020"]
    restored = published_post.history.latest()
    assert restored.history_change_reason.startswith("恢复到")
    assert restored.tag_names == ["港股"] and len(restored.charts) == 1


# Slugs


def test_slug_comes_from_the_pinyin_of_a_chinese_title(category):
    post = Post.objects.create(title="商汤复工", category=category)
    assert post.slug == "shang-tang-fu-gong"


def test_slug_prefers_the_info_code_and_stays_unique(category):
    first = Post.objects.create(title="甲", category=category, info_code="NW202205252391453833")
    twins = [Post.objects.create(title="同名新闻", category=category) for _ in range(3)]
    assert first.slug == "nw202205252391453833"
    assert [p.slug for p in twins] == ["tong-ming-xin-wen", "tong-ming-xin-wen-2", "tong-ming-xin-wen-3"]


def test_editor_can_set_the_slug_and_an_emptied_slug_is_regenerated(editor_client, published_post):
    editor_client.post(change_url(published_post), post_form_data(published_post, slug="sensetime-reopens"))
    published_post.refresh_from_db()
    assert published_post.slug == "sensetime-reopens"

    editor_client.post(change_url(published_post), post_form_data(published_post, slug=""))
    published_post.refresh_from_db()
    assert published_post.slug == "nw202205252391453833"


def test_slug_taken_by_another_post_is_refused_with_a_message(editor_client, make_post):
    taken, post = make_post(slug="taken"), make_post()
    response = editor_client.post(change_url(post), post_form_data(post, slug=taken.slug))
    assert response.status_code == 200
    assert "URL 标识" in response.text and "已存在" in response.text


# Roles


def test_migration_creates_editor_and_contributor_groups_with_their_permissions():
    # Run the data migration itself: a transactional test elsewhere may have emptied the tables since.
    migration = importlib.import_module("articles.migrations.0003_editor_and_contributor_groups")
    Group.objects.all().delete()
    migration.create_groups(django_apps, schema_editor=None)

    for name, by_app in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        granted = set(group.permissions.values_list("content_type__app_label", "codename"))
        assert granted == {(app, codename) for app, codenames in by_app.items() for codename in codenames}
    editors = Group.objects.get(name="Editors").permissions
    assert editors.filter(codename="publish_post").exists()
    assert not editors.filter(content_type__app_label="auth").exists()
    assert not Group.objects.get(name="Contributors").permissions.filter(codename="publish_post").exists()


def test_contributor_cannot_publish_a_new_post(client, contributor, category):
    client.force_login(contributor)
    response = client.post(reverse("admin:articles_post_add"), post_form_data(category=category, status="published"))
    assert response.status_code == 302
    post = Post.objects.get()
    assert post.status == Post.Status.DRAFT
    assert post.created_by == contributor


def test_contributor_has_no_publish_actions_and_cannot_run_them(client, contributor, make_post):
    client.force_login(contributor)
    draft = make_post(status=Post.Status.DRAFT, created_by=contributor)
    page = client.get(CHANGELIST)
    assert 'value="publish"' not in page.text and 'value="delete_selected"' not in page.text

    client.post(CHANGELIST, {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.status == Post.Status.DRAFT


def test_contributor_edits_own_drafts_only(client, contributor, staff_editor, make_post):
    client.force_login(contributor)
    own = make_post(status=Post.Status.DRAFT, created_by=contributor)
    others = make_post(status=Post.Status.DRAFT, created_by=staff_editor)
    own_published = make_post(created_by=contributor)

    assert client.post(change_url(own), post_form_data(own, title="改好了")).status_code == 302
    own.refresh_from_db()
    assert own.title == "改好了"
    for post in (others, own_published):
        assert client.post(change_url(post), post_form_data(post, title="不该改")).status_code == 403
        post.refresh_from_db()
        assert post.title != "不该改"
        # They may still read it.
        assert client.get(change_url(post)).status_code == 200


def test_editor_deletes_own_posts_but_not_others(client, staff_editor, editor, make_post):
    client.force_login(staff_editor)
    own, others = make_post(created_by=staff_editor), make_post(created_by=editor)

    def delete(post):
        return client.post(reverse("admin:articles_post_delete", args=[post.pk]), {"post": "yes"}).status_code

    assert delete(others) == 403
    assert delete(own) == 302
    assert list(Post.objects.all()) == [others]
    assert 'value="delete_selected"' not in client.get(CHANGELIST).text


def test_editor_publishes_but_manages_no_users(client, staff_editor, make_post):
    client.force_login(staff_editor)
    draft = make_post(status=Post.Status.DRAFT)
    client.post(CHANGELIST, {"action": "publish_now", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.state == Post.State.LIVE
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403


def test_editor_adds_tags_categories_sources_and_charts(client, staff_editor):
    client.force_login(staff_editor)
    for model in ("category", "source", "stock"):
        assert client.get(reverse(f"admin:articles_{model}_add")).status_code == 200
    assert client.get(reverse("admin:taggit_tag_add")).status_code == 200


# Body short codes


def test_invalid_stock_short_code_is_refused_with_the_tag_named(editor_client, published_post):
    body = "<p>见下图</p><p>[stock 12.600519]</p><p>[stock AAPL]</p>"
    response = editor_client.post(change_url(published_post), post_form_data(published_post, body=body))
    assert response.status_code == 200
    assert "[stock 12.600519]" in response.text and "未知的市场编号 12" in response.text
    assert "105.AAPL" in response.text


def test_admin_sanitises_the_body_on_save(editor_client, published_post):
    body = '<p onclick="steal()">正文<script>alert(1)</script></p><p>[stock 116.00020]</p>'
    editor_client.post(change_url(published_post), post_form_data(published_post, body=body))
    published_post.refresh_from_db()
    assert published_post.body == "<p>正文</p><p>[stock 116.00020]</p>"


def test_short_code_stocks_join_the_posts_stocks(editor_client, published_post):
    body = "<p>[stock 116.00020]</p><p>[stock sh600519 r]</p>"
    editor_client.post(change_url(published_post), post_form_data(published_post, body=body))
    assert sorted(s.symbol for s in published_post.stocks.all()) == ["1.600519", "116.00020"]
    assert not StockChart.objects.exists()


def test_body_short_codes_render_as_charts_on_the_article_page(client, make_post):
    post = make_post(body="<p>走势如下：</p><p>[stock 116.00020]</p><p>分时 [stock sh600519 r] 见上。</p>")
    html = post.body_html
    assert re.search(r'<p>走势如下：</p>\s*<figure class="stock-chart">', html)
    assert "nid=116.00020&amp;imageType=k" in html
    assert re.search(r"<p>分时\s+<figure", html) and "nid=1.600519&amp;imageType=r" in html
    assert "[stock" not in html

    page = client.get(post.get_absolute_url()).text
    assert "nid=116.00020&amp;imageType=k" in page


def test_unreadable_short_code_is_left_as_text(make_post):
    post = make_post(body="<p>[stock 茅台]</p>")
    assert post.body_html == "<p>[stock 茅台]</p>"


# Preview


@pytest.mark.parametrize("role", ["staff_editor", "contributor"])
@pytest.mark.parametrize("state", ["draft", "scheduled"])
def test_editors_and_contributors_preview_unpublished_posts(client, make_post, request, role, state):
    client.force_login(request.getfixturevalue(role))
    later = timezone.now() + datetime.timedelta(days=1)
    post = make_post(status=Post.Status.DRAFT if state == "draft" else Post.Status.PUBLISHED, published_at=later)
    response = client.get(reverse("articles:post_preview", args=[post.pk]))
    assert response.status_code == 200
    assert post.title in response.text
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_staff_outside_the_newsroom_roles_cannot_preview(client, make_post, django_user_model):
    client.force_login(django_user_model.objects.create_user("intern", is_staff=True))
    post = make_post(status=Post.Status.DRAFT)
    assert client.get(reverse("articles:post_preview", args=[post.pk])).status_code == 404


def test_change_form_and_changelist_link_to_the_preview(editor_client, make_post):
    draft = make_post(status=Post.Status.DRAFT)
    preview = reverse("articles:post_preview", args=[draft.pk])
    form = editor_client.get(change_url(draft)).text
    assert f'<a href="{preview}" class="previewlink"' in form
    # A draft has no reader page yet, so no "view on site".
    assert "viewsitelink" not in form
    assert f'<a href="{preview}" target="_blank" rel="noopener">预览</a>' in editor_client.get(CHANGELIST).text


def test_deleting_a_post_keeps_its_last_tags_and_charts_in_history(published_post):
    published_post.tags.add("港股")
    published_post.charts.create(market=116, code="00020")
    post_id = published_post.pk
    published_post.delete()
    deleted = Post.history.filter(id=post_id).latest()
    assert deleted.history_type == "-"
    assert deleted.tag_names == ["港股"]
    assert [chart["code"] for chart in deleted.charts] == ["00020"]
