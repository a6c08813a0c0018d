"""The whole-page cache of reader pages: who it serves, what it never keeps, and what each change invalidates."""

import datetime
import gzip

import pytest
import time_machine
from django.core.cache import cache
from django.db import OperationalError, connection
from django.http import HttpResponse, HttpResponseServerError
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from articles import freshness, popularity, reading
from articles.models import Category, Market, Post, Source, Stock
from articles.routing import sticky_seconds

from .test_import_command import post_text, run, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_category(db):
    return Category.objects.create(slug="gangguxinwen", name="港股新闻")


@pytest.fixture
def posts(make_post, other_category):
    """A post with a tag and a stock, and one in another category."""
    first = make_post(title="沪指收涨", info_code="NW100", tags=["A股"])
    first.charts.create(market=Market.SHANGHAI, code="600000")
    first.sync_stocks()
    other = make_post(title="恒指收跌", category=other_category)
    return first, other


def get(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code in (200, 301, 302, 404), response.status_code
    return response


def cached(client, url):
    """Whether `url` is answered from the page cache now (it then costs no query)."""
    return client.get(url).headers.get("X-Page-Cache") == "hit"


def reader_urls(first):
    tag = first.tags.get()
    stock = first.stocks.get()
    return [
        "/",
        "/news/",
        first.get_absolute_url(),
        first.category.get_absolute_url(),
        first.source.get_absolute_url(),
        reverse("articles:tag_detail", kwargs={"slug": tag.slug}),
        stock.get_absolute_url(),
        "/rss.xml",
        "/atom.xml",
        "/sitemap.xml",
        "/sitemap-posts.xml",
        "/robots.txt",
        "/html_News/NewsShare.html?infoCode=NW100",
        "/search/?q=沪指",
    ]


def test_every_kind_of_reader_page_is_answered_from_the_cache_without_a_query(client, posts, django_assert_num_queries):
    for url in reader_urls(posts[0]):
        first = get(client, url)
        assert first["X-Page-Cache"] == "miss", url

        with django_assert_num_queries(0):
            again = get(client, url)

        assert again["X-Page-Cache"] == "hit", url
        assert again.status_code == first.status_code
        assert again.content == first.content
        assert again.get("Location") == first.get("Location")


def test_a_hit_answers_304_to_its_etag_and_keeps_its_cache_control(client, posts):
    first = get(client, "/")
    again = get(client, "/")

    assert again["ETag"] == first["ETag"]
    assert again["Cache-Control"] == "public, max-age=60, s-maxage=2, stale-while-revalidate=30"
    assert client.get("/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_hit_serves_while_the_database_is_down(client, posts):
    get(client, "/")
    get(client, posts[0].get_absolute_url())

    def refuse(*args, **kwargs):
        raise OperationalError("the database is down")

    with connection.execute_wrapper(refuse):
        assert get(client, "/")["X-Page-Cache"] == "hit"
        assert get(client, posts[0].get_absolute_url())["X-Page-Cache"] == "hit"


@pytest.mark.parametrize("cookie", ["sessionid", "csrftoken", "finews_wrote"])
def test_requests_with_a_session_csrf_or_just_wrote_cookie_bypass_the_cache(client, posts, cookie):
    get(client, "/")
    client.cookies[cookie] = "x"

    assert "X-Page-Cache" not in get(client, "/")


def test_a_logged_in_editor_neither_gets_nor_fills_the_cache(client, editor, posts):
    client.force_login(editor)
    for url in reader_urls(posts[0]):
        assert "X-Page-Cache" not in get(client, url), url
    client.logout()
    client.cookies.clear()

    for url in reader_urls(posts[0]):
        assert get(client, url)["X-Page-Cache"] == "miss", url


def test_posts_and_heads_are_never_answered_from_the_cache(client, posts):
    get(client, "/")

    assert "X-Page-Cache" not in client.post("/")
    assert client.head("/")["X-Page-Cache"] == "hit"


def test_no_cached_page_holds_a_cookie_a_csrf_token_or_a_username(client, editor, posts):
    client.force_login(editor)
    get(client, posts[0].get_absolute_url())
    client.get(reverse("admin:articles_post_changelist"))
    client.logout()
    client.cookies.clear()
    for url in reader_urls(posts[0]):
        get(client, url)

    for url in reader_urls(posts[0]):
        hit = client.get(url)
        assert hit["X-Page-Cache"] == "hit"
        assert not hit.cookies
        assert "Set-Cookie" not in hit.headers
        assert b"csrfmiddlewaretoken" not in hit.content
        assert editor.username.encode() not in hit.content


def test_previews_and_admin_pages_never_enter_the_cache(client, editor, posts):
    preview = reverse("articles:post_preview", args=[posts[0].pk])
    client.force_login(editor)

    response = client.get(preview)

    assert response["Cache-Control"] == "private, no-store"
    keys = [reading.page_key(RequestFactory().get(url)) for url in (preview, reverse("admin:index"))]
    assert cache.get_many(keys) == {}


def test_a_404_is_kept_briefly_and_until_a_post_changes(client, make_post):
    url = "/html_News/NewsShare.html?infoCode=NW404"
    assert get(client, url).status_code == 404
    assert cached(client, url)

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=reading.NOT_FOUND_SECONDS + 1)):
        assert not cached(client, url)

    make_post(info_code="NW404")
    assert get(client, url).status_code == 301


