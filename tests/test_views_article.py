"""The article page and the staff preview."""

import datetime
import json
import re

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from articles.models import Market, Post

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(make_post):
    post = make_post(
        title="算力底座不停歇！商汤临港智算中心有序复工",
        info_code="NW202205252391453833",
        summary="商汤科技开始有序推进复工",
        body="<p>近日，总部位于上海的人工智能软件公司商汤科技开始有序推进复工。</p>",
        published_at=datetime.datetime(2022, 5, 25, 5, 51, 7, tzinfo=datetime.UTC),
        tags=["上海证券报·中国证券网新闻"],
    )
    post.charts.create(market=Market.HONG_KONG, code="00020")
    post.sync_stocks()
    return post


def test_article_shows_title_shanghai_time_source_category_tags_and_body(client, article):
    html = client.get(article.get_absolute_url()).content.decode()

    assert '<h1 class="article-title">算力底座不停歇！商汤临港智算中心有序复工</h1>' in html
    assert ">2022-05-25 13:51:07</time>" in html
    assert 'title="GMT+8, Asia/Shanghai, CST"' in html
    assert f'来源：<a href="{article.source.get_absolute_url()}">上海证券报·中国证券网</a>' in html
    assert f'栏目：<a href="{article.category.get_absolute_url()}">上海证券报·中国证券网新闻</a>' in html
    assert 'class="tag" href="/tag/' in html
    assert "商汤科技开始有序推进复工。</p>" in html


def test_article_renders_stock_charts_as_lazy_linked_images_with_alt_text(client, article):
    html = client.get(article.get_absolute_url()).content.decode()

    chart = re.search(r'<figure class="stock-chart">\s*<a href="([^"]+)"[^>]*>\s*<img ([^>]+)>', html)
    assert chart[1] == "https://quote.eastmoney.com/unify/r/116.00020"
    assert 'src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=116.00020&amp;imageType=k"' in chart[2]
    assert 'alt="K 线图 00020（香港）"' in chart[2]
    assert 'loading="lazy"' in chart[2]
    assert 'width="578" height="276"' in chart[2]


def test_body_stock_short_code_renders_through_the_same_chart_partial(client, make_post):
    post = make_post(body="<p>正文</p><p>[stock 1.600519]</p>")

    html = client.get(post.get_absolute_url()).content.decode()

    assert re.search(r'<figure class="stock-chart">\s*<a href="https://quote.eastmoney.com/unify/r/1.600519"', html)
    assert "[stock" not in html


def test_article_links_previous_and_next_in_its_category_and_related_posts(client, make_post, article):
    older = make_post(title="更早", published_at=article.published_at - datetime.timedelta(hours=1))
    newer = make_post(title="更新", published_at=article.published_at + datetime.timedelta(hours=1))
    same_stock = make_post(title="同一只股票", category=make_post().category)
    same_stock.stocks.add(*article.stocks.all())

    html = client.get(article.get_absolute_url()).content.decode()

    assert f'<a class="older" rel="prev" href="{older.get_absolute_url()}"><span>上一篇</span>更早</a>' in html
    assert f'<a class="newer" rel="next" href="{newer.get_absolute_url()}"><span>下一篇</span>更新</a>' in html
    related = html[html.index("相关阅读") :]
    assert related.index("同一只股票") >= 0
    assert article.title not in related


def test_article_carries_news_article_json_ld_open_graph_and_canonical(client, article):
    html = client.get(article.get_absolute_url()).content.decode()

    data = json.loads(re.search(r'<script type="application/ld\+json">(.+?)</script>', html)[1])
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == article.title
    assert data["datePublished"] == "2022-05-25T05:51:07+00:00"
    assert data["author"] == {"@type": "Organization", "name": "上海证券报·中国证券网"}
    url = f"http://127.0.0.1:8000{article.get_absolute_url()}"
    assert data["mainEntityOfPage"]["@id"] == url
    assert f'<link rel="canonical" href="{url}">' in html
    assert '<meta property="og:title" content="算力底座不停歇！商汤临港智算中心有序复工">' in html
    # The image job has not run (its callbacks wait for a commit), so the site's default card stands in.
    assert '<meta property="og:image" content="http://127.0.0.1:8000/static/img/share-card.png">' in html
    assert '<meta name="description" content="商汤科技开始有序推进复工">' in html


