"""The post body: the crawler's page furniture turned into data, the rest rendered like kramdown and sanitised."""

import collections
import html
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

import cmarkgfm
from cmarkgfm.cmark import Options

from articles.html import sanitize_html
from articles.models import StockChart
from articles.validators import CHART_IMAGE_HOSTS, QUOTE_HOSTS, is_allowed_url

from .frontmatter import PostFileError

# Every pattern here runs on untrusted files of up to 5 MB, so each must take linear time: no pattern lets two
# attempts scan the same stretch of text (a tag's attributes stop at the next `<` or `>`, a closing tag is
# searched for once and remembered), and no two quantifiers compete for the same characters.
CHART_MARKER = re.compile(r"<!--\s*EM_StockImg_(?P<which>Start|End)\s*-->")
# A start tag's attributes, up to its `>`; crawler HTML never has a raw `<` or `>` inside an attribute.
P_TAG = re.compile(r"<p\b(?P<attrs>[^<>]*)>")
P_TAG_ANY_CASE = re.compile(P_TAG.pattern, re.I)
P_CLOSE = re.compile(r"</p>")
P_CLOSE_ANY_CASE = re.compile(P_CLOSE.pattern, re.I)
IMG_TAG = re.compile(r"<img\b(?P<attrs>[^<>]*)")
A_TAG = re.compile(r"<a\b(?P<attrs>[^<>]*)")
STYLE_ATTR = re.compile(r"\bstyle=\"(?P<value>[^\"]*)\"", re.I)
SRC_ATTR = re.compile(r"\bsrc=\"(?P<url>[^\"]*)\"")
HREF_ATTR = re.compile(r"\bhref=\"(?P<url>[^\"]*)\"")
# The crawler put an invisible paragraph before each chart; hidden text is never content.
DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.I)
EM_MEDIA = re.compile(r"\bclass=\"em_media\"")
SOURCE_OPENING = re.compile(r"\s*[（(]\s*文章来源\s*[:：]")
# The share link's query string: infoCode first, or after a few other parameters.
SHARE_URL = re.compile(r"/html_News/NewsShare\.html\?(?:[^\s<>#&]{0,200}+&){0,10}?infoCode=(?P<code>[A-Za-z0-9]+)")
AUTOLINK = re.compile(r"<(?P<url>https?://[^\s<>]+)?>")
# `[返回东财滚动新闻](../emnews/)`, alone or joined to `[返回首页](…)` by `｜`; slugs may hold spaces and parentheses.
BACK_LINK = re.compile(r"\[返回(?P<text>[^\]]*)\]\((?P<url>(?:[^()\n]|\([^()\n]*\))*)\)")
BACK_LINKS_LINE = re.compile(rf"(?:{BACK_LINK.pattern}[ \t]*+(?:[｜|][ \t]*+)?)+")
CATEGORY_URL = re.compile(r"(?:^|/)category/(?P<slug>[^/]+)\.html$|^(?:\.\./|/|//[^/]+/)(?P<directory>[^/]+)/?$")
HOME = "首页"

# Older 东财滚动新闻 posts end their one paragraph with the source in brackets: `…。（证券时报）`.
BRACKET_SOURCE = re.compile(r"[。！？!?.”\"][ \t\u3000]*[（(](?P<name>[^（）()\n]{2,20})[）)][ \t\u3000]*$")
# Brackets at the end that are editors' notes, not publishers.
NOT_A_SOURCE = ("附", "图", "注", "完", "续", "组图", "视频", "更新", "记者")

NID = re.compile(r"[?&]nid=(?P<market>\d{1,3})\.(?P<code>[A-Za-z0-9]{1,20})\b")
IMAGE_TYPE = re.compile(r"[?&]imageType=(?P<type>\w+)")
QUOTE_SYMBOL = re.compile(r"/(?P<market>\d{1,3})\.(?P<code>[A-Za-z0-9]{1,20})(?:[/?#]|$)")
# Inline stock and board links (`data-code="1,600160"`, `…/unify/r/90.BK0473`), in body order.
MENTION = re.compile(
    r"data-code=\"(?P<market>\d{1,3}),(?P<code>[A-Za-z0-9]{1,20})\""
    r"|quote\.eastmoney\.com/unify/r/(?P<link_market>\d{1,3})\.(?P<link_code>[A-Za-z0-9]{1,20})\b"
)
TAG = re.compile(r"<[^<>]*>")
SENTENCE_END = re.compile(r"[。！？!?]")
# Lines that are a block-level HTML element from start to end need no Markdown pass (see render_markdown):
# CommonMark's HTML blocks (types 1 and 6), which start with one of these tags.
HTML_LINE = re.compile(r" {0,3}<(?P<tag>[A-Za-z][A-Za-z0-9]*)(?=[ \t>]|/>)[^\n]*>[ \t]*")
HTML_BLOCK_TAGS = {
    "address", "article", "aside", "base", "basefont", "blockquote", "body", "caption", "center", "col", "colgroup",
    "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
    "frame", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "head", "header", "hr", "html", "iframe", "legend",
    "li", "link", "main", "menu", "menuitem", "nav", "noframes", "ol", "optgroup", "option", "p", "param", "pre",
    "script", "search", "section", "style", "summary", "table", "tbody", "td", "textarea", "tfoot", "th", "thead",
    "title", "tr", "track", "ul",
}  # fmt: skip
MARKDOWN_OPTIONS = Options.CMARK_OPT_SMART | Options.CMARK_OPT_UNSAFE

