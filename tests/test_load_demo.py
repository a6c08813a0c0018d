"""`manage.py load_demo`: the team's demo day imports cleanly, with real-looking sources, tags and stock names."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models.functions import Lower
from django.utils.timezone import localtime
from taggit.models import Tag

from articles.models import Category, Market, Post, Source, Stock

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parent.parent / "articles" / "demo_posts"
POST_FILES = sorted(DEMO.glob("*/*.md"))


def load_demo():
    out, err = io.StringIO(), io.StringIO()
    call_command("load_demo", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_load_demo_imports_every_demo_post_without_a_warning():
    out, err = load_demo()

    assert err == ""
    assert f"{len(POST_FILES)} created, 0 updated, 0 unchanged, 0 conflicts, 0 failed, 0 skipped" in out
    assert Post.objects.published().count() == len(POST_FILES) == 33
    assert "Admin login: admin / " in out


def test_load_demo_again_changes_nothing():
    load_demo()

    out, err = load_demo()

    assert err == ""
    assert f"0 created, 0 updated, {len(POST_FILES)} unchanged" in out
    assert Post.objects.count() == len(POST_FILES)


def test_demo_is_one_day_of_news_from_many_publishers_and_categories():
    load_demo()

    day = Post.objects.exclude(category__slug="sitenews")
    assert {localtime(post.published_at).date().isoformat() for post in day} == {"2022-05-26"}
    assert Source.objects.count() >= 10
    assert Category.objects.count() >= 7
    assert day.filter(charts__isnull=False).distinct().count() >= 15
    assert day.exclude(summary="").count() >= 10


def test_each_demo_publisher_is_one_source_spelled_once():
    load_demo()

    names = list(Source.objects.values_list("name", flat=True))
    assert len({name.lower() for name in names}) == len(names)
    assert list(Source.objects.filter(name__iexact="techweb").values_list("name", "slug")) == [("TechWeb", "techweb")]
    assert not Source.objects.filter(slug__regex=r"-\d+$").exists()
    assert Category.objects.annotate(lowered=Lower("slug")).values("lowered").distinct().count() == (
        Category.objects.count()
    )


def test_demo_tags_name_companies_and_themes_not_just_the_category():
    load_demo()

    category_names = set(Category.objects.values_list("name", flat=True))
    tags = set(Tag.objects.values_list("name", flat=True))
    assert len(tags - category_names) >= 50
    assert {"贵州茅台", "宁德时代", "新能源汽车", "北向资金", "光伏"} <= tags
    for post in Post.objects.exclude(category__slug="sitenews").select_related("category"):
        assert set(post.tags.names()) - {post.category.name}, post.title


def test_demo_stocks_are_named_from_the_demo_table():
    out, _ = load_demo()

    with (DEMO / "stocks.csv").open(encoding="utf-8", newline="") as rows:
        table = {(int(row["market"]), row["code"]): row["name"] for row in csv.DictReader(rows)}
    stocks = {(stock.market, stock.code): stock.name for stock in Stock.objects.all()}
    assert stocks == table
    assert stocks[Market.SHANGHAI, "600519"] == "贵州茅台"
    assert stocks[Market.HONG_KONG, "00700"] == "腾讯控股"
    assert stocks[Market.NASDAQ, "AAPL"] == "苹果"
    assert f"Named {len(table)} stocks" in out


def test_load_demo_keeps_a_stock_name_an_editor_gave():
    Stock.objects.create(market=Market.SHANGHAI, code="600519", name="茅台")

    load_demo()

    assert Stock.objects.get(market=Market.SHANGHAI, code="600519").name == "茅台"
    assert Stock.objects.get(market=Market.SHENZHEN, code="300750").name == "宁德时代"