def test_errors_are_never_cached(client, posts):
    calls = []

    @reading.reader_page("listing")
    def broken(request):
        calls.append(request)
        return HttpResponseServerError("boom")

    request = RequestFactory().get("/broken/")
    broken(request)
    broken(RequestFactory().get("/broken/"))
    assert len(calls) == 2

    bad_cursor = "/news/?before=nonsense"
    assert client.get(bad_cursor).status_code == 400
    assert client.get(bad_cursor).get("X-Page-Cache") == "miss"


def test_a_response_setting_a_cookie_is_not_kept(posts):
    @reading.reader_page("listing")
    def with_cookie(request):
        response = HttpResponse("hi")
        response.set_cookie("tracking", "1")
        return response

    with_cookie(RequestFactory().get("/cookie/"))

    assert with_cookie(RequestFactory().get("/cookie/"))["X-Page-Cache"] == "miss"


# Invalidation: each change makes again the pages showing it, and leaves the other category's page cached.


@pytest.fixture
def warm(client, posts):
    """Fill the cache with every page of the first post, and the other category's page."""
    first, other = posts
    urls = [*reader_urls(first), other.category.get_absolute_url(), other.get_absolute_url()]
    for url in urls:
        get(client, url)
    assert all(cached(client, url) for url in urls)
    return first, other


def test_editing_a_post_shows_on_its_pages_at_once(client, warm):
    first, other = warm
    first.title = "沪指大涨"
    first.save()

    for url in ["/", "/news/", first.get_absolute_url(), first.category.get_absolute_url(), "/rss.xml"]:
        assert "沪指大涨" in get(client, url).content.decode(), url
    assert cached(client, other.category.get_absolute_url())
    assert cached(client, other.get_absolute_url())


def test_unpublishing_and_deleting_remove_a_post_from_its_pages(client, warm, editor):
    first, other = warm
    Post.objects.filter(pk=first.pk).unpublish(editor)

    assert get(client, first.get_absolute_url()).status_code == 404
    assert "沪指收涨" not in get(client, "/").content.decode()
    assert get(client, "/html_News/NewsShare.html?infoCode=NW100").status_code == 404
    assert cached(client, other.category.get_absolute_url())

    Post.objects.filter(pk=first.pk).publish(editor)
    assert get(client, first.get_absolute_url()).status_code == 200
    first.delete()
    assert get(client, first.get_absolute_url()).status_code == 404
    assert "沪指收涨" not in get(client, first.category.get_absolute_url()).content.decode()
    assert cached(client, other.category.get_absolute_url())


def test_moving_a_post_changes_the_category_it_left(client, warm):
    first, other = warm
    left = first.category
    first.category = other.category
    first.save()

    assert "沪指收涨" not in get(client, left.get_absolute_url()).content.decode()
    assert "沪指收涨" in get(client, other.category.get_absolute_url()).content.decode()


def test_admin_bulk_actions_invalidate_what_they_change(client, warm, editor):
    first, other = warm
    client.force_login(editor)
    response = client.post(
        reverse("admin:articles_post_changelist"), {"action": "unpublish", "_selected_action": [first.pk]}
    )
    assert response.status_code == 302
    client.logout()
    client.cookies.clear()

    assert get(client, first.get_absolute_url()).status_code == 404
    assert cached(client, other.category.get_absolute_url())


def test_tags_and_charts_changed_show_on_the_article(client, warm):
    first, other = warm
    first.tags.add("新能源")
    assert "新能源" in get(client, first.get_absolute_url()).content.decode()

    tag = Tag.objects.get(name="新能源")
    assert "沪指收涨" in get(client, reverse("articles:tag_detail", kwargs={"slug": tag.slug})).content.decode()
    get(client, first.get_absolute_url())
    first.charts.create(market=Market.SHENZHEN, code="000001")
    assert "000001" in get(client, first.get_absolute_url()).content.decode()
    assert cached(client, other.category.get_absolute_url())


