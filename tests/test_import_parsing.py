"""Reading one Jekyll post: front matter, dates, furniture, Markdown, sanitising and bad input."""

import datetime
import zoneinfo

import pytest
import yaml

from articles.importer import PostFileError, parse_post
from articles.importer.body import parse_body
from articles.importer.files import PostFile
from articles.importer.frontmatter import read_front_matter
from articles.importer.parsing import decode

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def post_text(
    title='"标题"', date="2022-05-25 13:51:07 +0800", categories="emnews", tags="东财滚动新闻", body="正文。"
):
    return f"---\nlayout: post\ntitle: {title}\ndate: {date}\ncategories: {categories}\ntags: {tags}\n---\n{body}"


def parse(text, file_id="202205252391453833"):
    return parse_post(text, file_id)


def test_invalid_yaml_title_with_inner_quotes_is_read_line_by_line_with_a_warning():
    post = parse(post_text(title='"分析师称"稳增长"政策将持续发力"'))

    assert post.title == '分析师称"稳增长"政策将持续发力'
    assert post.category_slug == "emnews"
    assert any("not valid YAML" in warning for warning in post.warnings)


def test_valid_yaml_is_read_strictly_without_warnings():
    post = parse(post_text(title='"分析师称\\"稳增长\\"政策"', tags="[东财滚动新闻, 市场]"))

    assert post.title == '分析师称"稳增长"政策'
    assert post.tags == ["东财滚动新闻", "市场"]
    assert post.warnings == []


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2022-05-25 13:51:07 +0800", datetime.datetime(2022, 5, 25, 13, 51, 7, tzinfo=SHANGHAI)),
        ("2021-12-08 10:46:18", datetime.datetime(2021, 12, 8, 10, 46, 18, tzinfo=SHANGHAI)),
        ("2022-05-25 05:51:07 +0000", datetime.datetime(2022, 5, 25, 13, 51, 7, tzinfo=SHANGHAI)),
        ("2022-05-25T13:51:07+08:00", datetime.datetime(2022, 5, 25, 13, 51, 7, tzinfo=SHANGHAI)),
        ("2022-05-25", datetime.datetime(2022, 5, 25, tzinfo=SHANGHAI)),
    ],
)
def test_dates_with_or_without_offset_mean_shanghai_time_when_none_is_given(written, expected):
    assert parse(post_text(date=written)).published_at == expected


def test_empty_date_is_taken_from_the_file_id_with_a_warning():
    post = parse(post_text(date=" +0800"), file_id="202205262391921712")

    assert post.published_at == datetime.datetime(2022, 5, 26, tzinfo=SHANGHAI)
    assert "empty date; took 2022-05-26 from the file id" in post.warnings


def test_empty_title_falls_back_to_the_digests_first_sentence_with_a_warning():
    post = parse(post_text(title='""', body="> 长春发布若干政策措施。一是疫情防控。\n\n<p>正文</p>"))

    assert post.title == "长春发布若干政策措施"
    assert "empty title; used the first sentence of the digest" in post.warnings


def test_empty_title_without_digest_uses_the_bodys_first_sentence():
    assert (
        parse(post_text(title='""', body="北向资金净流入超40亿元！午后继续加仓。")).title == "北向资金净流入超40亿元！"
    )


def test_categories_and_tags_given_as_strings_keep_their_spaces():
    post = parse(post_text(categories="21shijijingjibaodao  nancailicaitong", tags="21世纪经济报道 21财经APP新闻"))

    assert post.category_slug == "21shijijingjibaodao  nancailicaitong"
    assert post.tags == ["21世纪经济报道 21财经APP新闻"]
    assert post.category_name == "21世纪经济报道 21财经APP新闻"


def test_categories_as_a_list_file_the_post_under_the_first_with_a_warning():
    post = parse(post_text(categories="[emnews, sitenews]"))

    assert post.category_slug == "emnews"
    assert any("several categories" in warning for warning in post.warnings)


def test_full_width_tags_are_folded_and_case_duplicates_dropped():
    assert parse(post_text(tags="[ＡＩ, ai, 芯片]")).tags == ["ai", "芯片"]


def test_published_false_imports_a_draft():
    text = post_text().replace("tags: 东财滚动新闻\n", "tags: 东财滚动新闻\npublished: false\n")

    assert parse(text).status == "draft"


