"""`manage.py import_posts`: re-import safety, editor conflicts, duplicates, archives, reporting, batches."""

import hashlib
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from articles.generator import write_post_files
from articles.models import Category, OriginalFile, Post, Source, Stock

from .test_export_posts import empty_database, snapshot

DATA = Path(__file__).resolve().parent / "data"
CHART = (
    '<p style="display:none;"><br /></p><!-- EM_StockImg_Start --><p><a href="http://quote.eastmoney.com/unify/r/{0}">'
    '<img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid={0}&imageType=k" /></a></p>'
    "<!-- EM_StockImg_End -->"
)


def post_text(
    code, title="沪指收涨", date="2022-05-21 15:05:00 +0800", category="zhengquanshibao", charts=(), tag=None
):
    blocks = "".join(CHART.format(symbol) for symbol in charts)
    return (
        f'---\nlayout: post\ntitle: "{title}"\ndate: {date}\ncategories: {category}\n'
        f"tags: {tag or '证券时报新闻'}\n---\n"
        f'{blocks}<p>{title}，两市成交额放大。</p><p class="em_media">（文章来源：证券时报）</p>\n\n'
        f"<http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}>\n\n"
        f"[返回证券时报新闻](//finews.withounder.com/category/{category}.html)｜[返回首页](//finews.withounder.com/)"
    )


