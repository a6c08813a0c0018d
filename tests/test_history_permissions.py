"""Who may see a post's history and who may revert it: every role against every kind of post.

Reverting is changing the post, so it needs what the change view needs (Post.editable_by), for showing the
revert form as well as for saving it; the history list needs only the view permission.
"""

import datetime

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from taggit.models import Tag

from articles.models import Post
from tests.post_form import post_form_data

pytestmark = pytest.mark.django_db

ROLES = ["superuser", "staff_editor", "contributor", "staff_without_permissions", "anonymous"]
POSTS = ["own_draft", "own_live", "others_draft", "others_live"]

# What each role gets on each post's revert form, shown (GET) or saved (POST); contributors change only
# their own drafts. The history list needs only the view permission.
MAY_REVERT = {
    "superuser": set(POSTS),
    "staff_editor": set(POSTS),
    "contributor": {"own_draft"},
    "staff_without_permissions": set(),
    "anonymous": set(),
}
MAY_VIEW_HISTORY = {"superuser", "staff_editor", "contributor"}


@pytest.fixture
def staff_without_permissions(django_user_model):
    return django_user_model.objects.create_user("intern", "intern@example.com", is_staff=True)


@pytest.fixture
def user_client(client, request):
    """A client signed in as the role named by the test's `role` parameter (none for anonymous)."""
    role = request.node.callspec.params["role"]
    if role != "anonymous":
        client.force_login(request.getfixturevalue("editor" if role == "superuser" else role))
    return client


@pytest.fixture
def posts(make_post, contributor, staff_editor):
    """One post of each kind, seen from the contributor's side ("own" is theirs), each with two versions:
    "第一版" and then "第二版"."""
    made = {}
    for kind in POSTS:
        post = make_post(
            title="第一版",
            info_code=f"NW{len(made)}",
            key=f"key-{kind}",
            created_by=contributor if kind.startswith("own") else staff_editor,
            status=Post.Status.DRAFT if kind.endswith("draft") else Post.Status.PUBLISHED,
        )
        post.title, post.body = "第二版", "<p>第二版正文</p>"
        post.save()
        made[kind] = post
    return made


def stored(post):
    return Post.objects.filter(pk=post.pk).values().get(), post.history.count()


def revert_url(post, version=None):
    version = version or post.history.earliest()
    return reverse("admin:articles_post_simple_history", args=[post.pk, version.pk])


def history_url(post):
    return reverse("admin:articles_post_history", args=[post.pk])


@pytest.mark.parametrize("kind", POSTS)
@pytest.mark.parametrize("role", ROLES)
def test_history_list_needs_the_view_permission(user_client, posts, role, kind):
    response = user_client.get(history_url(posts[kind]))
    if role == "anonymous":
        assert response.status_code == 302 and "/login/" in response.url
    elif role in MAY_VIEW_HISTORY:
        assert response.status_code == 200
        assert "第二版" in response.text
        # A link to each version's revert form only for whoever may revert.
        assert (revert_url(posts[kind]) in response.text) == (kind in MAY_REVERT[role])
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("kind", POSTS)
@pytest.mark.parametrize("role", ROLES)
def test_revert_form_is_shown_only_to_whoever_may_change_the_post(user_client, posts, role, kind):
    response = user_client.get(revert_url(posts[kind]))
    if role == "anonymous":
        assert response.status_code == 302 and "/login/" in response.url
    elif kind in MAY_REVERT[role]:
        assert response.status_code == 200
        assert 'value="第一版"' in response.text
        assert 'name="_save"' in response.text
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("kind", POSTS)
@pytest.mark.parametrize("role", ROLES)
def test_revert_is_saved_only_for_whoever_may_change_the_post(user_client, posts, role, kind):
    post = posts[kind]
    before = stored(post)
    # The revert form as a browser sends it, with the older version's title and body.
    data = post_form_data(post, title="第一版", body="<p>正文</p>")

    response = user_client.post(revert_url(post), data)

    post.refresh_from_db()
    if kind in MAY_REVERT[role]:
        assert response.status_code == 302
        assert post.title == "第一版"
        assert post.history.latest().history_change_reason.startswith("恢复到")
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)
        assert stored(post) == before


@pytest.mark.parametrize("role", ["superuser", "staff_editor", "contributor"])
def test_revert_keeps_the_url_info_code_and_key_even_when_the_post_leaves_them_out(user_client, posts, role):
    post = posts["own_draft"]
    slug, info_code, key = post.slug, post.info_code, post.key
    # A hand-made POST with only what the form requires: the identity fields are not restored.
    data = {
        "title": "第一版",
        "category": post.category_id,
        "status": "draft",
        "published_at_0": "2022-05-25",
        "published_at_1": "10:00:00",
    }

    assert user_client.post(revert_url(post), data).status_code == 302

    post.refresh_from_db()
    assert (post.title, post.slug, post.info_code, post.key) == ("第一版", slug, info_code, key)
    assert user_client.get(post.share_url()).status_code in (200, 301, 302, 404)
    assert post.share_url() == f"/html_News/NewsShare.html?infoCode={info_code}"


