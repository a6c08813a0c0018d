"""RSS and Atom feeds for the site and each category, source, tag and stock."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Category, Market, Post

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def rss_titles(response):
    return [item.findtext("title") for item in ET.fromstring(response.content).iter("item")]


def test_site_rss_lists_newest_published_posts_with_absolute_links(client, make_post, published_post):
    make_post(title="草稿", status=Post.Status.DRAFT)
    make_post(title="定时", published_at=timezone.now() + datetime.timedelta(hours=1))

    response = client.get(reverse("articles:feed", kwargs={"format": "rss"}))

    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    assert channel.findtext("language") == "zh-cn"
    assert rss_titles(response) == [published_post.title]
    item = channel.find("item")
    assert item.findtext("link") == f"http://127.0.0.1:8000{published_post.get_absolute_url()}"


def test_site_atom_feed_is_valid_atom_with_updated_dates(client, published_post):
    response = client.get(reverse("articles:feed", kwargs={"format": "atom"}))

    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    entry = feed.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == published_post.title
    assert entry.find(f"{ATOM}link").get("href").endswith(published_post.get_absolute_url())
    assert entry.findtext(f"{ATOM}updated")


def test_feeds_are_limited_to_thirty_items(client, charted_posts):
    assert len(rss_titles(client.get(reverse("articles:feed", kwargs={"format": "rss"})))) == 30


def test_category_tag_stock_and_source_feeds_hold_only_their_posts(client, make_post, published_post):
    published_post.tags.add("港股")
    published_post.charts.create(market=Market.HONG_KONG, code="00020")
    published_post.sync_stocks()
    make_post(title="别的栏目", category=Category.objects.create(slug="emnews", name="东财滚动新闻"), source=None)
    urls = [
        reverse("articles:category_feed", kwargs={"slug": published_post.category.slug, "format": "rss"}),
        reverse("articles:tag_feed", kwargs={"slug": published_post.tags.get().slug, "format": "rss"}),
        reverse("articles:stock_feed", kwargs={"market": 116, "code": "00020", "format": "rss"}),
        reverse("articles:source_feed", kwargs={"slug": published_post.source.slug, "format": "atom"}),
    ]

    for url in urls[:3]:
        assert rss_titles(client.get(url)) == [published_post.title], url
    category_feed = ET.fromstring(client.get(urls[0]).content).find("channel")
    assert category_feed.findtext("title") == "上海证券报·中国证券网新闻 - finews 财经新闻"
    atom = ET.fromstring(client.get(urls[3]).content)
    assert [e.findtext(f"{ATOM}title") for e in atom.iter(f"{ATOM}entry")] == [published_post.title]


def test_feed_of_unknown_category_is_404(client, db):
    assert client.get("/category/nope/rss.xml").status_code == 404


def test_feed_answers_304_to_its_etag_and_last_modified(client, published_post):
    url = reverse("articles:feed", kwargs={"format": "atom"})
    first = client.get(url)

    assert first["Cache-Control"] == "public, max-age=300, s-maxage=2, stale-while-revalidate=30"
    assert client.get(url, headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": first["Last-Modified"]}).status_code == 304


def test_summaries_stay_plain_text_in_both_formats(client, make_post):
    make_post(title="摘要带尖括号", summary='<img src=x onerror="alert(1)"> A&B')
    escaped = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; A&amp;B"

    rss = ET.fromstring(client.get(reverse("articles:feed", kwargs={"format": "rss"})).content)
    atom = ET.fromstring(client.get(reverse("articles:feed", kwargs={"format": "atom"})).content)

    # Both carry HTML, which a reader's feed client renders: escaped, it shows the summary's text.
    assert rss.find("channel/item").findtext("description") == escaped
    summary = atom.find(f"{ATOM}entry/{ATOM}summary")
    assert (summary.get("type"), summary.text) == ("html", escaped)


def test_feeds_of_a_scope_are_titled_and_described_as_its_listing_is(client, published_post):
    published_post.tags.add("港股")
    tag = published_post.tags.get()

    channel = ET.fromstring(
        client.get(reverse("articles:tag_feed", kwargs={"slug": tag.slug, "format": "rss"})).content
    )

    assert channel.findtext("channel/title") == "港股 - finews 财经新闻"
    assert channel.findtext("channel/description") == "标签「港股」下的财经资讯。"
    assert channel.findtext("channel/link") == f"http://127.0.0.1:8000{reverse('articles:tag_detail', args=[tag.slug])}"
