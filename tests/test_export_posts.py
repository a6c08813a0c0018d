"""`manage.py export_posts`: the crawler's format back out, and a lossless import → export → import."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from taggit.models import Tag

from articles.importer import parse_post
from articles.importer.parsing import decode
from articles.models import Category, Post, Source, Stock

DEMO_POSTS = Path(__file__).resolve().parent.parent / "articles" / "demo_posts"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def snapshot():
    """Everything a round trip must keep, comparable across databases (no ids)."""
    posts = Post.objects.select_related("category", "source").prefetch_related("charts", "tags", "stocks")
    return {
        post.key: (
            post.title,
            post.info_code,
            post.status,
            post.published_at,
            post.summary,
            post.body,
            post.category.slug,
            post.category.name,
            post.source.name if post.source else None,
            post.original_url,
            sorted(tag.name for tag in post.tags.all()),
            [(c.position, c.market, c.code, c.chart_type, c.image_url, c.quote_url) for c in post.charts.all()],
            sorted(stock.symbol for stock in post.stocks.all()),
        )
        for post in posts
    }


def empty_database():
    Post.objects.all().delete()
    for model in (Category, Source, Stock, Tag):
        model.objects.all().delete()


def round_trip(tmp_path, *sources):
    if sources:
        call_command("import_posts", *map(str, sources), verbosity=0)
    before = snapshot()
    call_command("export_posts", str(tmp_path / "export"), stdout=io.StringIO())
    empty_database()
    call_command("import_posts", str(tmp_path / "export"), verbosity=0)
    return before, snapshot()


def test_demo_posts_survive_import_export_import(db, tmp_path):
    before, after = round_trip(tmp_path, DEMO_POSTS)

    assert len(before) == 33
    assert after == before


@pytest.mark.skipif(not CORPUS.exists(), reason=f"the post corpus is not at {CORPUS}")
def test_corpus_posts_survive_import_export_import(db, tmp_path):
    before, after = round_trip(tmp_path, CORPUS / "seed", CORPUS / "finews-real", CORPUS / "finews-variants")

    assert len(before) == 124
    assert after == before


def test_drafts_are_exported_unpublished_and_come_back_as_drafts(db, tmp_path, make_post):
    make_post(key="DRAFT1", title="草稿", status=Post.Status.DRAFT, tags=["内部"])

    before, after = round_trip(tmp_path)

    assert after["DRAFT1"][2] == Post.Status.DRAFT
    assert after == before


def test_exported_files_use_the_crawlers_format(db, tmp_path):
    call_command("import_posts", str(DEMO_POSTS), verbosity=0)

    call_command("export_posts", str(tmp_path), stdout=io.StringIO())

    text = (tmp_path / "_posts" / "2022-05-26-NW202205262392036710.md").read_text(encoding="utf-8")
    assert text.startswith(
        '---\nlayout: post\ntitle: "商汤临港智算中心扩容 AI大装置服务更多行业客户"\ndate: 2022-05-26 14:31:03 +0800\n'
        "categories: shanghaizhengquanbao·zhongguozhengquanwang\n"
        'tags: ["临港", "人工智能", "商汤-W", "智算中心"]\n---\n'
    )
    assert "<!-- EM_StockImg_Start -->" in text
    assert '<p class="em_media">（文章来源：上海证券报·中国证券网）</p>' in text
    assert "/html_News/NewsShare.html?infoCode=NW202205262392036710>" in text
    assert (
        "[返回上海证券报·中国证券网新闻](/category/shanghaizhengquanbao·zhongguozhengquanwang.html)｜[返回首页](/)"
        in text
    )
    post = parse_post(decode(text.encode()), "NW202205262392036710")
    assert post.warnings == []


def test_export_queries_do_not_grow_with_the_number_of_posts(db, tmp_path, django_assert_max_num_queries):
    call_command("import_posts", str(DEMO_POSTS), verbosity=0)

    # Expect 3 queries for the 33 posts (one chunk): posts with category and source, charts, tags.
    with django_assert_max_num_queries(3):
        call_command("export_posts", str(tmp_path), stdout=io.StringIO())

    assert len(list((tmp_path / "_posts").glob("*.md"))) == 33
