"""The reader site in headless Chromium: what a reader sees on a phone and on a desktop."""

import pytest

from tests.conftest import save_screenshot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_home_page_lists_the_newest_post(browser_page, published_post):
    browser_page.goto("/")
    assert browser_page.get_by_role("link", name=published_post.title).first.is_visible()
    save_screenshot(browser_page, "home")
