"""Hostile post files: a megabyte of each shape that once made the importer backtrack or nest without end.

Files may be 5 MB, so every step of parsing must take linear time. Each shape here took minutes or hours
before its pattern was rewritten; the bound is generous, so that only a super-linear pattern exceeds it.
"""

import contextlib
import time

import pytest

from articles.importer import PostFileError, parse_post
from articles.importer.parsing import quick_key

MEGABYTE = 1_000_000
FRONT = '---\ntitle: "标题"\ndate: 2022-05-25 10:00:00 +0800\ncategories: emnews\ntags: 新闻\n---\n'
CHART_START = "<!-- EM_StockImg_Start -->"

HOSTILE_BODIES = {
    "unclosed <p": "<p ",
    "unclosed <p style": '<p style="',
    "unclosed quotes": '"',
    "run of >": ">",
    "run of [": "[",
    "run of spaces": " ",
    "run of blank lines": " \t\n",
    "unclosed chart blocks": CHART_START,
    "chart block with unclosed tags": CHART_START + "<img <a ",
    "unclosed hidden paragraphs": '<p style="display:none display:none ',
    "unclosed source lines": '<p class="em_media">（文章来源：',
    "source lines closed once": '<p class="em_media">（文章来源：' * 10_000 + "</p>",
    "share link prefixes": "/html_News/NewsShare.html?&",
    "back-link prefixes": "[返回x](",
    "bracket sources": "。（来源）  ",
    "stray <": "x<y ",
    "ampersands": "&",
    "nested divs": "<div>",
    "nested lists": "<ul><li>",
    "nested Markdown lists": "- ",
    "nested quotes": ">",
    "unclosed comments": "<!--",
}
HOSTILE_FRONT_MATTER = {
    "spaces inside a value": "title: a" + " " * MEGABYTE + "b",
    "spaces before a colon": "title: a" + " " * MEGABYTE + ": b",
    "tabs before a comment": "title: a" + "\t" * MEGABYTE + "#",
    "spaces in a list item": "tags:\n- " + " " * MEGABYTE + "x",
    "a title nested deep": "title: " + "[" * (MEGABYTE // 2) + "]" * (MEGABYTE // 2),
    "a title nested deep in invalid YAML": 'title: "a"b"\ntags: ' + "[" * (MEGABYTE // 2) + "]" * (MEGABYTE // 2),
    "spaces after a date": "date: 2022-01-01" + " " * MEGABYTE + "x",
}


def parse_within_bound(text):
    started = time.perf_counter()
    # A clear per-file error is as good an answer as a post.
    with contextlib.suppress(PostFileError):
        parse_post(text, "202205250000000001")
    quick_key(text.encode(), "202205250000000001")
    return time.perf_counter() - started


@pytest.mark.parametrize("unit", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_a_hostile_megabyte_body_parses_in_linear_time(unit):
    assert parse_within_bound(FRONT + unit * (MEGABYTE // len(unit))) < 5


@pytest.mark.parametrize("front", HOSTILE_FRONT_MATTER.values(), ids=HOSTILE_FRONT_MATTER.keys())
def test_hostile_front_matter_parses_in_linear_time(front):
    assert parse_within_bound(f"---\n{front}\ncategories: emnews\n---\n正文。") < 5


def test_html_nested_past_the_limit_is_that_files_error():
    with pytest.raises(PostFileError, match="nests HTML elements more than 200 deep"):
        parse_post(FRONT + "<div>" * 201 + "正文" + "</div>" * 201, "202205250000000001")


def test_html_nested_within_the_limit_and_closed_again_and_again_is_imported():
    body = ("<div>" * 150 + "正文" + "</div>" * 150 + "\n") * 20

    assert "正文" in parse_post(FRONT + body, "202205250000000001").body


def test_a_title_nested_a_thousand_deep_is_read_without_recursion():
    # libyaml refuses it, and the line-by-line reading took it apart recursively until the stack ran out.
    text = f"---\ntitle: {'[' * 1000}{']' * 1000}\ncategories: emnews\n---\n北向资金净流入。"

    post = parse_post(text, "202205250000000001")

    assert post.title == "北向资金净流入"
    assert any("not valid YAML" in warning for warning in post.warnings)


def test_a_date_offset_beyond_a_day_is_an_unparseable_date():
    text = FRONT.replace("+0800", "+9999") + "正文。"

    with pytest.raises(PostFileError, match=r"unparseable date '2022-05-25 10:00:00 \+9999': the offset is not within"):
        parse_post(text, "202205250000000001")