def write(directory, name, text, mtime=None):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def run(*paths, fails=False, **options):
    """Run the command; return (stdout, stderr). With `fails`, check that it exits with status 1."""
    out, err = io.StringIO(), io.StringIO()
    if fails:
        with pytest.raises(CommandError, match=r"could not be imported") as error:
            call_command("import_posts", *map(str, paths), stdout=out, stderr=err, **options)
        assert error.value.returncode == 1
    else:
        call_command("import_posts", *map(str, paths), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def posts_dir(tmp_path):
    directory = tmp_path / "_posts"
    write(directory, "2022-05-21-NW1.md", post_text("NW1", charts=["1.000001"]))
    write(directory, "2022-05-22-NW2.md", post_text("NW2", title="创业板指走强", date="2022-05-22 10:00:00 +0800"))
    return directory


def test_imported_posts_are_published_with_their_charts_tags_source_and_original_file(db, posts_dir):
    out, _ = run(posts_dir)

    assert "2 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 0 skipped in" in out
    post = Post.objects.published().get(key="NW1")
    assert post.slug == "nw1"
    assert post.source.name == "证券时报"
    assert list(post.tags.names()) == ["证券时报新闻"]
    assert [chart.symbol for chart in post.charts.all()] == ["1.000001"]
    assert [stock.symbol for stock in post.stocks.all()] == ["1.000001"]
    data = (posts_dir / "2022-05-21-NW1.md").read_bytes()
    assert post.original_file.sha256 == hashlib.sha256(data).hexdigest()
    assert post.original_file.text == data.decode()
    assert post.original_file.path == str(posts_dir / "2022-05-21-NW1.md")


def test_imported_posts_have_a_history_record_marked_as_an_import_with_tags_and_charts(db, posts_dir):
    run(posts_dir)

    record = Post.objects.get(key="NW1").history.get()
    assert record.history_type == "+"
    assert record.history_change_reason == "import"
    assert record.title == "沪指收涨"
    assert record.tag_names == ["证券时报新闻"]
    assert [(chart["position"], chart["market"], chart["code"]) for chart in record.charts] == [(0, 1, "000001")]


def test_reimporting_unchanged_files_changes_nothing(db, posts_dir, django_assert_max_num_queries):
    run(posts_dir)
    before = list(Post.objects.values_list("pk", "updated_at"))

    # Expect 3 queries: categories and sources for the caches, then the stored hashes of the one batch.
    with django_assert_max_num_queries(3):
        out, _ = run(posts_dir)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert list(Post.objects.values_list("pk", "updated_at")) == before
    assert Post.history.count() == 2


def test_a_changed_file_updates_its_post_charts_and_tags(db, posts_dir):
    run(posts_dir)
    post = Post.objects.get(key="NW1")
    write(posts_dir, "2022-05-21-NW1.md", post_text("NW1", title="沪指收跌", charts=["116.00020"], tag="收盘"))

    out, _ = run(posts_dir)

    assert "0 created, 1 updated, 1 unchanged" in out
    post.refresh_from_db()
    assert post.title == "沪指收跌"
    assert post.slug == "nw1"
    assert [chart.symbol for chart in post.charts.all()] == ["116.00020"]
    assert list(post.tags.names()) == ["收盘"]
    assert [stock.symbol for stock in post.stocks.all()] == ["116.00020"]
    assert "沪指收跌" in post.original_file.text
    assert [record.history_type for record in post.history.all()] == ["~", "+"]


def test_posts_edited_in_the_admin_are_left_alone_and_reported_as_conflicts(db, posts_dir):
    run(posts_dir)
    post = Post.objects.get(key="NW1")
    post.title = "编辑改过的标题"
    post.edited_at = timezone.now()
    post.save()
    write(posts_dir, "2022-05-21-NW1.md", post_text("NW1", title="爬虫的新标题"))

    out, err = run(posts_dir)

    assert "1 conflicts" in out
    assert "2022-05-21-NW1.md: edited in the admin at" in err
    assert "--overwrite-edited" in err
    post.refresh_from_db()
    assert post.title == "编辑改过的标题"

    out, _ = run(posts_dir, overwrite_edited=True)

    assert "1 updated" in out
    post.refresh_from_db()
    assert post.title == "爬虫的新标题"
    assert post.imported_at > post.edited_at


def test_of_two_files_with_one_key_the_later_date_wins(db, tmp_path):
    write(tmp_path, "a/2022-05-21-NW1.md", post_text("NW1", title="较新的稿件", date="2022-05-21 16:00:00 +0800"))
    write(tmp_path, "b/2022-05-21-NW1.md", post_text("NW1", title="较早的稿件", date="2022-05-21 09:00:00 +0800"))

    out, err = run(tmp_path)

    assert "1 created" in out
    assert "1 skipped" in out
    assert f"b/2022-05-21-NW1.md: duplicate key NW1: {tmp_path}/a/2022-05-21-NW1.md is newer" in err
    assert Post.objects.get(key="NW1").title == "较新的稿件"


def test_of_two_files_with_one_key_and_date_the_later_mtime_wins_across_runs(db, tmp_path):
    write(tmp_path, "a/2022-05-21-NW1.md", post_text("NW1", title="后改的稿件"), mtime=2_000_000_000)
    write(tmp_path, "b/2022-05-21-NW1.md", post_text("NW1", title="先存的稿件"), mtime=1_000_000_000)

    run(tmp_path / "a")
    out, err = run(tmp_path / "b")

    assert "1 skipped" in out
    assert "already imported, is newer" in err
    assert Post.objects.get(key="NW1").title == "后改的稿件"


def test_the_same_story_under_two_codes_is_imported_twice_and_reported(db, tmp_path):
    write(tmp_path, "2022-05-21-NW1.md", post_text("NW1"))
    write(tmp_path, "2022-05-21-NW2.md", post_text("NW2"))

    out, err = run(tmp_path)

    assert "2 created" in out
    assert "2022-05-21-NW2.md: likely a duplicate of NW1 (same title and time)" in err


def test_zip_and_tar_archives_are_read_like_directories(db, tmp_path):
    with zipfile.ZipFile(tmp_path / "posts.zip", "w") as archive:
        archive.writestr("_posts/2022-05-21-NW1.md", post_text("NW1"))
        archive.writestr("_posts/README.md", "not a post")
    with tarfile.open(tmp_path / "posts.tar.gz", "w:gz") as archive:
        data = post_text("NW2", title="创业板指走强").encode()
        info = tarfile.TarInfo("./old_post/2022-05-22-NW2.md")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))

    out, _ = run(tmp_path / "posts.zip", tmp_path / "posts.tar.gz")

    assert "2 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 1 skipped" in out
    assert OriginalFile.objects.get(post__key="NW1").path == f"{tmp_path}/posts.zip!/_posts/2022-05-21-NW1.md"
    assert OriginalFile.objects.get(post__key="NW2").path == f"{tmp_path}/posts.tar.gz!/old_post/2022-05-22-NW2.md"


def test_a_broken_archive_is_reported_and_the_run_goes_on(db, tmp_path, posts_dir):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really a zip")

    out, err = run(tmp_path / "broken.zip", posts_dir, fails=True)

    assert "2 created, 0 updated, 0 unchanged, 0 conflicts, 1 failed" in out
    assert f"{tmp_path}/broken.zip: cannot read the archive: File is not a zip file" in err


