"""Home, category, source, tag, stock and latest listings: visibility, pagination, caching headers, query bounds."""

import datetime
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from articles.models import Category, Market, Post, Stock

pytestmark = pytest.mark.django_db


def titles(response):
    return re.findall(r'<h3 class="post-title"><a href="[^"]+">([^<]+)</a>', response.content.decode())


def current_menu_items(html):
    """The names of the category menu's items marked as the current page."""
    menu = re.search(r'<nav class="category-nav".*?</nav>', html, re.S)[0]
    return re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', menu)


def test_home_lists_newest_posts_and_each_categorys_five_newest_freshest_category_first(client, make_post):
    quiet = Category.objects.create(slug="emnews", name="东财滚动新闻")
    for n in range(7):
        make_post(title=f"东财 {n}", category=quiet, published_at=timezone.now() - datetime.timedelta(days=1, hours=n))
    make_post(title="上证最新")

    response = client.get(reverse("articles:home"))

    html = response.content.decode()
    assert titles(response)[:2] == ["上证最新", "东财 0"]
    quiet_block = html[html.index('href="/category/emnews/">东财滚动新闻</a></h2>') :]
    assert [f"东财 {n}" in quiet_block for n in range(7)] == [True] * 5 + [False] * 2
    assert html.index("上海证券报·中国证券网新闻</a></h2>") < html.index("东财滚动新闻</a></h2>")


def test_home_blocks_give_the_year_only_for_posts_of_other_years(client, make_post):
    with time_machine.travel(datetime.datetime(2023, 1, 1, 8, tzinfo=datetime.UTC)):
        # New Year's Eve in UTC, but already 2023 in Beijing: both posts are this year's there.
        make_post(title="元旦", published_at=datetime.datetime(2022, 12, 31, 17, tzinfo=datetime.UTC))
        make_post(title="去年", published_at=datetime.datetime(2022, 12, 1, 1, tzinfo=datetime.UTC))

        html = client.get(reverse("articles:home")).content.decode()

    blocks = html[html.index('class="category-block"') :]
    assert '<time datetime="2023-01-01T01:00:00+08:00">01-01 01:00</time>' in blocks
    assert '<time datetime="2022-12-01T09:00:00+08:00">2022-12-01 09:00</time>' in blocks


def test_listings_hide_drafts_and_scheduled_posts_until_their_time(client, make_post, category):
    make_post(title="草稿", status=Post.Status.DRAFT)
    make_post(title="定时", published_at=timezone.now() + datetime.timedelta(hours=1))
    make_post(title="已发布")

    for url in [reverse("articles:home"), reverse("articles:latest"), category.get_absolute_url()]:
        assert titles(client.get(url)) == ["已发布"]

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        assert titles(client.get(category.get_absolute_url())) == ["定时", "已发布"]


def test_category_listing_shows_title_time_in_shanghai_source_and_summary(client, make_post, category):
    make_post(
        title="商汤复工",
        summary="商汤科技开始有序推进复工",
        published_at=datetime.datetime(2022, 5, 25, 5, 51, 7, tzinfo=datetime.UTC),
    )

    html = client.get(category.get_absolute_url()).content.decode()

    assert "商汤复工" in html
    assert '<time datetime="2022-05-25T13:51:07+08:00">2022-05-25 13:51</time>' in html
    assert '<span class="source">上海证券报·中国证券网</span>' in html
    assert "商汤科技开始有序推进复工" in html


@pytest.mark.parametrize(
    "path",
    [
        "/category/shanghaizhengquanbao·zhongguozhengquanwang/",
        "/category/shanghaizhengquanbao%C2%B7zhongguozhengquanwang/",
    ],
)
def test_category_with_unicode_slug_answers_raw_and_percent_encoded(client, published_post, path):
    response = client.get(path)

    assert response.status_code == 200
    assert published_post.title in response.content.decode()


@pytest.mark.parametrize(
    ("slug", "asked"),
    [
        ("21shijijingjibaodao 21caijingAPP", "/category/21SHIJIJINGJIBAODAO%2021caijingapp/"),
        ("anxinguojizhengquan(xianggang)", "/category/AnXinGuoJiZhengQuan(XiangGang)/"),
        ("TechWeb", "/category/techweb/"),
    ],
)
def test_category_in_another_case_redirects_to_its_own_spelling(client, slug, asked):
    category = Category.objects.create(slug=slug, name="栏目")

    response = client.get(asked)

    assert response.status_code == 301
    assert response["Location"] == category.get_absolute_url()
    assert client.get(response["Location"]).status_code == 200


def test_unknown_category_is_a_friendly_404(client, db):
    response = client.get("/category/no-such-section/")

    assert response.status_code == 404
    assert "找不到这个页面" in response.content.decode()


