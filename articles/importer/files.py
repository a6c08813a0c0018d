"""Finding post files: single files, directory trees and .zip / .tar.* archives, read one at a time.

Only regular files are read. Inside a directory, symbolic links, FIFOs, sockets and devices are skipped
and named, never opened; a path named explicitly must itself be a regular file or a directory. Each file
is opened without following links and without blocking, then checked again, so that nothing swapped in
meanwhile is read. Archive members are read one at a time, each bounded by MAX_POST_BYTES, and a member
that cannot be read (a lying size, a bad checksum, a bomb) is that member's error.
"""

import datetime
import errno
import os
import re
import stat
import tarfile
import zipfile
from dataclasses import dataclass

from django.utils import timezone

from .report import Outcome, Status

# Jekyll's post names (`2022-05-25-<id>.md`), plus the crawler's `-<id>.md` from runs with an empty time.
POST_NAME = re.compile(r"^(?:\d{4}-\d{2}-\d{2})?-(?P<id>.+)\.(?:md|markdown)$")
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
# Real posts are a few kilobytes; anything this big is not a post and must not be read into memory.
MAX_POST_BYTES = 5 * 1024 * 1024
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
SYMLINK = "a symbolic link: not followed"
NOT_A_POST = "not a post file name"
NOT_UTF8 = "its name is not UTF-8 text: rename it"


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
    regular files named like posts count. A path named explicitly is always read as a post, provided it
    is a regular file (or a directory or archive); check_path says why one is not.
    """
    for path in map(str, paths):
        if problem := check_path(path):
            yield Outcome(printable_path(path), Status.FAILED, reason=problem)
        elif os.path.isdir(path):
            yield from _walk_directory(path)
        elif path.endswith(".zip"):
            yield from _read_archive(path, _zip_members)
        elif path.endswith(TAR_SUFFIXES):
            yield from _read_archive(path, _tar_members)
        else:
            yield _read_file(path)


def check_path(path):
    """Why a path named to the importer cannot be read, or None when it is a regular file or a directory."""
    if not is_utf8(path):
        return NOT_UTF8
    try:
        mode = os.lstat(path).st_mode
    except OSError as error:
        return error.strerror.lower() if error.strerror else str(error)
    if stat.S_ISLNK(mode):
        return "a symbolic link: name the file or directory it points to instead"
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    return f"not a regular file or directory ({_kind(mode)})"


def is_utf8(name):
    """Whether a file name decoded to text: names that are not UTF-8 hold surrogate escapes, which can be
    neither stored nor printed."""
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def printable_path(path):
    """A path whose bytes are not all UTF-8 with those bytes written as `\\xff`."""
    return os.fsencode(path).decode(errors="backslashreplace")


def is_post_name(name):
    """Whether a file in a directory or archive is read as a post: named like one, and not hidden."""
    return not name.startswith(".") and POST_NAME.match(name) is not None


def _walk_directory(root):
    # Each directory's files first, then its subdirectories, all in name order; a stack rather than
    # recursion, so that a tree nested thousands deep is walked as any other.
    pending = [root]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as listing:
                entries = sorted((entry for entry in listing if not entry.name.startswith(".")), key=_name)
        except OSError as error:
            yield Outcome(directory, Status.FAILED, reason=f"cannot list the directory: {_describe(error)}")
            continue
        subdirectories = []
        for entry in entries:
            try:
                if not is_utf8(entry.name):
                    yield Outcome(printable_path(entry.path), Status.FAILED, reason=NOT_UTF8)
                elif entry.is_symlink():
                    yield Outcome(entry.path, Status.SKIPPED, reason=SYMLINK)
                elif entry.is_dir(follow_symlinks=False):
                    subdirectories.append(entry.path)
                elif not entry.is_file(follow_symlinks=False):
                    kind = _kind(entry.stat(follow_symlinks=False).st_mode)
                    yield Outcome(entry.path, Status.SKIPPED, reason=f"not a regular file ({kind})")
                elif is_post_name(entry.name):
                    yield _read_file(entry.path)
                else:
                    yield Outcome(entry.path, Status.SKIPPED, reason=NOT_A_POST)
            except OSError as error:
                yield Outcome(entry.path, Status.FAILED, reason=f"cannot read the file: {_describe(error)}")
        pending.extend(reversed(subdirectories))


def _name(entry):
    return entry.name


def _read_file(path):
    try:
        descriptor = os.open(path, OPEN_FLAGS)
    except OSError as error:
        if error.errno == errno.ELOOP:  # replaced by a link since the directory was listed
            return Outcome(path, Status.SKIPPED, reason=SYMLINK)
        return Outcome(path, Status.FAILED, reason=f"cannot read the file: {_describe(error)}")
    try:
        with open(descriptor, "rb") as file:
            status = os.fstat(descriptor)
            if not stat.S_ISREG(status.st_mode):
                return Outcome(path, Status.SKIPPED, reason=f"not a regular file ({_kind(status.st_mode)})")
            if status.st_size > MAX_POST_BYTES:
                return _too_large(path, status.st_size)
            data = file.read(MAX_POST_BYTES + 1)
    except OSError as error:
        return Outcome(path, Status.FAILED, reason=f"cannot read the file: {_describe(error)}")
    if len(data) > MAX_POST_BYTES:  # it grew while being read
        return _too_large(path, len(data))
    return PostFile(path, data, _from_timestamp(status.st_mtime))


def _too_large(path, size):
    return Outcome(path, Status.FAILED, reason=f"file too large ({size:,} bytes; a post is at most {MAX_POST_BYTES:,})")


def _read_archive(path, members):
    """Outcomes and PostFiles of an archive's members; `members` reads them from the open file."""
    try:
        descriptor = os.open(path, OPEN_FLAGS)
        with open(descriptor, "rb") as file:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                yield Outcome(path, Status.FAILED, reason="not a regular file")
                return
            for name, mtime, data, problem in members(file):
                member = f"{path}!/{printable_path(name)}"
                if problem == NOT_A_POST:
                    yield Outcome(member, Status.SKIPPED, reason=NOT_A_POST)
                elif problem:
                    yield Outcome(member, Status.FAILED, reason=problem)
                else:
                    yield PostFile(member, data, mtime)
    except Exception as error:
        # Whatever the archive library raises (a bad header, an unknown compression, a truncated stream)
        # ends this archive, reported with what was read so far, and the run goes on.
        yield Outcome(path, Status.FAILED, reason=f"cannot read the archive: {_describe(error)}")


