"""robots.txt, the sitemap index with its sections, and the Google News sitemap."""

import datetime
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from articles.models import Post
from articles.sitemaps import PostSitemap

pytestmark = pytest.mark.django_db

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def locations(response):
    return [loc.text for loc in ET.fromstring(response.content).iter(f"{SM}loc")]


def test_robots_txt_keeps_crawlers_out_of_admin_and_previews_and_names_the_sitemaps(client, db):
    response = client.get("/robots.txt")

    lines = response.content.decode().splitlines()
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert {"Disallow: /admin/", "Disallow: /preview/"} <= set(lines)
    assert "Sitemap: http://127.0.0.1:8000/sitemap.xml" in lines
    assert "Sitemap: http://127.0.0.1:8000/sitemap-news.xml" in lines


def test_sitemap_index_lists_every_section_and_each_page_of_posts(client, make_post, monkeypatch):
    monkeypatch.setattr(PostSitemap, "limit", 2)
    posts = [make_post() for _ in range(5)]
    pages = -(-max(p.pk for p in posts) // 2)

    listed = locations(client.get("/sitemap.xml"))

    for section in ["news", "pages", "categories", "posts", "sources", "tags", "stocks"]:
        assert f"http://testserver/sitemap-{section}.xml" in listed
    assert f"http://testserver/sitemap-posts.xml?p={pages}" in listed
    assert f"http://testserver/sitemap-posts.xml?p={pages + 1}" not in listed


def test_post_sitemap_pages_are_id_ranges_of_published_posts_only(client, make_post, monkeypatch):
    monkeypatch.setattr(PostSitemap, "limit", 2)
    posts = [make_post() for _ in range(4)]
    draft = make_post(status=Post.Status.DRAFT)
    page = -(-posts[2].pk // 2)

    listed = locations(client.get("/sitemap-posts.xml", {"p": page}))

    expected = [f"http://127.0.0.1:8000{p.get_absolute_url()}" for p in posts if -(-p.pk // 2) == page]
    assert listed == expected
    assert all(
        draft.get_absolute_url() not in loc for loc in locations(client.get("/sitemap-posts.xml", {"p": page + 1}))
    )
    assert client.get("/sitemap-posts.xml", {"p": -(-draft.pk // 2) + 1}).status_code == 404
    assert client.get("/sitemap-posts.xml", {"p": "x"}).status_code == 404


def test_news_sitemap_has_the_last_48_hours_with_publication_date_and_title(client, make_post, published_post):
    make_post(title="三天前", published_at=timezone.now() - datetime.timedelta(days=3))
    make_post(title="定时", published_at=timezone.now() + datetime.timedelta(hours=1))

    urlset = ET.fromstring(client.get("/sitemap-news.xml").content)

    urls = urlset.findall(f"{SM}url")
    assert [u.findtext(f"{NEWS}news/{NEWS}title") for u in urls] == [published_post.title]
    news = urls[0].find(f"{NEWS}news")
    assert news.findtext(f"{NEWS}publication/{NEWS}name") == "finews 财经新闻"
    assert news.findtext(f"{NEWS}publication/{NEWS}language") == "zh-cn"
    assert news.findtext(f"{NEWS}publication_date").endswith("+08:00")


def test_category_sitemap_lists_unicode_slugs_percent_encoded(client, category):
    assert locations(client.get("/sitemap-categories.xml")) == [
        "http://127.0.0.1:8000/category/shanghaizhengquanbao%C2%B7zhongguozhengquanwang/"
    ]
