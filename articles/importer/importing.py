"""The import run: stream files, skip unchanged ones by hash, parse and write the rest in batches.

Each batch goes through three steps: read and check hashes (main process), parse (the main process
for the first batch, worker processes after that when `workers` > 0), write (main process, one
transaction). While batch N is written, the next ones are parsed, so a 2-core machine keeps both
cores and PostgreSQL busy. At most `workers + 1` parsed batches wait, which bounds memory.
"""

import collections
import contextlib
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

import django
from django.db import transaction

from articles.models import Post

from .files import PostFile, iter_post_files
from .frontmatter import PostFileError
from .parsing import content_hash, parse_posts, quick_key
from .report import Outcome, Status, Summary
from .writing import CHANGE_REASON, Candidate, Lookups, keep_latest, write_posts

DEFAULT_BATCH_SIZE = 500
# A batch also ends once its files hold this many bytes, so that memory stays bounded whatever they
# hold (an archive of 500 members of 5 MB each, say): at most `workers + 2` batches are held at once.
MAX_BATCH_BYTES = 16 * 1024 * 1024


@dataclass
class Batch:
    """One batch between reading and writing: outcomes known so far, and files waiting to be parsed."""

    outcomes: list[Outcome] = field(default_factory=list)
    # file, sha256, and its key when no post has it yet
    to_parse: list[tuple[PostFile, str, str | None]] = field(default_factory=list)


def import_posts(paths, **options):
    """Import every post under `paths` (files, directories, .zip / .tar.* archives); return the Summary.

    Files are read and written `batch_size` at a time, so memory stays flat however many there are;
    `workers` processes parse batches while the main one writes. `on_outcome` is called with each
    file's Outcome as soon as it is known. `dry_run` does all the work, database checks included, in
    a transaction that is rolled back. `force` re-parses unchanged files; `overwrite_edited` replaces
    posts an editor changed since their last import.
    """
    return import_files(iter_post_files(paths), **options)


def import_files(
    items,
    *,
    batch_size=DEFAULT_BATCH_SIZE,
    workers=0,
    dry_run=False,
    overwrite_edited=False,
    force=False,
    on_outcome=None,
    reason=CHANGE_REASON,
):
    """Import `items`, PostFiles (or Outcomes of files already found unreadable), as import_posts does
    with the files it finds: the one write path of the command, the admin's uploads and the ingest API.
    History records carry `reason`."""
    summary = Summary()

    def finish(batch, parsed):
        outcomes = batch.outcomes + _write(batch, parsed.result(), lookups, overwrite_edited, force, reason)
        for outcome in outcomes:
            summary.add(outcome)
            if on_outcome:
                on_outcome(outcome)

    with transaction.atomic() if dry_run else contextlib.nullcontext(), Parsers(workers) as parsers:
        lookups = Lookups()
        waiting = collections.deque()
        for chunk in _batched(items, batch_size):
            batch = _read(chunk, force)
            waiting.append((batch, parsers.submit([(file.data, file.file_id) for file, *_ in batch.to_parse])))
            if len(waiting) > workers:
                finish(*waiting.popleft())
        while waiting:
            finish(*waiting.popleft())
        if dry_run:
            transaction.set_rollback(True)
    return summary.finish()


class Parsers:
    """Parses batches in `workers` processes, or here when there are none or a batch has little to parse.

    The first batch is always parsed here, and so are batches that are mostly unchanged files, so a
    short run or a re-import never pays for starting workers. Workers are spawned fresh, not forked,
    so they share no database connection or lock with this process.
    """

    # Fewer files than this are parsed here: shipping them to a worker would cost more than it saves.
    MIN_PARALLEL = 50

    def __init__(self, workers):
        self.workers = workers
        self.pool = None
        self.submitted = 0

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc_info):
        if self.pool:
            # After an error, don't wait for batches nobody will write.
            self.pool.shutdown(wait=exc_type is None, cancel_futures=True)

    def submit(self, files):
        self.submitted += 1
        if self.workers and self.submitted > 1 and len(files) >= self.MIN_PARALLEL:
            if self.pool is None:
                self.pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=django.setup
                )
            return self.pool.submit(parse_posts, files)
        done = Future()
        done.set_result(parse_posts(files))
        return done


def _read(items, force):
    batch = Batch()
    files = [item for item in items if isinstance(item, PostFile)]
    batch.outcomes = [item for item in items if isinstance(item, Outcome)]
    # A re-import mostly meets files it has seen: one query finds their stored hashes, and an
    # unchanged file is done without being decoded or parsed.
    keys = [quick_key(file.data, file.file_id) for file in files]
    stored = dict(Post.objects.filter(key__in=keys).values_list("key", "original_file__sha256"))
    for file, key in zip(files, keys, strict=True):
        sha256 = content_hash(file.data)
        if stored.get(key, "") == sha256 and not force:
            batch.outcomes.append(Outcome(file.path, Status.UNCHANGED, key=key))
        else:
            batch.to_parse.append((file, sha256, key if key not in stored else None))
    return batch


def _write(batch, parsed, lookups, overwrite_edited, force, reason):
    outcomes, candidates = [], []
    for (file, sha256, new_key), (post, compressed) in zip(batch.to_parse, parsed, strict=True):
        if isinstance(post, PostFileError):
            outcomes.append(Outcome(file.path, Status.FAILED, key=quick_key(file.data, file.file_id), reason=str(post)))
        else:
            candidates.append(Candidate(file, sha256, compressed, post, known_new=post.key == new_key))
    candidates, duplicates = keep_latest(candidates)
    outcomes += duplicates
    if candidates:
        outcomes += write_posts(candidates, lookups, overwrite_edited=overwrite_edited, force=force, reason=reason)
    return outcomes


def _batched(iterable, size, max_bytes=MAX_BATCH_BYTES):
    """Lists of at most `size` items, ended early once their files hold `max_bytes`."""
    batch, held = [], 0
    for item in iterable:
        batch.append(item)
        held += len(item.data) if isinstance(item, PostFile) else 0
        if len(batch) >= size or held >= max_bytes:
            yield batch
            batch, held = [], 0
    if batch:
        yield batch
