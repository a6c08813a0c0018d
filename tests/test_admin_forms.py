"""What editors type in the post form and how it is kept: the body's markup, URLs, tags, the words for a
post's state, publication times, slugs, keys and messages."""

import datetime
import gettext
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from articles.html import sanitize_html
from articles.importer.body import parse_body, render_markdown
from articles.models import Category, Post, StockChart
from articles.tagging import parse_tags
from tests.post_form import post_form_data

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:articles_post_changelist")
ADD = reverse("admin:articles_post_add")
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def change_url(post):
    return reverse("admin:articles_post_change", args=[post.pk])


class Paragraphs(HTMLParser):
    """The text of each <p> of the article body."""

    def __init__(self):
        super().__init__()
        self.inside, self.depth, self.texts = False, 0, []

    def handle_starttag(self, tag, attrs):
        if tag == "div" and "article-body" in (dict(attrs).get("class") or ""):
            self.inside, self.depth = True, 0
        elif self.inside and tag == "div":
            self.depth += 1
        if self.inside and tag == "p":
            self.texts.append("")

    def handle_endtag(self, tag):
        if self.inside and tag == "div":
            self.inside = self.depth > 0
            self.depth -= 1

    def handle_data(self, data):
        if self.inside and self.texts:
            self.texts[-1] += data


# The body: Markdown with HTML allowed, stored as sanitised HTML


def test_typed_paragraphs_are_stored_and_shown_as_paragraphs(editor_client, client, published_post):
    editor_client.post(change_url(published_post), post_form_data(published_post, body="段一\n\n段二"))

    published_post.refresh_from_db()
    assert published_post.body == "<p>段一</p>\n<p>段二</p>"
    parser = Paragraphs()
    parser.feed(client.get(published_post.get_absolute_url()).text)
    assert [text.strip() for text in parser.texts] == ["段一", "段二"]


def test_markdown_shorthand_and_html_both_become_clean_html(editor_client, published_post):
    body = '**涨停** [行情](https://quote.eastmoney.com/unify/r/1.600519)\n\n<p onclick="x()">原有的 HTML</p>'
    editor_client.post(change_url(published_post), post_form_data(published_post, body=body))

    published_post.refresh_from_db()
    assert published_post.body == (
        '<p><strong>涨停</strong> <a href="https://quote.eastmoney.com/unify/r/1.600519" '
        'rel="noopener noreferrer">行情</a></p>\n<p>原有的 HTML</p>'
    )


def test_short_code_alone_on_a_line_still_becomes_a_chart(editor_client, published_post):
    editor_client.post(change_url(published_post), post_form_data(published_post, body="走势：\n\n[stock sh600519]"))
    published_post.refresh_from_db()
    assert published_post.body == "<p>走势：</p>\n<p>[stock sh600519]</p>"
    assert '<figure class="stock-chart">' in published_post.body_html


def test_an_html_body_saved_again_is_kept_as_it_was(editor_client, make_post):
    body = (
        '<p>沪指<strong>收涨</strong>，<span class="keytip"><a href="https://quote.eastmoney.com/unify/r/0.002752" '
        'class="keytip" data-code="0,002752" rel="noopener noreferrer">昇兴股份</a></span>领涨。</p>'
        '<center><img src="https://example.com/a.png" alt="图"></center><p class="em_media">（来源）</p>'
    )
    post = make_post(body=body)
    editor_client.post(change_url(post), post_form_data(post, title="只改标题"))
    post.refresh_from_db()
    assert post.body == body


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the post corpus is not at {CORPUS}")
def test_every_corpus_body_is_kept_as_it_is_when_saved_in_the_admin():
    for path in sorted(CORPUS.glob("*/*.md")):
        body = parse_body(path.read_bytes().decode("utf-8", "replace").split("---", 2)[-1]).html
        assert sanitize_html(render_markdown(body)) == body, path.name


PREVIEW = reverse("admin:articles_post_body_preview")


def test_body_preview_shows_the_typed_body_as_it_will_be_stored(editor_client):
    body = "段一\n\n**段二**<script>alert(1)</script>\n\n[stock sh600519]"
    html = editor_client.post(PREVIEW, {"body": body}).json()["html"]
    assert html.startswith("<p>段一</p>\n<p><strong>段二</strong></p>\n")
    assert "script" not in html and '<figure class="stock-chart">' in html
    assert not Post.objects.exists()