# Far beyond any post, and far below what takes the sanitiser long; see check_sanitizer_cost.
MAX_NESTING = 200
COSTLY_CHARACTER = re.compile(r"[&\x80-\xbf]")
MAX_COSTLY_WEIGHT = 20_000_000_000
TAG_TOKEN = re.compile(r"<(?P<end>/?)(?P<name>[A-Za-z][A-Za-z0-9]*)\b[^<>]*?(?P<self_closing>/?)>")
VOID_ELEMENTS = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track",
    "wbr",
}  # fmt: skip
# Elements whose end tag may be left out: the next sibling of the same name, or the parent's end, closes them.
IMPLIED_END = {
    "dd", "dt", "li", "optgroup", "option", "p", "rb", "rp", "rt", "rtc", "tbody", "td", "tfoot", "th", "thead", "tr",
}  # fmt: skip


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
    check_sanitizer_cost(rendered)
    body.mentions = find_mentions(rendered)
    body.html = sanitize_html(rendered)
    return body


def take_furniture(text):
    """`(Body with the furniture's data, the remaining content)`; the content is still Markdown."""
    body = Body()
    blocks = chart_blocks(text)
    body.charts = [chart for _, _, block in blocks if (chart := _parse_chart(block, body))]
    text = _cut(text, [(start, end) for start, end, _ in blocks])
    text = _cut(text, hidden_paragraphs(text))
    if line := source_line(text):
        start, end, name = line
        body.source = plain_text(name)
        text = text[:start] + text[end:]
    lines = text.split("\n")
    _take_trailing_links(lines, body)
    body.summary = _take_digest(lines)
    content = "\n".join(lines).strip()
    if body.source is None:
        body.source = bracket_source(content)
    return body, content


def chart_blocks(text):
    """`(start, end, inner HTML)` of each `EM_StockImg_Start … EM_StockImg_End` block, in order.

    A block runs from a start marker to the first end marker after it, as a lazy `.*?` would match it, but
    in one pass over the markers: unclosed start markers cost nothing.
    """
    blocks = []
    opening = None
    for marker in CHART_MARKER.finditer(text):
        if marker["which"] == "Start":
            opening = opening or marker
        elif opening:
            blocks.append((opening.start(), marker.end(), text[opening.end() : marker.start()]))
            opening = None
    return blocks


def hidden_paragraphs(text):
    """`(start, end)` of each `<p style="…display:none…">…</p>`, up to the first `</p>` after its start tag."""
    spans = []
    closing = None
    for tag in P_TAG_ANY_CASE.finditer(text):
        if (spans and tag.start() < spans[-1][1]) or not any(
            DISPLAY_NONE.search(style["value"]) for style in STYLE_ATTR.finditer(tag["attrs"])
        ):
            continue
        closing = _next_closing(P_CLOSE_ANY_CASE, text, tag.end(), closing)
        if closing is None:
            break
        spans.append((tag.start(), closing.end()))
    return spans


def source_line(text):
    """`(start, end, publisher)` of the first `<p class="em_media">（文章来源：…）</p>` paragraph, or None."""
    closing = None
    for tag in P_TAG.finditer(text):
        if closing is not None and tag.end() <= closing.start():
            continue  # its paragraph ends where the one just looked at ends, which was no source line either
        if not EM_MEDIA.search(tag["attrs"]) or not (opening := SOURCE_OPENING.match(text, tag.end())):
            continue
        closing = P_CLOSE.search(text, opening.end())
        if closing is None:
            return None
        inner = text[opening.end() : closing.start()].rstrip()
        if inner.endswith(("）", ")")):
            return tag.start(), closing.end(), inner[:-1].strip()
    return None