def _zip_members(file):
    """`(name, mtime, data, problem)` of each file in a zip archive; only post files are read."""
    with zipfile.ZipFile(file) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename
            if problem := _member_problem(name, info.file_size):
                yield name, None, None, problem
                continue
            try:
                # zipfile reads no more than the declared size and then checks the CRC: a member whose
                # size lies, or that inflates past it, fails here alone.
                with archive.open(info) as member:
                    data = member.read(MAX_POST_BYTES + 1)
            except Exception as error:
                yield name, None, None, f"cannot read it from the archive: {_describe(error)}"
                continue
            yield name, _zip_time(info), data, None


def _tar_members(file):
    """`(name, mtime, data, problem)` of each file in a tar archive, compressed or not; only posts are read.

    Streaming mode ("r|*") reads front to back without seeking or keeping an index in memory. A header
    whose size is too small leaves the rest of its member where the next header should be; tarfile then
    skips to the next valid header (ignore_zeros), and the member is reported as failed rather than
    imported cut short. Each member is yielded once the next header shows where it really ended.
    """
    pending = None
    with tarfile.open(fileobj=file, mode="r|*", ignore_zeros=True) as archive:
        try:
            for info in archive:
                if pending:
                    yield _settled(pending, info.offset)
                    pending = None
                if not info.isfile():
                    continue
                name = info.name.removeprefix("./")
                end = info.offset_data + -(-info.size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
                problem = _member_problem(name, info.size)
                data = None
                if not problem:
                    try:
                        data = archive.extractfile(info).read(MAX_POST_BYTES + 1)
                    except Exception as error:
                        problem = f"cannot read it from the archive: {_describe(error)}"
                pending = (name, _from_timestamp(info.mtime), data, problem, info.size, end)
        except Exception:
            if pending:  # read whole before the stream broke
                yield pending[:4]
            raise
    if pending:
        yield pending[:4]


def _settled(member, next_offset):
    name, mtime, data, problem, size, end = member
    if next_offset > end and problem != NOT_A_POST:
        problem = (
            f"its declared size ({size:,} bytes) is wrong: {next_offset - end:,} bytes follow it before "
            "the next member; not imported"
        )
        data = None
    return name, mtime, data, problem


def _member_problem(name, size):
    if "\x00" in name:
        return "its name holds a NUL character"
    if not is_utf8(name):
        return NOT_UTF8
    if not is_post_name(name.rsplit("/", 1)[-1]):
        return NOT_A_POST
    if size > MAX_POST_BYTES:
        return f"file too large ({size:,} bytes; a post is at most {MAX_POST_BYTES:,})"
    return None


def _zip_time(info):
    # Zip keeps local wall-clock times without a zone; a corrupt one is no time.
    try:
        return timezone.make_aware(datetime.datetime(*info.date_time))
    except (ValueError, OverflowError):
        return None


def _from_timestamp(seconds):
    try:
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _kind(mode):
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return kind
    return "a special file"


def _describe(error):
    """An exception as a short reason, without quoting anything the file contained."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    if isinstance(error, (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError)) and str(error):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
