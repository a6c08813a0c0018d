"""The fake-news generator and `manage.py generate_posts`: deterministic synthetic posts, as files in every
crawler variant (about 1% malformed) and as the parsed posts an import of those files would store."""

import collections
import dataclasses
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from articles import generator
from articles.html import sanitize_html
from articles.importer.body import plain_text
from articles.importer.files import PostFile, iter_post_files
from articles.importer.parsing import decode, parse_post
from articles.importer.report import Outcome


def files(directory):
    return {path.relative_to(directory): path.read_bytes() for path in sorted(directory.rglob("*.md"))}


def text_of(post):
    return f"{post.title} {post.summary} {plain_text(post.body)}"


def test_the_same_seed_writes_the_same_files_and_another_seed_others(tmp_path):
    generator.write_post_files(tmp_path / "a", count=200, seed=7)
    generator.write_post_files(tmp_path / "b", count=200, seed=7)
    generator.write_post_files(tmp_path / "c", count=200, seed=8)

    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_any_range_of_posts_is_the_same_made_alone_or_within_a_longer_run():
    run = list(generator.parsed_posts(60, seed=4))

    assert list(generator.parsed_posts(10, seed=4, start=50)) == run[50:]
    assert len({post.key for post in run}) == 60


def test_generated_files_cover_the_crawlers_variants_and_parse(tmp_path):
    malformed = generator.write_post_files(tmp_path, count=2000, seed=1)
    failures, posts, texts = 0, [], []
    for item in iter_post_files([tmp_path]):
        assert isinstance(item, PostFile)
        try:
            text = decode(item.data)
            posts.append(parse_post(text, item.file_id))
            texts.append(text)
        except ValueError:
            failures += 1

    assert failures == malformed
    assert 5 <= malformed <= 40
    categories = collections.Counter(post.category_slug for post in posts)
    assert len(categories) >= 45
    assert 0.28 < categories["emnews"] / len(posts) < 0.39
    assert len({post.source for post in posts}) >= 30
    charted = [post for post in posts if post.charts]
    assert 0.35 < len(charted) / len(posts) < 0.45
    assert {len(post.charts) for post in charted} == {1, 2, 3}
    assert {chart.chart_type for post in charted for chart in post.charts} == {"k", "r"}
    assert any(post.summary for post in posts)
    assert any(post.mentions for post in posts)
    assert any(post.info_code and post.info_code.startswith("AN") for post in posts)
    assert any(post.status == "draft" for post in posts)
    for variant in ("<>", "[返回首页](../)", "//finews.zning.me/", "choicewzp1", "<center><img", "（文章来源："):
        assert any(variant in text for text in texts), variant
    warnings = " ".join(warning for post in posts for warning in post.warnings)
    for gap in ("not valid YAML", "empty title", "empty date"):
        assert gap in warnings
    assert any(path.name.startswith("-") for path in tmp_path.rglob("*.md"))


def test_parsed_posts_are_what_importing_their_files_gives():
    for story in generator.stories(600, seed=2):
        parsed = parse_post(story.text(), story.number)

        assert dataclasses.replace(parsed, warnings=[]) == dataclasses.replace(story.post, warnings=[]), story.number
        # Stored bodies are sanitised already, as the importer stores them.
        assert sanitize_html(story.post.body) == story.post.body


def test_bodies_are_several_paragraphs_of_market_news_with_codes_names_and_stock_links():
    posts = list(generator.parsed_posts(3000, seed=3))
    texts = [text_of(post) for post in posts]

    average_bytes = sum(len(plain_text(post.body).encode()) for post in posts) / len(posts)
    assert 1500 < average_bytes < 3000
    assert sum(post.body.count("<p>") for post in posts) / len(posts) >= 3
    for term in generator.COMMON_TERMS:
        assert sum(term in text for text in texts) / len(texts) > 0.3, term
    for term in generator.MIXED_TERMS:
        assert any(term in text for text in texts), term
    assert any("贵州茅台（600519）" in text for text in texts)
    assert any("腾讯控股（00700）" in text for text in texts)
    assert any('data-code="1,600519"' in post.body for post in posts)
    assert 0.35 < sum(bool(post.charts) for post in posts) / len(posts) < 0.45
    assert any(post.status == "draft" for post in posts)
    assert any(post.published_at.year == generator.SCHEDULED.year for post in posts)


def test_rare_terms_appear_only_where_the_generator_puts_them():
    every = generator.RARE_EVERY
    rare = re.compile("|".join(generator.RARE_TERMS))
    placed = [generator.story(n * every + every // 2, seed=5) for n in range(len(generator.RARE_TERMS))]
    others = list(generator.parsed_posts(3000, seed=5))

    # Stories in the 2021 style (one paragraph of plain text) carry none.
    found = {rare.search(text_of(story.post))[0] for story in placed if not story.plain}
    assert found and found <= set(generator.RARE_TERMS)
    assert [post.key for post in others if rare.search(text_of(post))] == [others[every // 2].key]
    # At most one post in RARE_EVERY has one: under 100 a million for each term.
    assert 1_000_000 / every / len(generator.RARE_TERMS) < 100


def test_the_command_reports_what_it_wrote(tmp_path):
    out = io.StringIO()

    call_command("generate_posts", str(tmp_path), count=50, seed=3, stdout=out)

    assert out.getvalue().startswith("50 posts (")
    assert len(files(tmp_path)) == 50
    assert not [item for item in iter_post_files([tmp_path]) if isinstance(item, Outcome)]


@pytest.mark.parametrize("target", ["a-file.txt", "a-file.txt/posts"])
def test_a_target_that_is_a_file_or_below_one_is_a_one_line_error(tmp_path, target):
    (tmp_path / "a-file.txt").write_text("not a directory")

    with pytest.raises(CommandError) as error:
        call_command("generate_posts", str(tmp_path / target), count=5, stdout=io.StringIO())

    assert str(tmp_path / target) in str(error.value)
    assert "\n" not in str(error.value)
