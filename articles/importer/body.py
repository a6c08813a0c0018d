"""The post body: the crawler's page furniture turned into data, the rest rendered like kramdown and sanitised."""

import functools
import html
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

import markdown

from articles.html import sanitize_html
from articles.models import StockChart

CHART_BLOCK = re.compile(r"<!--\s*EM_StockImg_Start\s*-->(?P<block>.*?)<!--\s*EM_StockImg_End\s*-->", re.S)
# The crawler put an invisible paragraph before each chart; hidden text is never content.
HIDDEN_PARAGRAPH = re.compile(r"<p\b[^>]*\bstyle=\"[^\"]*display\s*:\s*none[^\"]*\"[^>]*>.*?</p>", re.S | re.I)
SOURCE_LINE = re.compile(
    r"<p\b[^>]*\bclass=\"em_media\"[^>]*>\s*[（(]\s*文章来源\s*[:：]\s*(?P<name>.*?)\s*[）)]\s*</p>", re.S
)
SHARE_URL = re.compile(r"/html_News/NewsShare\.html\?(?:[^\s<>#]*&)?infoCode=(?P<code>[A-Za-z0-9]+)")
AUTOLINK = re.compile(r"<(?P<url>https?://[^\s<>]+)?>")
# `[返回东财滚动新闻](../emnews/)`, alone or joined to `[返回首页](…)` by `｜`; slugs may hold spaces and parentheses.
BACK_LINK = re.compile(r"\[返回(?P<text>[^\]]*)\]\((?P<url>(?:[^()\n]|\([^()\n]*\))*)\)")
BACK_LINKS_LINE = re.compile(rf"(?:{BACK_LINK.pattern}[ \t]*[｜|]?[ \t]*)+")
CATEGORY_URL = re.compile(r"(?:^|/)category/(?P<slug>[^/]+)\.html$|^(?:\.\./|/|//[^/]+/)(?P<directory>[^/]+)/?$")
HOME = "首页"

# Older 东财滚动新闻 posts end their one paragraph with the source in brackets: `…。（证券时报）`.
BRACKET_SOURCE = re.compile(r"[。！？!?.”\"][ \t\u3000]*[（(](?P<name>[^（）()\n]{2,20})[）)][ \t\u3000]*$")
# Brackets at the end that are editors' notes, not publishers.
NOT_A_SOURCE = ("附", "图", "注", "完", "续", "组图", "视频", "更新", "记者")

CHART_IMAGE = re.compile(r"<img\b[^>]*\bsrc=\"(?P<url>[^\"]*)\"")
CHART_LINK = re.compile(r"<a\b[^>]*\bhref=\"(?P<url>[^\"]*)\"")
NID = re.compile(r"[?&]nid=(?P<market>\d{1,3})\.(?P<code>[A-Za-z0-9]{1,20})\b")
IMAGE_TYPE = re.compile(r"[?&]imageType=(?P<type>\w+)")
QUOTE_SYMBOL = re.compile(r"/(?P<market>\d{1,3})\.(?P<code>[A-Za-z0-9]{1,20})(?:[/?#]|$)")
# Inline stock and board links (`data-code="1,600160"`, `…/unify/r/90.BK0473`), in body order.
MENTION = re.compile(
    r"data-code=\"(?P<market>\d{1,3}),(?P<code>[A-Za-z0-9]{1,20})\""
    r"|quote\.eastmoney\.com/unify/r/(?P<link_market>\d{1,3})\.(?P<link_code>[A-Za-z0-9]{1,20})\b"
)
TAG = re.compile(r"<[^>]*>")
SENTENCE_END = re.compile(r"[。！？!?]")
# Lines that are a block-level HTML element from start to end need no Markdown pass (see render_markdown).
HTML_LINE = re.compile(r" {0,3}<(?P<tag>[A-Za-z][A-Za-z0-9]*)\b[^\n]*>[ \t]*")


@dataclass(slots=True)
class Chart:
    """A stock chart as the crawler embedded it: EastMoney market id, code, chart type and original URLs."""

    market: int
    code: str
    chart_type: str = StockChart.ChartType.KLINE
    image_url: str = ""
    quote_url: str = ""

    def as_dict(self):
        return {
            "market": self.market,
            "code": self.code,
            "chart_type": self.chart_type,
            "image_url": self.image_url,
            "quote_url": self.quote_url,
        }


@dataclass(slots=True)
class Body:
    """A body split into content and the furniture recognised around it."""

    html: str = ""
    summary: str = ""
    source: str | None = None
    info_code: str | None = None
    original_url: str = ""
    back_link_name: str = ""
    back_link_slug: str = ""
    charts: list[Chart] = field(default_factory=list)
    mentions: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def first_sentence(self, limit=100):
        """The digest's first sentence, else the body's: a stand-in for a missing title."""
        text = " ".join((self.summary or plain_text(self.html)).split())
        end = SENTENCE_END.search(text)
        sentence = text[: end.end()].rstrip("。") if end else text
        return sentence[:limit]


def parse_body(text):
    """Split a post body (Markdown with inline HTML) into sanitised HTML and the data its furniture carried."""
    body, content = take_furniture(text)
    rendered = render_markdown(content)
    body.mentions = find_mentions(rendered)
    body.html = sanitize_html(rendered)
    return body