def test_listing_pages_hold_thirty_posts_and_link_older_and_newer_pages(client, charted_posts, category):
    first = client.get(category.get_absolute_url())
    older_link = re.search(r'rel="next" href="\?before=([^"]+)"', first.content.decode())[1]
    second = client.get(category.get_absolute_url(), {"before": older_link})
    newer_link = re.search(r'rel="prev" href="\?after=([^"]+)"', second.content.decode())[1]

    assert titles(first) == [f"港股异动 {n}" for n in range(30)]
    assert titles(second) == [f"港股异动 {n}" for n in range(30, 35)]
    assert 'rel="next"' not in second.content.decode().split("<main", 1)[1]
    # Walking back up past the newest post is simply the first page.
    back = client.get(category.get_absolute_url(), {"after": newer_link})
    assert back.status_code == 302
    assert back["Location"] == category.get_absolute_url()


def test_listing_pages_do_not_shift_when_a_post_is_published_meanwhile(client, charted_posts, category, make_post):
    first = client.get(category.get_absolute_url())
    cursor = re.search(r'\?before=([^"]+)"', first.content.decode())[1]

    make_post(title="新插入的快讯", published_at=timezone.now())

    assert titles(client.get(category.get_absolute_url(), {"before": cursor})) == [
        f"港股异动 {n}" for n in range(30, 35)
    ]


def test_date_jump_opens_the_listing_at_the_end_of_that_day(client, make_post, category):
    for day in (1, 2, 3):
        make_post(title=f"5月{day}日", published_at=datetime.datetime(2022, 5, day, 1, tzinfo=datetime.UTC))

    response = client.get(category.get_absolute_url(), {"date": "2022-05-02"})

    assert titles(response) == ["5月2日", "5月1日"]


@pytest.mark.parametrize("query", [{"before": "yesterday"}, {"after": "2022-05-25"}, {"date": "2022-13-01"}])
def test_malformed_page_cursor_is_a_400_saying_so(client, category, query):
    response = client.get(category.get_absolute_url(), query)

    assert response.status_code == 400
    assert "链接有误" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"date": "9999-12-31"},
        {"date": "0001-01-01"},
        {"before": "99991231235959-1"},
        {"before": "00010101000000-1"},
        {"before": "19700101000000-1"},
        {"before": "20220525135107-9999999999999999999"},
        {"after": "99991231235959-1"},
    ],
)
@pytest.mark.parametrize(
    ("url", "search"),
    [("/news/", {}), ("/category/shanghaizhengquanbao·zhongguozhengquanwang/", {})],
)
def test_out_of_range_or_absurd_page_cursor_is_a_400_never_a_500(client, published_post, url, search, query):
    response = client.get(url, {**search, **query})

    assert response.status_code == 400
    assert "链接有误" in response.content.decode()


def test_deep_page_query_starts_at_the_cursor_instead_of_counting_past_earlier_pages(
    client, charted_posts, category, django_assert_max_num_queries, settings
):
    last = charted_posts[-1]
    cursor = f"{timezone.localtime(last.published_at):%Y%m%d%H%M%S.%f}-{last.pk}"

    with django_assert_max_num_queries(6) as captured:
        client.get(category.get_absolute_url(), {"before": cursor})

    page_query = next(q["sql"] for q in captured.captured_queries if "LIMIT 31" in q["sql"])
    assert "OFFSET" not in page_query
    assert '"articles_post"."published_at" <=' in page_query


@pytest.mark.parametrize(
    "url_of",
    [
        lambda category, tag, stock: reverse("articles:home"),
        lambda category, tag, stock: reverse("articles:latest"),
        lambda category, tag, stock: category.get_absolute_url(),
        lambda category, tag, stock: reverse("articles:tag_detail", args=[tag.slug]),
        lambda category, tag, stock: stock.get_absolute_url(),
        lambda category, tag, stock: category.posts.first().source.get_absolute_url(),
    ],
    ids=["home", "latest", "category", "tag", "stock", "source"],
)
def test_listings_with_charts_stocks_and_tags_take_at_most_six_queries(
    client, charted_posts, category, django_assert_max_num_queries, url_of
):
    tag = Tag.objects.get(name="港股")
    stock = Stock.objects.get(market=Market.HONG_KONG, code="00000")
    # Every post shares "港股"; also give one stock 35 posts so its page is full too.
    for post in charted_posts:
        post.stocks.add(stock)
    url = url_of(category, tag, stock)

    # Expect at most 6 with nothing cached: the tag, stock or source (a category comes with the site
    # state); the page's ids and times; the posts not cached yet, with category and source; their
    # stocks; the site state (menu and last change); on the home page, one UNION for its blocks.
    with django_assert_max_num_queries(6):
        response = client.get(url)
    # Once cached, only what decides the page: its posts (and the tag, stock or source).
    with django_assert_max_num_queries(2):
        again = client.get(url)

    assert response.status_code == 200
    assert response.content.decode().count('class="post-item"') == 30
    assert again.content == response.content


