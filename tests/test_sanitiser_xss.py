"""Known XSS vectors, entered where bodies enter (the admin's post form, the importer), then read back through
the pages that show them (the article and the admin preview): nothing executable survives.

The vectors follow the classes of OWASP's XSS filter-evasion cheat sheet (script and event-handler
injection, `javascript:`/`vbscript:`/`data:` URLs plain, mixed-case, entity-encoded and split by
whitespace or control characters, malformed tags, `<base>`, `<meta refresh>`, CSS expressions and
`url()`, frames and objects), mutation XSS (markup a parser re-nests when it serialises), SVG and MathML,
Markdown links and images, and ids that would clobber the page's own.

Each page is parsed with html.parser: inside the article body every element and attribute must be on the
sanitiser's allow-list (or the stock-chart figure the site draws), and nowhere on the page may there be
an event handler, a script other than the page's own, a dangerous URL, or an element that runs code.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.urls import reverse

from articles.html import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, ALLOWED_URL_SCHEMES
from articles.importer.body import parse_body
from tests.post_form import post_form_data

pytestmark = pytest.mark.django_db

VECTORS = [
    # Script elements, plain and malformed
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.rocks/xss.js></SCRIPT>",
    '<SCRIPT/XSS SRC="http://xss.rocks/xss.js"></SCRIPT>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<SCRIPT SRC=http://xss.rocks/xss.js?< B >",
    '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>"\\>',
    "<xss onafterscriptexecute=alert(1)><script>1</script>",
    "<template><script>alert(1)</script></template>",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    # Event handlers
    '<a onmouseover="alert(document.cookie)">xxs link</a>',
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112'
    "&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083"
    '&#0000083&#0000039&#0000041">',
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    "<details open ontoggle=alert(1)>",
    "<img src=1 onerror\x0c=alert(1)>",
    "<isindex type=image src=1 onerror=alert(1)>",
    # javascript:, vbscript: and data: URLs, disguised
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    "<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>",
    "<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;"
    "&#39;&#88;&#83;&#83;&#39;&#41;>",
    "<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58"
    "&#x53&#x53&#x27&#x29>",
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="java\x00script:alert(1)">x</a>',
    "<a href='JAVASCRIPT:alert(1)'>x</a>",
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<img srcset="javascript:alert(1) 1x">',
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    "<BODY BACKGROUND=\"javascript:alert('XSS')\">",
    "<IMG DYNSRC=\"javascript:alert('XSS')\">",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\"><TR><TD BACKGROUND=\"javascript:alert('XSS')\">x</TD></TR></TABLE>",
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">x</button></form>',
    # CSS
    "<STYLE>li {list-style-image: url(\"javascript:alert('XSS')\");}</STYLE><UL><LI>XSS</br>",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">x</DIV>",
    "<DIV STYLE=\"width: expression(alert('XSS'));\">x</DIV>",
    "<style>@import'javascript:alert(1)';</style>",
    '<link rel=stylesheet href="javascript:alert(1)">',
    # Page-level elements
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=data:text/html base64,PHNjcmlwdD5hbGVydCgnWFNTJyk8L3NjcmlwdD4K">',
    "<BASE HREF=\"javascript:alert('XSS');//\">",
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<FRAMESET><FRAME SRC=\"javascript:alert('XSS');\"></FRAMESET>",
    '<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.rocks/scriptlet.html"></OBJECT>',
    '<object data="javascript:alert(1)"></object>',
    '<EMBED SRC="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" type="image/svg+xml"></EMBED>',
    # SVG and MathML
    "<svg/onload=alert('XSS')>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<math href="javascript:alert(1)">CLICKME</math>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    # Mutation XSS
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<form><math><mtext></form><form><mglyph><svg><mtext><style><path id="</style><img onerror=alert(1) src>">',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    "<p><svg><style>*{font-family:'</style><img/src=x\tonerror=alert(1)//'}</style></svg></p>",
    '<table><td><a href="</td><img src=x onerror=alert(1)>">x</a></td></table>',
    # Markdown, which the admin's body takes
    "[点我](javascript:alert(1))",
    "![图](javascript:alert(1))",
    "[点我](&#106;avascript:alert(1))",
    "[点我](data:text/html,<script>alert(1)</script>)",
    "[点我][1]\n\n[1]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "**<img src=x onerror=alert(1)>**",
    '[x](https://example.com/ "title" onmouseover="alert(1)")',
    "```\n<script>alert(1)</script>\n```",
    # Clobbering the page's own ids, and short codes carrying markup
    '<a href="#" id="share-url" class="copy-button" data-copy="share-url">x</a><span id="main">y</span>',
    '<p>[stock sh600519"><script>alert(1)</script>]</p>',
    '<p>[stock 116.00020 r"onerror=alert(1)]</p>',
]

# What the site's own stock-chart figure (a short code in the body) adds to the allow-list.
CHART_ATTRIBUTES = {
    "figure": {"class"},
    "figcaption": set(),
    "a": {"href", "target", "rel", "title"},
    "img": {"src", "alt", "width", "height", "loading", "decoding", "referrerpolicy"},
}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "background", "poster", "xlink:href", "dynsrc"}
# Elements that run code or change the page wherever they are, unless the page itself has them.
ACTIVE = {
    "script", "style", "svg", "math", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
    "form", "template", "noscript", "link", "meta",
}  # fmt: skip
TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


def dangerous_url(value):
    """Whether a URL would run code or load a document. Browsers read the scheme after trimming controls
    and spaces around the URL and removing tabs and newlines anywhere in it (WHATWG URL)."""
    scheme = urlsplit(TAB_OR_NEWLINE.sub("", value.strip("".join(map(chr, range(33)))))).scheme.lower()
    return bool(scheme) and scheme not in ALLOWED_URL_SCHEMES


class Page(HTMLParser):
    """Every element of a page as (tag, attributes, inside the article body)."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.elements, self.body_depth = [], 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        inside = self.body_depth > 0
        if inside and tag == "div":
            self.body_depth += 1
        elif tag == "div" and "article-body" in (attrs.get("class") or "").split():
            self.body_depth = 1
        self.elements.append((tag, attrs, inside))

    def handle_endtag(self, tag):
        if tag == "div" and self.body_depth:
            self.body_depth -= 1


