"""Headlines, the breaking-news banner and the most-read list in headless Chromium, on a phone and a desktop.

Screenshots land in artifacts/screenshots/ (kept by CI).
"""

import datetime

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone

from articles import popularity
from articles.models import Post
from tests.conftest import follow, save_screenshot
from tests.image_files import image_bytes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture
def front_page(settings, make_post, editor, run_image_job):
    """Three headlines (the first with a lead image and its renditions), breaking news, and read posts."""
    settings.ROOT_URLCONF = "tests.urls_with_media"
    settings.VIEW_FLUSH_SECONDS = 3600
    popularity.LocalPending().take()
    lead = make_post(
        title="央行宣布全面降准 0.5 个百分点，释放长期资金约 1 万亿元",
        summary="中国人民银行决定下调金融机构存款准备金率 0.5 个百分点，不含已执行 5% 存款准备金率的金融机构。",
        pinned_to=Post.Pin.HOME,
        pin_order=1,
    )
    lead.lead_image.save("lead.jpg", ContentFile(image_bytes((1600, 900), color=(30, 60, 120)), name="lead.jpg"))
    run_image_job(lead)
    make_post(
        title="沪指午后翻红，券商板块集体走强",
        summary="截至收盘，沪指涨 0.8%，深成指涨 1.2%，两市成交额突破万亿元。",
        pinned_to=Post.Pin.HOME,
        pin_order=2,
    )
    make_post(title="港股科技股反弹，商汤涨超 6%", pinned_to=Post.Pin.HOME, pin_order=3)
    breaking = make_post(
        title="快讯：美联储宣布加息 25 个基点", published_at=timezone.now() - datetime.timedelta(seconds=30)
    )
    Post.objects.filter(pk=breaking.pk).flag_breaking(editor)
    for n in range(6):
        make_post(title=f"两市成交额连续第 {n + 3} 个交易日破万亿", summary="北向资金净买入超 50 亿元。")
    return lead


@pytest.mark.parametrize("device", VIEWPORTS)
def test_headlines_and_breaking_banner_on_phone_and_desktop(browser_page, front_page, device):
    page = browser_page
    width = VIEWPORTS[device]["width"]
    page.set_viewport_size(VIEWPORTS[device])

    page.goto("/")
    page.wait_for_load_state("load")

    banner = page.locator("#breaking-news")
    assert banner.is_visible()
    assert banner.get_by_role("link").inner_text() == "快讯：美联储宣布加息 25 个基点"
    headlines = page.locator(".headlines .headline-title")
    assert headlines.all_inner_texts() == [
        front_page.title,
        "沪指午后翻红，券商板块集体走强",
        "港股科技股反弹，商汤涨超 6%",
    ]
    image = page.locator(".headline-lead img")
    assert image.is_visible()
    assert page.evaluate("img => img.complete && img.naturalWidth > 0", image.element_handle())
    assert image.bounding_box()["width"] <= width
    # The list below starts after the headlines and does not repeat them.
    listed = page.locator("#post-list .post-title").all_inner_texts()
    assert not set(listed) & set(headlines.all_inner_texts())
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if device == "desktop":
        # The lead headline beside the others.
        lead_box = page.locator(".headline-lead").bounding_box()
        second_box = page.locator(".headline").nth(1).bounding_box()
        assert second_box["x"] > lead_box["x"] + lead_box["width"] - 1
    save_screenshot(page, f"{device}-curation-1-home")

    follow(page, page.locator(".headlines").get_by_role("link", name=front_page.title))
    assert page.get_by_role("heading", level=1).inner_text() == front_page.title
    assert page.locator("#breaking-news").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    save_screenshot(page, f"{device}-curation-2-article")


@pytest.fixture
def reader_page(chromium, live_server):
    """A page as a person's browser opens it: headless Chromium names itself HeadlessChrome, which is
    (rightly) not counted as a reader."""
    agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    context = chromium.new_context(
        base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai", user_agent=agent
    )
    context.route(lambda url: not url.startswith(live_server.url), lambda route: route.abort())
    yield context.new_page()
    context.close()


def test_headless_browsers_are_not_counted(browser_page, front_page):
    browser_page.goto(front_page.get_absolute_url())
    browser_page.wait_for_load_state("networkidle")

    assert popularity.flush_views() == 0


def test_the_article_counts_one_read_and_most_read_shows_it(reader_page, front_page):
    page = reader_page
    page.set_viewport_size(VIEWPORTS["desktop"])

    page.goto(front_page.get_absolute_url())
    page.wait_for_load_state("networkidle")
    page.reload()
    page.wait_for_load_state("networkidle")
    popularity.flush_views()

    front_page.refresh_from_db()
    assert front_page.view_count == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2)):
        page.goto(front_page.get_absolute_url())
        page.wait_for_load_state("load")
    most_read = page.locator(".most-read")
    assert most_read.is_visible()
    assert most_read.locator(".most-read-list a").all_inner_texts() == [front_page.title]
    save_screenshot(page, "desktop-curation-3-most-read")


def test_the_poll_raises_a_banner_on_an_open_page(browser_page, front_page, make_post, editor):
    page = browser_page
    page.set_viewport_size(VIEWPORTS["phone"])
    Post.objects.filter(breaking_until__isnull=False).clear_breaking(editor)
    page.goto("/news/")
    page.wait_for_load_state("load")
    assert not page.locator("#breaking-news").is_visible()

    news = make_post(title="快讯：A 股三大指数集体涨超 2%", published_at=timezone.now())
    Post.objects.filter(pk=news.pk).flag_breaking(editor)
    page.wait_for_timeout(1100)  # the site state is read at most once a second
    page.evaluate("document.querySelector('[data-poll]').finewsPoll()")

    page.locator("#breaking-news").wait_for(state="visible")
    assert page.locator("#breaking-news a").inner_text() == "快讯：A 股三大指数集体涨超 2%"
    save_screenshot(page, "phone-curation-4-poll-banner")


def test_editor_reorders_headlines_with_the_arrows(browser_page, front_page, editor):
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/admin/login/")
    page.fill("#id_username", editor.username)
    page.fill("#id_password", "correct horse battery")
    follow(page, page.locator("input[type=submit]"))

    page.goto("/admin/articles/pinnedpost/")
    page.wait_for_load_state("load")
    row = page.locator("#result_list tbody tr").filter(has_text="港股科技股反弹")
    follow(page, row.get_by_role("button", name="↑"))

    titles = page.locator("#result_list tbody .field-title").all_inner_texts()
    assert titles == [front_page.title, "港股科技股反弹，商汤涨超 6%", "沪指午后翻红，券商板块集体走强"]
    save_screenshot(page, "desktop-curation-5-admin-pins")
    page.goto("/")
    page.wait_for_load_state("load")
    assert page.locator(".headlines .headline-title").all_inner_texts()[1] == "港股科技股反弹，商汤涨超 6%"
