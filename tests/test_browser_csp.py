"""The Content-Security-Policy breaks nothing: headless Chromium reports no violation on the reader's pages
and the editor's admin pages, including the select2 autocompletes and simple-history's pages."""

import pytest

from articles.models import Market
from tests.conftest import follow, serve_charts
from tests.test_browser_editor import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# Recorded from the first script on every page, before the page's own scripts run.
LISTEN = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
    window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


@pytest.fixture
def watched_page(browser_page):
    """A page that collects CSP violations, from the DOM event and from the console."""
    page = browser_page
    page.context.add_init_script(LISTEN)
    page.console_violations = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and page.console_violations.append(message.text),
    )
    return page


def violations(page):
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.cspViolations") + page.console_violations


@pytest.fixture
def charted_article(published_post):
    """An article as the crawler's posts look: a K-line chart, a picture from EastMoney's CDN, a summary."""
    published_post.summary = "商汤科技开始有序推进复工。"
    published_post.body = (
        '<p>商汤科技开始有序推进复工。</p><center><img src="https://dfscdn.dfcfw.com/download/D25.jpg" '
        'alt="商汤临港智算中心" width="552" height="383"></center><p>图片来源：东方财富网</p>'
    )
    published_post.save()
    published_post.tags.add("商汤-W", "人工智能")
    published_post.charts.create(market=Market.HONG_KONG, code="00020")
    published_post.sync_stocks()
    return published_post


def test_reader_pages_run_under_the_policy_without_violations(watched_page, charted_article):
    page = watched_page
    serve_charts(page)

    page.goto("/")
    page.wait_for_load_state()
    assert page.locator(".brand").is_visible()
    assert violations(page) == []

    page.goto(charted_article.get_absolute_url())
    page.wait_for_load_state()
    assert page.locator('script[type="application/ld+json"]').count() >= 1
    assert page.get_by_role("img", name="K 线图 00020（香港）").count() == 1
    page.mouse.wheel(0, 2000)  # the chart loads lazily
    assert violations(page) == []

    page.goto("/news/no-such-post/")
    page.wait_for_load_state()
    assert violations(page) == []


def test_a_picture_from_another_host_is_blocked_and_reported(watched_page, charted_article):
    # The listener works: an image outside the allowed hosts is a violation it sees.
    charted_article.body = '<p>外链图片</p><img src="https://images.example.net/x.png" alt="外链">'
    charted_article.save()
    page = watched_page

    page.goto(charted_article.get_absolute_url())
    page.wait_for_load_state()

    assert any("img-src https://images.example.net/x.png" in v for v in violations(page))


def test_admin_pages_run_under_the_policy_without_violations(watched_page, editor, charted_article, category):
    page = watched_page
    page.set_default_timeout(10_000)
    page.goto("/admin/")
    page.fill("#id_username", editor.username)
    page.fill("#id_password", PASSWORD)
    follow(page, page.locator("input[type=submit]"))
    assert page.url.endswith("/admin/")
    assert violations(page) == []

    page.goto("/admin/articles/post/")
    page.wait_for_load_state()
    assert page.locator("#result_list").is_visible()
    assert violations(page) == []

    change = f"/admin/articles/post/{charted_article.pk}/change/"
    page.goto(change)
    page.wait_for_load_state()
    # The select2 autocompletes: open the category one and search it, then the tag chips.
    page.click(".field-category .select2-selection")
    page.fill(".select2-container--open .select2-search__field", category.name[:2])
    page.locator(".select2-results__option", has_text=category.name).first.wait_for()
    page.keyboard.press("Escape")
    page.click(".field-tags .select2-selection")
    page.keyboard.type("人工")
    page.locator(".select2-results__option", has_text="人工智能").first.wait_for()
    page.keyboard.press("Escape")
    assert violations(page) == []

    page.goto(f"/admin/articles/post/{charted_article.pk}/history/")
    page.wait_for_load_state()
    version = page.locator("#change-history a[href*='/history/']").first
    follow(page, version)
    assert page.locator("form").first.is_visible()
    assert violations(page) == []


def test_api_docs_page_runs_under_the_policy_from_the_sites_own_files(watched_page, published_post):
    page = watched_page

    page.goto("/api/v1/docs")
    page.wait_for_load_state()
    page.locator(".opblock").first.wait_for()

    assert page.locator(".opblock").count() == 9
    assert "/api/v1/ingest" in page.content()
    assert violations(page) == []
