"""Values the reader site could not serve are each file's clear error, or made safe with a warning."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from taggit.models import Tag

from articles.importer.frontmatter import OLD_SITE_ZONE
from articles.models import Category, Post, StockChart

from .test_export_posts import empty_database, snapshot
from .test_import_command import CHART, post_text, run, write


@pytest.mark.parametrize(
    ("date", "reason"),
    [
        ("9999-12-31 23:59:59 -1200", "date '9999-12-31 23:59:59 -1200' is out of range"),
        ("0001-01-01 00:00:00", "date '0001-01-01 00:00:00' is out of range"),
        ("1989-12-31 23:59:59 +0000", "date '1989-12-31 23:59:59 +0000' is out of range"),
        ("2101-01-01 08:00:00 +0800", "date '2101-01-01 08:00:00 +0800' is out of range"),
    ],
)
def test_a_date_outside_1990_to_2100_is_that_files_error(db, tmp_path, date, reason):
    write(tmp_path, "2022-05-21-NW1.md", post_text("NW1", date=date))
    write(tmp_path, "2022-05-22-NW2.md", post_text("NW2"))

    out, err = run(tmp_path, fails=True)

    assert "1 created, 0 updated, 0 unchanged, 0 conflicts, 1 failed" in out
    assert f"2022-05-21-NW1.md: {reason}: publication dates run from 1990 to 2100" in err
    assert list(Post.objects.values_list("key", flat=True)) == ["NW2"]


def test_a_date_taken_from_a_file_id_is_checked_too(db, tmp_path):
    text = post_text("", date=" +0800").replace("infoCode=", "x=")
    write(tmp_path, "-000101010000000001.md", text)

    _, err = run(tmp_path, fails=True)

    assert "date '0001-01-01 (from the file id)' is out of range" in err


def test_a_category_slug_the_site_cannot_route_is_mapped_with_a_warning(db, tmp_path, client):
    write(tmp_path, "2022-05-21-NW1.md", post_text("NW1", category='"A股/港股"'))
    write(tmp_path, "2022-05-22-NW2.md", post_text("NW2", category='"A股?港股#1%"'))

    _, err = run(tmp_path)

    assert "2022-05-21-NW1.md: category 'A股/港股' cannot be part of a URL; filed under 'A股-港股'" in err
    assert Post.objects.get(key="NW1").category.slug == "A股-港股"
    assert Post.objects.get(key="NW2").category.slug == "A股-港股-1-"
    assert client.get("/").status_code == 200
    assert client.get(Category.objects.get(slug="A股-港股").get_absolute_url()).status_code == 200


def test_a_category_slug_of_dots_is_that_files_error(db, tmp_path):
    write(tmp_path, "2022-05-21-NW1.md", post_text("NW1", category='".."'))

    _, err = run(tmp_path, fails=True)

    assert "2022-05-21-NW1.md: category '..' cannot be part of a URL" in err
    assert not Category.objects.exists()


@pytest.mark.parametrize("name", ["2022-05-21-a\\b.md", "2022-05-21- leading.md", "2022-05-21-a\tb.md"])
def test_a_key_from_a_file_name_that_cannot_name_a_file_is_that_files_error(db, tmp_path, name):
    write(tmp_path, name, post_text("").replace("infoCode=", "x="))

    _, err = run(tmp_path, fails=True)

    assert "which cannot name an exported file" in err
    assert not Post.objects.exists()


def test_tags_without_a_letter_or_digit_are_dropped_with_a_warning(db, tmp_path, client):
    write(tmp_path, "2022-05-21-NW1.md", post_text("NW1", tag='["+++", "——", "港股"]'))

    _, err = run(tmp_path)

    assert "2022-05-21-NW1.md: tag '+++' has no letter or digit; dropped" in err
    assert "2022-05-21-NW1.md: tag '——' has no letter or digit; dropped" in err
    post = Post.objects.get(key="NW1")
    assert list(post.tags.names()) == ["港股"]
    assert not Tag.objects.filter(slug="").exists()
    assert client.get(post.get_absolute_url()).status_code == 200
    assert client.get("/sitemap-tags.xml").status_code == 200


@pytest.mark.parametrize(
    ("image", "quote"),
    [
        ("javascript:alert(1)//?nid=1.600519&imageType=k", "javascript:alert(document.cookie)"),
        ("data:image/svg+xml;base64,PHN2Zz4=?nid=1.600519", "data:text/html;base64,PHNjcmlwdD4="),
        ("https://evil.example/GetPic.aspx?nid=1.600519&imageType=k", "https://evil.example/unify/r/1.600519"),
    ],
)
def test_chart_urls_off_eastmoneys_hosts_are_dropped_and_the_chart_rebuilt(db, tmp_path, client, image, quote):
    block = (
        CHART.format("1.600519")
        .replace("http://quote.eastmoney.com/unify/r/1.600519", quote.replace('"', "&quot;"))
        .replace("https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=1.600519&imageType=k", image)
    )
    write(tmp_path, "2022-05-21-NW1.md", post_text("NW1").replace("---\n<p>", f"---\n{block}<p>"))

    _, err = run(tmp_path)

    assert "the chart image URL of 600519 is not http(s) on EastMoney's chart hosts; dropped" in err
    assert "the quote link of chart 600519 is not http(s) on EastMoney's quote site; dropped" in err
    chart = StockChart.objects.get()
    assert (chart.market, chart.code, chart.image_url, chart.quote_url) == (1, "600519", "", "")
    assert chart.image_src == "https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=1.600519&imageType=k"
    page = client.get(chart.post.get_absolute_url()).content.decode()
    for unsafe in ("javascript:", "data:", "evil.example"):
        assert unsafe not in page


def test_chart_urls_on_eastmoneys_hosts_are_kept(db, tmp_path):
    write(tmp_path, "2022-05-21-NW1.md", post_text("NW1", charts=["116.00020"]))

    _, err = run(tmp_path)

    chart = StockChart.objects.get()
    assert chart.image_url == "https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=116.00020&imageType=k"
    assert chart.quote_url == "http://quote.eastmoney.com/unify/r/116.00020"
    assert "dropped" not in err


DIGEST = "> &lt;img src=x onerror=alert(1)&gt; 沪指收涨 &amp; 成交放大\n\n"


def test_a_digest_stays_text_end_to_end(db, tmp_path, client):
    write(tmp_path, "2022-05-21-NW1.md", post_text("NW1").replace("---\n<p>", f"---\n{DIGEST}<p>"))
    run(tmp_path)
    post = Post.objects.get(key="NW1")

    assert post.summary == "<img src=x onerror=alert(1)> 沪指收涨 & 成交放大"
    page = client.get(post.get_absolute_url()).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt; 沪指收涨 &amp; 成交放大" in page


def test_a_digest_with_markup_characters_survives_export_and_import(db, tmp_path):
    write(tmp_path / "in", "2022-05-21-NW1.md", post_text("NW1").replace("---\n<p>", f"---\n{DIGEST}<p>"))
    run(tmp_path / "in")
    before = snapshot()

    call_command("export_posts", str(tmp_path / "out"), stdout=io.StringIO())
    empty_database()
    run(tmp_path / "out")

    assert snapshot() == before


def test_export_skips_a_post_whose_key_cannot_name_a_file_and_exits_1(db, tmp_path, make_post):
    good = make_post(key="NW1", title="好的")
    make_post(key="../../escaped", title="坏键")
    make_post(key="a/b", title="斜杠")
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match=r"2 post\(s\) could not be exported") as error:
        call_command("export_posts", str(tmp_path / "out"), stdout=out, stderr=err)

    assert error.value.returncode == 1
    assert "1 posts exported" in out.getvalue()
    assert "«坏键»: its key '../../escaped' cannot name a file; skipped" in err.getvalue()
    assert "«斜杠»: its key 'a/b' cannot name a file; skipped" in err.getvalue()
    exported = tmp_path / "out" / "_posts" / f"{good.published_at.astimezone(OLD_SITE_ZONE):%Y-%m-%d}-NW1.md"
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == [exported]


@pytest.mark.parametrize("where", ["a-file", "a-file/below"])
def test_export_into_a_file_is_a_one_line_error(db, tmp_path, where):
    (tmp_path / "a-file").write_text("x", encoding="utf-8")

    with pytest.raises(CommandError, match=f"^cannot write to {tmp_path}/a-file.*: (File exists|Not a directory)$"):
        call_command("export_posts", str(tmp_path / where), stdout=io.StringIO())


def test_export_into_an_unwritable_place_is_a_one_line_error(db):
    with pytest.raises(CommandError, match=r"^cannot write to /proc/finews: No such file or directory$"):
        call_command("export_posts", "/proc/finews", stdout=io.StringIO())


def test_the_report_marks_a_file_whose_values_were_made_safe(db, tmp_path):
    write(tmp_path, "2022-05-21-NW1.md", post_text("NW1", category='"A股/港股"', tag='"+++"'))
    report = tmp_path / "report.json"

    run(tmp_path, report=str(report))

    entry = next(e for e in json.loads(report.read_text(encoding="utf-8"))["files"] if e["key"] == "NW1")
    assert entry["status"] == "created"
    assert entry["warnings"] == [
        "category 'A股/港股' cannot be part of a URL; filed under 'A股-港股'",
        "tag '+++' has no letter or digit; dropped",
    ]
