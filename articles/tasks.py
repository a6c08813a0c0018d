"""Background jobs (Celery): a post's renditions and share image, and removing files no post uses any more.

Jobs are queued once the transaction that called for them commits, so a worker never looks for a row that
is not there yet. Each is idempotent: a second run finds the work done and changes nothing. Transient
errors (storage, network, a database that went away) are retried with exponential back-off, at most
MAX_RETRIES times; a job that still fails is kept as a FAILURE in the admin's task results. Without a
broker (CELERY_BROKER_URL unset: the embedded default and the tests) jobs run in-process as they are queued.

When jobs are queued:
- a post saved (admin, workflow actions, history revert) whose lead image, or with no image whose title,
  source or date, changed what its files must show;
- an import batch: for posts published in the last SHARE_CARD_IMPORT_HOURS, which readers are sharing now,
  and for posts whose existing files the import made out of date. Older new posts wait for
  `manage.py backfill_images`: drawing a card costs about 50 ms, a hundred times what importing the post
  costs, and a first import of the archive must keep its speed;
- a post deleted: its files are removed after MEDIA_CLEANUP_DELAY seconds.
"""

import datetime
import logging

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from articles import freshness, images, popularity
from articles.models import Post, TaggedPost

logger = logging.getLogger(__name__)

# Worth trying again: disk or S3 errors, the network, a database restarting.
TRANSIENT_ERRORS = (OSError, BotoCoreError, ClientError, OperationalError)
MAX_RETRIES = 8
RETRY_POLICY = {
    "autoretry_for": TRANSIENT_ERRORS,
    # 5, 10, 20 … seconds, capped at 10 minutes: about 20 minutes in all before a job is given up.
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    # Jobs fail at their own times, so they do not retry in step; a fixed schedule is easier to read.
    "retry_jitter": False,
    "max_retries": MAX_RETRIES,
}
# How many posts one backfill job takes: few enough that a retry redoes little.
BACKFILL_JOB_SIZE = 100
# Search documents cost a few milliseconds a post to build: a job of this many takes seconds.
SEARCH_JOB_SIZE = 500


@shared_task(**RETRY_POLICY)
def make_post_images(post_ids):
    """Make the renditions and share image that each of `post_ids` lacks, and record them on the post.

    Files that a post's previous record named and the new one does not are removed later
    (delete_unused_files), once no cached page can still link them. A post whose stored image is missing
    or cannot be decoded does not stop the others; the job then fails, naming it.
    """
    unreadable = []
    for post_id in post_ids:
        try:
            replaced = refresh_images(post_id)
        except images.UnreadableImage as error:
            logger.error("Post %s: no renditions of its lead image: %s", post_id, error)
            unreadable.append(f"post {post_id}: {error}")
            continue
        if replaced:
            delete_unused_files.apply_async((post_id, replaced), countdown=settings.MEDIA_CLEANUP_DELAY)
    if unreadable:
        raise images.UnreadableImage("; ".join(unreadable))


def refresh_images(post_id):
    """Make and record what post `post_id` lacks (nothing if it is deleted or done); return the names of the
    files its previous record named and the new one does not."""
    with transaction.atomic():
        # The row lock makes jobs for one post take turns, so the second finds the work done, and keeps
        # delete_unused_files from removing a file this job is about to record.
        post = Post.objects.select_for_update(of=("self",)).select_related("source").filter(pk=post_id).first()
        if post is None or post.images_made:
            return []
        previous = images.file_names(post.image_files)
        source_name = post.source.name if post.source_id else ""
        files = images.make_files(post, source_name, post.lead_image.storage, known=previous)
        # A new updated_at renews the post's cached pages, which then link the new files.
        Post.objects.filter(pk=post.pk).update(image_files=files, updated_at=timezone.now())
        freshness.posts_changed([post.pk])
    return sorted(previous - images.file_names(files))


@shared_task(**RETRY_POLICY)
def delete_unused_files(post_id, names):
    """Delete those of `names` that post `post_id` does not use now (all of them once it is deleted)."""
    storage = Post._meta.get_field("lead_image").storage
    with transaction.atomic():
        post = Post.objects.select_for_update().filter(pk=post_id).first()
        used = images.file_names(post.image_files) | {post.lead_image.name} if post else set()
        for name in sorted(set(names) - used):
            storage.delete(name)


def queue_images_after_save(sender, instance, raw=False, **kwargs):
    """post_save of Post: queue the image job, once the save commits, if the post's files are not up to date."""
    if raw or instance.images_made:
        return
    post_id = instance.pk
    # Robust: a broker that is down must not fail a save that has committed; backfill_images catches up.
    transaction.on_commit(lambda: make_post_images.delay([post_id]), robust=True)


def queue_removal_after_delete(sender, instance, **kwargs):
    """post_delete of Post: once the deletion commits, queue the removal of its lead image and derived files."""
    post_id, names = instance.pk, sorted(_files_of(instance))
    transaction.on_commit(
        lambda: delete_unused_files.apply_async((post_id, names), countdown=settings.MEDIA_CLEANUP_DELAY),
        robust=True,
    )


