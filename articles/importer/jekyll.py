"""Writing posts in the crawler's Jekyll format, the inverse of parse_post: used by the exporter and generator."""

import json
import re

from articles.models import Post, StockChart

from .body import bracket_source
from .frontmatter import OLD_SITE_ZONE

SHARE_PATH = "/html_News/NewsShare.html"
# Values YAML reads back as the same plain string; anything else is written double-quoted.
PLAIN_SCALAR = re.compile(r"[^\s\"'#:\[\]{},&*!|>%@`?-][^\"#:\[\]{},]*(?<!\s)")
YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "~", ""}


def scalar(value):
    """`value` as a YAML scalar: plain when that reads back unchanged, else JSON-style double-quoted."""
    if PLAIN_SCALAR.fullmatch(value) and value.lower() not in YAML_WORDS and not value[0].isdigit():
        return value
    return json.dumps(value, ensure_ascii=False)


def front_matter(post, *, title=None, date=None):
    """The `---` block; `title` and `date` override what is written (the generator's crawler quirks)."""
    if len(post.tags) == 1:
        tags = scalar(post.tags[0])
    else:
        tags = "[" + ", ".join(json.dumps(tag, ensure_ascii=False) for tag in post.tags) + "]"
    lines = [
        "---",
        "layout: post",
        f"title: {json.dumps(post.title, ensure_ascii=False) if title is None else title}",
        f"date: {format_date(post.published_at) if date is None else date}",
        f"categories: {scalar(post.category_slug)}",
        f"tags: {tags}",
    ]
    if post.status == Post.Status.DRAFT:
        lines.append("published: false")
    return "\n".join([*lines, "---", ""])


def format_date(moment):
    """`2022-05-25 13:51:07 +0800`, with microseconds only when there are any (posts made in the admin)."""
    return f"{moment.astimezone(OLD_SITE_ZONE):%Y-%m-%d %H:%M:%S{'.%f' if moment.microsecond else ''} +0800}"


def chart_block(chart):
    """An `EM_StockImg` block as EastMoney embedded it, after its hidden spacer paragraph."""
    # The stored URLs, else EastMoney's for the symbol, as the article page shows them.
    shown = StockChart(**chart.as_dict())
    image, quote = shown.image_src, shown.quote_href
    label = "K图" if chart.chart_type == "k" else "分时图"
    return (
        '<p style="display:none;height:1px;overflow:hidden;"><br /></p>'
        f'<!-- EM_StockImg_Start --><p style="text-align:center;"><a href="{_attr(quote)}" class="EmImageRemark" '
        f'target="_blank"><img src="{_attr(image)}" border="0" alt="{label} {chart.code}_0" '
        'style="border:#d1d1d1 1px solid;" width="578" height="276" /></a></p><!-- EM_StockImg_End -->'
    )


def source_line(name):
    """The `（文章来源：…）` paragraph naming the publisher."""
    return f'<p class="em_media">（文章来源：{_text(name)}）</p>'


def share_link(info_code, base):
    """The `<…/html_News/NewsShare.html?infoCode=…>` line; `base` is the host it points at."""
    return f"<{base}{SHARE_PATH}?infoCode={info_code}>"


def back_links(slug, name, prefix=""):
    """The `[返回…]｜[返回首页]` line; `prefix` is the old site's host (`//finews.withounder.com`) or empty."""
    return f"[返回{name}]({prefix}/category/{slug}.html)｜[返回首页]({prefix}/)"


def render_post(post, *, share_base):
    """A ParsedPost as a Jekyll post in the crawler's format; parse_post reads it back to the same post."""
    parts = [front_matter(post)]
    if post.summary:
        # The summary is text, and the digest line is read as HTML: `<` and `&` are written as entities.
        parts.append("\n".join(f"> {_text(line)}" for line in post.summary.split("\n")) + "\n\n")
    body = "".join(chart_block(chart) for chart in post.charts) + post.body
    if post.source and bracket_source(post.body) != post.source:
        body += source_line(post.source)
    links = [f"<{post.original_url}>"] if post.original_url else []
    if post.info_code:
        links.append(share_link(post.info_code, share_base))
    parts += [
        body,
        "\n\n",
        "\n".join(links),
        "\n\n" if links else "",
        back_links(post.category_slug, post.category_name),
        "\n",
    ]
    return "".join(parts)


def _attr(value):
    return value.replace("&", "&amp;").replace('"', "&quot;")


def _text(value):
    return value.replace("&", "&amp;").replace("<", "&lt;")
