"""Properties of the importer over generated input: any bytes give a post or a clear per-file error.

Hypothesis generates raw bytes and text, and near-valid posts built from the crawler's parts (front matter
with random keys, nested values and odd dates, chart blocks with random URLs, digests, source lines, share
links, back-links, huge lines). Parsing never raises anything but PostFileError, never hangs (each example
has a deadline), and one import_posts run over generated files stores every post whole or not at all.
"""

import datetime
import string
import tempfile
from pathlib import Path

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from articles.importer import PostFileError, Status, import_posts, parse_post
from articles.importer.frontmatter import read_front_matter, split_front_matter
from articles.importer.parsing import ParsedPost, decode, parse_posts
from articles.models import OriginalFile, Post

# Generous per-example deadlines: they catch a hang or a super-linear pattern, not a slow machine.
PARSING = settings(database=None, deadline=datetime.timedelta(seconds=3), max_examples=150)
IMPORTING = settings(
    database=None,
    deadline=datetime.timedelta(seconds=20),
    max_examples=12,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

KEYS = ["layout", "title", "date", "categories", "category", "tags", "published", "x", "Title", "date "]
HOSTS = ["webquoteklinepic.eastmoney.com", "webquotepic.eastmoney.com", "quote.eastmoney.com", "evil.example", ""]
SCHEMES = ["http", "https", "javascript", "data", "ftp", "", "HTTPS", "jAvAsCrIpT"]
PUNCTUATION = "<>[]()\"'&#%:;/\\|*_`~-=+!?{}@ \t\n。（）：「」《》｜"

words = st.text(alphabet=string.ascii_letters + string.digits + "沪指收涨港股新闻" + PUNCTUATION, max_size=40)
long_lines = st.builds(
    lambda unit, count: unit * count, st.sampled_from([*PUNCTUATION, "<p ", "[返回"]), st.integers(0, 20_000)
)
scalars = st.one_of(words, long_lines, st.integers().map(str), st.sampled_from(["", "~", "null", "false", "''", '""']))
nested = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=12)


def yaml_value(value):
    if isinstance(value, list):
        return "[" + ", ".join(yaml_value(item) for item in value) + "]"
    return value


dates = st.one_of(
    st.builds(
        lambda year, month, day, hour, offset: f"{year:04}-{month:02}-{day:02} {hour:02}:00:00 {offset}",
        st.integers(0, 9999),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
        st.sampled_from(["+0800", "-1200", "+1400", "Z", "", "+9999", "+08:00"]),
    ),
    words,
)


@st.composite
def front_matters(draw):
    lines = []
    if draw(st.integers(0, 9)) < 7:  # mostly the keys a post needs, so that many examples get written
        moment = draw(st.datetimes(datetime.datetime(1990, 1, 2), datetime.datetime(2100, 12, 30)))
        lines += [f'title: "{draw(words)}x"', f"date: {moment:%Y-%m-%d %H:%M:%S} +0800", f"categories: c{draw(words)}"]
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=8)):
        value = draw(dates) if key == "date" else yaml_value(draw(nested))
        if draw(st.booleans()):
            value = '"' + str(value).replace('"', draw(st.sampled_from(['"', '\\"', "'"]))) + '"'
        lines.append(f"{key}: {value}")
    if draw(st.booleans()):
        lines.append("tags:\n" + "\n".join(f"  - {draw(words)}" for _ in range(draw(st.integers(0, 4)))))
    return "\n".join(lines)


@st.composite
def urls(draw):
    scheme, host = draw(st.sampled_from(SCHEMES)), draw(st.sampled_from(HOSTS))
    market, code = draw(st.integers(0, 999)), draw(st.text(alphabet=string.ascii_letters + string.digits, max_size=24))
    path = draw(st.sampled_from(["/GetPic.aspx?nid={m}.{c}&imageType={t}", "/unify/r/{m}.{c}", "/{c}", ""]))
    url = f"{scheme}:" * bool(scheme) + f"//{host}" * bool(host) + path.format(m=market, c=code, t=draw(words))
    return url.replace('"', draw(st.sampled_from(["&quot;", '"', ""])))