def _files_of(post):
    """Every file of `post`: the recorded ones, and those a job may be making now for its current state."""
    names = images.file_names(post.image_files)
    names.add(images.share_name(post.pk, post.lead_image.name, post.title, post.source_id, post.published_at))
    if post.lead_image:
        names.add(post.lead_image.name)
        if post.lead_image_width and post.lead_image_height:
            renditions = images.planned_renditions(post.lead_image.name, post.lead_image_width, post.lead_image_height)
            names.update(r.name for r in renditions)
    return names


def queue_imported(rows):
    """Queue the image job for the posts of an import batch that need it now, once the batch commits.

    `rows` are the imported posts' values as the importer writes them (dicts of attname → value). See the
    module's docstring for the rule; a post left out here has no record, so backfill_images finds it.
    """
    since = timezone.now() - datetime.timedelta(hours=settings.SHARE_CARD_IMPORT_HOURS)
    post_ids = [row["id"] for row in rows if _needs_images_now(row, since)]
    if post_ids:
        transaction.on_commit(lambda: make_post_images.delay(post_ids), robust=True)


def _needs_images_now(row, since):
    files = row.get("image_files")
    if not files and row["published_at"] < since:
        return False
    wanted = images.share_name(
        row["id"], row.get("lead_image") or "", row["title"], row["source_id"], row["published_at"]
    )
    return (files or {}).get("share") != wanted


def backfill_images(*, job_size=BACKFILL_JOB_SIZE):
    """Queue image jobs for every post whose files are missing or out of date, newest first, `job_size`
    posts a job; return (posts queued, jobs queued)."""
    fields = ["title", "source_id", "published_at", "lead_image", "image_files"]
    posts, jobs, page = 0, 0, Post.objects.order_by("-published_at", "-pk")
    while found := list(page.only(*fields)[:2000]):
        pending = [post.pk for post in found if not post.images_made]
        for start in range(0, len(pending), job_size):
            make_post_images.delay(pending[start : start + job_size])
            jobs += 1
        posts += len(pending)
        page = Post.objects.older_than(found[-1].published_at, found[-1].pk)
    return posts, jobs


@shared_task(bind=True, **RETRY_POLICY)
def import_archive(self, run_id):
    """Import the archive an editor uploaded (ImportRun `run_id`): articles/importer/uploads.py.

    Transient errors are retried like the image jobs' (the import resumes safely); once the retries are
    spent, or after any other error, the run is marked failed with the reason, for its page to show.
    """
    # Imported here: the importer's writing module imports this one (queue_imported).
    from articles.importer import uploads

    try:
        uploads.run_import(run_id)
    except TRANSIENT_ERRORS as error:
        if self.request.retries >= self.max_retries:
            uploads.give_up(run_id, f"{type(error).__name__}: {error}")
        raise
    except Exception as error:
        uploads.give_up(run_id, f"{type(error).__name__}: {error}")
        raise


def queue_import(run):
    """Queue the import of `run` once the transaction that created it commits."""
    transaction.on_commit(lambda: import_archive.delay(run.pk))


@shared_task(**RETRY_POLICY)
def flush_views():
    """Write counted article reads to the database and recompute the rankings (Celery beat, every
    VIEW_FLUSH_SECONDS); see articles.popularity."""
    return popularity.flush_views()


@shared_task(**RETRY_POLICY)
def refresh_search_documents(post_ids):
    """Write the search documents of `post_ids` again from what they hold now (articles.search_text).
    Idempotent: a second run writes the same documents; posts deleted meanwhile are skipped."""
    for post in Post.objects.filter(pk__in=post_ids).only("pk", "title", "summary", "body"):
        post.refresh_search_document()
    # Search pages and feeds depend on every post's version (articles/freshness.py).
    freshness.changed(freshness.SITE)


def queue_search_refresh(post_ids, *, job_size=SEARCH_JOB_SIZE):
    """Queue jobs writing the search documents of `post_ids` again, `job_size` posts a job, once the current
    transaction commits; return how many jobs."""
    post_ids = list(post_ids)
    chunks = [post_ids[start : start + job_size] for start in range(0, len(post_ids), job_size)]
    for chunk in chunks:
        transaction.on_commit(lambda chunk=chunk: refresh_search_documents.delay(chunk))
    return len(chunks)


def rebuild_search(*, job_size=SEARCH_JOB_SIZE):
    """Queue jobs writing every post's search document again (after a change of the tokeniser, or to
    repair); return (posts, jobs). Read in keyset batches, so a million ids are never held at once."""
    posts = jobs = last = 0
    while found := list(Post.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:10_000]):
        jobs += queue_search_refresh(found, job_size=job_size)
        posts, last = posts + len(found), found[-1]
    return posts, jobs


def tag_saved(sender, instance, created=False, raw=False, **kwargs):
    """post_save of a tag: an existing tag saved (renamed, in the admin) changes the search documents of its
    posts, which hold tag names. A new tag is in no post's document yet."""
    if raw or created:
        return
    queue_search_refresh(TaggedPost.objects.filter(tag=instance).values_list("content_object_id", flat=True))
