import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from articles.admin import EstimatedCountPaginator
from articles.models import Post, StockChart
from tests.post_form import post_form_data

pytestmark = pytest.mark.django_db


def test_post_changelist_renders(editor_client, published_post):
    response = editor_client.get(reverse("admin:articles_post_changelist"))
    assert response.status_code == 200
    assert published_post.title in response.text


def test_post_changelist_queries_do_not_grow_with_posts(editor_client, make_post, django_assert_max_num_queries):
    for n in range(50):
        make_post(tags=[f"标签{n}"])
    # Expect a fixed set: session, user, the category and source filter choices, the table's
    # row estimate, a count capped at 1,001 rows, and the page (category and source joined).
    with django_assert_max_num_queries(7):
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
        "pin_order": "0",
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


def test_changelist_shows_state_badges_and_filters_by_state(editor_client, make_post):
    later = timezone.now() + datetime.timedelta(hours=1)
    draft = make_post(title="草稿文章", status=Post.Status.DRAFT)
    scheduled = make_post(title="定时文章", published_at=later)
    live = make_post(title="上线文章")
    url = reverse("admin:articles_post_changelist")

    page = editor_client.get(url).text
    assert '<span class="state-badge state-draft">草稿</span>' in page
    assert '<span class="state-badge state-scheduled">定时发布</span>' in page
    assert '<span class="state-badge state-live">已发布</span>' in page

    for state, expected in [("draft", draft), ("scheduled", scheduled), ("live", live)]:
        response = editor_client.get(url, {"state": state})
        assert list(response.context["cl"].result_list) == [expected]


def test_chart_row_takes_a_typed_symbol(editor_client, category):
    data = post_form_data(category=category, charts=[{"symbol": "sh600519", "chart_type": "r"}, {"symbol": "700.hk"}])
    response = editor_client.post(reverse("admin:articles_post_add"), data)
    assert response.status_code == 302
    post = Post.objects.get()
    assert [(c.symbol, c.chart_type) for c in post.charts.all()] == [("1.600519", "r"), ("116.00700", "k")]


def test_chart_row_takes_market_and_code_and_normalises_the_code(editor_client, category):
    data = post_form_data(category=category, charts=[{"market": "116", "code": "20"}])
    assert editor_client.post(reverse("admin:articles_post_add"), data).status_code == 302
    assert Post.objects.get().charts.get().symbol == "116.00020"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"symbol": "AAPL"}, "在哪个交易所"),
        ({"symbol": "12.600519"}, "未知的市场编号 12"),
        ({"market": "1", "code": "AAPL"}, "上海代码应为 6 位数字"),
        ({"market": "1"}, "请输入股票代码"),
    ],
)
def test_bad_chart_row_is_refused_with_the_reason(editor_client, category, row, message):
    response = editor_client.post(reverse("admin:articles_post_add"), post_form_data(category=category, charts=[row]))
    assert response.status_code == 200
    assert message in response.text
    assert not Post.objects.exists()


def test_us_ticker_takes_the_exchange_chosen_in_the_row(editor_client, category):
    data = post_form_data(category=category, charts=[{"symbol": "BABA", "market": "106"}])
    assert editor_client.post(reverse("admin:articles_post_add"), data).status_code == 302
    assert Post.objects.get().charts.get().symbol == "106.BABA"


def test_change_form_previews_charts_and_offers_moving_them(editor_client, published_post):
    StockChart.objects.create(post=published_post, market=116, code="00020", position=0)
    StockChart.objects.create(post=published_post, market=1, code="600519", position=1)
    page = editor_client.get(reverse("admin:articles_post_change", args=[published_post.pk])).text
    assert 'src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=116.00020&amp;imageType=k"' in page
    assert page.count('data-chart-move="up"') == 3  # two rows and the empty template row
    assert "articles/admin/chart_order.js" in page
    assert 'value="116.00020"' in page


def test_moving_a_chart_saves_the_new_order(editor_client, published_post):
    first = StockChart.objects.create(post=published_post, market=116, code="00020", position=0)
    second = StockChart.objects.create(post=published_post, market=1, code="600519", position=1)
    data = post_form_data(published_post)
    # What the ↓ button on the first row leaves in the form: the positions swapped.
    data.update({"charts-0-position": "1", "charts-1-position": "0"})
    editor_client.post(reverse("admin:articles_post_change", args=[published_post.pk]), data)
    assert list(published_post.charts.all()) == [second, first]


def test_tags_field_is_an_autocomplete_of_names(editor_client, published_post):
    published_post.tags.add("港股", "上海证券报·中国证券网新闻")
    page = editor_client.get(reverse("admin:articles_post_change", args=[published_post.pk])).text
    assert 'class="tag-autocomplete"' in page
    assert '<option value="港股" selected>港股</option>' in page
    assert "articles/admin/tag_autocomplete.js" in page


