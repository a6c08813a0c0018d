import pytest

from tests.conftest import save_screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_home_page_shows_published_post_in_chromium(browser_page, published_post):
    browser_page.goto("/")
    link = browser_page.get_by_role("link", name=published_post.title)
    assert link.is_visible()
    save_screenshot(browser_page, "smoke-home")
