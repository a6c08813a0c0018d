"""The same story stored twice (a 东财滚动新闻 copy under digits, the publisher's post under NW + the same
digits, or the same text under other codes): linked at import, listed once, the copy's page canonical to
the publisher's."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.importer import twins as twins_module
from articles.models import APIKey, Post
from articles.stories import body_digest, story_digits

from .test_import_command import post_text, run, write

pytestmark = pytest.mark.django_db

DIGITS = "202205262391921712"
STORY = "宁德时代宣布在匈牙利建设欧洲第二座电池工厂，总投资约七十三亿欧元，规划产能一百吉瓦时，预计明年开工建设"


def publisher_post(code=f"NW{DIGITS}", **kwargs):
    return post_text(code, title="宁德时代拟投资建设欧洲新工厂", category="zhengquanshibao", **kwargs).replace(
        "两市成交额放大", STORY
    )


def rolling_copy(**kwargs):
    """The 东财滚动新闻 copy: its file names the digits, and it has no share link."""
    text = post_text("X", title="宁德时代拟投资建设欧洲新工厂", category="emnews", **kwargs).replace(
        "两市成交额放大", STORY
    )
    return re.sub(r"<http://finews\.zning\.xyz/html_News/NewsShare\.html\?infoCode=X>", "", text)


@pytest.fixture
def twins(tmp_path):
    """Both copies imported in one run; returns (publisher's post, copy, the run's output)."""
    directory = tmp_path / "_posts"
    write(directory, f"2022-05-26-{DIGITS}.md", rolling_copy())
    write(directory, f"2022-05-26-NW{DIGITS}.md", publisher_post())
    out, _ = run(directory)
    return Post.objects.get(key=f"NW{DIGITS}"), Post.objects.get(key=DIGITS), out


def test_the_copy_under_the_same_digits_points_at_the_publishers_post(twins):
    publisher, copy, out = twins

    assert copy.twin_of == publisher
    assert publisher.twin_of is None
    assert "2 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 0 skipped, 2 twins in" in out


def test_a_twin_found_in_a_later_run_is_linked_and_reported(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    write(first, f"2022-05-26-NW{DIGITS}.md", publisher_post())
    write(second, f"2022-05-26-{DIGITS}.md", rolling_copy())
    run(first)

    out, _ = run(second, verbosity=2)

    assert Post.objects.get(key=DIGITS).twin_of.key == f"NW{DIGITS}"
    assert "1 twins" in out


def test_the_same_text_under_unrelated_codes_is_one_story(tmp_path):
    directory = tmp_path / "_posts"
    write(directory, "2022-05-26-NW1.md", publisher_post("NW1"))
    write(directory, "2022-05-26-AN2.md", publisher_post("AN2").replace("（文章来源：证券时报）", "（证券时报）"))

    run(directory)

    # Both are publishers' posts: the one stored first is canonical.
    first, second = Post.objects.order_by("pk")
    assert second.twin_of == first and first.twin_of is None


def test_short_texts_alike_are_not_taken_for_one_story(tmp_path):
    directory = tmp_path / "_posts"
    write(directory, "2022-05-21-NW1.md", post_text("NW1"))
    write(directory, "2022-05-21-NW2.md", post_text("NW2"))

    run(directory)

    assert not Post.objects.filter(twin_of__isnull=False).exists()


def test_a_listing_holding_both_shows_the_story_once(client, twins):
    publisher, copy, _ = twins

    everything = client.get(reverse("articles:latest")).content.decode()
    rolling = client.get(copy.category.get_absolute_url()).content.decode()
    api = client.get("/api/v1/posts").json()["items"]

    assert everything.count(publisher.get_absolute_url()) == 1 and copy.get_absolute_url() not in everything
    # The 东财滚动新闻 listing does not hold the publisher's post: the copy stays.
    assert copy.get_absolute_url() in rolling
    assert [item["key"] for item in api] == [publisher.key]


def test_the_copys_page_is_canonical_to_the_publishers(client, twins):
    publisher, copy, _ = twins

    copy_page = client.get(copy.get_absolute_url()).content.decode()
    own_page = client.get(publisher.get_absolute_url()).content.decode()
    api = client.get(f"/api/v1/posts/{copy.key}").json()

    canonical = f'<link rel="canonical" href="http://127.0.0.1:8000{publisher.get_absolute_url()}">'
    assert canonical in copy_page and canonical in own_page
    assert api["canonical_url"] == f"http://127.0.0.1:8000{publisher.get_absolute_url()}"


def test_ingest_reports_the_twin(client, twins):
    # The ingest API goes through the same importer: its per-post answer names the twin.
    key = APIKey(name="爬虫")
    token = key.issue_token()
    key.save()
    text = rolling_copy().replace(STORY, STORY + "，消息人士称")

    answer = client.post(
        f"/api/v1/ingest?name=2022-05-26-{DIGITS}.md",
        text,
        content_type="text/markdown",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    ).json()

    assert answer["posts"][0]["status"] == "updated"
    assert answer["posts"][0]["twin"] == f"NW{DIGITS}"


@pytest.mark.parametrize(
    ("key", "digits"),
    [(f"NW{DIGITS}", DIGITS), (DIGITS, DIGITS), (f"AN{DIGITS}", DIGITS), ("NW1", None), ("init", None), (None, None)],
)
def test_story_digits(key, digits):
    assert story_digits(key) == digits


def test_body_digest_ignores_markup_spacing_and_punctuation():
    plain = f"<p>{STORY}。</p>"
    marked = f"<p><strong>{STORY[:10]}</strong> {STORY[10:]}！</p>\n"

    assert body_digest(plain) == body_digest(marked) != ""
    assert body_digest("<p>沪指收涨。</p>") == ""


def test_link_twins_finds_the_copies_among_posts_stored_before(make_post):

    publisher = make_post(key=f"NW{DIGITS}", info_code=f"NW{DIGITS}", body=f"<p>{STORY}</p>")
    copy = make_post(key=DIGITS, source=None, body=f"<p>{STORY}</p>")
    same_text = make_post(key="AN9", body=f"<p>{STORY}</p>")
    other = make_post(
        key="NW5", body="<p>另一条新闻的正文，与上面的完全不同，足够长以便比较它们的文字是否一样。再加一些字。</p>"
    )
    # As stored before twins were looked for.
    Post.objects.update(body_digest="", twin_of=None)
    out = io.StringIO()

    call_command("link_twins", batch_size=2, stdout=out)

    for post in (copy, same_text, other, publisher):
        post.refresh_from_db()
    assert copy.twin_of == publisher and same_text.twin_of == publisher
    assert publisher.twin_of is None and other.twin_of is None
    assert "4 posts checked, 3 of them copies of one story" in out.getvalue()


def test_the_admin_shows_which_post_a_copy_is_a_twin_of(editor_client, twins):
    publisher, copy, _ = twins

    page = editor_client.get(reverse("admin:articles_post_change", args=[copy.pk])).content.decode()

    assert "重复于" in page
    assert reverse("admin:articles_post_change", args=[publisher.pk]) in page


def test_sitemaps_list_the_canonical_page_only(client, twins):
    publisher, copy, _ = twins
    Post.objects.filter(pk__in=[publisher.pk, copy.pk]).update(published_at=timezone.now())

    sitemap = client.get(reverse("articles:sitemap", kwargs={"section": "posts"})).content.decode()
    news = client.get(reverse("articles:sitemap", kwargs={"section": "news"})).content.decode()

    for page in (sitemap, news):
        assert publisher.get_absolute_url() in page and copy.get_absolute_url() not in page


def test_a_batch_looks_each_story_up_instead_of_comparing_every_pair(tmp_path, monkeypatch):
    compared = []
    same_story = twins_module.same_story
    monkeypatch.setattr(twins_module, "same_story", lambda post, other: compared.append(1) or same_story(post, other))
    directory = tmp_path / "_posts"
    for n in range(60):
        code = f"NW{20220526000000000 + n}"
        write(directory, f"2022-05-26-{code}.md", post_text(code, title=f"沪指收涨{n}"))
    write(directory, f"2022-05-26-{DIGITS}.md", rolling_copy())
    write(directory, f"2022-05-26-NW{DIGITS}.md", publisher_post())

    out, _ = run(directory)

    assert "62 created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 0 skipped, 2 twins in" in out
    # Each copy of the one story is compared with the other; 62 × 62 comparisons before.
    assert len(compared) == 2
