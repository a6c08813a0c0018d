"""Every post back out as a Jekyll file in the crawler's format, so import → export → import is lossless."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

from articles.models import Post
from articles.validators import validate_post_key

from .body import Chart
from .frontmatter import OLD_SITE_ZONE
from .jekyll import render_post
from .parsing import ParsedPost


def export_posts(directory, *, chunk_size=500, on_skipped=None):
    """Write each post to `directory/_posts/YYYY-MM-DD-<key>.md`; return how many were written.

    A post whose key cannot name a file (`/` or `..` in rows stored before keys were checked) is skipped,
    and `on_skipped(post, reason)` told. An OSError (the directory cannot be made or written) ends the export.
    """
    target = Path(directory) / "_posts"
    target.mkdir(parents=True, exist_ok=True)
    posts = (
        Post.objects.select_related("category", "source")
        .prefetch_related("charts", "tags")
        .order_by("pk")
        .iterator(chunk_size=chunk_size)
    )
    count = 0
    for post in posts:
        parsed = as_parsed(post)
        try:
            validate_post_key(parsed.key)
        except ValidationError:
            if on_skipped:
                on_skipped(post, f"its key {parsed.key!r} cannot name a file")
            continue
        name = f"{post.published_at.astimezone(OLD_SITE_ZONE):%Y-%m-%d}-{parsed.key}.md"
        # Share links point at this site, which answers the old share URLs.
        (target / name).write_text(render_post(parsed, share_base=settings.SITE_URL), encoding="utf-8")
        count += 1
    return count


def as_parsed(post):
    """A stored post as the ParsedPost that importing its exported file gives back."""
    return ParsedPost(
        key=post.key or post.slug,
        title=post.title,
        published_at=post.published_at,
        category_slug=post.category.slug,
        category_name=post.category.name,
        info_code=post.info_code,
        status=post.status,
        summary=post.summary,
        body=post.body,
        source=post.source.name if post.source else None,
        tags=sorted(tag.name for tag in post.tags.all()),
        original_url=post.original_url,
        charts=[Chart(c.market, c.code, c.chart_type, c.image_url, c.quote_url) for c in post.charts.all()],
    )