def test_edited_post_shows_its_new_headline_at_once(client, charted_posts, category):
    client.get(category.get_absolute_url())
    charted_posts[3].title = "更正：港股异动"
    charted_posts[3].save()

    assert titles(client.get(category.get_absolute_url()))[3] == "更正：港股异动"


def test_unpublished_post_leaves_listings_at_once(client, charted_posts, category):
    client.get(reverse("articles:home"))
    charted_posts[0].status = Post.Status.DRAFT
    charted_posts[0].save()

    assert "港股异动 0" not in titles(client.get(reverse("articles:home")))
    assert titles(client.get(category.get_absolute_url()))[0] == "港股异动 1"


def test_new_category_reaches_the_menu_within_a_second(client, published_post):
    client.get(reverse("articles:home"))
    Category.objects.create(slug="emnews", name="东财滚动新闻")

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2)):
        html = client.get(reverse("articles:home")).content.decode()

    assert '<a href="/category/emnews/">东财滚动新闻</a>' in html


def test_renamed_category_reaches_the_menu_within_a_second(client, published_post, category):
    client.get(category.get_absolute_url())
    category.name = "上证快讯"
    category.save()

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2)):
        html = client.get(category.get_absolute_url()).content.decode()

    assert current_menu_items(html) == ["上证快讯"]


def test_menu_marks_the_page_it_is_on_home_or_the_posts_category(client, published_post, category):
    pages = {
        "home": reverse("articles:home"),
        "category": category.get_absolute_url(),
        "article": published_post.get_absolute_url(),
        "latest": reverse("articles:latest"),
    }

    current = {name: current_menu_items(client.get(url).content.decode()) for name, url in pages.items()}

    assert current == {"home": ["首页"], "category": [category.name], "article": [category.name], "latest": []}


def test_menu_is_rendered_once_per_menu_and_current_item_then_cached(client, published_post, category):
    def renders_menu(url):
        return "articles/_category_nav.html" in [t.name for t in client.get(url).templates]

    assert renders_menu(category.get_absolute_url())
    assert not renders_menu(category.get_absolute_url())
    assert not renders_menu(published_post.get_absolute_url())
    assert renders_menu(reverse("articles:home"))


def test_listing_answers_304_to_its_etag_and_last_modified_until_something_changes(client, charted_posts, category):
    url = category.get_absolute_url()
    first = client.get(url)

    assert first["Cache-Control"] == "public, max-age=60, s-maxage=2, stale-while-revalidate=30"
    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": first["Last-Modified"]}).status_code == 304

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5)):
        charted_posts[0].title = "改过的标题"
        charted_posts[0].save()
        assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 200
        assert client.get(url, headers={"If-Modified-Since": first["Last-Modified"]}).status_code == 200


def test_scheduled_post_going_live_changes_last_modified(client, make_post, category):
    make_post(title="已发布")
    make_post(title="定时", published_at=timezone.now() + datetime.timedelta(minutes=10))
    first = client.get(category.get_absolute_url())

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        response = client.get(category.get_absolute_url(), headers={"If-Modified-Since": first["Last-Modified"]})

    assert response.status_code == 200
    assert titles(response) == ["定时", "已发布"]


def test_stock_page_lists_posts_charting_it_and_shows_its_chart(client, make_post, published_post):
    published_post.charts.create(market=Market.HONG_KONG, code="00020")
    published_post.sync_stocks()
    make_post(title="无关新闻")

    response = client.get(reverse("articles:stock_detail", args=[116, "00020"]))

    assert titles(response) == [published_post.title]
    html = response.content.decode()
    assert 'href="https://quote.eastmoney.com/unify/r/116.00020"' in html
    assert 'loading="lazy"' in html


def test_stock_page_in_lower_case_redirects_to_the_exchanges_spelling(client, db):
    stock = Stock.objects.create(market=Market.NASDAQ, code="AAPL", name="苹果")

    response = client.get("/stock/105.aapl/")

    assert response.status_code == 301
    assert response["Location"] == stock.get_absolute_url()


def test_tag_page_lists_posts_with_a_chinese_tag(client, make_post):
    tagged = make_post(title="有标签", tags=["上海证券报·中国证券网新闻"])
    make_post(title="没标签")
    tag = tagged.tags.get()

    response = client.get(reverse("articles:tag_detail", args=[tag.slug]))

    assert titles(response) == ["有标签"]
    assert "<h1>上海证券报·中国证券网新闻</h1>" in response.content.decode()


def test_listing_head_links_its_feeds_and_canonical_url(client, published_post, category):
    html = client.get(category.get_absolute_url()).content.decode()

    feed = reverse("articles:category_feed", kwargs={"slug": category.slug, "format": "atom"})
    assert f'<link rel="alternate" type="application/atom+xml" title="{category.name} Atom" href="{feed}">' in html
    assert '<link rel="canonical" href="http://127.0.0.1:8000/category/' in html
    assert '<html lang="zh-CN">' in html
