import pytest
from django.urls import reverse

from articles.models import Post, StockChart

pytestmark = pytest.mark.django_db


def test_post_changelist_renders(editor_client, published_post):
    response = editor_client.get(reverse("admin:articles_post_changelist"))
    assert response.status_code == 200
    assert published_post.title in response.text


def test_post_changelist_queries_do_not_grow_with_posts(editor_client, make_post, django_assert_max_num_queries):
    for n in range(50):
        make_post(tags=[f"标签{n}"])
    # Expect a fixed set: session, user, count, page of posts (with category and
    # source joined), date hierarchy, filter choices for category and source.
    with django_assert_max_num_queries(12):
        response = editor_client.get(reverse("admin:articles_post_changelist"))
    assert response.status_code == 200
    assert response.text.count('class="field-title"') == 50 or response.text.count("测试新闻") >= 50


def test_post_change_form_renders_with_chart_inline(editor_client, published_post):
    StockChart.objects.create(post=published_post, market=116, code="00020")
    response = editor_client.get(reverse("admin:articles_post_change", args=[published_post.pk]))
    assert response.status_code == 200
    assert "00020" in response.text
    assert "股票图表" in response.text


def test_editor_creates_post_with_tag_and_chart(editor_client, category, source):
    data = {
        "title": "港股午后走强",
        "slug": "",
        "category": category.pk,
        "source": source.pk,
        "tags": "港股, 科技",
        "summary": "",
        "body": "<p>港股午后走强。</p>",
        "status": "published",
        "published_at_0": "2022-05-25",
        "published_at_1": "13:51:07",
        "info_code": "",
        "key": "",
        "original_url": "",
        "charts-TOTAL_FORMS": "1",
        "charts-INITIAL_FORMS": "0",
        "charts-MIN_NUM_FORMS": "0",
        "charts-MAX_NUM_FORMS": "1000",
        "charts-0-position": "0",
        "charts-0-market": "116",
        "charts-0-code": "00020",
        "charts-0-chart_type": "k",
        "charts-0-image_url": "",
        "charts-0-quote_url": "",
    }
    response = editor_client.post(reverse("admin:articles_post_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""

    post = Post.objects.get(title="港股午后走强")
    assert sorted(post.tags.names()) == ["港股", "科技"]
    assert post.charts.get().symbol == "116.00020"
    assert post.stocks.get().symbol == "116.00020"
    assert post.edited_at is not None
    assert post in Post.objects.published()


def test_publish_and_unpublish_actions(editor_client, make_post):
    drafts = [make_post(status=Post.Status.DRAFT) for _ in range(3)]
    url = reverse("admin:articles_post_changelist")
    ids = [p.pk for p in drafts]

    editor_client.post(url, {"action": "publish", "_selected_action": ids})
    assert Post.objects.published().count() == 3

    editor_client.post(url, {"action": "unpublish", "_selected_action": ids[:1]})
    assert Post.objects.published().count() == 2
    assert Post.objects.get(pk=ids[0]).status == Post.Status.DRAFT


@pytest.mark.parametrize("model", ["category", "source"])
def test_category_and_source_lists_count_posts_in_one_query(
    model, editor_client, make_post, django_assert_max_num_queries
):
    for _ in range(5):
        make_post()
    # Expect session, user, count, and the page with its annotated counts.
    with django_assert_max_num_queries(6):
        response = editor_client.get(reverse(f"admin:articles_{model}_changelist"))
    assert response.status_code == 200
    assert '<td class="field-post_count">5</td>' in response.text
