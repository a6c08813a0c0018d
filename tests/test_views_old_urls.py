"""The old site's URLs: share links, Jekyll permalinks, category pages and the feed keep working."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Category, Post

pytestmark = pytest.mark.django_db

SHARE = "/html_News/NewsShare.html"


def test_share_link_redirects_permanently_to_the_article(client, published_post):
    response = client.get(SHARE, {"infoCode": "NW202205252391453833"})

    assert response.status_code == 301
    assert response["Location"] == published_post.get_absolute_url()


def test_share_link_ignores_extra_parameters_and_lower_case(client, published_post):
    response = client.get(f"{SHARE}?infoCode=nw202205252391453833&from=timeline&isappinstalled=0")

    assert response.status_code == 301
    assert response["Location"] == published_post.get_absolute_url()


def test_share_link_to_unknown_code_is_a_friendly_404(client, published_post):
    response = client.get(SHARE, {"infoCode": "NW209912319999999999"})

    assert response.status_code == 404
    assert "找不到编号为 NW209912319999999999 的文章" in response.content.decode()


@pytest.mark.parametrize(
    "state", [{"status": Post.Status.DRAFT}, {"published_at_delta": 1}], ids=["draft", "scheduled"]
)
def test_share_link_to_an_unpublished_post_is_404(client, make_post, state):
    if state.pop("published_at_delta", None):
        state["published_at"] = timezone.now() + datetime.timedelta(hours=1)
    make_post(info_code="NW202205252391453833", **state)

    assert client.get(SHARE, {"infoCode": "NW202205252391453833"}).status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "分享链接缺少 infoCode 参数"),
        ("?infoCode=", "分享链接缺少 infoCode 参数"),
        ("?infoCode=NW2022%3Cscript%3E", "infoCode 格式不对"),
        ("?infoCode=" + "9" * 41, "infoCode 格式不对"),
    ],
)
def test_share_link_without_a_valid_code_is_a_400_saying_what_is_wrong(client, db, query, message):
    response = client.get(SHARE + query)

    assert response.status_code == 400
    assert message in response.content.decode()


def test_jekyll_permalink_redirects_to_the_article_by_file_id(client, make_post):
    post = make_post(key="NW202205252391453833")

    response = client.get("/shanghaizhengquanbao%C2%B7zhongguozhengquanwang/2022/05/25/NW202205252391453833.html")

    assert response.status_code == 301
    assert response["Location"] == post.get_absolute_url()


def test_jekyll_permalink_of_a_category_with_a_space_has_two_segments(client, make_post):
    post = make_post(key="202201212257099936")

    response = client.get("/21shijijingjibaodao/21caijingapp/2022/01/21/202201212257099936.html")

    assert response["Location"] == post.get_absolute_url()


def test_jekyll_permalink_of_a_draft_is_404(client, make_post):
    make_post(key="202201212257099936", status=Post.Status.DRAFT)

    assert client.get("/emnews/2022/01/21/202201212257099936.html").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/category/shanghaizhengquanbao·zhongguozhengquanwang.html",
        "/category/shanghaizhengquanbao%C2%B7zhongguozhengquanwang.html",
        "/category/SHANGHAIZHENGQUANBAO%C2%B7zhongguozhengquanwang.html",
        "/shanghaizhengquanbao·zhongguozhengquanwang/",
        "/shanghaizhengquanbao%C2%B7zhongguozhengquanwang/",
    ],
)
def test_old_category_urls_redirect_permanently_to_the_category_page(client, category, path):
    response = client.get(path)

    assert response.status_code == 301
    assert response["Location"] == category.get_absolute_url()


def test_old_category_url_with_parentheses_and_space(client, db):
    category = Category.objects.create(slug="anxinguojizhengquan(xianggang)", name="安信国际证券(香港)新闻")
    spaced = Category.objects.create(slug="21shijijingjibaodao 21caijingAPP", name="21世纪经济报道 21财经APP新闻")

    assert client.get("/anxinguojizhengquan(xianggang)/")["Location"] == category.get_absolute_url()
    assert client.get("/category/21shijijingjibaodao%2021caijingAPP.html")["Location"] == spaced.get_absolute_url()


@pytest.mark.parametrize("slug", ["news", "admin", "tag", "category", "api"])
def test_a_category_named_like_a_site_route_never_shadows_it(client, make_post, slug):
    make_post(title="首页新闻", category=Category.objects.create(slug=slug, name="同名栏目"))

    assert client.get(reverse("articles:latest")).status_code == 200
    assert client.get("/admin/").status_code == 302
    assert client.get(reverse("articles:home")).status_code == 200


def test_old_feed_and_index_redirect(client, db):
    assert client.get("/feed.xml")["Location"] == reverse("articles:feed", kwargs={"format": "atom"})
    assert client.get("/index.html")["Location"] == reverse("articles:home")
