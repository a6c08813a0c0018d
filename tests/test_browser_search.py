"""Search in headless Chromium: a reader types in the header box on a phone and on a desktop and gets
highlighted results. Screenshots land in artifacts/screenshots/ (kept by CI)."""

import datetime

import pytest
from django.utils import timezone

from articles.models import Market, Stock
from tests.conftest import save_screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


@pytest.fixture
def newsroom(make_post):
    moutai = Stock.objects.create(market=Market.SHANGHAI, code="600519", name="贵州茅台")
    for n in range(3):
        post = make_post(
            title=f"贵州茅台第{n + 1}季度营收增长",
            summary="",
            body="<p>" + "白酒行业整体回暖，" * 6 + f"贵州茅台（600519）公告称，公司拟回购股份 {n + 1} 亿元。</p>",
            published_at=timezone.now() - datetime.timedelta(hours=n),
        )
        post.stocks.add(moutai)
        post.refresh_search_document()
    make_post(title="其他新闻", body="<p>与此无关</p>")
    return moutai


@pytest.mark.parametrize("device", VIEWPORTS)
def test_reader_searches_from_the_header_and_gets_highlighted_results(browser_page, newsroom, device):
    page = browser_page
    page.set_viewport_size(VIEWPORTS[device])
    page.goto("/")
    page.wait_for_load_state("load")

    box = page.get_by_role("searchbox", name="搜索新闻、公司或股票代码")
    assert box.is_visible()
    box.fill("回购 贵州茅台")
    with page.expect_event("load"):
        box.press("Enter")

    assert page.get_by_role("heading", level=1).inner_text() == "「回购 贵州茅台」的搜索结果"
    results = page.locator(".search-results .post-item")
    assert results.count() == 3
    marks = results.first.locator("mark").all_inner_texts()
    assert "贵州茅台" in marks and "回购" in marks
    # Nothing sticks out of a 360 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[device]["width"]
    save_screenshot(page, f"{device}-search-results")

    stock_query = page.get_by_role("searchbox", name="搜索新闻、公司或股票代码").first
    stock_query.fill("600519")
    with page.expect_event("load"):
        stock_query.press("Enter")
    assert page.locator(".stock-box").get_by_role("link", name="贵州茅台").first.is_visible()
    save_screenshot(page, f"{device}-search-stock")