@pytest.mark.parametrize("role", ["staff_editor", "contributor"])
def test_body_preview_is_open_to_those_who_write_posts(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.post(PREVIEW, {"body": "正文"}).json() == {"html": "<p>正文</p>"}


def test_body_preview_is_closed_to_others_and_answers_post_only(editor_client, django_user_model):
    client = editor_client
    assert client.get(PREVIEW, {"body": "正文"}).status_code == 405
    client.logout()
    assert client.post(PREVIEW, {"body": "正文"}).status_code == 302
    client.force_login(django_user_model.objects.create_user("intern", is_staff=True))
    assert client.post(PREVIEW, {"body": "正文"}).status_code == 403


def test_body_help_says_what_markup_it_takes(editor_client):
    page = editor_client.get(ADD).text
    assert "空一行即分段" in page and "Markdown" in page and "HTML" in page and "[stock sh600519]" in page


# URLs and tags


def test_a_scheme_less_url_typed_by_an_editor_is_https(editor_client, published_post):
    data = post_form_data(published_post, original_url="finance.eastmoney.com/a/1.html")
    assert editor_client.post(change_url(published_post), data).status_code == 302
    published_post.refresh_from_db()
    assert published_post.original_url == "https://finance.eastmoney.com/a/1.html"


def test_admin_form_builds_without_a_default_scheme_warning(editor):
    request = RequestFactory().get(ADD)
    request.user = editor
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        form = site._registry[Post].get_form(request)()
    assert form.fields["original_url"].assume_scheme == "https"


def test_a_chart_given_another_stock_drops_the_urls_it_was_imported_with(editor_client, published_post):
    image = "https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=116.00020&imageType=k&token=abc"
    quote = "http://quote.eastmoney.com/unify/r/116.00020"
    kept, changed = (
        StockChart.objects.create(
            post=published_post, position=n, market=116, code="00020", image_url=image, quote_url=quote
        )
        for n in range(2)
    )
    data = post_form_data(published_post)
    data.update({"charts-1-symbol": "600519", "charts-1-market": "", "charts-1-code": ""})
    assert editor_client.post(change_url(published_post), data).status_code == 302
    kept.refresh_from_db()
    changed.refresh_from_db()
    assert (kept.image_url, kept.quote_url) == (image, quote)
    assert (changed.symbol, changed.image_url, changed.quote_url) == ("1.600519", "", "")
    assert "nid=1.600519" in changed.image_src


@pytest.mark.parametrize(
    ("typed", "tags"),
    [
        ("港股, 科技", ["港股", "科技"]),
        ("港股，科技，", ["港股", "科技"]),
        ("21世纪经济报道 21财经APP新闻", ["21世纪经济报道 21财经APP新闻"]),
        ('"引号" , ，', ['"引号"']),
        ("", []),
    ],
)
def test_tags_are_separated_by_commas_only(typed, tags):
    assert parse_tags(typed) == tags


# One set of words for a post's state


def test_status_and_state_use_one_set_of_words(editor_client, make_post):
    later = timezone.now() + datetime.timedelta(hours=1)
    post = make_post(published_at=later)
    make_post()
    form = editor_client.get(change_url(post)).text
    assert '<option value="published" selected>发布</option>' in form
    assert '<span class="state-badge state-scheduled">定时发布</span>' in form
    changelist = editor_client.get(CHANGELIST).text
    assert '<span class="state-badge state-live">已发布</span>' in changelist
    assert "?state=live" in changelist and ">已发布</a>" in changelist
    for page in (form, changelist):
        assert "上线" not in page


def test_info_code_is_labelled_in_chinese(editor_client, published_post):
    page = editor_client.get(change_url(published_post)).text
    assert "资讯编号:" in page or "资讯编号：" in page
    assert "infoCode:" not in page and "InfoCode:" not in page


@pytest.mark.parametrize("save", ["_continue", "_save"])
def test_success_messages_end_with_a_chinese_full_stop(editor_client, category, save):
    response = editor_client.post(ADD, {**post_form_data(category=category), save: "1"}, follow=True)
    (message,) = [str(m) for m in response.context["messages"]]
    assert message.endswith("。") and ". " not in message and not message.endswith(".")


# Publication times


def test_draft_set_to_publish_goes_out_now_when_its_time_was_left_alone(editor_client, make_post, time_machine):
    time_machine.move_to(timezone.now().replace(microsecond=0), tick=False)
    opened = timezone.now() - datetime.timedelta(hours=5)
    draft = make_post(status=Post.Status.DRAFT, published_at=opened)
    data = post_form_data(draft, status="published")
    data.update({"initial-published_at_0": data["published_at_0"], "initial-published_at_1": data["published_at_1"]})

    editor_client.post(change_url(draft), data)

    draft.refresh_from_db()
    assert (draft.state, draft.published_at) == (Post.State.LIVE, timezone.now())


def test_draft_set_to_publish_keeps_a_future_time_or_one_the_editor_typed(editor_client, make_post):
    later = (timezone.now() + datetime.timedelta(days=1)).replace(microsecond=0)
    scheduled = make_post(status=Post.Status.DRAFT, published_at=later)
    backdated = make_post(status=Post.Status.DRAFT)
    typed = (timezone.now() - datetime.timedelta(days=3)).replace(microsecond=0)

    editor_client.post(change_url(scheduled), post_form_data(scheduled, status="published"))
    editor_client.post(change_url(backdated), post_form_data(backdated, status="published", published_at=typed))

    scheduled.refresh_from_db()
    backdated.refresh_from_db()
    assert (scheduled.state, scheduled.published_at) == (Post.State.SCHEDULED, later)
    assert (backdated.state, backdated.published_at) == (Post.State.LIVE, typed)


def test_publication_time_help_says_what_happens(editor_client):
    assert "以保存的时刻为发布时间" in editor_client.get(ADD).text


@pytest.mark.parametrize("when", ["2101-01-01", "1989-12-31"])
def test_out_of_range_publication_time_is_refused_with_a_message(editor_client, published_post, when):
    data = post_form_data(published_post, published_at_0=when, published_at_1="12:00:00")
    response = editor_client.post(change_url(published_post), data)
    assert response.status_code == 200
    assert "发布时间须在 1990 年至 2100 年之间" in response.text
    assert Post.objects.get(pk=published_post.pk).published_at == published_post.published_at


# Slugs and keys that would break URLs or exported file names


@pytest.mark.parametrize("slug", ["a/b", "x\\y", "..", "50%"])
def test_category_slug_that_cannot_be_a_url_segment_is_refused(editor_client, slug):
    response = editor_client.post(reverse("admin:articles_category_add"), {"slug": slug, "name": "栏目", "position": 0})
    assert response.status_code == 200
    assert "栏目 URL 标识不能为空" in response.text
    assert not Category.objects.filter(name="栏目").exists()
    with pytest.raises(ValidationError, match="slug"):
        Category(slug=slug, name="栏目").full_clean()


@pytest.mark.parametrize("key", ["2022/05/x", "..", "a\\b"])
def test_key_that_cannot_be_a_file_name_is_refused(editor_client, published_post, key):
    response = editor_client.post(change_url(published_post), post_form_data(published_post, key=key))
    assert response.status_code == 200
    assert "导入键不能含有" in response.text
    assert Post.objects.get(pk=published_post.pk).key != key


def test_a_category_stored_with_a_slash_does_not_break_the_admin(editor_client, published_post, category):
    Category.objects.filter(pk=category.pk).update(slug="A股/港股")
    urls = [
        reverse("admin:articles_category_changelist"),
        reverse("admin:articles_category_change", args=[category.pk]),
        reverse("admin:articles_category_delete", args=[category.pk]),
        CHANGELIST,
        change_url(published_post),
        reverse("admin:articles_post_delete", args=[published_post.pk]),
        reverse("admin:articles_post_history", args=[published_post.pk]),
    ]
    for url in urls:
        assert editor_client.get(url).status_code == 200, url
    # Its "view on site" link is left out rather than pointing at a page that cannot exist.
    assert "viewsitelink" not in editor_client.get(urls[1]).text
    Category.objects.filter(pk=category.pk).update(slug="ag")
    assert "viewsitelink" in editor_client.get(urls[1]).text


def test_the_compiled_corrections_match_their_source():
    folder = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES"
    source = (folder / "django.po").read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', source, re.MULTILINE)
    with (folder / "django.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    assert pairs and all(catalog.gettext(msgid) == msgstr for msgid, msgstr in pairs)