@pytest.mark.parametrize("model", [Category, Source, Stock])
def test_a_renamed_category_source_or_stock_shows_everywhere_at_once(client, warm, model):
    first, other = warm
    named = {Category: first.category, Source: first.source, Stock: first.stocks.get()}[model]
    named.name = "改名以后"
    named.save()

    assert "改名以后" in get(client, first.get_absolute_url()).content.decode()
    if model is not Stock:
        assert "改名以后" in get(client, other.get_absolute_url() if model is Category else "/").content.decode()


def test_an_import_batch_invalidates_the_pages_it_changes(client, warm, tmp_path, other_category):
    first, other = warm
    write(tmp_path, "2022-05-21-NW7.md", post_text("NW7", title="导入的新闻", category=first.category.slug))
    run(tmp_path)

    assert "导入的新闻" in get(client, "/").content.decode()
    assert "导入的新闻" in get(client, first.category.get_absolute_url()).content.decode()
    assert cached(client, other.category.get_absolute_url())


def test_a_bulk_write_told_to_the_freshness_rule_shows(client, warm):
    first, other = warm
    Post.objects.filter(pk=first.pk).update(title="批量改写")
    assert cached(client, first.get_absolute_url())

    freshness.posts_changed([first.pk])

    assert "批量改写" in get(client, first.get_absolute_url()).content.decode()
    assert cached(client, other.get_absolute_url())


def test_site_changed_makes_every_page_again(client, warm):
    _, other = warm
    reading.site_changed()

    assert not cached(client, other.category.get_absolute_url())
    assert not cached(client, "/robots.txt")


def test_a_scheduled_post_goes_live_at_its_time_with_no_save(client, warm, make_post, django_assert_num_queries):
    first, other = warm
    at = timezone.now() + datetime.timedelta(minutes=5)
    make_post(title="定时发布的新闻", published_at=at, tags=["A股"])
    assert "定时发布的新闻" not in get(client, "/").content.decode()
    assert cached(client, "/")
    assert cached(client, other.category.get_absolute_url())

    with time_machine.travel(at + datetime.timedelta(seconds=1)):
        assert "定时发布的新闻" in get(client, "/").content.decode()
        assert "定时发布的新闻" in get(client, first.category.get_absolute_url()).content.decode()
        assert "定时发布的新闻" in get(client, first.get_absolute_url()).content.decode()  # related, by tag
        with django_assert_num_queries(0):
            assert cached(client, "/")
        assert cached(client, other.category.get_absolute_url())


# Pages the page cache cannot answer (a signed-in reader) are made from the cache where they can be:
# a listing's rows under the versions of what it lists (reading.cached_rows).


def post_queries(client, url):
    """`url`'s page and the queries its request made of posts."""
    with CaptureQueriesContext(connection) as queries:
        response = get(client, url)
    return response, [query["sql"] for query in queries if '"articles_post"' in query["sql"]]


def test_a_signed_in_reader_s_pages_read_no_post_until_one_they_show_changes(editor_client, editor, posts):
    first, other = posts
    urls = ["/", "/news/", first.category.get_absolute_url(), first.get_absolute_url()]
    unrelated = other.category.get_absolute_url()
    for url in [*urls, unrelated]:
        post_queries(editor_client, url)
    for url in [*urls, unrelated]:
        response, queries = post_queries(editor_client, url)
        assert "X-Page-Cache" not in response, url
        assert queries == [], url

    first.title = "沪指大涨"
    first.save()

    for url in urls:
        response, queries = post_queries(editor_client, url)
        assert "沪指大涨" in response.content.decode(), url
        assert queries, url
    assert post_queries(editor_client, unrelated)[1] == []

    Post.objects.filter(pk=first.pk).unpublish(editor)
    assert editor_client.get(first.get_absolute_url()).status_code == 404
    for url in urls[:3]:
        assert "沪指大涨" not in get(editor_client, url).content.decode(), url


