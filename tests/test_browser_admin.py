"""The post admin in headless Chromium: it fits laptop screens, and chart rows fill in as the editor types."""

import pytest

from articles.models import Market, Stock, StockChart
from tests.conftest import save_screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "correct horse battery"
VIEWPORTS = {"1366": {"width": 1366, "height": 768}, "1024": {"width": 1024, "height": 768}}


@pytest.fixture
def admin_page(browser_page, editor):
    """A page signed in to the admin as a superuser."""
    browser_page.goto("/admin/login/")
    browser_page.fill("#id_username", editor.username)
    browser_page.fill("#id_password", PASSWORD)
    browser_page.click("input[type=submit]")
    browser_page.wait_for_selector("#site-name")
    browser_page.set_default_timeout(10_000)
    return browser_page


@pytest.fixture
def long_post(make_post):
    """A page of posts with long titles, category and source names; the last one has three chart rows."""
    post = None
    for n in range(25):
        post = make_post(title=f"港股午后走强 恒指涨超2% 科技股领涨 第{n}条：半导体与新能源板块同步走高")
    for position, (market, code) in enumerate(
        [(Market.SHANGHAI, "600519"), (Market.HONG_KONG, "00700"), (105, "AAPL")]
    ):
        StockChart.objects.create(post=post, position=position, market=market, code=code)
    return post


def horizontal_overflow(page):
    return page.evaluate("() => { const s = document.scrollingElement; return [s.scrollWidth, s.clientWidth]; }")


def widths(page, table, box):
    """`[scrollWidth of the element `table`, clientWidth of its closest ancestor `box`]`."""
    script = "([t, b]) => { const e = document.querySelector(t); return [e.scrollWidth, e.closest(b).clientWidth]; }"
    return page.evaluate(script, [table, box])


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_post_changelist_fits_the_screen_without_scrolling_sideways(admin_page, long_post, viewport):
    admin_page.set_viewport_size(VIEWPORTS[viewport])
    admin_page.goto("/admin/articles/post/")
    admin_page.wait_for_load_state()

    scroll_width, client_width = horizontal_overflow(admin_page)
    assert scroll_width <= client_width
    table, box = widths(admin_page, "#result_list", ".results")
    assert table <= box
    # The last columns are on screen, not scrolled out of the results box.
    for column in ("th.column-published_time", "th.column-preview_link"):
        right = admin_page.locator(column).evaluate("th => th.getBoundingClientRect().right")
        assert right <= client_width
    save_screenshot(admin_page, f"admin-changelist-{viewport}")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_post_form_with_three_chart_rows_fits_the_screen(admin_page, long_post, viewport):
    admin_page.set_viewport_size(VIEWPORTS[viewport])
    admin_page.goto(f"/admin/articles/post/{long_post.pk}/change/")
    admin_page.wait_for_load_state()

    assert admin_page.locator("#charts-group tr.form-row.has_original").count() == 3
    scroll_width, client_width = horizontal_overflow(admin_page)
    assert scroll_width <= client_width
    table, box = widths(admin_page, "#charts-group table", "fieldset")
    assert table <= box
    save_screenshot(admin_page, f"admin-post-form-{viewport}")


def test_typing_a_symbol_fills_market_and_code_and_names_the_stock(admin_page, category):
    Stock.objects.create(market=Market.SHANGHAI, code="600519", name="贵州茅台")
    page = admin_page
    page.goto("/admin/articles/post/add/")
    page.wait_for_load_state()
    page.click("#charts-group .add-row a")
    row = page.locator("#charts-0")

    page.type("#id_charts-0-symbol", "600519")
    page.wait_for_function("() => document.querySelector('#id_charts-0-code').value === '600519'")
    assert page.input_value("#id_charts-0-market") == "1"
    assert row.locator(".symbol-lookup").inner_text() == "贵州茅台（上海 600519）"

    page.fill("#id_charts-0-symbol", "")
    page.type("#id_charts-0-symbol", "sh999999")
    page.wait_for_selector("#charts-0 .symbol-lookup-error")
    assert "「999999」不是上海市场的代码" in row.locator(".symbol-lookup").inner_text()

    # A bare US ticker needs its exchange; choosing it asks again.
    page.fill("#id_charts-0-symbol", "")
    page.type("#id_charts-0-symbol", "BABA")
    page.wait_for_function(
        "() => document.querySelector('#charts-0 .symbol-lookup').textContent.includes('哪个交易所')"
    )
    page.select_option("#id_charts-0-market", "106")
    page.wait_for_function("() => document.querySelector('#id_charts-0-code').value === 'BABA'")
    assert row.locator(".symbol-lookup").inner_text() == "纽约证券交易所 BABA"
    assert row.locator(".symbol-lookup-error").count() == 0
    save_screenshot(page, "admin-symbol-lookup")


def test_body_preview_shows_typed_paragraphs_as_paragraphs(admin_page, category):
    page = admin_page
    page.goto("/admin/articles/post/add/")
    page.wait_for_load_state()
    page.fill("#id_body", "")
    page.type("#id_body", "段一\n\n段二 **要点**")
    page.wait_for_function("() => document.querySelectorAll('.body-preview-content p').length === 2")
    paragraphs = page.locator(".body-preview-content p")
    assert paragraphs.all_inner_texts() == ["段一", "段二 要点"]
    assert page.locator(".body-preview-content strong").inner_text() == "要点"
    save_screenshot(page, "admin-body-preview")
