"""Rows stored before validation existed (a category slug holding `/` or nothing, a tag with an empty
slug) take down no page: not the pages showing them, and not the others."""

import pytest
from django.urls import reverse
from taggit.models import Tag

from articles.models import Category

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["A股/港股", "", "a?b#c%d"], ids=["slash", "empty", "query-characters"])
def legacy_category(request, make_post):
    """A category whose slug the admin and importer no longer accept, with a post in it."""
    category = Category.objects.create(slug="placeholder", name="A股/港股")
    Category.objects.filter(pk=category.pk).update(slug=request.param)
    category.refresh_from_db()
    make_post(title="港股收评", category=category)
    return category


def test_a_category_slug_no_longer_valid_still_has_its_pages_and_takes_none_down(
    client, legacy_category, published_post
):
    urls = [
        reverse("articles:home"),
        reverse("articles:latest"),
        legacy_category.get_absolute_url(),
        reverse("articles:category_feed", kwargs={"slug": legacy_category.slug, "format": "rss"}),
        published_post.category.get_absolute_url(),
        published_post.get_absolute_url(),
        legacy_category.posts.get().get_absolute_url(),
        reverse("articles:feed", kwargs={"format": "atom"}),
        "/sitemap.xml",
        "/sitemap-categories.xml",
        "/sitemap-news.xml",
        "/sitemap-posts.xml",
    ]

    for url in urls:
        assert client.get(url).status_code == 200, url
    home = client.get(reverse("articles:home")).content.decode()
    assert f'<a href="{legacy_category.get_absolute_url()}">A股/港股</a>' in home
    assert "港股收评" in client.get(legacy_category.get_absolute_url()).content.decode()


def test_a_tag_with_an_empty_slug_is_left_unlinked_and_takes_no_page_down(client, published_post):
    published_post.tags.add("港股")
    blank = Tag.objects.create(name="+++", slug="placeholder")
    Tag.objects.filter(pk=blank.pk).update(slug="")
    published_post.tags.add(blank)

    article = client.get(published_post.get_absolute_url())
    sitemap = client.get("/sitemap-tags.xml")

    assert (article.status_code, sitemap.status_code) == (200, 200)
    html = article.content.decode()
    assert (
        f'<a class="tag" href="{reverse("articles:tag_detail", args=[Tag.objects.get(name="港股").slug])}">港股</a>'
        in html
    )
    assert ">+++</a>" not in html
    assert sitemap.content.decode().count("<loc>") == 1
