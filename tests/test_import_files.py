"""What the importer reads: regular files only, archive members one at a time, and nothing of a non-post file echoed."""

import inspect
import io
import json
import os
import socket
import stat
import struct
import sys
import tarfile
import tracemalloc
import zipfile
import zlib

import pytest
from django.core.management.base import CommandError

from articles.importer import import_posts
from articles.importer.files import MAX_POST_BYTES, iter_post_files
from articles.models import Post

from .test_import_command import post_text, run, write

SECRET = "root:x:0:0:root:/root:/bin/bash\nsecret-hash-line\n"


@pytest.fixture
def secret_file(tmp_path):
    """A file outside the imported tree that no import may read or quote (a stand-in for /etc/shadow)."""
    path = tmp_path / "outside" / "shadow"
    path.parent.mkdir()
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture
def posts_dir(tmp_path):
    directory = tmp_path / "_posts"
    write(directory, "2022-05-21-NW1.md", post_text("NW1"))
    return directory


def outcomes(report):
    entries = json.loads(report.read_text(encoding="utf-8"))["files"]
    return {entry["path"].rsplit("/", 1)[-1]: entry for entry in entries}


def test_symbolic_links_in_a_folder_are_skipped_named_and_never_read(db, tmp_path, posts_dir, secret_file):
    (posts_dir / "2022-05-22-NW2.md").symlink_to(secret_file)
    (posts_dir / "linked-folder").symlink_to(secret_file.parent, target_is_directory=True)
    (posts_dir / "2022-05-23-NW3.md").symlink_to(tmp_path / "nowhere")
    report = tmp_path / "report.json"

    out, err = run(posts_dir, report=str(report))

    assert "1 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 3 skipped" in out
    for name in ("2022-05-22-NW2.md", "linked-folder", "2022-05-23-NW3.md"):
        assert f"{posts_dir}/{name}: skipped, a symbolic link: not followed" in err
        assert outcomes(report)[name]["reason"] == "a symbolic link: not followed"
    for text in (out, err, report.read_text(encoding="utf-8")):
        assert "root:x" not in text
        assert "secret-hash-line" not in text


def test_a_fifo_named_like_a_post_is_skipped_without_waiting_for_a_writer(db, tmp_path, posts_dir):
    os.mkfifo(posts_dir / "2022-05-22-NW2.md")

    out, err = run(posts_dir)

    assert "1 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 1 skipped" in out
    assert f"{posts_dir}/2022-05-22-NW2.md: skipped, not a regular file (a FIFO)" in err


def test_a_socket_named_like_a_post_is_skipped(db, posts_dir, monkeypatch):
    monkeypatch.chdir(posts_dir)  # a socket's path must be short: bind it relative to its folder
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("2022-05-22-NW2.md")

        out, err = run(posts_dir)

    assert "1 skipped" in out
    assert f"{posts_dir}/2022-05-22-NW2.md: skipped, not a regular file (a socket)" in err