def test_bad_files_are_reported_with_path_and_reason_the_rest_imported_and_the_exit_status_is_1(db, posts_dir):
    write(posts_dir, "2022-05-23-NW3.md", "没有前言的文件")
    (posts_dir / "2022-05-24-NW4.md").write_bytes("---\ntitle: 标题\n---\n".encode("gb18030"))

    out, err = run(posts_dir, fails=True)

    assert "2 created, 0 updated, 0 unchanged, 0 conflicts, 2 failed, 0 skipped" in out
    assert f"{posts_dir}/2022-05-23-NW3.md: no front matter" in err
    assert f"{posts_dir}/2022-05-24-NW4.md: not UTF-8 text" in err
    assert Post.objects.count() == 2


def test_files_not_named_like_posts_are_skipped_and_counted(db, posts_dir):
    write(posts_dir, "README.md", "# 说明")
    write(posts_dir, "SOURCES.tsv", "a\tb")
    write(posts_dir, ".hidden/2022-05-21-NW9.md", post_text("NW9"))

    out, _ = run(posts_dir)

    assert "2 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 2 skipped" in out


def test_the_report_lists_every_file_with_its_outcome_and_reason(db, posts_dir, tmp_path):
    write(posts_dir, "2022-05-23-NW3.md", post_text("NW3").replace("date: 2022-05-21 15:05:00 +0800", "date: 明天"))
    report = tmp_path / "report.json"

    run(posts_dir, report=str(report), fails=True)

    data = json.loads(report.read_text(encoding="utf-8"))
    outcomes = {entry["path"].rsplit("/", 1)[-1]: entry for entry in data["files"]}
    assert outcomes["2022-05-21-NW1.md"]["status"] == "created"
    assert outcomes["2022-05-23-NW3.md"] == {
        "path": f"{posts_dir}/2022-05-23-NW3.md",
        "status": "failed",
        "key": "NW3",
        "reason": "unparseable date '明天'",
        "warnings": [],
        "twin": None,
    }
    assert data["summary"]["created"] == 2
    assert data["summary"]["failed"] == 1


def test_a_dry_run_reports_what_would_happen_and_writes_nothing(db, posts_dir):
    out, _ = run(posts_dir, dry_run=True)

    assert out.startswith("Dry run, nothing written: 2 created")
    assert not Post.objects.exists()
    assert not Category.objects.exists()
    assert not Source.objects.exists()
    assert not Stock.objects.exists()


def test_an_info_code_held_by_another_post_fails_only_that_file(db, posts_dir, make_post):
    make_post(info_code="NW2", key=None)

    out, err = run(posts_dir, fails=True)

    assert "1 created, 0 updated, 0 unchanged, 0 conflicts, 1 failed" in out
    assert "2022-05-22-NW2.md: info code NW2 already belongs to post #" in err
    assert Post.objects.filter(key="NW1").exists()


def test_a_post_the_database_rejects_does_not_take_its_batch_down(db, tmp_path):
    # Two keys that slugify alike collide on insert; the batch is retried post by post.
    write(tmp_path, "2022-05-21-abc.md", post_text("").replace("infoCode=", "x="))
    write(tmp_path, "2022-05-21-ABC.md", post_text("").replace("infoCode=", "x=").replace("沪指收涨", "另一条"))

    out, _ = run(tmp_path)

    assert "2 created" in out
    assert sorted(Post.objects.values_list("slug", flat=True)) == ["abc", "abc-2"]


def test_force_reparses_unchanged_files_and_writes_only_what_changed(db, posts_dir):
    run(posts_dir)
    before = dict(Post.objects.values_list("key", "updated_at"))
    # As if an earlier importer had stored a title its parser got wrong: --force is how it gets fixed.
    Post.objects.filter(key="NW2").update(title="旧解析器的标题")

    out, _ = run(posts_dir, force=True)

    assert "0 created, 1 updated, 1 unchanged" in out
    assert Post.objects.get(key="NW2").title == "创业板指走强"
    assert [record.history_type for record in Post.objects.get(key="NW2").history.all()] == ["~", "+"]
    # The other post, unchanged, got no empty "import" history record and kept its updated_at.
    assert [record.history_type for record in Post.objects.get(key="NW1").history.all()] == ["+"]
    assert Post.objects.get(key="NW1").updated_at == before["NW1"]

    out, _ = run(posts_dir, force=True)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert Post.history.count() == 3


