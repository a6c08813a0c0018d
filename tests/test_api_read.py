"""The read API, /api/v1/: what it lists, how it pages, filters and caches, and what it says of a post."""

import datetime

import pytest
from django.utils import timezone
from taggit.models import Tag

from articles.models import Category, Market, Post, Source, Stock

pytestmark = pytest.mark.django_db

API = "/api/v1"


def titles(response):
    return [item["title"] for item in response.json()["items"]]


def test_lists_only_published_posts_newest_first(client, make_post):
    make_post(title="较早", published_at=timezone.now() - datetime.timedelta(hours=2))
    make_post(title="最新", published_at=timezone.now() - datetime.timedelta(minutes=1))
    make_post(title="草稿", status=Post.Status.DRAFT)
    make_post(title="定时", published_at=timezone.now() + datetime.timedelta(hours=1))

    response = client.get(f"{API}/posts")

    assert response.status_code == 200
    assert titles(response) == ["最新", "较早"]


def test_a_post_carries_every_field_apps_need(client, published_post):
    published_post.summary = "摘要"
    published_post.body = "<p>商汤&amp;临港</p><p>[stock 116.00020]</p>"
    published_post.original_url = "https://finance.eastmoney.com/a/202205252391453833.html"
    published_post.published_at = timezone.make_aware(datetime.datetime(2022, 5, 25, 13, 51, 7))
    published_post.save()
    published_post.tags.add("商汤")
    published_post.charts.create(market=Market.HONG_KONG, code="00020")
    published_post.sync_stocks()

    item = client.get(f"{API}/posts").json()["items"][0]

    assert item["title"] == "算力底座不停歇！商汤临港智算中心有序复工"
    assert item["url"] == f"http://127.0.0.1:8000/news/{published_post.slug}/"
    assert item["share_url"] == "http://127.0.0.1:8000/html_News/NewsShare.html?infoCode=NW202205252391453833"
    assert item["info_code"] == "NW202205252391453833"
    assert item["published_at"] == "2022-05-25T13:51:07+08:00"
    assert item["summary"] == "摘要"
    assert item["body_text"] == "商汤&临港"
    assert "<figure" in item["body_html"] and "<script" not in item["body_html"]
    assert item["category"]["slug"] == published_post.category.slug
    assert item["source"]["name"] == "上海证券报·中国证券网"
    assert item["tags"] == [{"slug": "商汤", "name": "商汤", "url": "http://127.0.0.1:8000/tag/%E5%95%86%E6%B1%A4/"}]
    assert item["charts"] == [
        {
            "market": 116,
            "code": "00020",
            "type": "k",
            "image_url": "https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=116.00020&imageType=k",
            "quote_url": "https://quote.eastmoney.com/unify/r/116.00020",
        }
    ]
    assert [stock["symbol"] for stock in item["stocks"]] == ["116.00020"]
    assert item["lead_image"] is None
    assert item["original_url"] == "https://finance.eastmoney.com/a/202205252391453833.html"


def test_body_html_is_sanitised_even_for_rows_stored_before_sanitising(client, make_post):
    post = make_post()
    Post.objects.filter(pk=post.pk).update(body='<p onclick="x()">文</p><script>alert(1)</script>')

    body = client.get(f"{API}/posts/{post.slug}").json()["body_html"]

    assert "onclick" not in body and "<script" not in body


@pytest.mark.parametrize("field", ["slug", "key", "info_code"])
def test_finds_a_post_by_slug_key_or_info_code(client, make_post, field):
    post = make_post(key="202205252391453833", info_code="NW202205252391453833")

    response = client.get(f"{API}/posts/{getattr(post, field)}")

    assert response.status_code == 200
    assert response.json()["id"] == post.pk


def test_a_draft_or_unknown_post_is_a_404(client, make_post):
    draft = make_post(status=Post.Status.DRAFT)

    assert client.get(f"{API}/posts/{draft.slug}").status_code == 404
    assert client.get(f"{API}/posts/no-such-post").status_code == 404


def test_pages_by_cursor_with_next_and_prev_links(client, make_post):
    for n in range(5):
        make_post(title=f"第 {n} 条", published_at=timezone.now() - datetime.timedelta(minutes=n + 1))

    first = client.get(f"{API}/posts", {"limit": 2}).json()
    second = client.get(first["next"]).json()
    back = client.get(second["prev"]).json()

    assert [p["title"] for p in first["items"]] == ["第 0 条", "第 1 条"]
    assert first["prev"] is None
    assert [p["title"] for p in second["items"]] == ["第 2 条", "第 3 条"]
    assert "limit=2" in first["next"] and "before=" in first["next"]
    assert [p["title"] for p in back["items"]] == ["第 0 条", "第 1 条"]
    assert back["prev"] is None


