"""The reader site's layout details in headless Chromium, on a phone (360 px) and desktops (1366 and
1920 px): a category menu of 30 categories, charts and pictures whose source is down, the pager and
the article's sidebar.

Every request off the live server is aborted (conftest.browser_page), as when EastMoney's chart
service or image CDN is down. Screenshots land in artifacts/screenshots/ (kept by CI).
"""

import datetime

import pytest
from django.utils import timezone

from articles.models import Category, Market
from articles.reading import site_state
from tests.conftest import follow, save_screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 800}
WIDE = {"width": 1920, "height": 1000}

# Thirty sources' channels, named as the crawler names them: long and short, with · and brackets.
CATEGORY_NAMES = [
    "上海证券报·中国证券网新闻",
    "东财滚动新闻",
    "中国证券报",
    "证券时报",
    "安信国际证券(香港)",
    "21世纪经济报道 21财经APP",
    "TechWeb",
    "第一财经",
    "财联社电报",
    "经济观察报",
    "每日经济新闻",
    "华尔街见闻",
    "格隆汇",
    "新浪财经",
    "券商中国",
    "证券日报",
    "中国基金报",
    "期货日报",
    "上海金融报",
    "界面新闻",
    "澎湃新闻·财经",
    "新华财经",
    "央视财经",
    "路透中文网",
    "彭博商业周刊(中文版)",
    "智通财经",
    "港股那点事",
    "美股研究社",
    "北京商报",
    "网站公告",
]


CDN_PICTURE = "https://np-newspic.dfcfw.com/download/D25411840164398846616_w690h389.jpg"


@pytest.fixture
def thirty_categories(make_post, category):
    """30 categories (the shared fixture's first), each with a post, in the menu's order."""
    others = [Category.objects.create(slug=f"channel-{n:02d}", name=name) for n, name in enumerate(CATEGORY_NAMES[1:])]
    for n, channel in enumerate([category, *others]):
        make_post(
            title=f"{channel.name}快讯", category=channel, published_at=timezone.now() - datetime.timedelta(hours=n)
        )
    return [category.name for category in site_state().categories]


@pytest.fixture
def charted_article(make_post, published_post):
    """An article with a stock chart, a picture from the image CDN, related posts and a neighbour."""
    published_post.summary = "商汤科技开始有序推进复工。"
    published_post.body = (
        "<p>近日，总部位于上海的人工智能软件公司商汤科技开始有序推进复工。</p>" * 3
        + f'<p><img src="{CDN_PICTURE}" alt="临港智算中心外景"></p>'
        + "<p>在确保风险可控的基础上，分批推动复工复产。</p>" * 6
    )
    published_post.save()
    published_post.charts.create(market=Market.HONG_KONG, code="00020")
    published_post.tags.add("人工智能")
    published_post.sync_stocks()
    for n in range(5):
        other = make_post(title=f"商汤相关报道之{n + 1}：智算中心扩容", tags=["人工智能"])
        other.charts.create(market=Market.HONG_KONG, code="00020")
        other.sync_stocks()
    return published_post


def test_desktop_menu_keeps_one_row_and_folds_the_rest_into_more(browser_page, thirty_categories):
    page = browser_page
    page.set_viewport_size(DESKTOP)
    page.goto("/")

    row = page.locator(".category-nav-links")
    link_height = row.get_by_role("link", name="首页").bounding_box()["height"]
    assert row.bounding_box()["height"] < link_height * 1.5
    # Nothing in the row is cut off: it fits the page without scrolling.
    assert page.evaluate("(row => row.scrollWidth <= row.clientWidth)(document.querySelector('.category-nav-links'))")
    shown = row.get_by_role("link").all_inner_texts()
    more = page.locator(".nav-more")
    assert more.locator("summary").is_visible()
    assert not more.locator("ul").is_visible()
    save_screenshot(page, "desktop-menu-closed")

    more.locator("summary").click()
    folded = more.get_by_role("link").all_inner_texts()
    assert more.locator("ul").is_visible()
    assert shown[0] == "首页"
    assert sorted(thirty_categories) == sorted(CATEGORY_NAMES)
    assert shown[1:] + folded == thirty_categories
    save_screenshot(page, "desktop-menu-open")

    # Escape and a click elsewhere close it, as a menu.
    page.keyboard.press("Escape")
    assert not more.locator("ul").is_visible()
    more.locator("summary").click()
    page.locator("main").click(position={"x": 5, "y": 5})
    assert not more.locator("ul").is_visible()

    more.locator("summary").click()
    follow(page, more.get_by_role("link", name=thirty_categories[-1]))
    assert page.get_by_role("heading", level=1).inner_text() == thirty_categories[-1]
    assert "current" in (page.locator(".nav-more summary").get_attribute("class") or "")


