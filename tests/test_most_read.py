"""Most read (热门): reads counted by the article's beacon in the cache, flushed in batches, ranked."""

import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles import popularity
from articles.models import Post, ViewCount
from tests.post_form import post_form_data

BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
REDIS_CACHE = {
    "default": {
        "BACKEND": "finews.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/7",
        "KEY_PREFIX": "finews-test",
    }
}


def read(client, post, agent=BROWSER, address="203.0.113.7", **headers):
    """The article page's beacon, as a browser sends it after showing the page."""
    return client.post(
        reverse("articles:count_view", args=[post.pk]), HTTP_USER_AGENT=agent, REMOTE_ADDR=address, **headers
    )


@pytest.fixture(autouse=True)
def _nothing_pending(settings):
    # Without Redis a process flushes its own counts now and then; these tests flush when they mean to.
    settings.VIEW_FLUSH_SECONDS = 3600
    popularity.LocalPending().take()
    yield
    popularity.LocalPending().take()


@pytest.fixture
def redis_cache(settings):
    """The cache on Redis (this project's database 7), as with CACHE_URL: counts shared by all processes."""
    settings.CACHES = REDIS_CACHE
    cache.clear()
    yield
    cache.clear()


def most_read_titles(html):
    if 'class="most-read"' not in html:
        return []
    block = html.split('<ol class="most-read-list">', 1)[1].split("</ol>", 1)[0]
    return [part.split("</a>", 1)[0] for part in block.split('">')[1:]]


def test_a_readers_view_is_counted_without_touching_the_database(client, published_post, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = read(client, published_post)

    assert response.status_code == 204
    assert popularity.flush_views() == 1
    published_post.refresh_from_db()
    assert published_post.view_count == 1


def test_repeated_reads_from_one_client_count_once_within_the_window(client, published_post, settings):
    now = timezone.now()
    read(client, published_post)
    read(client, published_post)
    read(client, published_post, address="198.51.100.2")
    read(client, published_post, agent=BROWSER + " Edge")
    with time_machine.travel(now + datetime.timedelta(seconds=settings.VIEW_REPEAT_SECONDS + 1)):
        read(client, published_post)

        assert popularity.flush_views() == 4


def test_behind_the_proxy_the_address_it_saw_tells_readers_apart(client, published_post):
    proxy = "127.0.0.1"
    read(client, published_post, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    read(client, published_post, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8")
    # A client cannot pose as another by sending its own header: the proxy appends what it saw.
    read(client, published_post, address=proxy, HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.8")

    assert popularity.flush_views() == 2


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
        "Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 "
        "(compatible; Bytespider; spider-feedback@bytedance.com)",
        "facebookexternalhit/1.1",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36",
        "",
    ],
)
def test_crawlers_and_scripts_are_not_counted(client, published_post, agent):
    read(client, published_post, agent=agent)

    assert popularity.flush_views() == 0


@pytest.mark.parametrize(
    "headers",
    [{"HTTP_SEC_PURPOSE": "prefetch"}, {"HTTP_SEC_PURPOSE": "prefetch;prerender"}, {"HTTP_PURPOSE": "prefetch"}],
)
def test_prefetches_are_not_counted(client, published_post, headers):
    read(client, published_post, **headers)

    assert popularity.flush_views() == 0


def test_counting_can_be_turned_off(client, published_post, settings):
    settings.VIEW_COUNTING = False

    read(client, published_post)

    assert popularity.flush_views() == 0


def test_the_beacon_takes_post_only(client, published_post):
    response = client.get(reverse("articles:count_view", args=[published_post.pk]), HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 405
    assert popularity.flush_views() == 0


def test_the_article_sends_the_beacon_and_a_preview_does_not(client, editor_client, published_post):
    beacon = f'data-view-beacon="{reverse("articles:count_view", args=[published_post.pk])}"'

    article = client.get(published_post.get_absolute_url()).content.decode()
    preview = editor_client.get(reverse("articles:post_preview", args=[published_post.pk])).content.decode()

    assert beacon in article
    assert beacon not in preview


def test_a_flush_writes_hourly_rows_and_totals_in_one_batch(client, make_post, django_assert_max_num_queries):
    posts = [make_post() for _ in range(3)]
    for n, post in enumerate(posts):
        for reader in range(n + 1):
            read(client, post, address=f"203.0.113.{reader}")

    # Expect a fixed number of queries whatever the number of posts: the posts that exist, the hour's rows
    # (locked), their update and insert, the totals, old rows pruned, and the two rankings.
    with django_assert_max_num_queries(12):
        written = popularity.flush_views()

    assert written == 6
    assert [post.view_count for post in Post.objects.filter(pk__in=[p.pk for p in posts]).order_by("pk")] == [1, 2, 3]
    assert ViewCount.objects.count() == 3
    read(client, posts[0], address="198.51.100.9")
    popularity.flush_views()
    assert ViewCount.objects.get(post=posts[0]).views == 2


def test_reads_of_a_deleted_post_are_dropped(client, published_post):
    read(client, published_post)
    published_post.delete()

    assert popularity.flush_views() == 0
    assert not ViewCount.objects.exists()


def test_a_flush_leaves_the_site_state_and_cached_pages_alone(client, published_post):
    before = client.get("/")["Last-Modified"]
    read(client, published_post)

    popularity.flush_views()

    published_post.refresh_from_db()
    assert published_post.view_count == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2)):
        assert client.get("/")["Last-Modified"] == before


def test_an_editors_save_keeps_the_readers_count(client, editor_client, published_post):
    form = post_form_data(published_post, title="改过的标题")
    read(client, published_post)
    popularity.flush_views()

    editor_client.post(reverse("admin:articles_post_change", args=[published_post.pk]), form)

    published_post.refresh_from_db()
    assert (published_post.title, published_post.view_count) == ("改过的标题", 1)


def test_the_day_and_week_most_read_lists(client, make_post):
    now = timezone.now()
    old_favourite = make_post(title="上周热文")
    today = [make_post(title=f"今日热文 {n}") for n in range(3)]
    with time_machine.travel(now - datetime.timedelta(days=3)):
        for reader in range(5):
            read(client, old_favourite, address=f"192.0.2.{reader}")
        popularity.flush_views()
    for n, post in enumerate(today):
        for reader in range(n + 1):
            read(client, post, address=f"203.0.113.{reader}")
    popularity.flush_views()

    home = client.get("/").content.decode()
    article = client.get(today[0].get_absolute_url()).content.decode()
    week = client.get(reverse("articles:most_read")).content.decode()

    assert most_read_titles(home) == ["今日热文 2", "今日热文 1", "今日热文 0"]
    assert most_read_titles(article) == ["今日热文 2", "今日热文 1", "今日热文 0"]
    assert "24 小时热门" in home
    order = [week.index(title) for title in ["上周热文", "今日热文 2", "今日热文 1", "今日热文 0"]]
    assert order == sorted(order)
    assert "5 次阅读" in week


def test_unpublished_posts_leave_the_lists_at_once(client, make_post, editor):
    post = make_post(title="被撤回的热文")
    read(client, post)
    popularity.flush_views()
    assert most_read_titles(client.get("/").content.decode()) == ["被撤回的热文"]

    Post.objects.filter(pk=post.pk).unpublish(editor)

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2)):
        assert most_read_titles(client.get("/").content.decode()) == []
        assert "被撤回的热文" not in client.get(reverse("articles:most_read")).content.decode()


