"""The importer against the real posts in ../shared/corpus/ and their field-by-field expectations."""

import datetime
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.importer.body import _commonmark, is_html_blocks, render_markdown, take_furniture
from articles.importer.frontmatter import split_front_matter
from articles.importer.parsing import decode
from articles.models import Category, Post

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
FOLDERS = ["seed", "finews-real", "finews-variants"]

pytestmark = pytest.mark.skipif(
    not (CORPUS / "expected.json").exists(),
    reason=f"the post corpus is not at {CORPUS} (it sits beside the project in CI and on the team's machines)",
)


def expectations():
    if not (CORPUS / "expected.json").exists():
        return {"posts": [], "furniture_never_in_body": []}
    return json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))


def corpus_files():
    return sorted(path for folder in FOLDERS for path in (CORPUS / folder).glob("*.md"))


@pytest.fixture
def imported(db):
    call_command("import_posts", *(str(CORPUS / folder) for folder in FOLDERS), verbosity=0)


def test_every_corpus_post_imports_without_a_failure(db, tmp_path):
    report = tmp_path / "report.json"
    call_command("import_posts", *(str(CORPUS / folder) for folder in FOLDERS), report=str(report), verbosity=0)

    outcomes = json.loads(report.read_text(encoding="utf-8"))
    assert outcomes["summary"]["failed"] == 0
    assert outcomes["summary"]["created"] == len(corpus_files())
    assert Post.objects.count() == len(corpus_files())


@pytest.mark.parametrize("expected", expectations()["posts"], ids=lambda entry: entry["file"])
def test_corpus_post_matches_its_expectations(imported, expected):
    post = Post.objects.select_related("category", "source").get(key=expected["key"])
    furniture = expectations()["furniture_never_in_body"]

    assert post.info_code == expected["info_code"]
    assert post.title == expected["title"]
    if "published_at" in expected:
        assert post.published_at == datetime.datetime.fromisoformat(expected["published_at"])
    if "category" in expected:
        assert post.category.slug == expected["category"]
    if "category_iexact" in expected:
        assert post.category.slug.lower() == expected["category_iexact"]
    if "category_name" in expected:
        assert post.category.name == expected["category_name"]
    if "source" in expected:
        assert (post.source.name if post.source else None) == expected["source"]
    if "tags" in expected:
        assert sorted(post.tags.names()) == sorted(expected["tags"])
    if "original_url" in expected:
        assert post.original_url == (expected["original_url"] or "")
    if "summary_startswith" in expected:
        assert post.summary.startswith(expected["summary_startswith"])
    assert [[c.market, c.code, c.chart_type] for c in post.charts.order_by("position")] == expected["charts"]
    symbols = {stock.symbol for stock in post.stocks.all()}
    assert set(expected.get("mentions_include", [])) <= symbols
    assert {f"{c.market}.{c.code}" for c in post.charts.all()} <= symbols
    for text in expected.get("body_contains", []):
        assert text in post.body
    for text in [*furniture, *expected.get("body_lacks", [])]:
        assert text not in post.body


def test_techweb_spellings_are_one_category_and_both_resolve(imported):
    techweb = Post.objects.get(key="NW202204122345678902").category

    assert Post.objects.get(key="NW202204132345678903").category == techweb
    assert Category.objects.get_by_slug("Techweb") == Category.objects.get_by_slug("TechWeb") == techweb


def test_every_corpus_post_keeps_its_original_file(imported):
    for path in corpus_files():
        data = path.read_bytes()
        post = Post.objects.get(original_file__path=str(path))
        assert post.original_file.text == decode(data)


def normalize_block_breaks(html):
    # Markdown puts a line break between consecutive HTML blocks; browsers ignore it.
    return re.sub(r">\s*\n\s*<", "><", html)


def corpus_contents():
    return [take_furniture(split_front_matter(decode(path.read_bytes()))[1])[1] for path in corpus_files()]


def test_html_bodies_skip_markdown_without_changing_the_result():
    html_only = [content for content in corpus_contents() if is_html_blocks(content)]

    assert len(html_only) >= 10  # the 2022 crawler bodies take the fast path
    for content in html_only:
        assert normalize_block_breaks(render_markdown(content)) == normalize_block_breaks(_commonmark(content))
