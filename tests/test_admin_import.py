"""Importing posts from the admin: an editor uploads an archive, the job queue runs the importer (in-process
here, as without a broker), and the run's page shows the progress, then the summary and per-file errors."""

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.urls import reverse

from articles import tasks
from articles.importer import uploads
from articles.models import ImportRun, Post

pytestmark = pytest.mark.django_db

DEMO_POSTS = sorted((Path(__file__).resolve().parent.parent / "articles" / "demo_posts" / "_posts").glob("*.md"))[:3]
BAD_POST = "_posts/2022-05-26-BAD000000001.md"
ADD_URL = reverse("admin:articles_importrun_add")


def archive(kind="zip", name=None):
    """An upload holding three demo posts, a post file with broken front matter and a README."""
    files = {f"_posts/{path.name}": path.read_bytes() for path in DEMO_POSTS}
    files[BAD_POST] = b'---\ntitle: "unclosed\n---\nbody'
    files["README.txt"] = b"not a post"
    data = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(data, "w") as zipped:
            for member, content in files.items():
                zipped.writestr(member, content)
    else:
        with tarfile.open(fileobj=data, mode="w:gz") as tarred:
            for member, content in files.items():
                info = tarfile.TarInfo(member)
                info.size = len(content)
                tarred.addfile(info, io.BytesIO(content))
    return SimpleUploadedFile(name or f"posts.{kind if kind == 'zip' else 'tar.gz'}", data.getvalue())


@pytest.fixture
def desk_client(client, staff_editor):
    client.force_login(staff_editor)
    return client


def upload(client, file, django_capture_on_commit_callbacks):
    """Upload `file` on the admin's import page; the queued job runs as the upload commits."""
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(ADD_URL, {"upload": file})


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_an_editor_uploads_an_archive_and_its_page_shows_the_summary_and_per_file_errors(
    kind, desk_client, staff_editor, django_capture_on_commit_callbacks
):
    response = upload(desk_client, archive(kind), django_capture_on_commit_callbacks)

    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:articles_importrun_change", args=[run.pk])
    assert run.state == ImportRun.State.DONE
    assert run.started_by == staff_editor
    assert run.counts == {"created": 3, "failed": 1, "skipped": 1}
    assert run.summary.startswith("3 created, 0 updated, 0 unchanged, 0 conflicts, 1 failed, 1 skipped")
    assert Post.objects.count() == 3

    page = desk_client.get(response.url).content.decode()
    assert run.summary in page
    assert f"{run.original_name}!/{BAD_POST}" in page
    assert run.problems[0]["reason"] in page
    report = json.loads(run.report.read())
    assert len(report["files"]) == 5
    assert report["summary"]["created"] == 3


def test_the_progress_endpoint_and_page_show_a_running_import(desk_client):
    run = ImportRun.objects.create(
        upload="imports/posts.zip",
        original_name="posts.zip",
        state=ImportRun.State.RUNNING,
        processed=7,
        counts={"created": 6, "failed": 1},
    )
    url = reverse("admin:articles_importrun_progress", args=[run.pk])

    progress = desk_client.get(url).json()
    page = desk_client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()

    assert progress["state"] == "running"
    assert progress["processed"] == 7
    assert progress["finished"] is False
    assert progress["text"] == "导入中：已处理 7 个文件（新建 6，更新 0，未变 0，冲突 0，失败 1，跳过 0）"
    assert f'data-url="{url}" data-finished="false"' in page
    assert "articles/admin/import_progress.js" in page


def test_a_contributor_can_neither_upload_nor_follow_imports(client, contributor, django_capture_on_commit_callbacks):
    run = ImportRun.objects.create(upload="imports/posts.zip", original_name="posts.zip")
    client.force_login(contributor)

    assert upload(client, archive(), django_capture_on_commit_callbacks).status_code == 403
    assert client.get(ADD_URL).status_code == 403
    assert client.get(reverse("admin:articles_importrun_progress", args=[run.pk])).status_code == 403
    assert client.get(reverse("admin:articles_importrun_change", args=[run.pk])).status_code == 403
    assert ImportRun.objects.count() == 1


@pytest.mark.parametrize(
    ("file", "error"),
    [
        (
            SimpleUploadedFile("posts.zip", b"PK but not a zip"),
            "无法读取「posts.zip」：文件损坏，或不是它的名字所说的压缩格式。",
        ),
        (
            SimpleUploadedFile("posts.tar.gz", b"not gzip"),
            "无法读取「posts.tar.gz」：文件损坏，或不是它的名字所说的压缩格式。",
        ),
        (SimpleUploadedFile("posts.rar", b"Rar!"), "「posts.rar」不是 .zip 或 .tar.gz 压缩包。"),
    ],
    ids=["broken-zip", "broken-tar", "rar"],
)
def test_a_bad_archive_is_a_clear_error_and_nothing_is_queued(
    file, error, desk_client, django_capture_on_commit_callbacks
):
    response = upload(desk_client, file, django_capture_on_commit_callbacks)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not ImportRun.objects.exists()


def test_an_archive_over_the_size_limit_is_refused(desk_client, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_UPLOAD_MAX_MB = 0

    response = upload(desk_client, archive(), django_capture_on_commit_callbacks)

    assert "压缩包最大 0 MB" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_running_an_import_job_again_changes_nothing(desk_client, django_capture_on_commit_callbacks):
    upload(desk_client, archive(), django_capture_on_commit_callbacks)
    run = ImportRun.objects.get()
    posts = list(Post.objects.values_list("pk", "updated_at"))

    # Finished: a second delivery of the job leaves it alone.
    tasks.import_archive.delay(run.pk)
    # Delivered again as if its worker had died before acknowledging it: imported again, nothing new.
    ImportRun.objects.filter(pk=run.pk).update(state=ImportRun.State.RUNNING)
    tasks.import_archive.delay(run.pk)

    run.refresh_from_db()
    assert run.attempts == 2
    assert run.counts == {"unchanged": 3, "failed": 1, "skipped": 1}
    assert list(Post.objects.values_list("pk", "updated_at")) == posts


def test_an_interrupted_import_is_retried_and_resumes_safely(
    desk_client, monkeypatch, django_capture_on_commit_callbacks
):
    add = uploads.Progress.add
    failures = []

    def lose_the_database_once(progress, outcome):
        if not failures:
            failures.append(outcome)
            raise OperationalError("server closed the connection unexpectedly")
        add(progress, outcome)

    monkeypatch.setattr(uploads.Progress, "add", lose_the_database_once)

    upload(desk_client, archive(), django_capture_on_commit_callbacks)

    run = ImportRun.objects.get()
    assert run.state == ImportRun.State.DONE
    assert run.attempts == 2
    assert Post.objects.count() == 3
    assert run.counts["failed"] == 1
    assert sum(run.counts.values()) == 5


def test_a_job_whose_upload_is_gone_marks_the_run_failed_at_once(desk_client, django_capture_on_commit_callbacks):
    upload(desk_client, archive(), django_capture_on_commit_callbacks)
    run = ImportRun.objects.get()
    run.upload.delete(save=False)
    ImportRun.objects.filter(pk=run.pk).update(state=ImportRun.State.QUEUED)

    tasks.import_archive.delay(run.pk)

    run.refresh_from_db()
    assert run.state == ImportRun.State.FAILED
    assert run.attempts == 2
    assert run.error == "上传的压缩包已不在存储中，请重新上传。"
    assert run.error in desk_client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()


def test_editors_may_import_posts_and_contributors_may_not(staff_editor, contributor):
    assert staff_editor.has_perm("articles.import_posts")
    assert not contributor.has_perm("articles.import_posts")
