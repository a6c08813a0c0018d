"""`manage.py generate_posts`: deterministic synthetic posts in every crawler variant, about 1% malformed."""

import collections
import io

from django.core.management import call_command

from articles.importer.files import PostFile, iter_post_files
from articles.importer.generating import generate_posts
from articles.importer.parsing import decode, parse_post
from articles.importer.report import Outcome


def files(directory):
    return {path.relative_to(directory): path.read_bytes() for path in sorted(directory.rglob("*.md"))}


def test_the_same_seed_writes_the_same_files_and_another_seed_others(tmp_path):
    generate_posts(tmp_path / "a", count=200, seed=7)
    generate_posts(tmp_path / "b", count=200, seed=7)
    generate_posts(tmp_path / "c", count=200, seed=8)

    assert files(tmp_path / "a") == files(tmp_path / "b")
    assert files(tmp_path / "a") != files(tmp_path / "c")


def test_generated_posts_cover_the_crawlers_variants_and_parse(tmp_path):
    malformed = generate_posts(tmp_path, count=2000, seed=1)
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
    for variant in ("<>", "[返回首页](../)", "//finews.zning.me/", "choicewzp1", "<center><img", "（文章来源："):
        assert any(variant in text for text in texts), variant
    warnings = " ".join(warning for post in posts for warning in post.warnings)
    for gap in ("not valid YAML", "empty title", "empty date"):
        assert gap in warnings
    assert any(path.name.startswith("-") for path in tmp_path.rglob("*.md"))


def test_the_command_reports_what_it_wrote(tmp_path):
    out = io.StringIO()

    call_command("generate_posts", str(tmp_path), count=50, seed=3, stdout=out)

    assert out.getvalue().startswith("50 posts (")
    assert len(files(tmp_path)) == 50
    assert not [item for item in iter_post_files([tmp_path]) if isinstance(item, Outcome)]