@st.composite
def chart_blocks(draw):
    hidden = '<p style="display:none;"><br /></p>' * draw(st.booleans())
    start = draw(st.sampled_from(["<!-- EM_StockImg_Start -->", "<!--EM_StockImg_Start-->", ""]))
    end = draw(st.sampled_from(["<!-- EM_StockImg_End -->", ""]))
    return f'{hidden}{start}<p><a href="{draw(urls())}"><img src="{draw(urls())}" alt="K图" /></a></p>{end}'


body_parts = st.one_of(
    words.map(lambda text: f"<p>{text}</p>"),
    words,
    long_lines,
    chart_blocks(),
    words.map(lambda text: f"> {text}"),
    words.map(lambda name: f'<p class="em_media">（文章来源：{name}）</p>'),
    st.text(alphabet=string.ascii_letters + string.digits, max_size=30).map(
        lambda code: f"<http://finews.zning.xyz/html_News/NewsShare.html?infoCode={code}>"
    ),
    urls().map(lambda url: f"<{url}>"),
    st.tuples(words, words).map(lambda pair: f"[返回{pair[0]}](//finews.withounder.com/category/{pair[1]}.html)"),
    st.integers(1, 300).map(lambda depth: "<div>" * depth + "正文" + "</div>" * depth),
)


@st.composite
def near_posts(draw):
    body = "\n".join(draw(st.lists(body_parts, max_size=8)))
    before = draw(st.sampled_from(["", "\n", "\ufeff"]))
    fence = draw(st.sampled_from(["---"] * 6 + ["--- ", "", "---\t"]))
    return f"{before}{fence}\n{draw(front_matters())}\n---\n{body}"


def assert_parses_or_fails_clearly(text):
    try:
        post = parse_post(text, "202205250000000001")
    except PostFileError as error:
        assert str(error)
    else:
        assert isinstance(post, ParsedPost)
        assert post.title and post.category_slug and post.key


@PARSING
@given(st.binary(max_size=3000))
def test_any_bytes_parse_to_a_post_or_a_clear_error(data):
    [(result, compressed)] = parse_posts([(data, "202205250000000001")])

    if isinstance(result, PostFileError):
        assert str(result) and compressed is None
        assert "please report" not in str(result)  # no defect of the parser's behind the error
    else:
        assert decode(data) == OriginalFile.decompress(compressed)


@PARSING
@given(st.text(max_size=3000))
def test_any_text_parses_to_a_post_or_a_clear_error(text):
    assert_parses_or_fails_clearly(text)


@PARSING
@given(near_posts())
def test_near_valid_posts_parse_to_a_post_or_a_clear_error(text):
    assert_parses_or_fails_clearly(text)


@PARSING
@given(front_matters())
def test_any_front_matter_reads_to_strings_and_lists(front):
    values, note = read_front_matter(front)

    assert note is None or isinstance(note, str)
    assert all(isinstance(value, str | list) for value in values.values())


@PARSING
@given(st.text(max_size=2000))
def test_splitting_front_matter_never_fails_unclearly(text):
    try:
        front, body = split_front_matter(text)
    except PostFileError as error:
        assert str(error)
    else:
        assert front in text and body in text


@pytest.mark.django_db(transaction=False)
@IMPORTING
@given(st.lists(st.one_of(near_posts().map(str.encode), st.binary(max_size=2000)), min_size=1, max_size=6))
def test_an_import_stores_every_post_whole_or_not_at_all(files):
    with tempfile.TemporaryDirectory() as directory, transaction.atomic():
        names = [f"2022-05-{n + 10:02}-NW{n}.md" for n in range(len(files))]
        for name, data in zip(names, files, strict=True):
            Path(directory, name).write_bytes(data)
        seen = []

        import_posts([directory], workers=0, batch_size=3, on_outcome=seen.append)

        assert sorted(outcome.path.rsplit("/", 1)[-1] for outcome in seen) == sorted(names)
        stored = {post.key: post for post in Post.objects.select_related("category", "original_file")}
        for outcome in seen:
            event(str(outcome.status))
            if outcome.status == Status.FAILED:
                assert outcome.reason
            if outcome.status in (Status.CREATED, Status.UPDATED):
                post = stored[outcome.key]
                assert post.title and post.category.slug and post.original_file.path == outcome.path
                assert post.history.exists()
        for post in stored.values():
            assert post.original_file.sha256  # no post without the file it came from
        transaction.set_rollback(True)