def test_a_device_named_like_a_post_is_skipped(db, posts_dir):
    try:
        os.mknod(posts_dir / "2022-05-22-NW2.md", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD, which this machine does not grant")

    out, err = run(posts_dir)

    assert "1 skipped" in out
    assert f"{posts_dir}/2022-05-22-NW2.md: skipped, not a regular file (a character device)" in err


def test_a_symbolic_link_or_special_file_named_on_the_command_line_is_refused(db, tmp_path, posts_dir, secret_file):
    link = tmp_path / "2022-05-22-NW2.md"
    link.symlink_to(secret_file)
    fifo = tmp_path / "2022-05-23-NW3.md"
    os.mkfifo(fifo)

    with pytest.raises(CommandError) as error:
        run(posts_dir, link, fifo)

    assert str(error.value) == (
        f"cannot import {link}: a symbolic link: name the file or directory it points to instead; "
        f"{fifo}: not a regular file or directory (a FIFO)"
    )
    assert not Post.objects.exists()


def test_a_missing_path_on_the_command_line_is_refused(db, tmp_path):
    with pytest.raises(CommandError, match=f"cannot import {tmp_path}/nowhere: no such file or directory"):
        run(tmp_path / "nowhere")


def test_a_file_that_is_no_post_is_reported_without_quoting_it(db, tmp_path, posts_dir):
    write(posts_dir, "2022-05-22-NW2.md", SECRET)
    report = tmp_path / "report.json"

    out, err = run(posts_dir, report=str(report), fails=True)

    reason = "no front matter: the file does not start with a '---' line"
    assert f"{posts_dir}/2022-05-22-NW2.md: {reason}" in err
    assert outcomes(report)["2022-05-22-NW2.md"]["reason"] == reason
    for text in (out, err, report.read_text(encoding="utf-8")):
        assert "root:x" not in text


def test_control_characters_in_file_names_are_printed_escaped(db, tmp_path):
    write(tmp_path, "2022-05-21-NW1\x1b[2J.md", post_text("NW1"))

    _, err = run(tmp_path, verbosity=2)

    assert "2022-05-21-NW1\\x1b[2J.md: created" in err
    assert "\x1b" not in err


def test_a_tree_nested_deeper_than_the_recursion_limit_is_walked(tmp_path):
    # A recursive walk (os.walk) fails once the tree is deeper than the stack may grow: the limit is
    # lowered rather than a tree built thousands deep, which pytest could not remove (rmtree recurses).
    deep = tmp_path.joinpath(*["d"] * 150)
    deep.mkdir(parents=True)
    write(deep, "2022-05-21-NW1.md", post_text("NW1"))
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 100)
    try:
        found = list(iter_post_files([tmp_path]))
    finally:
        sys.setrecursionlimit(limit)

    assert [item.file_id for item in found] == ["NW1"]


def zip_with(*members):
    """A zip archive of `(name, bytes)` members, deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def declare_size(archive_bytes, name, size):
    """The zip with `name`'s uncompressed size in the central directory changed to `size`: a lying header."""
    entry = archive_bytes.index(b"PK\x01\x02")
    while archive_bytes[entry + 46 : entry + 46 + len(name)] != name.encode():
        entry = archive_bytes.index(b"PK\x01\x02", entry + 4)
    return archive_bytes[: entry + 24] + struct.pack("<I", size) + archive_bytes[entry + 28 :]


def test_a_zip_member_whose_declared_size_lies_fails_alone(db, tmp_path):
    data = zip_with(
        ("2022-05-21-NW1.md", post_text("NW1").encode()),
        ("2022-05-22-NW2.md", post_text("NW2", title="创业板指走强").encode()),
    )
    (tmp_path / "posts.zip").write_bytes(declare_size(data, "2022-05-21-NW1.md", 100))

    out, err = run(tmp_path / "posts.zip", fails=True)

    assert "1 created, 0 updated, 0 unchanged, 0 conflicts, 1 failed" in out
    assert f"{tmp_path}/posts.zip!/2022-05-21-NW1.md: cannot read it from the archive: Bad CRC-32" in err
    assert list(Post.objects.values_list("key", flat=True)) == ["NW2"]


