"""Admin imports: the archive an editor uploaded (an ImportRun) run through `import_posts`, the same
importer as the command, with its progress, summary and report recorded on the run.

The job queue calls `run_import` (articles/tasks.py). Running it again, after a retry or twice by
mistake, is safe: a finished run is left alone, and an interrupted one is imported again from the start,
where the importer skips by key and SHA-256 what the first attempt already wrote.
"""

import json
import shutil
import tempfile
import time
from pathlib import Path

from django.core.files.base import ContentFile
from django.db.models import F
from django.utils import timezone

from articles.models import ImportRun
from articles.models.imports import PROBLEMS_SHOWN

from .importing import import_posts
from .report import Status

# Progress is written to the run at most this often, so a big archive does not cost a write per file.
PROGRESS_SECONDS = 1.0
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")


def run_import(run_id):
    """Import the archive of ImportRun `run_id` unless it is finished; returns the Summary, or None."""
    claimed = ImportRun.objects.filter(pk=run_id, state__in=[ImportRun.State.QUEUED, ImportRun.State.RUNNING]).update(
        state=ImportRun.State.RUNNING,
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
        processed=0,
        counts={},
        problems=[],
        error="",
    )
    if not claimed:
        return None
    run = ImportRun.objects.get(pk=run_id)
    with tempfile.TemporaryDirectory(prefix="finews-import-") as folder:
        archive = Path(folder) / f"upload{archive_suffix(run.original_name)}"
        try:
            upload = run.upload.open("rb")
        except FileNotFoundError:
            # No retry brings it back.
            give_up(run_id, "上传的压缩包已不在存储中，请重新上传。")
            return None
        with upload, open(archive, "wb") as copy:
            shutil.copyfileobj(upload, copy)
        progress = Progress(run, str(archive))
        summary = import_posts([archive], on_outcome=progress.add)
    progress.save()
    report = {"files": progress.outcomes, "summary": summary.as_dict()}
    run.report.save("report.json", ContentFile(json.dumps(report, ensure_ascii=False).encode()), save=False)
    ImportRun.objects.filter(pk=run.pk).update(
        state=ImportRun.State.DONE, summary=summary.line(), finished_at=timezone.now(), report=run.report.name
    )
    return summary


def give_up(run_id, reason):
    """Mark ImportRun `run_id` failed as a whole, saying why."""
    ImportRun.objects.filter(pk=run_id).exclude(state=ImportRun.State.DONE).update(
        state=ImportRun.State.FAILED, error=reason, finished_at=timezone.now()
    )


def archive_suffix(name):
    """The archive suffix of `name` (".zip", ".tar.gz" or ".tgz"), or ""."""
    return next((suffix for suffix in ARCHIVE_SUFFIXES if name.lower().endswith(suffix)), "")


class Progress:
    """Counts outcomes as the importer reports them and writes them to the run at most every PROGRESS_SECONDS."""

    def __init__(self, run, archive_path):
        self.run = run
        self.archive_path = archive_path
        self.counts = {}
        self.processed = 0
        self.problems = []
        self.outcomes = []
        self.saved_at = time.monotonic()

    def add(self, outcome):
        # Paths inside the upload read as the editor named it: `posts.zip!/_posts/2022-05-25-x.md`.
        outcome.path = outcome.path.replace(self.archive_path, self.run.original_name, 1)
        self.processed += 1
        self.counts[str(outcome.status)] = self.counts.get(str(outcome.status), 0) + 1
        self.outcomes.append(outcome.as_dict())
        # What import_posts reports on stderr: failures, conflicts, skipped posts and warnings.
        worth_showing = outcome.status in (Status.FAILED, Status.CONFLICT) or outcome.warnings
        worth_showing = worth_showing or (outcome.status == Status.SKIPPED and outcome.key)
        if worth_showing and len(self.problems) < PROBLEMS_SHOWN:
            self.problems.append(outcome.as_dict())
        if time.monotonic() - self.saved_at >= PROGRESS_SECONDS:
            self.save()

    def save(self):
        ImportRun.objects.filter(pk=self.run.pk).update(
            processed=self.processed, counts=self.counts, problems=self.problems
        )
        self.saved_at = time.monotonic()
