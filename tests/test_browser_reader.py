"""The reader site in headless Chromium: what a reader sees on a phone and on a desktop.

Screenshots land in artifacts/screenshots/ (kept by CI).
"""

import datetime

import pytest
from django.utils import timezone

from articles.models import Category, Market
from tests.conftest import SCREENSHOT_DIR, follow, save_screenshot, serve_charts

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture
def newsroom(make_post, published_post):
    """The seed story with its chart among a few more posts in two categories."""
    published_post.summary = "商汤科技开始有序推进复工，在确保风险可控的基础上分批推动复工复产。"
    published_post.body = "<p>近日，总部位于上海的人工智能软件公司商汤科技开始有序推进复工。</p>" * 4
    published_post.save()
    published_post.tags.add("上海证券报·中国证券网新闻")
    published_post.charts.create(market=Market.HONG_KONG, code="00020")
    published_post.sync_stocks()
    emnews = Category.objects.create(slug="emnews", name="东财滚动新闻")
    for n in range(6):
        make_post(
            title=f"昇兴股份：2021年净利同比预增{1100 + n}%",
            summary="公司预计2021年度实现归属于上市公司股东的净利润同比增长。",
            category=emnews,
            published_at=timezone.now() - datetime.timedelta(hours=n + 1),
        )
    return published_post


@pytest.mark.parametrize("device", VIEWPORTS)
def test_reader_goes_from_home_to_category_to_article_and_back_through_its_share_link(browser_page, newsroom, device):
    page = browser_page
    page.set_viewport_size(VIEWPORTS[device])
    serve_charts(page)

    page.goto("/")
    assert page.locator(".brand").is_visible()
    nav_link = page.locator(".category-nav").get_by_role("link", name="上海证券报·中国证券网新闻")
    assert nav_link.is_visible()
    save_screenshot(page, f"{device}-1-home")

    follow(page, nav_link)
    assert page.get_by_role("heading", level=1).inner_text() == "上海证券报·中国证券网新闻"
    assert page.locator(".category-nav [aria-current=page]").inner_text() == "上海证券报·中国证券网新闻"
    save_screenshot(page, f"{device}-2-category")

    follow(page, page.locator(".post-list").get_by_role("link", name=newsroom.title))
    assert page.get_by_role("heading", level=1).inner_text() == newsroom.title
    assert page.locator(".article-meta > time").inner_text() == timezone.localtime(newsroom.published_at).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    chart = page.get_by_role("img", name="K 线图 00020（香港）")
    assert chart.get_attribute("loading") == "lazy"
    assert chart.bounding_box()["width"] <= VIEWPORTS[device]["width"]
    assert page.locator(".article-body").is_visible()
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[device]["width"]
    save_screenshot(page, f"{device}-3-article")

    # The share link redirects to the page it is on: wait for that new load, not for the URL.
    follow(page, page.locator(".share-link"))
    assert page.url.endswith(newsroom.get_absolute_url())
    assert page.get_by_role("heading", level=1).inner_text() == newsroom.title


def test_listing_shows_new_posts_notice_and_inserts_them_without_reloading(browser_page, newsroom, make_post):
    page = browser_page
    page.set_viewport_size(VIEWPORTS["phone"])
    page.goto(newsroom.category.get_absolute_url())
    page.evaluate("window.notReloaded = true")

    make_post(title="刚刚发布的快讯", published_at=timezone.now())
    page.evaluate("document.querySelector('[data-poll]').finewsPoll()")

    notice = page.locator(".new-posts-button")
    notice.wait_for(state="visible")
    assert notice.inner_text() == "有 1 条新资讯，点击查看"
    save_screenshot(page, "phone-4-new-posts")
    notice.click()
    page.locator(".post-item").first.get_by_role("link", name="刚刚发布的快讯").wait_for()
    assert page.evaluate("window.notReloaded") is True
    assert not page.locator(".new-posts").is_visible()


def test_unknown_share_link_shows_the_friendly_404(browser_page, db):
    browser_page.set_viewport_size(VIEWPORTS["phone"])

    response = browser_page.goto("/html_News/NewsShare.html?infoCode=NW209912319999999999")

    assert response.status == 404
    assert browser_page.get_by_role("heading", level=1).inner_text() == "找不到这个页面"
    assert browser_page.get_by_role("link", name="返回首页").is_visible()
    save_screenshot(browser_page, "phone-5-not-found")


def test_wechat_qr_code_is_under_the_share_box_on_a_desktop_and_behind_a_toggle_on_a_phone(browser_page, newsroom):
    page = browser_page
    qr = page.locator("#wechat-qr .qr")
    toggle = page.get_by_role("button", name="微信扫一扫")

    page.set_viewport_size(VIEWPORTS["desktop"])
    page.goto(newsroom.get_absolute_url())
    page.wait_for_load_state()
    assert qr.is_visible() and not toggle.is_visible()
    share, code = page.locator(".share").bounding_box(), qr.bounding_box()
    assert code["y"] >= share["y"] + share["height"] - 1  # under the share box, in the article's sidebar
    assert page.locator(".article-aside #wechat-qr").count() == 1
    assert 100 <= code["width"] <= 140
    page.locator(".share-box").scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOT_DIR / "desktop-6-wechat-qr.png")

    page.set_viewport_size(VIEWPORTS["phone"])
    assert not qr.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert qr.is_visible() and toggle.get_attribute("aria-expanded") == "true"
    assert qr.bounding_box()["width"] >= 150  # big enough to scan from another phone's screen
    page.locator(".share-box").scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOT_DIR / "phone-6-wechat-qr.png")
    toggle.click()
    assert not qr.is_visible()

    # On paper the code prints, without the buttons.
    page.emulate_media(media="print")
    assert qr.is_visible() and not toggle.is_visible()
