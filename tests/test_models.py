import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from articles.models import Category, Post, Stock, StockChart

pytestmark = pytest.mark.django_db


def test_published_shows_live_posts_only(make_post):
    live = make_post()
    make_post(status=Post.Status.DRAFT)
    make_post(published_at=timezone.now() + datetime.timedelta(hours=1))

    assert list(Post.objects.published()) == [live]


def test_scheduled_post_is_hidden_until_its_time(make_post, time_machine):
    at = timezone.now() + datetime.timedelta(hours=1)
    post = make_post(published_at=at)
    assert post.state == "scheduled"
    assert not Post.objects.published().exists()

    time_machine.move_to(at, tick=False)
    assert list(Post.objects.published()) == [post]
    assert post.state == "live"


def test_draft_state(make_post):
    assert make_post(status=Post.Status.DRAFT).state == "draft"


def test_info_code_is_unique(make_post):
    make_post(info_code="NW1")
    with pytest.raises(IntegrityError):
        make_post(info_code="NW1")


def test_posts_without_info_code_can_coexist(make_post):
    make_post()
    make_post()
    assert Post.objects.filter(info_code__isnull=True).count() == 2


def test_chinese_tags_work_ignoring_case_and_width(make_post):
    post = make_post(tags=["上海证券报·中国证券网新闻", "AI"])
    other = make_post()
    other.tags.add("ai")

    assert sorted(post.tags.names()) == ["AI", "上海证券报·中国证券网新闻"]
    assert other.tags.get().pk == post.tags.get(name="AI").pk
    assert list(Post.objects.filter(tags__name="上海证券报·中国证券网新闻")) == [post]


def test_tag_parser_folds_full_width_forms():
    from articles.tagging import parse_tags

    assert parse_tags("ＡＩ, 新闻（快讯）") == ["AI", "新闻(快讯)"]


def test_category_slug_keeps_unicode_spaces_and_parentheses(db):
    for slug in [
        "shanghaizhengquanbao·zhongguozhengquanwang",
        "21shijijingjibaodao 21caijingAPP",
        "anxinguojizhengquan(xianggang)",
    ]:
        Category.objects.create(slug=slug, name=slug)
        assert Category.objects.get_by_slug(slug.upper()).slug == slug


def test_category_slug_is_unique_ignoring_case(db):
    Category.objects.create(slug="TechWeb", name="TechWeb")
    with pytest.raises(IntegrityError):
        Category.objects.create(slug="Techweb", name="TechWeb")


def test_slug_comes_from_info_code_or_pinyin(make_post):
    assert make_post(info_code="NW202205252391453833").slug == "nw202205252391453833"
    assert make_post(title="商汤复工").slug == "shang-tang-fu-gong"
    assert make_post(title="商汤复工").slug == "shang-tang-fu-gong-2"


def test_stock_chart_renders_eastmoney_urls(make_post):
    chart = StockChart.objects.create(post=make_post(), market=116, code="00020")
    assert chart.image_src == "https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid=116.00020&imageType=k"
    assert chart.quote_href.endswith("/116.00020")
    assert "香港" in chart.alt_text


def test_sync_stocks_adds_charted_stocks(make_post):
    post = make_post()
    StockChart.objects.create(post=post, market=1, code="600519")
    post.sync_stocks()
    assert list(post.stocks.values_list("market", "code")) == [(1, "600519")]
    assert Stock.objects.get().posts.get() == post


def test_share_url_uses_info_code(make_post):
    assert make_post(info_code="NW9").share_url() == "/html_News/NewsShare.html?infoCode=NW9"
    assert make_post().share_url() is None