@pytest.mark.parametrize(
    "state",
    [{"status": Post.Status.DRAFT}, {"published_at": timezone.now() + datetime.timedelta(days=1)}],
    ids=["draft", "scheduled"],
)
def test_drafts_and_scheduled_posts_are_404_for_readers(client, make_post, state):
    post = make_post(**state)

    assert client.get(post.get_absolute_url()).status_code == 404


def test_article_with_charts_tags_and_related_posts_takes_at_most_seven_queries(
    client, charted_posts, django_assert_max_num_queries
):
    post = charted_posts[10]

    # Expect at most 7 with nothing cached: the post with category and source; its charts, tags and
    # stocks; the site state (menu, last change, breaking news); one UNION for previous, next and
    # related posts; the pins and most-read posts beside it.
    with django_assert_max_num_queries(7):
        response = client.get(post.get_absolute_url())
    # Once cached, only the post itself.
    with django_assert_max_num_queries(1):
        again = client.get(post.get_absolute_url())

    assert response.status_code == 200
    assert "相关阅读" in response.content.decode()
    assert again.content == response.content


def test_article_links_a_newly_published_neighbour_within_a_second(client, make_post, article):
    client.get(article.get_absolute_url())
    newer = make_post(title="后续报道", published_at=article.published_at + datetime.timedelta(minutes=5))

    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=2)):
        html = client.get(article.get_absolute_url()).content.decode()

    assert f'<a class="newer" rel="next" href="{newer.get_absolute_url()}"><span>下一篇</span>后续报道</a>' in html


def test_article_answers_304_until_it_is_edited(client, article):
    first = client.get(article.get_absolute_url())

    assert first["Cache-Control"] == "public, max-age=300, s-maxage=2, stale-while-revalidate=30"
    assert client.get(article.get_absolute_url(), headers={"If-None-Match": first["ETag"]}).status_code == 304
    assert (
        client.get(article.get_absolute_url(), headers={"If-Modified-Since": first["Last-Modified"]}).status_code == 304
    )
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=5)):
        article.body = "<p>更正后的正文</p>"
        article.save()
        again = client.get(article.get_absolute_url(), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert "更正后的正文" in again.content.decode()


@pytest.fixture
def viewer(django_user_model):
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_post"))
    return user


@pytest.mark.parametrize(
    "state",
    [
        {"status": Post.Status.DRAFT},
        {"published_at": timezone.now() + datetime.timedelta(days=1)},
        {},
    ],
    ids=["draft", "scheduled", "live"],
)
def test_preview_shows_any_post_to_staff_who_may_view_posts_marked_and_never_cached(client, make_post, viewer, state):
    post = make_post(title="待审稿件", **state)
    client.force_login(viewer)

    response = client.get(reverse("articles:post_preview", args=[post.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="article-title">待审稿件</h1>' in html
    assert '<div class="preview-banner" role="note">' in html
    assert '<meta name="robots" content="noindex">' in html
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex"
    assert "ETag" not in response


def test_preview_sends_anonymous_readers_to_the_admin_login(client, make_post):
    post = make_post(status=Post.Status.DRAFT)
    url = reverse("articles:post_preview", args=[post.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"


def test_preview_is_404_for_staff_without_the_view_permission(client, make_post, django_user_model):
    post = make_post(status=Post.Status.DRAFT)
    client.force_login(django_user_model.objects.create_user("intern", password="pw", is_staff=True))

    assert client.get(reverse("articles:post_preview", args=[post.pk])).status_code == 404


def test_article_slug_in_upper_case_redirects_to_its_slug_in_one_query(client, article, django_assert_max_num_queries):
    # Slugs are made lower-case; info codes, which they come from, are written in upper case.
    assert article.slug == "nw202205252391453833"

    # Expect 1 query: the post looked up by both spellings at once.
    with django_assert_max_num_queries(1):
        response = client.get("/news/NW202205252391453833/")

    assert response.status_code == 301
    assert response["Location"] == article.get_absolute_url()
    assert client.get("/news/NW209912319999999999/").status_code == 404