def test_a_signed_in_reader_sees_a_scheduled_post_at_its_time_with_no_save(editor_client, posts, make_post):
    first, _ = posts
    # Sooner than what is kept under versions expires on its own (reading.LINKED_FRAGMENT_SECONDS).
    at = timezone.now() + datetime.timedelta(seconds=20)
    make_post(title="定时发布的新闻", published_at=at)
    urls = ["/", "/news/", first.category.get_absolute_url()]
    for url in urls:
        assert "定时发布的新闻" not in get(editor_client, url).content.decode(), url
        assert post_queries(editor_client, url)[1] == [], url

    with time_machine.travel(at + datetime.timedelta(seconds=1)):
        for url in urls:
            assert "定时发布的新闻" in get(editor_client, url).content.decode(), url


def test_with_replicas_rows_read_within_their_lag_of_a_change_are_read_again(editor_client, posts, settings):
    settings.DATABASE_REPLICAS = ["replica"]  # the lag rule only; reads stay on the test database
    urls = ["/", posts[0].category.get_absolute_url(), posts[0].get_absolute_url()]
    reading.site_changed()
    for url in urls:
        post_queries(editor_client, url)
        assert post_queries(editor_client, url)[1], url

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=sticky_seconds() + 1)):
        for url in urls:
            post_queries(editor_client, url)
            assert post_queries(editor_client, url)[1] == [], url


def test_a_bad_cursor_is_a_400_every_time_and_leaves_the_listing_s_pages_alone(editor_client, posts):
    url = posts[0].category.get_absolute_url()
    page = get(editor_client, url).content

    for _ in range(2):
        assert editor_client.get(f"{url}?before=2022-13-99").status_code == 400
    assert get(editor_client, url).content == page


def test_a_change_committed_while_a_page_is_made_does_not_keep_that_page(client, posts, monkeypatch):
    first, _ = posts

    def render_then_change(*args, **kwargs):
        html = render_to_string(*args, **kwargs)
        freshness.scope_changed("post", first.pk)
        return html

    monkeypatch.setattr("articles.views.render_to_string", render_then_change)
    get(client, first.get_absolute_url())
    monkeypatch.undo()

    assert not cached(client, first.get_absolute_url())


def test_the_page_cache_can_be_turned_off(client, posts, settings):
    settings.PAGE_CACHE_SECONDS = 0
    get(client, "/")

    assert "X-Page-Cache" not in get(client, "/")


def test_with_replicas_a_page_changed_within_their_lag_is_served_but_not_kept(client, posts, settings):
    settings.DATABASE_REPLICAS = ["replica"]  # the lag rule only; reads stay on the test database
    url = posts[0].get_absolute_url()  # its versions were bumped a moment ago, when it was made

    unsure = get(client, url)
    assert not cached(client, url)
    # nginx or a CDN must not keep it the usual SHARED_CACHE_SECONDS either: the replica may lack the change.
    assert f"s-maxage={reading.UNSURE_SHARED_SECONDS}" in unsure["Cache-Control"]

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=sticky_seconds() + 1)):
        sure = get(client, url)
        assert cached(client, url)
    assert f"s-maxage={settings.SHARED_CACHE_SECONDS}" in sure["Cache-Control"]


def test_with_replicas_what_is_read_within_their_lag_of_a_change_is_read_again_once_it_has_passed(
    client, posts, other_category, settings
):
    settings.DATABASE_REPLICAS = ["replica"]  # the lag rule only; reads stay on the test database
    # A change is bumped; a replica behind it has the rows as they were (the test database, unchanged
    # yet), and the site state, the menu and the home page's blocks are read from it.
    reading.site_changed()
    assert "港股新闻" in get(client, "/?n=1").content.decode()
    # The replica then applies the change: the rows change without a bump of their own.
    Category.objects.filter(pk=other_category.pk).update(name="港股要闻")

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=sticky_seconds() + 1)):
        page = get(client, "/?n=2").content.decode()
    assert "港股要闻" in page
    assert "港股新闻" not in page


def test_reader_pages_vary_on_their_encoding_alone_and_a_page_varying_on_another_header_is_not_kept(client, posts):
    # The same for every reader, gzipped or not: requests whose cookies could matter bypass every cache.
    assert get(client, "/")["Vary"] == "Accept-Encoding"

    @reading.reader_page("listing")
    def by_language(request):
        response = HttpResponse("hi")
        response["Vary"] = "Accept-Language"
        return response

    by_language(RequestFactory().get("/by-language/"))

    assert by_language(RequestFactory().get("/by-language/"))["X-Page-Cache"] == "miss"