def test_lists_still_show_when_the_cache_lost_the_ranking(client, published_post, django_assert_max_num_queries):
    read(client, published_post)
    popularity.flush_views()
    cache.clear()

    assert most_read_titles(client.get("/").content.decode()) == [published_post.title]


def test_editors_sort_the_changelist_by_reads(client, editor_client, make_post):
    make_post(title="冷门")
    popular = make_post(title="热门文章")
    for reader in range(3):
        read(client, popular, address=f"203.0.113.{reader}")
    popularity.flush_views()

    html = editor_client.get(reverse("admin:articles_post_changelist"), {"o": "-6"}).content.decode()

    assert html.index("热门文章") < html.index("冷门")
    assert 'class="field-view_count">3<' in html


def test_without_redis_a_process_flushes_its_own_counts_in_time(client, published_post, settings):
    settings.VIEW_FLUSH_SECONDS = 0

    read(client, published_post)

    published_post.refresh_from_db()
    assert published_post.view_count == 1


def test_flush_views_command(client, published_post):
    read(client, published_post)

    call_command("flush_views", verbosity=0)

    published_post.refresh_from_db()
    assert published_post.view_count == 1


def test_with_redis_counts_wait_in_redis_and_survive_a_restart(redis_cache, client, published_post):
    read(client, published_post)
    read(client, published_post, address="198.51.100.2")
    # A restarted process has an empty memory: the counts are in Redis, not in it.
    popularity.LocalPending().take()

    assert popularity.flush_views() == 2
    assert popularity.flush_views() == 0
    published_post.refresh_from_db()
    assert published_post.view_count == 2


def test_with_redis_a_failed_flush_keeps_its_counts_for_the_next(redis_cache, client, published_post, monkeypatch):
    read(client, published_post)

    def fail(counts, now):
        raise RuntimeError("database went away")

    monkeypatch.setattr(popularity, "write_counts", fail)
    with pytest.raises(RuntimeError):
        popularity.flush_views()
    monkeypatch.undo()
    read(client, published_post, address="198.51.100.2")

    # The batch set aside first, then the reads counted since.
    assert popularity.flush_views() == 1
    assert popularity.flush_views() == 1
    published_post.refresh_from_db()
    assert published_post.view_count == 2


def test_a_flush_with_nothing_new_keeps_the_cached_lists(client, published_post):
    read(client, published_post)
    popularity.flush_views()
    version = popularity.ranking()["version"]

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=1)):
        popularity.flush_views()
        assert popularity.ranking()["version"] == version
        read(client, published_post, address="198.51.100.2")
        popularity.flush_views()

    assert popularity.ranking()["version"] != version
