"""The import run: stream files, skip unchanged ones by hash, parse and write the rest in batches."""

import contextlib
import itertools

from django.db import transaction

from articles.models import OriginalFile

from .files import iter_post_files
from .frontmatter import PostFileError
from .parsing import content_hash, decode, parse_post, quick_key
from .report import Outcome, Status, Summary
from .writing import Candidate, Lookups, keep_latest, write_posts

DEFAULT_BATCH_SIZE = 500


def import_posts(
    paths, *, batch_size=DEFAULT_BATCH_SIZE, dry_run=False, overwrite_edited=False, force=False, on_outcome=None
):
    """Import every post under `paths` (files, directories, .zip / .tar.* archives); return the Summary.

    Files are read and written `batch_size` at a time, so memory stays flat however many there are.
    `on_outcome` is called with each file's Outcome as soon as it is known. `dry_run` does all the work,
    database checks included, in a transaction that is rolled back. `force` re-parses unchanged files;
    `overwrite_edited` replaces posts an editor changed since their last import.
    """
    summary = Summary()
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        lookups = Lookups()
        for batch in _batched(iter_post_files(paths), batch_size):
            for outcome in _import_batch(batch, lookups, overwrite_edited=overwrite_edited, force=force):
                summary.add(outcome)
                if on_outcome:
                    on_outcome(outcome)
        if dry_run:
            transaction.set_rollback(True)
    return summary.finish()


def _import_batch(items, lookups, *, overwrite_edited, force):
    outcomes = [item for item in items if isinstance(item, Outcome)]
    files = []
    for item in items:
        if isinstance(item, Outcome):
            continue
        try:
            files.append((item, decode(item.data)))
        except PostFileError as error:
            outcomes.append(Outcome(item.path, Status.FAILED, reason=str(error)))

    # A re-import mostly meets files it has seen: one query finds their stored hashes, and an
    # unchanged file is done without being parsed.
    keys = [quick_key(text, file.file_id) for file, text in files]
    stored = {} if force else dict(_stored_hashes(keys))
    candidates = []
    for (file, text), key in zip(files, keys, strict=True):
        sha256 = content_hash(file.data)
        if stored.get(key) == sha256:
            outcomes.append(Outcome(file.path, Status.UNCHANGED, key=key))
            continue
        try:
            post = parse_post(text, file.file_id)
        except PostFileError as error:
            outcomes.append(Outcome(file.path, Status.FAILED, key=key, reason=str(error)))
            continue
        candidates.append(Candidate(file, text, sha256, post))

    candidates, duplicates = keep_latest(candidates)
    outcomes += duplicates
    if candidates:
        outcomes += write_posts(candidates, lookups, overwrite_edited=overwrite_edited, force=force)
    return outcomes


def _batched(iterable, size):
    # itertools.batched arrives with Python 3.12.
    iterator = iter(iterable)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _stored_hashes(keys):
    return OriginalFile.objects.filter(post__key__in=keys).values_list("post__key", "sha256")