def test_bom_crlf_a_leading_blank_line_and_no_final_newline_are_all_fine():
    data = b"\xef\xbb\xbf\r\n" + post_text(body="<>").replace("\n", "\r\n").encode()
    post = parse(decode(data))

    assert post.title == "标题"
    assert post.original_url == ""


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\n  \n", "empty file"),
        ("正文，没有前言".encode(), "no front matter: the file does not start with a '---' line"),
        (b"---\ntitle: x\n", "unterminated front matter: no closing '---' line"),
        (post_text(date="yesterday").encode(), "unparseable date 'yesterday'"),
        (post_text(date="2022-13-45 10:00").encode(), "unparseable date '2022-13-45 10:00': month must be in 1..12"),
        ("---\ntitle: 标题\n---\n".encode("gb18030"), "not UTF-8 text: byte 0xb1 at offset 11 cannot be decoded"),
        (post_text(title=f'"{"长" * 301}"').encode(), "title too long (301 characters; the limit is 300)"),
        (post_text(categories='""').encode(), "no category: `categories` is empty and no back-link names one"),
        (post_text(title='""', body="").encode(), "no title, and no digest or body to take one from"),
    ],
    ids=["empty", "blank", "no-front-matter", "unterminated", "bad-date", "impossible-date", "not-utf8", "long-title",
         "no-category", "no-title"],
)  # fmt: skip
def test_bad_files_are_rejected_with_a_precise_reason(data, reason):
    with pytest.raises(PostFileError) as error:
        parse(decode(data))

    assert str(error.value).startswith(reason)


def test_file_ids_come_from_dated_and_undated_names():
    assert PostFile("_posts/2022-05-25-202205252391453833.md", b"", None).file_id == "202205252391453833"
    assert PostFile("old_post/-202205262391921712.md", b"", None).file_id == "202205262391921712"
    assert PostFile("x.zip!/_posts/2021-12-01-init.md", b"", None).file_id == "init"


def test_the_share_link_gives_the_key_and_info_code_on_any_host():
    body = "<p>正文</p>\n\n<https://example.org/html_News/NewsShare.html?infoCode=NW202205252391453833>"

    post = parse(post_text(body=body), file_id="123")

    assert post.key == post.info_code == "NW202205252391453833"
    assert post.original_url == ""


def test_without_a_share_link_the_key_is_the_file_id_and_long_ids_are_shortened_stably():
    long_id = "a-very-long-jekyll-post-name-about-markets-and-the-economy-in-twenty-twenty-two"

    assert parse(post_text(), file_id="202112082206703990").key == "202112082206703990"
    key = parse(post_text(), file_id=long_id).key
    assert len(key) == 64
    assert key == parse(post_text(), file_id=long_id).key != parse(post_text(), file_id=long_id + "x").key


@pytest.mark.parametrize(
    "links",
    [
        "[返回东财滚动新闻](../emnews/)\n[返回首页](../)",
        "[返回东财滚动新闻](//finews.zning.me/emnews/)\n[返回首页](//finews.zning.me/)",
        "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)",
        "[返回东财滚动新闻](/emnews/)｜[返回首页](/)",
        "[返回东财滚动新闻](/category/emnews.html)｜[返回首页](/)",
    ],
)
def test_every_back_link_form_is_dropped_and_names_the_category(links):
    body = parse_body(f"行情平稳。\n\n<http://finance.eastmoney.com/news/1344,1.html>\n\n{links}")

    assert body.html == "<p>行情平稳。</p>"
    assert body.back_link_name == "东财滚动新闻"
    assert body.back_link_slug == "emnews"
    assert body.original_url == "http://finance.eastmoney.com/news/1344,1.html"


def test_back_link_slugs_with_spaces_and_parentheses_are_read_whole():
    links = "[返回安信国际证券(香港)新闻](//h/category/anxinguojizhengquan(xianggang).html)｜[返回首页](/)"

    assert parse_body(f"<p>x</p>\n\n{links}").back_link_slug == "anxinguojizhengquan(xianggang)"


def test_a_post_without_categories_is_filed_under_its_back_link():
    links = "[返回21世纪经济报道 21财经APP新闻](//h/category/21shijijingjibaodao 21caijingAPP.html)｜[返回首页](//h/)"

    post = parse(post_text(categories='""', body=f"<p>x</p>\n\n{links}"))

    assert post.category_slug == "21shijijingjibaodao 21caijingAPP"
    assert post.category_name == "21世纪经济报道 21财经APP新闻"


@pytest.mark.parametrize(
    ("paragraph", "source"),
    [
        ("贵州茅台的反弹幅度已超过30%。（澎湃新闻）", "澎湃新闻"),
        ("累计打击恶意商标注册申请37.6万件。(央视新闻)", "央视新闻"),
        ("领涨中概互联网股票。 （证券时报）", "证券时报"),
        ("来看看都买了哪些股？（附名单）", None),
        ("已超过2020年全年销量(829万头)。", None),
        ("国债中标结果出炉（12-08）", None),
    ],
)
def test_older_posts_take_the_source_from_brackets_ending_the_paragraph(paragraph, source):
    assert parse_body(f"{paragraph}\n\n<http://finance.eastmoney.com/news/1,2.html>").source == source


def test_the_em_media_line_names_the_source_even_with_a_link_inside_and_beats_brackets():
    body = parse_body(
        '<p>正文。（证券时报）</p><p class="em_media">（文章来源：上海<span><a href="http://data.eastmoney.com/">'
        "证券</a></span>报·中国证券网）</p>"
    )

    assert body.source == "上海证券报·中国证券网"
    assert "文章来源" not in body.html