def test_a_zip_member_that_inflates_past_its_declared_size_is_not_inflated(db, tmp_path):
    bomb = b"---\n" + b"0" * (2 * MAX_POST_BYTES)  # 10 MB of zeros, ten kilobytes deflated
    data = zip_with(("2022-05-21-NW1.md", bomb), ("2022-05-22-NW2.md", post_text("NW2").encode()))
    (tmp_path / "posts.zip").write_bytes(declare_size(data, "2022-05-21-NW1.md", 1000))

    tracemalloc.start()
    try:
        out, err = run(tmp_path / "posts.zip", fails=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert "1 created, 0 updated, 0 unchanged, 0 conflicts, 1 failed" in out
    assert "2022-05-21-NW1.md: cannot read it from the archive: Bad CRC-32" in err
    assert peak < 20 * 2**20


def test_a_zip_member_declared_larger_than_a_post_is_not_read(db, tmp_path):
    large = b"0" * (MAX_POST_BYTES + 1)
    (tmp_path / "posts.zip").write_bytes(
        zip_with(("2022-05-21-NW1.md", large), ("2022-05-22-NW2.md", post_text("NW2").encode()))
    )

    out, err = run(tmp_path / "posts.zip", fails=True)

    assert "1 created, 0 updated, 0 unchanged, 0 conflicts, 1 failed" in out
    assert f"2022-05-21-NW1.md: file too large ({MAX_POST_BYTES + 1:,} bytes; a post is at most" in err


def tar_member(name, data, declared=None):
    """A tar header and data blocks for one member; `declared` is the size the header claims."""
    info = tarfile.TarInfo(name)
    info.size = len(data) if declared is None else declared
    padding = b"\0" * (-len(data) % tarfile.BLOCKSIZE)
    return info.tobuf(format=tarfile.USTAR_FORMAT) + data + padding


def test_a_tar_member_whose_declared_size_is_short_fails_alone_and_the_next_is_read(db, tmp_path):
    first = post_text("NW1").encode() + b"\n" + "更多正文。".encode() * 300
    archive = (
        tar_member("_posts/2022-05-21-NW1.md", first, declared=512)
        + tar_member("_posts/2022-05-22-NW2.md", post_text("NW2", title="创业板指走强").encode())
        + b"\0" * 2 * tarfile.BLOCKSIZE
    )
    (tmp_path / "posts.tar.gz").write_bytes(zlib.compress(archive, wbits=31))

    out, err = run(tmp_path / "posts.tar.gz", fails=True)

    assert "1 created, 0 updated, 0 unchanged, 0 conflicts, 1 failed" in out
    assert "2022-05-21-NW1.md: its declared size (512 bytes) is wrong: " in err
    assert list(Post.objects.values_list("key", flat=True)) == ["NW2"]


def test_a_truncated_tar_member_fails_and_what_came_before_is_imported(db, tmp_path):
    archive = tar_member("2022-05-21-NW1.md", post_text("NW1").encode()) + tar_member(
        "2022-05-22-NW2.md", b"---\n" * 100, declared=100_000
    )
    (tmp_path / "posts.tar").write_bytes(archive)

    out, err = run(tmp_path / "posts.tar", fails=True)

    assert "1 created" in out
    assert f"{tmp_path}/posts.tar!/2022-05-22-NW2.md: cannot read it from the archive: unexpected end of data" in err


def test_an_archive_of_large_members_is_imported_in_bounded_memory(db, tmp_path):
    # 40 members of 4 MB (160 MB in all, a few hundred kilobytes zipped): a batch of 500 files once held
    # them all at once. They are not UTF-8, so each fails fast once read.
    member = b"\xff" * (4 * 2**20)
    (tmp_path / "posts.zip").write_bytes(zip_with(*((f"2022-05-21-N{n}.md", member) for n in range(40))))

    tracemalloc.start()
    try:
        summary = import_posts([tmp_path / "posts.zip"], workers=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert summary.counts["failed"] == 40
    assert peak < 48 * 2**20


def test_a_file_name_that_is_not_utf8_is_that_files_error(db, tmp_path, posts_dir):
    undecodable = os.fsencode(posts_dir) + b"/2022-05-22-NW\xff.md"
    with open(undecodable, "wb") as file:
        file.write(post_text("").replace("infoCode=", "x=").encode())
    os.mkdir(os.fsencode(posts_dir) + b"/\xfe")
    report = tmp_path / "report.json"

    out, err = run(posts_dir, report=str(report), fails=True)

    assert "1 created, 0 updated, 0 unchanged, 0 conflicts, 2 failed" in out
    assert f"{posts_dir}/2022-05-22-NW\\xff.md: its name is not UTF-8 text: rename it" in err
    assert f"{posts_dir}/\\xfe: its name is not UTF-8 text: rename it" in err
    assert outcomes(report)["2022-05-22-NW\\xff.md"]["status"] == "failed"