def test_chip_values_are_saved_as_tags_even_with_spaces(editor_client, published_post):
    data = post_form_data(published_post)
    del data["tags"]
    data = {**data, "tags": ["21世纪经济报道 21财经APP新闻"]}
    editor_client.post(reverse("admin:articles_post_change", args=[published_post.pk]), data)
    assert list(published_post.tags.names()) == ["21世纪经济报道 21财经APP新闻"]


@pytest.mark.parametrize("model", ["category", "source"])
def test_autocomplete_finds_categories_and_sources_for_editors(client, staff_editor, published_post, model):
    client.force_login(staff_editor)
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "上海证券", "app_label": "articles", "model_name": "post", "field_name": model},
    )
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_tag_autocomplete_suggests_existing_tags(client, staff_editor, published_post):
    published_post.tags.add("新能源汽车", "新能源", "银行")
    client.force_login(staff_editor)
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "新能源", "app_label": "articles", "model_name": "post", "field_name": "tags"},
    )
    assert sorted(r["text"] for r in response.json()["results"]) == ["新能源", "新能源汽车"]


def test_lead_image_upload_is_checked_and_stored_clean(
    editor_client, published_post, settings, django_capture_on_commit_callbacks
):
    image = io.BytesIO()
    Image.new("RGB", (1600, 900), "navy").save(image, "PNG")
    data = post_form_data(published_post, lead_image=SimpleUploadedFile("cover.jpg", image.getvalue()))
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("admin:articles_post_change", args=[published_post.pk]), data)

    assert response.status_code == 302
    published_post.refresh_from_db()
    assert published_post.lead_image.name.endswith(".png")
    assert (published_post.lead_image_width, published_post.lead_image_height) == (1600, 900)
    assert [r.width for r in published_post.lead_picture.renditions][::2] == [320, 640, 1280]


def test_fake_image_upload_is_refused_and_the_post_kept(editor_client, published_post):
    data = post_form_data(published_post, title="不该保存", lead_image=SimpleUploadedFile("cover.jpg", b"GIF89a nope"))
    response = editor_client.post(reverse("admin:articles_post_change", args=[published_post.pk]), data)
    assert response.status_code == 200
    assert "文件不是可识别的图片" in response.text
    published_post.refresh_from_db()
    assert published_post.title != "不该保存" and not published_post.lead_image


def test_contributor_sees_status_read_only(client, contributor):
    client.force_login(contributor)
    page = client.get(reverse("admin:articles_post_add")).text
    assert 'name="status"' not in page
    assert 'name="title"' in page


def test_state_filtered_changelist_queries_stay_bounded(editor_client, make_post, django_assert_max_num_queries):
    for n in range(30):
        make_post(status=Post.Status.DRAFT if n % 2 else Post.Status.PUBLISHED, tags=[f"标签{n}"])
    # Session, user, the category and source filter choices, the capped count of drafts, and the page
    # of drafts (category and source joined).
    with django_assert_max_num_queries(6):
        response = editor_client.get(reverse("admin:articles_post_changelist"), {"state": "draft"})
    assert len(response.context["cl"].result_list) == 15


class SmallCapPaginator(EstimatedCountPaginator):
    exact_below = 5


def test_filtered_changelist_counts_exactly_up_to_the_cap(make_post):
    for _ in range(4):
        make_post(status=Post.Status.DRAFT)
    assert SmallCapPaginator(Post.objects.drafts(), 2).count == 4


def test_filtered_changelist_past_the_cap_shows_at_least_the_rows_it_counted(make_post):
    for _ in range(8):
        make_post(status=Post.Status.DRAFT)
    assert SmallCapPaginator(Post.objects.drafts(), 2).count >= 6


def test_date_filter_offers_today_and_the_past_week(editor_client, make_post):
    old = make_post(published_at=timezone.now() - datetime.timedelta(days=30))
    recent = make_post(published_at=timezone.now() - datetime.timedelta(minutes=5))
    page = editor_client.get(reverse("admin:articles_post_changelist"))
    assert "过去7天" in page.text
    week_ago = timezone.localtime() - datetime.timedelta(days=7)
    response = editor_client.get(
        reverse("admin:articles_post_changelist"), {"published_at__gte": week_ago.strftime("%Y-%m-%d 00:00:00%z")}
    )
    assert list(response.context["cl"].result_list) == [recent]
    assert old.title not in response.text


def test_mine_filter_lists_the_posts_one_created(client, contributor, staff_editor, make_post):
    own = make_post(status=Post.Status.DRAFT, created_by=contributor)
    make_post(created_by=staff_editor)
    client.force_login(contributor)
    response = client.get(reverse("admin:articles_post_changelist"), {"mine": "1"})
    assert list(response.context["cl"].result_list) == [own]