def test_desktop_menu_opens_without_javascript(chromium, live_server, thirty_categories):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False, viewport=DESKTOP)
    try:
        page = context.new_page()
        page.goto("/")
        more = page.locator(".nav-more")

        more.locator("summary").click()

        assert more.get_by_role("link", name=thirty_categories[-1]).is_visible()
    finally:
        context.close()


def test_phone_menu_scrolls_the_current_category_into_view(browser_page, thirty_categories):
    page = browser_page
    page.set_viewport_size(PHONE)

    page.goto("/")
    follow(page, page.locator(".category-nav-links").get_by_role("link", name=thirty_categories[-1]))

    assert not page.locator(".nav-more").is_visible()
    current = page.locator(".category-nav-links [aria-current=page]")
    assert current.inner_text() == thirty_categories[-1]
    box = current.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # The menu scrolled, not the page.
    assert page.evaluate("window.scrollY") == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshot(page, "phone-menu-current-category")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_chart_and_picture_that_fail_to_load_become_tidy_placeholders(browser_page, charted_article, viewport):
    page = browser_page
    page.set_viewport_size(viewport)

    page.goto(charted_article.get_absolute_url())
    page.locator(".article-body .image-fallback").scroll_into_view_if_needed()

    chart = page.locator(".stock-chart")
    chart.locator(".image-fallback").wait_for()
    assert chart.locator("img").count() == 0
    assert chart.locator(".image-fallback").inner_text().splitlines() == ["行情图暂时无法显示", "点击查看实时行情 →"]
    assert chart.locator("figcaption").inner_text() == "K 线图 00020（香港）"
    link = chart.get_by_role("link")
    assert link.get_attribute("href") == "https://quote.eastmoney.com/unify/r/116.00020"
    assert chart.locator(".image-fallback").bounding_box()["width"] <= viewport["width"]
    picture = page.locator(".article-body .image-fallback")
    assert picture.inner_text().splitlines() == ["图片暂时无法显示", "临港智算中心外景"]
    # No broken image is left anywhere on the page.
    broken = "[...document.images].filter(img => img.complete && img.naturalWidth === 0).length"
    assert page.evaluate(broken) == 0
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, f"{'phone' if viewport is PHONE else 'desktop'}-chart-placeholder")


def test_a_listing_of_one_page_offers_no_pager_and_no_date_jump(browser_page, make_post, category):
    page = browser_page
    page.set_viewport_size(PHONE)
    for n in range(3):
        make_post(title=f"唯一一页的新闻 {n}")

    page.goto(category.get_absolute_url())

    assert page.locator(".post-item").count() == 3
    assert page.locator(".pager").count() == 0
    assert page.get_by_label("查看某日之前").count() == 0
    save_screenshot(page, "phone-listing-single-page")


def test_a_listing_of_several_pages_offers_the_pager_and_the_date_jump(browser_page, make_post, category):
    page = browser_page
    page.set_viewport_size(PHONE)
    for n in range(31):
        make_post(title=f"两页的新闻 {n}")

    page.goto(category.get_absolute_url())

    assert page.get_by_role("link", name="较早 →").is_visible()
    assert page.get_by_label("查看某日之前").is_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, WIDE], ids=["1366", "1920"])
def test_desktop_article_has_a_sidebar_with_its_stocks_share_box_and_related_posts(
    browser_page, charted_article, viewport
):
    page = browser_page
    page.set_viewport_size(viewport)

    page.goto(charted_article.get_absolute_url())

    article = page.locator(".article-column").bounding_box()
    aside = page.locator(".article-aside")
    sidebar = aside.bounding_box()
    assert sidebar["x"] >= article["x"] + article["width"]
    assert sidebar["y"] < article["y"] + 100
    # The reading column and its sidebar fill the page's width between them.
    assert sidebar["width"] >= 0.3 * (article["width"] + sidebar["width"])
    assert aside.get_by_role("link", name="00020").is_visible() or aside.locator("a.stock").first.is_visible()
    assert aside.locator(".share-url").is_visible()
    assert aside.get_by_role("button", name="复制链接").is_visible()
    assert aside.get_by_role("heading", name="相关阅读").is_visible()
    assert aside.locator(".related li").count() == 5
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    save_screenshot(page, f"desktop-{viewport['width']}-article-sidebar")


def test_phone_article_shows_its_sidebar_after_the_article(browser_page, charted_article):
    page = browser_page
    page.set_viewport_size(PHONE)

    page.goto(charted_article.get_absolute_url())

    article = page.locator(".article-column").bounding_box()
    sidebar = page.locator(".article-aside").bounding_box()
    assert sidebar["y"] >= article["y"] + article["height"]
    assert sidebar["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save_screenshot(page, "phone-article-sidebar")