def problems(html, own):
    """What on `html` could run code, compared with the page's own elements (`own`, a Page of a plain post)."""
    found = []
    elements = Page(html).elements
    scripts = sorted(str(sorted(attrs.items())) for tag, attrs, _ in elements if tag == "script")
    if scripts != sorted(str(sorted(attrs.items())) for tag, attrs, _ in own.elements if tag == "script"):
        found.append(f"scripts {scripts}")
    own_tags = {tag for tag, _, _ in own.elements}
    ids = []
    for tag, attrs, inside in elements:
        ids += [attrs["id"]] if "id" in attrs else []
        found += [f"<{tag} {name}>" for name in attrs if name.startswith("on")]
        found += [
            f"<{tag} {name}={value!r}>"
            for name, value in attrs.items()
            if name in URL_ATTRIBUTES and value and dangerous_url(value)
        ]
        if tag in ACTIVE and (tag not in own_tags or inside or "http-equiv" in attrs):
            found.append(f"<{tag}> {attrs}")
        if inside:
            allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag, set()) | CHART_ATTRIBUTES.get(tag, set())
            if tag not in ALLOWED_TAGS | CHART_ATTRIBUTES.keys():
                found.append(f"<{tag}> in the body")
            found += [f"<{tag} {name}> in the body" for name in attrs if name not in allowed | {"rel"}]
    found += [f"id {name!r} twice" for name in set(ids) if ids.count(name) > 1]
    return found


def shown(client, editor_client, post):
    """The article and its admin preview, freshly rendered."""
    for name, url, reader in [
        ("article", post.get_absolute_url(), client),
        ("admin preview", reverse("articles:post_preview", args=[post.pk]), editor_client),
    ]:
        cache.clear()
        response = reader.get(url)
        assert response.status_code == 200, name
        assert ("p", {}, True) in Page(response.text).elements, f"{name}: the body's first paragraph is not found"
        yield name, response.text


@pytest.fixture
def post_and_own_page(client, make_post):
    """A published post with a share link, and its page with a plain body: the page's own elements."""
    post = make_post(body="<p>正文</p>", info_code="NW1")
    return post, Page(client.get(post.get_absolute_url()).text)


def test_vectors_saved_in_the_admin_show_nothing_executable(editor_client, client, post_and_own_page):
    post, own = post_and_own_page
    found = {}
    for vector in VECTORS:
        data = post_form_data(post, body=f"<p>前</p>\n\n{vector}")
        response = editor_client.post(reverse("admin:articles_post_change", args=[post.pk]), data)
        assert response.status_code in (200, 302), vector  # saved, or refused with a message (a bad short code)
        post.refresh_from_db()
        found[vector] = problems(f'<div class="article-body">{post.body}</div>', Page(""))
        found[vector] += [
            f"{name}: {problem}" for name, page in shown(client, editor_client, post) for problem in problems(page, own)
        ]
    assert {vector: problem for vector, problem in found.items() if problem} == {}


def test_vectors_in_imported_bodies_show_nothing_executable(editor_client, client, post_and_own_page):
    post, own = post_and_own_page
    found = {}
    for vector in VECTORS:
        post.body = parse_body(f"<p>前</p>\n\n{vector}").html
        post.save()
        found[vector] = [
            f"{name}: {problem}" for name, page in shown(client, editor_client, post) for problem in problems(page, own)
        ]
    assert {vector: problem for vector, problem in found.items() if problem} == {}


def test_the_checker_finds_what_it_looks_for():
    raw = '<div class="article-body"><img src=x onerror=alert(1)><a href="jav\tascript:x">a</a><svg></svg></div>'
    assert problems(raw, Page("")) == [
        "<img onerror>",
        "<img onerror> in the body",
        "<a href='jav\\tascript:x'>",
        "<svg> {}",
        "<svg> in the body",
    ]
    page = '<meta http-equiv="refresh" content="0;url=x"><script src="/evil.js"></script>'
    assert problems(page, Page('<meta charset="utf-8">')) == [
        "scripts [\"[('src', '/evil.js')]\"]",
        "<meta> {'http-equiv': 'refresh', 'content': '0;url=x'}",
        "<script> {'src': '/evil.js'}",
    ]
