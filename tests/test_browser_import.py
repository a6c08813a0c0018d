"""Importing posts from the admin in headless Chromium: upload an archive, follow the run, read its report."""

import pytest

from articles.models import ImportRun
from tests.conftest import save_screenshot
from tests.test_admin_import import BAD_POST, archive

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = "correct horse battery"


@pytest.fixture
def logged_in(browser_page, staff_editor):
    staff_editor.set_password(PASSWORD)
    staff_editor.save()
    browser_page.set_default_timeout(15_000)
    browser_page.goto("/admin/")
    browser_page.fill("#id_username", staff_editor.username)
    browser_page.fill("#id_password", PASSWORD)
    browser_page.click("input[type=submit]")
    browser_page.wait_for_selector("#site-name")
    return browser_page


def test_an_editor_uploads_an_archive_and_reads_the_summary_and_the_failed_file(logged_in):
    page = logged_in
    upload = archive()
    page.goto("/admin/articles/importrun/add/")
    page.wait_for_load_state()
    page.set_input_files(
        "#id_upload", files=[{"name": upload.name, "mimeType": "application/zip", "buffer": upload.read()}]
    )
    page.click("input[name=_save]")
    page.wait_for_load_state()

    run = ImportRun.objects.get()
    assert page.locator(".field-summary .readonly").inner_text().startswith("3 created, 0 updated")
    assert f"posts.zip!/{BAD_POST}" in page.locator(".field-problem_files").inner_text()
    assert page.locator(".import-progress").get_attribute("data-finished") == "true"
    assert run.state == ImportRun.State.DONE
    save_screenshot(page, "admin-import-done")


def test_the_page_of_a_running_import_follows_its_progress_and_shows_the_summary_when_done(logged_in):
    page = logged_in
    run = ImportRun.objects.create(
        upload="imports/posts.zip", original_name="posts.zip", state=ImportRun.State.RUNNING, processed=3
    )
    page.goto(f"/admin/articles/importrun/{run.pk}/change/")
    page.wait_for_load_state()
    assert "已处理 3 个文件" in page.locator(".import-progress").inner_text()

    ImportRun.objects.filter(pk=run.pk).update(processed=8, counts={"created": 8})
    page.locator(".import-progress", has_text="已处理 8 个文件").wait_for()
    ImportRun.objects.filter(pk=run.pk).update(state=ImportRun.State.DONE, summary="8 created, 0 updated")
    # Finished: the page reloads itself with the summary.
    page.wait_for_selector(".field-summary >> text=8 created, 0 updated")
    page.wait_for_load_state()
    assert page.locator(".import-progress").get_attribute("data-finished") == "true"