def test_identity_fields_are_read_only_on_the_revert_form(editor_client, posts):
    page = editor_client.get(revert_url(posts["others_live"])).text
    assert 'name="title"' in page
    for name in ("slug", "info_code", "key"):
        assert f'name="{name}"' not in page


@pytest.mark.parametrize("role", ["contributor"])
def test_contributor_reverting_to_a_version_an_editor_published_keeps_a_draft_with_its_time(
    user_client, make_post, contributor, staff_editor, role
):
    draft_time = (timezone.now() - datetime.timedelta(days=1)).replace(microsecond=0)
    published_time = (timezone.now() - datetime.timedelta(hours=3)).replace(microsecond=0)
    post = make_post(title="投稿", created_by=contributor, status=Post.Status.DRAFT, published_at=draft_time)
    # An editor published it, then returned it to draft.
    post.title, post.status, post.published_at = "编辑改过并发布", Post.Status.PUBLISHED, published_time
    post._history_user = staff_editor
    post.save()
    published_version = post.history.latest()
    post.title, post.status, post.published_at = "退回修改", Post.Status.DRAFT, draft_time
    post.save()

    # The form does not offer status or time; a forged POST sends them anyway.
    form = user_client.get(revert_url(post, published_version)).text
    assert 'name="status"' not in form and 'name="published_at_0"' not in form
    data = post_form_data(post, title="编辑改过并发布", status="published", published_at=published_time)
    assert user_client.post(revert_url(post, published_version), data).status_code == 302

    post.refresh_from_db()
    assert post.title == "编辑改过并发布"
    assert (post.status, post.published_at) == (Post.Status.DRAFT, draft_time)
    assert not Post.objects.published().filter(pk=post.pk).exists()


def test_editor_reverting_restores_the_versions_status_and_time(editor_client, make_post):
    then = (timezone.now() - datetime.timedelta(days=2)).replace(microsecond=0)
    post = make_post(title="已发布的版本", published_at=then)
    first = post.history.latest()
    post.title, post.status = "撤回后改过", Post.Status.DRAFT
    post.save()

    form = editor_client.get(revert_url(post, first)).text
    assert 'name="status"' in form
    editor_client.post(revert_url(post, first), post_form_data(post, title="已发布的版本", status="published"))

    post.refresh_from_db()
    assert (post.title, post.status, post.published_at) == ("已发布的版本", Post.Status.PUBLISHED, then)


def test_reverting_a_deleted_post_is_not_found(editor_client, published_post):
    url = revert_url(published_post)
    published_post.delete()
    assert editor_client.get(url).status_code == 404
    assert editor_client.post(url, {"title": "复活"}).status_code == 404
    assert not Post.objects.exists()


@pytest.mark.parametrize("version", ["abc", "999999"])
def test_revert_of_an_unknown_version_is_not_found(editor_client, published_post, version):
    url = reverse("admin:articles_post_simple_history", args=[published_post.pk, version])
    assert editor_client.get(url).status_code == 404


# Other writing views that third-party apps add to the admin


@pytest.mark.parametrize("role", ["contributor", "staff_without_permissions", "staff_editor"])
def test_taggits_unchecked_merge_tags_view_is_gone(user_client, published_post, role):
    # taggit's view checked no permission and created the new tag before anything else.
    published_post.tags.add("港股", "科技")
    with pytest.raises(NoReverseMatch):
        reverse("admin:taggit_tag_merge_tags")
    user_client.post("/admin/taggit/tag/merge-tags/", {"new_tag_name": "合并"})
    assert not Tag.objects.filter(name="合并").exists()
    assert sorted(published_post.tags.names()) == ["港股", "科技"]


@pytest.mark.parametrize("role", ["contributor", "staff_without_permissions"])
def test_tags_are_changed_only_by_whoever_may_change_tags(user_client, published_post, role):
    published_post.tags.add("港股")
    tag = published_post.tags.get()
    url = reverse("admin:taggit_tag_change", args=[tag.pk])
    response = user_client.post(url, {"name": "改名", "slug": "gai-ming"})
    assert response.status_code == 403
    tag.refresh_from_db()
    assert tag.name == "港股"


@pytest.mark.parametrize("role", ["staff_without_permissions"])
def test_autocomplete_needs_the_view_permission(user_client, published_post, role):
    response = user_client.get(
        reverse("admin:autocomplete"),
        {"term": "上海", "app_label": "articles", "model_name": "post", "field_name": "category"},
    )
    assert response.status_code == 403