def test_stock_chart_blocks_become_charts_in_order_and_leave_the_body():
    block = (
        '<p style="display:none;height:1px;"><br /></p><!-- EM_StockImg_Start --><p><a href="http://quote.eastmoney.com/'
        'unify/r/{0}" class="EmImageRemark"><img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid={0}&imageType={1}'
        '&token=t&at=1" /></a></p><!-- EM_StockImg_End -->'
    )
    body = parse_body(block.format("106.NIO", "k") + block.format("1.000001", "r") + "<p>正文</p>")

    assert [(c.market, c.code, c.chart_type) for c in body.charts] == [(106, "NIO", "k"), (1, "000001", "r")]
    assert body.charts[0].quote_url == "http://quote.eastmoney.com/unify/r/106.NIO"
    assert body.charts[1].image_url.endswith("nid=1.000001&imageType=r&token=t&at=1")
    assert body.html == "<p>正文</p>"


def test_inline_stock_and_board_links_stay_links_and_are_recorded_as_mentions():
    html = (
        '<p><span id="stock_1.600160"><a href="http://quote.eastmoney.com/unify/r/1.600160" class="keytip" '
        'data-code="1,600160">巨化股份</a></span>与<span web="1" href="http://quote.eastmoney.com/unify/r/90.BK0473" '
        'class="em_stock_key_common" data-code="90,BK0473">证券</span></p>'
    )
    body = parse_body(html)

    assert body.mentions == [(1, "600160"), (90, "BK0473")]
    assert 'href="http://quote.eastmoney.com/unify/r/1.600160"' in body.html


def test_a_leading_digest_becomes_the_summary_and_leaves_the_body():
    body = parse_body("> 券商中国获悉，监管窗口指导。（券商中国）\n\n<p>正文</p>")

    assert body.summary == "券商中国获悉，监管窗口指导。（券商中国）"
    assert body.html == "<p>正文</p>"


def test_hidden_paragraphs_are_dropped_with_their_text():
    assert parse_body('<p style="display:none;height:1px;overflow:hidden;">隐藏</p><p>可见</p>').html == "<p>可见</p>"


def test_markdown_is_rendered_like_kramdown():
    markdown = (
        '## 要点\n\n* **涨幅**居前\n* 见[公告](https://example.org "公告")\n\n'
        '| 代码 | 名称 |\n| --- | --- |\n| 600519 | 茅台 |\n\n"稳增长" -- 继续'
    )
    html = parse_body(markdown).html

    assert "<h2>要点</h2>" in html
    assert "<li><strong>涨幅</strong>居前</li>" in html
    assert 'href="https://example.org"' in html
    assert "<td>600519</td>" in html
    assert "&ldquo;稳增长&rdquo; &ndash; 继续" in html or "“稳增长” – 继续" in html


def test_untrusted_html_is_sanitised_but_images_and_links_survive():
    html = parse_body(
        '<p onclick="x()">正文<script>alert(1)</script><a href="javascript:alert(1)">坏链接</a>'
        '<a href="https://example.org/">好链接</a></p><iframe src="https://evil.example/"></iframe>'
        '<center><img src="https://img.example/a.jpg" onerror="alert(1)" alt="图" /></center>'
    ).html

    for bad in ("script", "onclick", "onerror", "javascript:", "iframe"):
        assert bad not in html
    assert '<a href="https://example.org/" rel="noopener noreferrer">好链接</a>' in html
    assert '<img src="https://img.example/a.jpg" alt="图">' in html


@pytest.mark.parametrize(
    "front",
    [
        'layout: post\ntitle: "开站大吉"\ndate: 2021-12-01 13:33:50\ncategories: sitenews\ntags: 站长消息',
        'title: 他说"好" 就行\ndate: 2022-05-25 13:51:07 +0800\ncategories: 21shijijingjibaodao  nancailicaitong',
        "title: C# 入门\ncategories: anxinguojizhengquan(xianggang)\ntags: 安信国际证券(香港)新闻\npublished: false",
        'title: ""\ndate:  +0800\ncategories: emnews\ntags:',
    ],
)
def test_simple_front_matter_is_read_as_yaml_reads_it(front):
    data, note = read_front_matter(front)

    assert note is None
    strict = yaml.load(front, Loader=yaml.BaseLoader)
    assert data == strict


@pytest.mark.parametrize(
    "front",
    ['title: "a \\" b"', "tags:\n  - 一\n  - 二", "title: x # 注释", "categories: [a, b]", "title: 'single'"],
)
def test_front_matter_beyond_simple_lines_goes_to_yaml(front):
    data, note = read_front_matter(front)

    assert note is None
    strict = yaml.load(front, Loader=yaml.BaseLoader)
    assert data == strict
