"""The image jobs: idempotent, retried with back-off, failures on record, safe to run side by side."""

import datetime
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from celery import Celery
from celery.signals import task_retry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_celery_results.models import TaskResult
from PIL import Image

from articles import images, tasks
from articles.importer.jekyll import format_date
from articles.models import Post
from articles.storage import AtomicFileSystemStorage
from articles.tasks import make_post_images

from .image_files import image_bytes
from .post_form import post_form_data

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
# Only this Redis database is ours to use.
REDIS_URL = "redis://127.0.0.1:6379/4"


def media_files(settings):
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


class FlakyStorage(AtomicFileSystemStorage):
    """Local storage whose writes of derived files (renditions, cards) fail `failures` times, as a disk or a
    bucket having a bad minute would; uploads of originals succeed."""

    failures = 0
    attempts = 0

    def _save(self, name, content):
        if name.startswith((images.RENDITION_ROOT, images.CARD_ROOT)):
            type(self).attempts += 1
            if type(self).failures:
                type(self).failures -= 1
                raise OSError(f"storage unavailable while writing {name}")
        return super()._save(name, content)


@pytest.fixture
def flaky_storage(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.FlakyStorage"}}
    FlakyStorage.failures = FlakyStorage.attempts = 0
    return FlakyStorage


@pytest.fixture
def retries():
    """The countdown of each retry Celery schedules, in seconds."""
    countdowns = []

    def record(sender=None, reason=None, **kwargs):
        countdowns.append(reason.when)

    task_retry.connect(record)
    yield countdowns
    task_retry.disconnect(record)


@pytest.fixture
def post_with_image(published_post):
    published_post.lead_image.save("lead.jpg", ContentFile(image_bytes((1600, 900)), name="lead.jpg"), save=True)
    return published_post


def test_running_the_job_twice_changes_nothing(post_with_image, make_post, settings, run_image_job):
    imageless = make_post()
    run_image_job(post_with_image, imageless)
    files = media_files(settings)
    stamps = {name: (Path(settings.MEDIA_ROOT) / name).stat().st_mtime_ns for name in files}
    records = [post_with_image.image_files, imageless.image_files]
    updated = [post_with_image.updated_at, imageless.updated_at]

    run_image_job(post_with_image, imageless)

    assert media_files(settings) == files
    assert {name: (Path(settings.MEDIA_ROOT) / name).stat().st_mtime_ns for name in files} == stamps
    assert [post_with_image.image_files, imageless.image_files] == records
    assert [post_with_image.updated_at, imageless.updated_at] == updated


def test_job_retried_after_a_crash_reuses_the_files_it_had_finished(post_with_image, settings, run_image_job):
    planned = images.planned_renditions(post_with_image.lead_image.name, 1600, 900)
    # A first run got as far as the first rendition before its worker died.
    storage = post_with_image.lead_image.storage
    storage.save(planned[0].name, ContentFile(image_bytes((320, 180), fmt="WEBP")))
    first = (Path(settings.MEDIA_ROOT) / planned[0].name).stat().st_mtime_ns

    run_image_job(post_with_image)

    assert (Path(settings.MEDIA_ROOT) / planned[0].name).stat().st_mtime_ns == first
    assert len(media_files(settings)) == 1 + 7
    assert post_with_image.images_made


def test_saving_an_instance_loaded_before_the_job_ran_keeps_the_jobs_record(make_post, run_image_job):
    post = make_post()
    loaded_earlier = Post.objects.get(pk=post.pk)
    run_image_job(post)

    loaded_earlier.body = "<p>编辑在任务完成前打开了这篇文章</p>"
    loaded_earlier.save()

    post.refresh_from_db()
    assert post.body == loaded_earlier.body
    assert post.images_made and post.image_files["share"].startswith("cards/")


def test_transient_storage_error_is_retried_with_exponential_back_off(flaky_storage, make_post, retries, run_image_job):
    flaky_storage.failures = 3
    post = make_post()

    result = run_image_job(post)

    assert result.successful()
    assert retries == [5, 10, 20]
    assert flaky_storage.attempts == 4
    assert post.images_made
    assert TaskResult.objects.get(task_id=result.id).status == "SUCCESS"


def test_job_that_keeps_failing_gives_up_and_is_on_record_in_the_admin(
    flaky_storage, make_post, retries, run_image_job, editor_client
):
    flaky_storage.failures = 1_000
    post = make_post()

    result = run_image_job(post)

    assert result.failed()
    assert retries == [5, 10, 20, 40, 80, 160, 320, 600]
    assert not post.images_made
    record = TaskResult.objects.get(task_id=result.id)
    assert (record.status, record.task_name) == ("FAILURE", "articles.tasks.make_post_images")
    assert "storage unavailable" in record.result
    changelist = editor_client.get(reverse("admin:django_celery_results_taskresult_changelist"), {"status": "FAILURE"})
    assert result.id in changelist.text and "articles.tasks.make_post_images" in changelist.text


def test_failing_image_job_does_not_fail_the_editors_save(
    flaky_storage, editor_client, published_post, django_capture_on_commit_callbacks
):
    flaky_storage.failures = 1_000
    data = post_form_data(
        published_post, lead_image=ContentFile(image_bytes((800, 400), fmt="PNG"), name="cover.png"), title="新题图"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("admin:articles_post_change", args=[published_post.pk]), data)

    assert response.status_code == 302
    published_post.refresh_from_db()
    assert published_post.title == "新题图" and published_post.lead_image.name.endswith(".png")
    assert TaskResult.objects.get().status == "FAILURE"
    # Readers get the original until a retry or backfill_images makes the renditions.
    assert published_post.lead_picture.fallback.name == published_post.lead_image.name


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_an_unreadable_or_missing_image_fails_its_post_only_at_once(published_post, make_post, retries, damage):
    # Garbage stored under an image name, or a file lost from the storage: no retry would help.
    name = published_post.lead_image.storage.save("lead/broken.jpg", ContentFile(b"not a jpeg at all"))
    Post.objects.filter(pk=published_post.pk).update(lead_image=name, lead_image_width=400, lead_image_height=300)
    if damage == "missing":
        published_post.lead_image.storage.delete(name)
    other = make_post()

    result = make_post_images.delay([published_post.pk, other.pk])

    assert result.failed() and retries == []
    assert Post.objects.get(pk=other.pk).images_made
    assert not Post.objects.get(pk=published_post.pk).images_made
    assert f"post {published_post.pk}: lead/broken.jpg" in TaskResult.objects.get(task_id=result.id).result


# Running side by side: no request draws, two jobs for one post take turns, a page read during a job is whole.


def cold_post(category, source, **fields):
    """A published post no job has seen, as an import leaves it: created without signals."""
    fields = {"title": "冷门文章", "slug": "cold", "category": category, "source": source, **fields}
    (post,) = Post.objects.bulk_create([Post(status=Post.Status.PUBLISHED, **fields)])
    return post


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_image", [True, False], ids=["renditions", "card"])
def test_two_jobs_for_the_same_cold_post_at_once_make_each_file_once(category, source, settings, with_image):
    image = {}
    if with_image:
        name = default_storage.save("lead/2024/05/lead.jpg", ContentFile(image_bytes((1600, 900))))
        image = {"lead_image": name, "lead_image_width": 1600, "lead_image_height": 900}
    post = cold_post(category, source, **image)
    start, errors = threading.Barrier(2), []

    def job():
        try:
            start.wait()
            tasks.refresh_images(post.pk)
        except Exception as error:  # collected for the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    post.refresh_from_db()
    made = media_files(settings)
    expected = images.file_names(post.image_files) | ({post.lead_image.name} if with_image else set())
    assert made == sorted(expected)
    assert len(made) == (8 if with_image else 1)
    for name in made:
        with Image.open(Path(settings.MEDIA_ROOT) / name) as image:
            image.load()


class PausingStorage(AtomicFileSystemStorage):
    """Local storage whose first write of a derived file waits until the test lets it go on."""

    writing = threading.Event()
    go_on = threading.Event()

    def _save(self, name, content):
        if name.startswith(images.CARD_ROOT) and not type(self).writing.is_set():
            type(self).writing.set()
            assert type(self).go_on.wait(30), "the test never let the job go on"
        return super()._save(name, content)


@pytest.mark.django_db(transaction=True)
def test_a_page_read_during_a_job_is_whole_and_writes_nothing(category, source, settings, client):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": f"{__name__}.PausingStorage"}}
    PausingStorage.writing.clear()
    PausingStorage.go_on.clear()
    post = cold_post(category, source)

    worker = threading.Thread(target=lambda: (tasks.refresh_images(post.pk), connection.close()))
    worker.start()
    try:
        assert PausingStorage.writing.wait(30), "the job never started writing"
        during = client.get(post.get_absolute_url())
        files_during = media_files(settings)
    finally:
        PausingStorage.go_on.set()
        worker.join()

    assert during.status_code == 200
    assert "/static/img/share-card.png" in during.text
    assert not [name for name in files_during if not Path(name).name.startswith(".tmp-")]
    post.refresh_from_db()
    after = client.get(post.get_absolute_url())
    assert after.status_code == 200 and post.og_image_url in after.text
    assert media_files(settings) == [post.og_image_url.removeprefix("/media/")]


# Imports: cards for what readers share now, the rest through backfill_images


def write_post(folder, key, title, published_at):
    front_matter = f'---\nlayout: post\ntitle: "{title}"\ndate: {format_date(published_at)}\ncategories: kuaixun\n---\n'
    (folder / f"{published_at:%Y-%m-%d}-{key}.md").write_text(f"{front_matter}<p>{title}。</p>\n", encoding="utf-8")


def test_import_makes_cards_for_recent_posts_and_backfill_for_the_rest(
    tmp_path, settings, django_capture_on_commit_callbacks
):
    now = timezone.now()
    write_post(tmp_path, "NW1", "今天的快讯", now - datetime.timedelta(hours=2))
    write_post(tmp_path, "NW2", "三年前的旧闻", now - datetime.timedelta(days=3 * 365))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_posts", str(tmp_path), verbosity=0)

    recent, old = Post.objects.get(key="NW1"), Post.objects.get(key="NW2")
    assert recent.images_made and recent.og_image_url.startswith("/media/cards/")
    assert old.image_files is None and old.og_image_url == "/static/img/share-card.png"

    with django_capture_on_commit_callbacks(execute=True):
        call_command("backfill_images", verbosity=0)
    old.refresh_from_db()
    assert old.images_made


def test_reimport_that_changes_a_title_redraws_an_existing_card(tmp_path, settings, django_capture_on_commit_callbacks):
    long_ago = timezone.now() - datetime.timedelta(days=400)
    write_post(tmp_path, "NW3", "旧标题", long_ago)
    call_command("import_posts", str(tmp_path), verbosity=0)
    call_command("backfill_images", verbosity=0)
    card = Post.objects.get(key="NW3").image_files["share"]

    write_post(tmp_path, "NW3", "更正后的标题", long_ago)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_posts", str(tmp_path), verbosity=0)

    post = Post.objects.get(key="NW3")
    assert post.title == "更正后的标题" and post.images_made
    assert post.image_files["share"] != card
    assert media_files(settings) == [post.image_files["share"]]


def test_backfill_queues_only_posts_that_need_it_in_jobs_of_the_given_size(make_post, run_image_job, capsys):
    done = make_post()
    run_image_job(done)
    for _ in range(5):
        make_post()

    call_command("backfill_images", "--job-size", "2")

    assert "5 posts in 3 jobs made in this process" in capsys.readouterr().out
    assert TaskResult.objects.filter(task_name="articles.tasks.make_post_images", status="SUCCESS").count() == 4


# A real worker


def redis_or_skip():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable at {REDIS_URL} ({error}); the worker test needs it")


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_makes_renditions_through_redis(post_with_image, settings, tmp_path):
    redis_or_skip()
    queue = f"finews-test-{uuid.uuid4().hex}"
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "CELERY_BROKER_URL": REDIS_URL,
        "SECRET_KEY": "worker-test",
        "DEBUG": "0",
        "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:8000"),
    }
    worker = subprocess.Popen(
        [
            *[sys.executable, "-m", "celery", "-A", "finews", "worker", "--pool", "solo", "--queues", queue],
            *["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "WARNING"],
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sender = Celery(broker=REDIS_URL)
    try:
        sent = sender.send_task("articles.tasks.make_post_images", args=[[post_with_image.pk]], queue=queue)
        deadline = time.monotonic() + 60
        while not TaskResult.objects.filter(task_id=sent.id, status="SUCCESS").exists():
            assert worker.poll() is None, f"the worker exited: {worker.stdout.read()}"
            assert time.monotonic() < deadline, "the worker did not finish the job within 60 s"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(30)
        sender.close()
        redis.Redis.from_url(REDIS_URL).delete(queue)

    post_with_image.refresh_from_db()
    assert post_with_image.images_made
    assert len(post_with_image.lead_picture.renditions) == 6
    assert len(media_files(settings)) == 1 + 7


def _database_url():
    # The test database this process uses, for the worker to use too.
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
