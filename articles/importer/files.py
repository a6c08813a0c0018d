"""Finding post files: single files, directory trees and .zip / .tar.* archives, read one at a time."""

import datetime
import functools
import os
import re
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from .report import Outcome, Status

# Jekyll's post names (`2022-05-25-<id>.md`), plus the crawler's `-<id>.md` from runs with an empty time.
POST_NAME = re.compile(r"^(?:\d{4}-\d{2}-\d{2})?-(?P<id>.+)\.(?:md|markdown)$")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
# Real posts are a few kilobytes; anything this big is not a post and must not be read into memory.
MAX_POST_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PostFile:
    """One candidate post: where it came from (archive members as `archive.zip!/path`), its bytes and mtime."""

    path: str
    data: bytes
    mtime: datetime.datetime | None

    @property
    def file_id(self):
        """The id in the file name (`2022-05-25-202205252391453833.md` → `202205252391453833`)."""
        name = self.path.rsplit("/", 1)[-1]
        match = POST_NAME.match(name)
        return match["id"] if match else name.rsplit(".", 1)[0]


def iter_post_files(paths):
    """Yield a PostFile for every post under `paths`, or an Outcome for what is skipped or unreadable.

    Directories are walked in name order, hidden entries ignored; inside directories and archives only
    files named like posts count. A path named explicitly is always read as a post.
    """
    for path in map(Path, paths):
        if path.is_dir():
            yield from _walk_directory(path)
        elif path.name.endswith(".zip"):
            yield from _read_archive(path, _zip_entries)
        elif path.name.endswith(TAR_SUFFIXES):
            yield from _read_archive(path, _tar_entries)
        else:
            yield _read_file(path)


def is_post_name(name):
    """Whether a file in a directory or archive is read as a post: named like one, and not hidden."""
    return not name.startswith(".") and POST_NAME.match(name) is not None


def _walk_directory(root):
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        for name in sorted(names):
            path = os.path.join(directory, name)
            if is_post_name(name):
                yield _read_file(path)
            elif not name.startswith("."):
                yield Outcome(path, Status.SKIPPED, reason="not a post file name")


def _read_file(path):
    try:
        stat = os.stat(path)
        if stat.st_size > MAX_POST_BYTES:
            return _too_large(str(path), stat.st_size)
        with open(path, "rb") as file:
            data = file.read()
        return PostFile(str(path), data, datetime.datetime.fromtimestamp(stat.st_mtime, datetime.UTC))
    except OSError as error:
        return Outcome(str(path), Status.FAILED, reason=f"cannot read the file: {error.strerror or error}")


def _too_large(path, size):
    return Outcome(path, Status.FAILED, reason=f"file too large ({size:,} bytes; a post is at most {MAX_POST_BYTES:,})")


def _read_archive(path, entries):
    try:
        for name, size, mtime, read in entries(path):
            member = f"{path}!/{name}"
            if not is_post_name(name.rsplit("/", 1)[-1]):
                yield Outcome(member, Status.SKIPPED, reason="not a post file name")
            elif size > MAX_POST_BYTES:
                yield _too_large(member, size)
            else:
                yield PostFile(member, read(), mtime)
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        yield Outcome(str(path), Status.FAILED, reason=f"cannot read the archive: {error}")


def _zip_entries(path):
    """`(name, size, mtime, read)` of each file in a zip archive."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.is_dir():
                # Zip keeps local wall-clock times without a zone.
                mtime = timezone.make_aware(datetime.datetime(*info.date_time))
                yield info.filename, info.file_size, mtime, functools.partial(archive.read, info)


def _tar_entries(path):
    """`(name, size, mtime, read)` of each file in a tar archive, compressed or not."""
    # Streaming mode ("r|*") reads front to back without seeking or keeping an index in memory;
    # each member must be read before the next is reached, as _read_archive does.
    with tarfile.open(path, "r|*") as archive:
        for info in archive:
            if info.isfile():
                mtime = datetime.datetime.fromtimestamp(info.mtime, datetime.UTC)
                yield info.name.removeprefix("./"), info.size, mtime, lambda info=info: archive.extractfile(info).read()