def test_a_browser_gets_the_cached_page_gzipped_and_others_get_it_plain(client, posts):
    plain = get(client, "/")

    zipped = get(client, "/", headers={"Accept-Encoding": "gzip, deflate, br"})

    assert zipped["X-Page-Cache"] == "hit" and zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    again = get(client, "/")
    assert again["X-Page-Cache"] == "hit" and "Content-Encoding" not in again
    assert again.content == plain.content


def test_only_what_every_reader_gets_alike_is_gzipped_never_a_signed_in_page(client, admin_client, posts):
    asked = {"Accept-Encoding": "gzip"}
    assert get(client, "/", headers=asked)["Content-Encoding"] == "gzip"
    assert get(client, "/api/v1/posts", headers=asked)["Content-Encoding"] == "gzip"

    assert "Content-Encoding" not in admin_client.get(reverse("admin:articles_post_changelist"), headers=asked)
    signed_in = admin_client.get("/", headers=asked)
    assert signed_in.status_code == 200 and "Content-Encoding" not in signed_in


# Curation: the breaking-news banner is on every page, pins and flags run out with no write, and the
# most-read lists follow the read counts' flushes.


def test_breaking_news_set_and_cleared_shows_on_every_cached_page_at_once(client, warm, editor):
    first, other = warm
    Post.objects.filter(pk=first.pk).flag_breaking(editor)

    for url in [other.category.get_absolute_url(), other.get_absolute_url(), "/"]:
        assert 'id="breaking-news" hidden' not in get(client, url).content.decode(), url

    Post.objects.filter(pk=first.pk).clear_breaking(editor)

    assert 'id="breaking-news" hidden' in get(client, other.get_absolute_url()).content.decode()


def test_breaking_news_that_runs_out_leaves_the_cached_pages_with_no_save(client, warm, editor):
    first, other = warm
    Post.objects.filter(pk=first.pk).flag_breaking(editor, minutes=10)
    assert 'id="breaking-news" hidden' not in get(client, other.get_absolute_url()).content.decode()
    assert cached(client, other.get_absolute_url())

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        assert 'id="breaking-news" hidden' in get(client, other.get_absolute_url()).content.decode()


def test_a_pin_that_runs_out_leaves_the_home_page_with_no_save(client, warm):
    _, other = warm
    other.pinned_to, other.pinned_until = Post.Pin.HOME, timezone.now() + datetime.timedelta(minutes=10)
    other.save()
    assert 'class="headlines' in get(client, "/").content.decode()
    assert cached(client, "/")

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        assert 'class="headlines' not in get(client, "/").content.decode()


def test_a_flush_that_changes_the_ranking_makes_the_pages_showing_it_again(client, warm):
    _, other = warm
    popularity.update_ranking()
    assert cached(client, "/") is False  # the first ranking is a change
    get(client, "/")
    assert cached(client, "/")
    assert cached(client, other.category.get_absolute_url())

    popularity.update_ranking(changed=True)

    assert not cached(client, "/")
    assert not cached(client, other.get_absolute_url())  # its sidebar lists the most read
    assert cached(client, other.category.get_absolute_url())


# The fast path: PageCacheMiddleware answers a page this process keeps before the rest of the middleware.


def test_a_hit_carries_the_headers_the_middleware_below_the_page_cache_added(client, posts):
    for url in ("/", posts[0].get_absolute_url()):
        first = get(client, url)
        again = get(client, url)

        assert again["X-Page-Cache"] == "hit"
        for header in ("X-Frame-Options", "Content-Security-Policy", "X-Content-Type-Options", "Content-Type"):
            assert again[header] == first[header], header


def test_a_page_another_process_stored_is_served_from_the_shared_cache_and_kept(
    client, posts, django_assert_num_queries
):
    first = get(client, "/")
    reading.local_pages.pages.clear()  # as in another worker, which has only the shared cache

    with django_assert_num_queries(0):
        shared = get(client, "/")
        local = get(client, "/")

    assert shared["X-Page-Cache"] == local["X-Page-Cache"] == "hit"
    assert shared.content == local.content == first.content
    assert reading.page_key(RequestFactory().get("/")) in reading.local_pages.pages


def test_a_cached_page_asked_with_a_nul_in_a_cookie_is_still_a_400(client, posts):
    get(client, "/")
    assert cached(client, "/")
    client.cookies["preference"] = "a\x00b"

    assert client.get("/").status_code == 400


def test_a_cached_api_answer_to_another_origin_keeps_its_cors_header(client, posts):
    url = "/api/v1/posts"
    client.get(url)
    again = client.get(url, HTTP_ORIGIN="https://app.example.com")

    assert again["X-Page-Cache"] == "hit"
    assert again["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in client.get(url)