def _next_closing(pattern, text, position, found):
    """The first match of `pattern` at or after `position`; `found`, the one an earlier call returned, is reused
    while it still qualifies, so that repeated start tags do not search the same text again and again."""
    if found is not None and found.start() >= position:
        return found
    return pattern.search(text, position)


def _cut(text, spans):
    """`text` without the sorted, disjoint `(start, end)` spans."""
    if not spans:
        return text
    parts = []
    position = 0
    for start, end in spans:
        parts.append(text[position:start])
        position = end
    parts.append(text[position:])
    return "".join(parts)


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
    image_url = html.unescape(_attribute(IMG_TAG, SRC_ATTR, block))
    quote_url = html.unescape(_attribute(A_TAG, HREF_ATTR, block))
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
    code = symbol["code"]
    # Stored chart URLs end up in `src` and `href` attributes: anything but EastMoney's is dropped, and
    # the chart is drawn from its market and code.
    if image_url and not is_allowed_url(image_url, CHART_IMAGE_HOSTS):
        body.warnings.append(f"the chart image URL of {code} is not http(s) on EastMoney's chart hosts; dropped")
        image_url = ""
    if quote_url and not is_allowed_url(quote_url, QUOTE_HOSTS):
        body.warnings.append(f"the quote link of chart {code} is not http(s) on EastMoney's quote site; dropped")
        quote_url = ""
    return Chart(int(symbol["market"]), code, chart_type, image_url, quote_url)


def _attribute(tag_pattern, attribute_pattern, block):
    """The attribute's value in the first tag of the block that has one; of several, the last, which is
    the tag's own where a `data-src="…"` precedes its `src="…"`."""
    for tag in tag_pattern.finditer(block):
        if values := [match["url"] for match in attribute_pattern.finditer(tag["attrs"])]:
            return values[-1]
    return ""


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


def render_markdown(text):
    """Render Markdown with inline HTML as Jekyll's kramdown renders the crawler's posts.

    Most crawler bodies are already HTML: one block-level element per line. Markdown passes such raw HTML
    blocks through untouched, so they skip the Markdown pass; the tests check the two paths agree on every
    corpus post.
    """
    if is_html_blocks(text):
        return text
    return _commonmark(text)


def _commonmark(text):
    # cmark-gfm is CommonMark in C, built to take linear time on any input (Python-Markdown took minutes
    # on a few kilobytes of `[` or unclosed tags). With GFM tables and typographic quotes, dashes and
    # ellipses it renders every corpus post as kramdown did. Raw HTML is kept: sanitize_html cleans it.
    html = cmarkgfm.markdown_to_html_with_extensions(text, options=MARKDOWN_OPTIONS, extensions=["table"])
    return html.rstrip("\n")


def is_html_blocks(text):
    """Whether every non-blank line is one block-level HTML element, which Markdown passes through as is."""
    for line in text.split("\n"):
        if line.strip():
            match = HTML_LINE.fullmatch(line)
            if not match or match["tag"].lower() not in HTML_BLOCK_TAGS:
                return False
    return True


def check_sanitizer_cost(html_text):
    """Raise PostFileError for HTML the sanitiser would take minutes over; no real post comes near.

    nh3's HTML parser spends time in proportion to the depth of open elements on each block-level tag, so
    200,000 nested `<div>` take hours: the depth is counted as a parser would build it, erring on the deep
    side (an end tag closes only the element on top, after elements whose end tag is optional). It also
    spends time in proportion to the text's length on each `&` and each character from U+0080 to U+00BF
    (no-break space, soft hyphen…): their count times the length is bounded.
    """
    costly = len(html_text) - len(COSTLY_CHARACTER.sub("", html_text))
    if costly * len(html_text) > MAX_COSTLY_WEIGHT:
        raise PostFileError(
            f"the body's HTML is too large for its number of '&' and Latin-1 symbols ({len(html_text):,} characters)"
        )
    stack = []
    open_count = collections.Counter()
    for end, name, self_closing in TAG_TOKEN.findall(html_text):
        name = name.lower()
        if end:
            if open_count[name]:
                while stack[-1] != name and stack[-1] in IMPLIED_END:
                    open_count[stack.pop()] -= 1
                if stack[-1] == name:
                    open_count[stack.pop()] -= 1
        elif not self_closing and name not in VOID_ELEMENTS:
            if stack and stack[-1] == name and name in IMPLIED_END:
                stack.pop()
            else:
                open_count[name] += 1
            stack.append(name)
            if len(stack) > MAX_NESTING:
                raise PostFileError(f"the body nests HTML elements more than {MAX_NESTING} deep")