def test_a_changed_file_that_changes_nothing_in_its_post_only_refreshes_the_stored_file(db, posts_dir):
    run(posts_dir)
    post = Post.objects.get(key="NW1")
    path = write(posts_dir, "2022-05-21-NW1.md", (posts_dir / "2022-05-21-NW1.md").read_text() + "\n\n")

    out, _ = run(posts_dir)

    assert "0 created, 0 updated, 2 unchanged" in out
    assert [record.history_type for record in post.history.all()] == ["+"]
    stored = OriginalFile.objects.get(post=post)
    assert stored.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert stored.text == path.read_text()
    assert Post.objects.get(pk=post.pk).updated_at == post.updated_at

    out, _ = run(posts_dir)

    assert "0 created, 0 updated, 2 unchanged" in out


def test_queries_per_batch_do_not_grow_with_the_number_of_posts(db, tmp_path, django_assert_max_num_queries):
    for n in range(3):
        write(tmp_path / "warm", f"2022-05-21-NW{n}.md", post_text(f"NW{n}", title=f"新闻{n}", charts=["1.000001"]))
    run(tmp_path / "warm")
    for n in range(100, 160):
        write(tmp_path / "batch", f"2022-05-21-NW{n}.md", post_text(f"NW{n}", title=f"新闻{n}", charts=["1.000001"]))

    # Expect 17 queries for 60 new posts in one batch: categories and sources (the caches), the keys'
    # stored hashes, tags and stocks (first sight in this run), savepoint, relaxed commit, posts at the
    # same times, post ids, COPY posts and their history, chart ids, COPY charts, COPY tag links, stock
    # links and original files, release savepoint.
    with django_assert_max_num_queries(17):
        out, _ = run(tmp_path / "batch")

    assert "60 created" in out


def test_a_missing_path_is_a_usage_error(db, tmp_path):
    with pytest.raises(CommandError, match="no such file or directory"):
        run(tmp_path / "nowhere")


def test_worker_processes_parse_to_the_same_result(db, tmp_path):
    write_post_files(tmp_path / "posts", count=150, seed=5)

    out, _ = run(tmp_path / "posts", batch_size=60, workers=1, fails=True)  # the generator's malformed files
    parsed_by_workers = snapshot()
    empty_database()

    out_here, _ = run(tmp_path / "posts", batch_size=60, workers=0, fails=True)

    assert out_here.split(" in ")[0] == out.split(" in ")[0]
    assert snapshot() == parsed_by_workers


def test_a_slug_taken_by_an_editors_post_gets_a_suffix(db, posts_dir, make_post):
    make_post(slug="nw1", key=None)

    out, _ = run(posts_dir)

    assert "2 created" in out
    assert Post.objects.get(key="NW1").slug == "nw1-2"


def test_every_kind_of_bad_file_is_reported_with_its_reason_and_nothing_is_stored(db, tmp_path):
    report = tmp_path / "report.json"

    run(DATA / "bad", report=str(report), fails=True)

    reasons = {
        entry["path"].rsplit("/", 1)[-1]: entry["reason"]
        for entry in json.loads(report.read_text(encoding="utf-8"))["files"]
    }
    assert reasons == {
        "2022-05-01-empty.md": "empty file",
        "2022-05-02-no-front-matter.md": "no front matter: the file does not start with a '---' line",
        "2022-05-03-unterminated.md": "unterminated front matter: no closing '---' line",
        "2022-05-04-bad-date.md": "unparseable date '2022-05-32 10:00:00': day is out of range for month",
        "2022-05-05-gbk.md": "not UTF-8 text: byte 0xb1 at offset 25 cannot be decoded",
        "2022-05-06-long-title.md": f"title too long (301 characters; the limit is 300): {'长' * 40!r}…",
        "2022-05-07-no-category.md": "no category: `categories` is empty and no back-link names one",
    }
    assert not Post.objects.exists()
    assert not Category.objects.exists()


def test_scripts_handlers_javascript_urls_iframes_and_styles_never_reach_the_database(db):
    run(DATA / "unsafe")

    body = Post.objects.get(key="NW202205080000000001").body
    for unsafe in ("<script", "onclick", "onerror", "javascript:", "<iframe", "style="):
        assert unsafe not in body
    assert '<a href="https://example.org/report" rel="noopener noreferrer">报告</a>' in body
    assert '<img src="https://img.example/chart.png" alt="走势图">' in body
    assert "<p>红字</p>" in body
