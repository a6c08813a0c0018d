"""One bad file costs only itself; the JSON report is always whole; the command's messages say what happened."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from articles.importer import body
from articles.management.commands.import_posts import Command
from articles.models import Post

from .test_import_command import post_text, run, write


@pytest.fixture
def posts_dir(tmp_path):
    directory = tmp_path / "_posts"
    for n in range(1, 4):
        write(directory, f"2022-05-2{n}-NW{n}.md", post_text(f"NW{n}", title=f"新闻{n}"))
    return directory


@pytest.fixture
def parser_fails_on_news_2(monkeypatch):
    """A defect in the parser, met by one file: the body of NW2 makes it raise something unexpected."""
    parse_body = body.parse_body

    def failing(text):
        if "新闻2" in text:
            raise RecursionError("maximum recursion depth exceeded")
        return parse_body(text)

    monkeypatch.setattr("articles.importer.parsing.parse_body", failing)


def test_an_unexpected_error_in_the_parser_fails_that_file_alone(db, posts_dir, parser_fails_on_news_2, tmp_path):
    report = tmp_path / "report.json"

    out, err = run(posts_dir, report=str(report), fails=True, workers=0)

    assert "2 created, 0 updated, 0 unchanged, 0 conflicts, 1 failed" in out
    assert (
        f"{posts_dir}/2022-05-22-NW2.md: cannot be parsed: the importer failed on it (RecursionError); please report it"
        in err
    )
    assert sorted(Post.objects.values_list("key", flat=True)) == ["NW1", "NW3"]
    assert json.loads(report.read_text(encoding="utf-8"))["summary"]["failed"] == 1


def test_a_title_nested_a_thousand_deep_does_not_cost_its_batch(db, posts_dir):
    write(
        posts_dir,
        "2022-05-24-NW4.md",
        post_text("NW4").replace('title: "沪指收涨"', f"title: {'[' * 1000}{']' * 1000}"),
    )

    out, err = run(posts_dir)

    assert "4 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed" in out
    assert "2022-05-24-NW4.md: empty title; used the first sentence of the body" in err


def interrupt_after(monkeypatch, count, error):
    """Raise `error` when the import has reported `count` outcomes, as Ctrl-C or a lost database would."""
    report_outcome = Command.report_outcome

    def reporting(self, outcome):
        report_outcome(self, outcome)
        if self.json_report.summary.total == count:
            raise error

    monkeypatch.setattr(Command, "report_outcome", reporting)


def test_ctrl_c_still_leaves_a_whole_report_saying_it_was_interrupted(db, posts_dir, tmp_path, monkeypatch):
    report = tmp_path / "report.json"
    interrupt_after(monkeypatch, 2, KeyboardInterrupt())

    with pytest.raises(CommandError, match=f"interrupted; {report} says what was done") as error:
        run(posts_dir, report=str(report), batch_size=1)

    assert error.value.returncode == 130
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["status"] == "interrupted"
    assert data["error"] == "KeyboardInterrupt"
    assert [entry["key"] for entry in data["files"]] == ["NW1", "NW2"]
    assert data["summary"]["created"] == 2


def test_an_error_that_stops_the_run_is_raised_and_recorded_in_a_whole_report(db, posts_dir, tmp_path, monkeypatch):
    report = tmp_path / "report.json"
    interrupt_after(monkeypatch, 1, ConnectionError("the database went away"))

    with pytest.raises(ConnectionError):
        run(posts_dir, report=str(report))

    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["status"] == "interrupted"
    assert data["error"] == "ConnectionError: the database went away"
    assert len(data["files"]) == 1


def test_the_report_replaces_the_previous_one_only_when_it_is_whole(db, posts_dir, tmp_path, monkeypatch):
    report = tmp_path / "report.json"
    report.write_text('{"previous": true}', encoding="utf-8")
    seen_during_the_run = []
    report_outcome = Command.report_outcome

    def reporting(self, outcome):
        report_outcome(self, outcome)
        seen_during_the_run.append(report.read_text(encoding="utf-8"))

    monkeypatch.setattr(Command, "report_outcome", reporting)

    run(posts_dir, report=str(report))

    assert set(seen_during_the_run) == {'{"previous": true}'}
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["status"] == "complete"
    assert data["summary"]["created"] == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["_posts", "report.json"]  # no temporary file left


def test_a_report_that_cannot_be_written_is_a_usage_error_before_anything_is_imported(db, posts_dir, tmp_path):
    with pytest.raises(CommandError, match=f"cannot write the report {tmp_path}/missing/report.json: No such file"):
        run(posts_dir, report=str(tmp_path / "missing" / "report.json"))
    with pytest.raises(CommandError, match=f"cannot write the report {tmp_path}: Is a directory"):
        run(posts_dir, report=str(tmp_path))

    assert not Post.objects.exists()


def run_without_posts(*paths):
    """Run import_posts where it finds no post; return (the CommandError, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="nothing to import") as error:
        call_command("import_posts", *map(str, paths), stdout=out, stderr=err)
    return error.value, out.getvalue(), err.getvalue()


def test_an_empty_folder_is_a_warning_and_exit_status_1(db, tmp_path):
    error, out, err = run_without_posts(tmp_path)

    assert error.returncode == 1
    assert "0 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 0 skipped in " in out
    assert "posts/s" not in out
    assert f"No post files found in {tmp_path}: posts are named YYYY-MM-DD-<id>.md" in err


def test_a_folder_without_posts_names_what_it_skipped_and_exits_1(db, tmp_path):
    write(tmp_path, "README.md", "# 说明")
    write(tmp_path, "notes.txt", "笔记")

    error, out, err = run_without_posts(tmp_path)

    assert error.returncode == 1
    assert "0 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 2 skipped in " in out
    assert "posts/s" not in out
    assert f"{tmp_path}/README.md: skipped, not a post file name" in err
    assert f"{tmp_path}/notes.txt: skipped, not a post file name" in err
    assert f"No post files found in {tmp_path}" in err


def test_skipped_files_are_named_up_to_twenty_then_counted(db, posts_dir):
    for n in range(25):
        write(posts_dir, f"notes-{n:02}.txt", "笔记")

    out, err = run(posts_dir)

    assert "3 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 25 skipped" in out
    assert f"{posts_dir}/notes-19.txt: skipped, not a post file name" in err
    assert "notes-20.txt" not in err
    assert "… and 5 more skipped" in err


def test_a_run_that_imports_posts_gives_its_rate(db, posts_dir):
    out, _ = run(posts_dir)

    assert "posts/s)" in out