def test_last_page_has_no_next_link(client, make_post):
    make_post()

    assert client.get(f"{API}/posts").json()["next"] is None


@pytest.mark.parametrize(
    "query",
    [{"limit": 101}, {"limit": 0}, {"before": "nonsense"}, {"before": "99991231235959-1"}, {"category": "nope"}],
    ids=["limit-over-100", "limit-0", "bad-cursor", "cursor-out-of-range", "unknown-category"],
)
def test_bad_parameters_are_a_400_saying_why(client, make_post, query):
    make_post()

    response = client.get(f"{API}/posts", query)

    assert response.status_code == 400
    assert response.json()["detail"]


def test_filters_by_category_source_tag_stock_and_time(client, make_post, category):
    other_category = Category.objects.create(slug="emnews", name="东财滚动新闻")
    other_source = Source.objects.create(name="证券时报")
    make_post(title="带标签", tags=["港股"], published_at=timezone.now() - datetime.timedelta(days=3))
    charted = make_post(title="有图表")
    charted.charts.create(market=Market.HONG_KONG, code="00700")
    charted.sync_stocks()
    make_post(title="别的栏目", category=other_category, source=other_source)

    def filtered(**query):
        return set(titles(client.get(f"{API}/posts", query)))

    assert filtered(category=category.slug) == {"带标签", "有图表"}
    assert filtered(source=other_source.slug) == {"别的栏目"}
    assert filtered(tag="港股") == {"带标签"}
    assert filtered(stock="116.00700") == {"有图表"}
    assert filtered(published_before=(timezone.now() - datetime.timedelta(days=1)).isoformat()) == {"带标签"}
    assert filtered(published_after=(timezone.now() - datetime.timedelta(days=1)).isoformat()) == {"有图表", "别的栏目"}


def test_stock_detail_and_its_posts(client, make_post):
    charted = make_post(title="商汤公告")
    charted.charts.create(market=Market.HONG_KONG, code="00020")
    charted.sync_stocks()
    make_post(title="无关")
    Stock.objects.filter(code="00020").update(name="商汤-W")

    stock = client.get(f"{API}/stocks/116.00020").json()
    posts = client.get(f"{API}/stocks/116.00020/posts")

    assert stock["name"] == "商汤-W" and stock["url"] == "http://127.0.0.1:8000/stock/116.00020/"
    assert titles(posts) == ["商汤公告"]
    assert client.get(f"{API}/stocks/1.999999").status_code == 404


def test_categories_sources_tags_and_stocks_are_listed(client, make_post, category, source):
    post = make_post(tags=["港股"])
    post.charts.create(market=Market.SHANGHAI, code="600519")
    post.sync_stocks()

    assert [c["slug"] for c in client.get(f"{API}/categories").json()["items"]] == [category.slug]
    assert [s["name"] for s in client.get(f"{API}/sources").json()["items"]] == [source.name]
    assert [t["name"] for t in client.get(f"{API}/tags").json()["items"]] == ["港股"]
    assert [s["symbol"] for s in client.get(f"{API}/stocks").json()["items"]] == ["1.600519"]


def test_tags_page_by_id_cursor(client):
    Tag.objects.bulk_create([Tag(name=f"话题{n}", slug=f"huati{n}") for n in range(5)])

    first = client.get(f"{API}/tags", {"limit": 3}).json()
    second = client.get(first["next"]).json()

    assert [t["name"] for t in first["items"] + second["items"]] == [f"话题{n}" for n in range(5)]
    assert second["next"] is None


def test_responses_are_cacheable_with_etag_last_modified_and_304(client, make_post):
    post = make_post()

    response = client.get(f"{API}/posts")
    again = client.get(f"{API}/posts", HTTP_IF_NONE_MATCH=response["ETag"])
    detail = client.get(f"{API}/posts/{post.slug}")

    assert response["Cache-Control"] == "public, max-age=60, s-maxage=2, stale-while-revalidate=30"
    assert response["Last-Modified"]
    assert again.status_code == 304
    assert detail["Cache-Control"] == "public, max-age=300, s-maxage=2, stale-while-revalidate=30"


