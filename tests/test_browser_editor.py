"""An editor's day in headless Chromium: write, schedule, preview, publish, and read it on the site."""

import datetime
import io

import pytest
from django.utils import timezone
from PIL import Image

from articles.models import Post
from tests.conftest import follow, save_screenshot, serve_charts

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "correct horse battery"


@pytest.fixture
def site_with_media(settings):
    settings.ROOT_URLCONF = "tests.urls_with_media"


def lead_image_png():
    image = Image.new("RGB", (1200, 675), (18, 38, 63))
    for x in range(0, 1200, 40):
        image.paste((200, 16, 46), (x, 500 - x // 4, x + 30, 675))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def choose_autocomplete(page, field, text):
    """Pick `text` in an admin select2 autocomplete (category, source)."""
    page.click(f".field-{field} .select2-selection")
    page.fill(".select2-container--open .select2-search__field", text)
    page.locator(".select2-results__option", has_text=text).first.click()


def test_editor_writes_schedules_previews_publishes_and_reads_a_post(
    browser_page, live_server, staff_editor, category, source, site_with_media
):
    staff_editor.set_password(PASSWORD)
    staff_editor.save()
    page = browser_page
    serve_charts(page)
    page.goto("/admin/")
    page.fill("#id_username", staff_editor.username)
    page.fill("#id_password", PASSWORD)
    follow(page, page.locator("input[type=submit]"))
    assert page.url.endswith("/admin/")

    # Write the post: title, category, tag chip, body, lead image, a chart by its typed symbol.
    page.goto("/admin/articles/post/add/")
    page.set_default_timeout(10_000)
    page.fill("#id_title", "港股午后走强 恒指涨超2%")
    choose_autocomplete(page, "category", category.name)
    choose_autocomplete(page, "source", source.name)
    page.click(".field-tags .select2-selection")
    page.keyboard.type("港股")
    page.locator(".select2-results__option", has_text="港股").first.click()
    page.fill("#id_body", "<p>港股午后走强，科技股领涨。</p>")
    page.set_input_files("#id_lead_image", {"name": "cover.png", "mimeType": "image/png", "buffer": lead_image_png()})
    page.select_option("#id_status", "published")
    later = timezone.localtime() + datetime.timedelta(hours=2)
    page.fill("#id_published_at_0", later.strftime("%Y-%m-%d"))
    page.fill("#id_published_at_1", later.strftime("%H:%M:%S"))
    page.click("#charts-group .add-row a")
    page.fill("#id_charts-0-symbol", "00020.HK")
    # A second chart, moved above the first.
    page.click("#charts-group .add-row a")
    page.fill("#id_charts-1-symbol", "sh600519")
    page.click("#charts-1 button[data-chart-move=up]")
    assert page.input_value("#id_charts-1-position") == "0"
    save_screenshot(page, "editor-1-new-post")
    follow(page, page.locator("input[name=_continue]").first)

    # Saved as scheduled: the badge says so, the chart shows its preview.
    page.wait_for_selector(".messagelist .success")
    assert page.locator(".field-state_badge .state-badge").inner_text() == "定时发布"
    post = Post.objects.get()
    assert (post.state, list(post.tags.names()), post.created_by) == (Post.State.SCHEDULED, ["港股"], staff_editor)
    assert [chart.symbol for chart in post.charts.all()] == ["1.600519", "116.00020"]
    assert post.lead_image_width == 1200
    save_screenshot(page, "editor-2-scheduled")

    # Preview it as readers will see it.
    with page.context.expect_page() as new_tab:
        page.click("a.previewlink")
    preview = new_tab.value
    preview.wait_for_load_state()
    assert preview.locator("h1").inner_text() == post.title
    assert "定时发布" in preview.locator(".preview-banner").inner_text()
    assert preview.locator("picture.lead-image img").evaluate("img => img.complete && img.naturalWidth") > 0
    assert "nid=1.600519" in preview.locator("figure.stock-chart img").first.get_attribute("src")
    save_screenshot(preview, "editor-3-preview")
    preview.close()

    # Readers cannot see it yet.
    assert page.request.get(post.get_absolute_url()).status == 404

    # Publish it now from the changelist.
    page.goto("/admin/articles/post/")
    page.check(f"input[name=_selected_action][value='{post.pk}']")
    page.select_option("select[name=action]", "publish_now")
    follow(page, page.locator("button[name=index]"))
    page.wait_for_selector(".messagelist .success")
    assert page.locator(".field-state_badge .state-badge").first.inner_text() == "已发布"
    save_screenshot(page, "editor-4-published")

    # Its history: created with tags and charts, then published now, each by the editor.
    page.goto(f"/admin/articles/post/{post.pk}/history/")
    rows = page.locator("#change-history tbody tr")
    assert rows.count() == 2
    assert "立即发布" in rows.first.inner_text() and "desk" in rows.last.inner_text()
    assert post.history.earliest().tag_names == ["港股"]
    save_screenshot(page, "editor-5-history")

    # And read it on the site.
    page.goto("/")
    follow(page, page.get_by_role("link", name=post.title).first)
    assert page.locator("h1.article-title").inner_text() == post.title
    assert page.locator("picture.lead-image img").evaluate("img => img.complete && img.naturalWidth") > 0
    assert page.locator("figure.stock-chart").count() == 2
    assert page.locator(".chips a.tag", has_text="港股").count() == 1
    save_screenshot(page, "editor-6-on-the-site")