def take_furniture(text):
    """`(Body with the furniture's data, the remaining content)`; the content is still Markdown."""
    body = Body()
    body.charts = [chart for match in CHART_BLOCK.finditer(text) if (chart := _parse_chart(match["block"], body))]
    text = HIDDEN_PARAGRAPH.sub("", CHART_BLOCK.sub("", text))
    if match := SOURCE_LINE.search(text):
        body.source = plain_text(match["name"])
        text = text[: match.start()] + text[match.end() :]
    lines = text.split("\n")
    _take_trailing_links(lines, body)
    body.summary = _take_digest(lines)
    content = "\n".join(lines).strip()
    if body.source is None:
        body.source = bracket_source(content)
    return body, content


def find_mentions(html_text):
    """`(market, code)` of every stock or board the HTML links to, first mention first."""
    seen = {}
    for match in MENTION.finditer(html_text):
        market = match["market"] or match["link_market"]
        seen.setdefault((int(market), match["code"] or match["link_code"]), None)
    return list(seen)


def bracket_source(text):
    """The publisher in brackets at the end of the last paragraph (`…。（证券时报）`), or None."""
    last_line = next((line for line in reversed(text.split("\n")) if line.strip()), "")
    match = BRACKET_SOURCE.search(plain_text(last_line))
    if not match or match["name"].strip().startswith(NOT_A_SOURCE):
        return None
    name = match["name"].strip()
    return name if any(ch.isalpha() for ch in name) else None


def plain_text(fragment):
    """Text of an HTML fragment, entities decoded and whitespace trimmed."""
    return html.unescape(TAG.sub("", fragment)).strip()


def _parse_chart(block, body):
    image = CHART_IMAGE.search(block)
    link = CHART_LINK.search(block)
    image_url = html.unescape(image["url"]) if image else ""
    quote_url = html.unescape(link["url"]) if link else ""
    symbol = NID.search(image_url) or QUOTE_SYMBOL.search(quote_url)
    if not symbol:
        body.warnings.append("a stock chart block names no stock (no nid= in its image, no quote link); dropped")
        return None
    chart_type = StockChart.ChartType.KLINE
    if kind := IMAGE_TYPE.search(image_url):
        if kind["type"].lower() in StockChart.ChartType.values:
            chart_type = kind["type"].lower()
        else:
            body.warnings.append(f"unknown chart type {kind['type']!r} for {symbol['code']}; shown as a K-line chart")
    return Chart(int(symbol["market"]), symbol["code"], chart_type, image_url, quote_url)


def _take_trailing_links(lines, body):
    """Remove the share link, the original-article link, empty `<>` and back-links from the end of `lines`."""
    while lines:
        line = lines[-1].strip()
        if not line:
            lines.pop()
        elif BACK_LINKS_LINE.fullmatch(line):
            for link in BACK_LINK.finditer(line):
                if link["text"] != HOME:
                    body.back_link_name = body.back_link_name or link["text"].strip()
                    body.back_link_slug = body.back_link_slug or _slug_from_url(link["url"].strip())
            lines.pop()
        elif autolink := AUTOLINK.fullmatch(line):
            url = autolink["url"]
            share = SHARE_URL.search(url) if url else None
            if share and body.info_code is None:
                body.info_code = share["code"]
            elif url and not share and not body.original_url:
                body.original_url = url
            elif url:
                break  # a second link of the same kind is content, not furniture
            lines.pop()
        else:
            break


def _slug_from_url(url):
    match = CATEGORY_URL.search(url)
    return unquote(match["slug"] or match["directory"]) if match else ""


def _take_digest(lines):
    """Remove a leading `> digest` blockquote from `lines` and return its text."""
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or not lines[start].lstrip().startswith(">"):
        return ""
    end = start
    quoted = []
    while end < len(lines) and lines[end].lstrip().startswith(">"):
        quoted.append(lines[end].lstrip()[1:].removeprefix(" "))
        end += 1
    del lines[:end]
    return plain_text("\n".join(quoted))


@functools.cache
def _markdown():
    # kramdown's dialect is close to PHP Markdown Extra ("extra": tables, footnotes, definition lists,
    # abbreviations, fenced code, attribute lists, markdown="1"), and kramdown turns straight quotes,
    # dashes and ellipses into typographic ones by default ("smarty").
    return markdown.Markdown(extensions=["extra", "smarty"], output_format="html")


def render_markdown(text):
    """Render Markdown with inline HTML as Jekyll's kramdown would.

    Most crawler bodies are already HTML: one block-level element per line. Markdown passes such raw HTML
    blocks through untouched, so they skip the (comparatively slow) Markdown pass; the tests check the
    two paths agree on every corpus post.
    """
    if is_html_blocks(text):
        return text
    converter = _markdown()
    converter.reset()
    return converter.convert(text)


def is_html_blocks(text):
    """Whether every non-blank line is one block-level HTML element, which Markdown passes through as is."""
    block_level = _markdown().block_level_elements
    for line in text.split("\n"):
        if line.strip():
            match = HTML_LINE.fullmatch(line)
            if not match or match["tag"].lower() not in block_level:
                return False
    return True