def test_any_origin_may_read_but_not_ingest(client, make_post):
    make_post()

    read = client.get(f"{API}/posts", HTTP_ORIGIN="https://app.example.com")
    preflight = client.options(
        f"{API}/ingest", HTTP_ORIGIN="https://app.example.com", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )

    assert read["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in preflight


def test_a_list_takes_a_fixed_number_of_queries_however_long(client, charted_posts, django_assert_max_num_queries):
    # Expect 6 with nothing cached: the site state (menu and last change, for Last-Modified); the page's
    # ids and times; the posts not cached yet, with category, source and twin; their tags; stocks; charts.
    with django_assert_max_num_queries(6):
        response = client.get(f"{API}/posts", {"limit": 100})
    # Once each post's data is cached, only what decides the page: its ids and times.
    with django_assert_max_num_queries(1):
        again = client.get(f"{API}/posts", {"limit": 100, "category": charted_posts[0].category.slug})

    assert len(response.json()["items"]) == 35
    assert again.json()["items"] == response.json()["items"]


def test_a_changed_post_is_served_fresh_at_once(client, make_post):
    post = make_post(title="旧标题")
    client.get(f"{API}/posts")
    client.get(f"{API}/posts/{post.slug}")

    post.title = "新标题"
    post.save()

    assert titles(client.get(f"{API}/posts")) == ["新标题"]
    assert client.get(f"{API}/posts/{post.slug}").json()["title"] == "新标题"


def test_a_renamed_category_source_tag_or_stock_is_served_fresh_at_once(client, make_post):
    post = make_post(title="港股异动", tags=["港股"])
    post.charts.create(market=Market.HONG_KONG, code="00020")
    post.sync_stocks()
    client.get(f"{API}/posts")
    client.get(f"{API}/posts/{post.slug}")

    for model, pk, field in [
        (Category, post.category_id, "name"),
        (Source, post.source_id, "name"),
        (Tag, post.tags.get().pk, "name"),
        (Stock, post.stocks.get().pk, "name"),
    ]:
        renamed = model.objects.get(pk=pk)
        setattr(renamed, field, f"{getattr(renamed, field)}（新）")
        renamed.save()

    for data in [client.get(f"{API}/posts").json()["items"][0], client.get(f"{API}/posts/{post.slug}").json()]:
        assert data["category"]["name"].endswith("（新）")
        assert data["source"]["name"].endswith("（新）")
        assert [tag["name"] for tag in data["tags"]] == ["港股（新）"]
        assert data["stocks"][0]["name"].endswith("（新）")


def test_a_filtered_list_adds_one_query_per_named_tag_or_stock(client, charted_posts, django_assert_max_num_queries):
    # Expect 8: the six of an unfiltered list, the tag and the stock (a category comes with the site state).
    with django_assert_max_num_queries(8):
        response = client.get(
            f"{API}/posts", {"tag": "港股", "stock": "116.00001", "category": charted_posts[0].category.slug}
        )

    assert titles(response) == ["港股异动 1"]


def test_openapi_document_and_its_offline_docs_page(client):
    document = client.get(f"{API}/openapi.json")
    docs = client.get(f"{API}/docs")

    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.")
    assert {"/api/v1/posts", "/api/v1/posts/{ident}", "/api/v1/ingest"} <= document.json()["paths"].keys()
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui-bundle.js" in html and "cdn" not in html.lower()


def test_q_narrows_the_posts_by_the_site_search(client, make_post):
    chips = make_post(title="芯片板块午后走强", body="<p>多家公司公告减持计划。</p>")
    make_post(title="央行宣布降准", body="<p>释放长期资金。</p>")
    make_post(title="芯片设计公司发布新品", body="<p>产能扩张。</p>")

    found = client.get(f"{API}/posts", {"q": "芯片 减持"}).json()
    excluded = client.get(f"{API}/posts", {"q": "芯片 -减持"}).json()

    assert [item["slug"] for item in found["items"]] == [chips.slug]
    assert [item["title"] for item in excluded["items"]] == ["芯片设计公司发布新品"]


def test_a_q_that_cannot_be_searched_for_is_a_400_saying_why(client):
    response = client.get(f"{API}/posts", {"q": "-减持"})

    assert response.status_code == 400
    assert response.json()["detail"].startswith("q：")
