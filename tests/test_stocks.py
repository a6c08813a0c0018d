"""A post's stocks follow its charts and body; codes no market issues are refused; orphans can be pruned;
the admin looks a typed symbol up as the editor types."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from articles.models import Market, Post, Stock, StockChart
from articles.symbols import SymbolError, check_code_range, parse_symbol
from tests.post_form import post_form_data

pytestmark = pytest.mark.django_db

LOOKUP = reverse("admin:articles_post_symbol_lookup")


def change_url(post):
    return reverse("admin:articles_post_change", args=[post.pk])


def symbols(post):
    return sorted(stock.symbol for stock in post.stocks.all())


# Stocks re-derived on every save


def test_changing_a_chart_row_replaces_the_old_stock(editor_client, published_post):
    editor_client.post(change_url(published_post), post_form_data(published_post, charts=[{"symbol": "600000"}]))
    assert symbols(published_post) == ["1.600000"]

    data = post_form_data(published_post)
    data.update({"charts-0-symbol": "600519", "charts-0-market": "", "charts-0-code": ""})
    assert editor_client.post(change_url(published_post), data).status_code == 302

    assert [chart.symbol for chart in published_post.charts.all()] == ["1.600519"]
    assert symbols(published_post) == ["1.600519"]


def test_stocks_come_from_chart_rows_short_codes_and_body_links(editor_client, published_post):
    body = (
        '<p><a href="https://quote.eastmoney.com/unify/r/0.002752" data-code="0,002752">昇兴股份</a>'
        '与<a href="http://quote.eastmoney.com/unify/r/90.BK0473">券商板块</a></p>\n\n[stock 116.00700]'
    )
    data = post_form_data(published_post, body=body, charts=[{"symbol": "sh600519"}])
    editor_client.post(change_url(published_post), data)
    assert symbols(published_post) == ["0.002752", "1.600519", "116.00700", "90.BK0473"]

    # The body loses its links and short code, the chart row goes: so do their stocks.
    chart = published_post.charts.get()
    editor_client.post(
        change_url(published_post), post_form_data(published_post, body="<p>无</p>", delete_charts=[chart.pk])
    )
    assert symbols(published_post) == []


def test_body_links_to_codes_no_market_has_make_no_stock(editor_client, published_post):
    body = '<p><a href="https://quote.eastmoney.com/unify/r/12.600519">x</a><a data-code="1,ABC">y</a></p>'
    editor_client.post(change_url(published_post), post_form_data(published_post, body=body))
    assert symbols(published_post) == []


# Codes no market issues


@pytest.mark.parametrize(
    ("market", "code"),
    [
        (Market.SHANGHAI, "600519"),
        (Market.SHANGHAI, "688981"),
        (Market.SHANGHAI, "000001"),  # the Shanghai composite index
        (Market.SHANGHAI, "510300"),
        (Market.SHENZHEN, "000001"),
        (Market.SHENZHEN, "300750"),
        (Market.SHENZHEN, "399001"),
        (Market.SHENZHEN, "830799"),
        (Market.SHENZHEN, "920002"),
        (Market.HONG_KONG, "99999"),
    ],
)
def test_codes_in_a_markets_ranges_pass(market, code):
    check_code_range(market, code)


@pytest.mark.parametrize(
    ("market", "code", "ranges"),
    [
        (Market.SHANGHAI, "999999", "上海 A 股以 600、601、603、605、688、689 开头"),
        (Market.SHANGHAI, "300750", "上海 A 股以 600、601、603、605、688、689 开头"),
        (Market.SHENZHEN, "600519", "深圳 A 股以 000、001、002、003、300、301 开头，北交所股票以 43、83"),
    ],
)
def test_a_share_codes_outside_their_markets_ranges_are_refused(market, code, ranges):
    with pytest.raises(SymbolError, match=ranges):
        check_code_range(market, code)


def test_bare_beijing_codes_are_filed_with_shenzhen():
    assert parse_symbol("920002").market == Market.SHENZHEN
    assert parse_symbol("900901").market == Market.SHANGHAI


@pytest.mark.parametrize("row", [{"symbol": "999999"}, {"symbol": "sh999999"}, {"market": "1", "code": "999999"}])
def test_made_up_code_in_a_chart_row_is_refused_with_the_reason(editor_client, category, row):
    response = editor_client.post(reverse("admin:articles_post_add"), post_form_data(category=category, charts=[row]))
    assert response.status_code == 200
    assert "「999999」不是" in response.text and "市场的代码" in response.text
    assert not Post.objects.exists() and not Stock.objects.exists()


def test_made_up_code_in_a_short_code_is_refused(editor_client, published_post):
    response = editor_client.post(change_url(published_post), post_form_data(published_post, body="[stock 1.999999]"))
    assert response.status_code == 200
    assert "[stock 1.999999]" in response.text and "不是上海市场的代码" in response.text


def test_a_stock_on_file_passes_whatever_its_code(editor_client, category):
    Stock.objects.create(market=Market.SHANGHAI, code="999999", name="测试指数")
    data = post_form_data(category=category, charts=[{"symbol": "sh999999"}])
    assert editor_client.post(reverse("admin:articles_post_add"), data).status_code == 302
    assert Post.objects.get().charts.get().symbol == "1.999999"


def test_a_stock_added_in_the_admin_must_fit_its_markets_form(editor_client):
    url = reverse("admin:articles_stock_add")
    response = editor_client.post(url, {"market": "1", "code": "ABC", "name": ""})
    assert response.status_code == 200 and "上海代码应为 6 位数字" in response.text
    assert editor_client.post(url, {"market": "116", "code": "700", "name": "腾讯控股"}).status_code == 302
    assert editor_client.post(url, {"market": "1", "code": "999999", "name": "测试"}).status_code == 302
    assert sorted(Stock.objects.values_list("market", "code")) == [(1, "999999"), (116, "00700")]


# Orphan stocks


@pytest.fixture
def orphan_and_used_stocks(make_post):
    post = make_post()
    used = Stock.objects.create(market=Market.SHANGHAI, code="600519")
    post.stocks.add(used)
    charted_only = Stock.objects.create(market=Market.HONG_KONG, code="00700")
    StockChart.objects.create(post=post, market=Market.HONG_KONG, code="00700")
    orphan = Stock.objects.create(market=Market.SHANGHAI, code="600000", name="浦发银行")
    return used, charted_only, orphan


def test_orphans_are_stocks_no_post_charts_or_mentions(orphan_and_used_stocks):
    assert list(Stock.objects.orphans()) == [orphan_and_used_stocks[2]]


def test_prune_stocks_dry_run_lists_the_orphans_and_deletes_nothing(orphan_and_used_stocks):
    out = io.StringIO()
    call_command("prune_stocks", "--dry-run", stdout=out)
    assert "1.600000\t浦发银行" in out.getvalue()
    assert "1 orphan stocks would be deleted (dry run; nothing deleted)" in out.getvalue()
    assert Stock.objects.count() == 3


def test_prune_stocks_deletes_the_orphans_only(orphan_and_used_stocks):
    out = io.StringIO()
    call_command("prune_stocks", stdout=out)
    assert "1 orphan stocks deleted" in out.getvalue()
    assert set(Stock.objects.all()) == set(orphan_and_used_stocks[:2])


def test_admin_action_deletes_the_selected_orphans_and_keeps_the_rest(editor_client, orphan_and_used_stocks):
    response = editor_client.post(
        reverse("admin:articles_stock_changelist"),
        {"action": "delete_orphans", "_selected_action": [stock.pk for stock in orphan_and_used_stocks]},
        follow=True,
    )
    assert "删除了 1 只没有文章引用的股票；所选其余 2 只仍有文章引用，已保留。" in response.text
    assert set(Stock.objects.all()) == set(orphan_and_used_stocks[:2])


def test_editors_without_the_delete_permission_have_no_prune_action(client, staff_editor, orphan_and_used_stocks):
    client.force_login(staff_editor)
    assert 'value="delete_orphans"' not in client.get(reverse("admin:articles_stock_changelist")).text
    client.post(
        reverse("admin:articles_stock_changelist"),
        {"action": "delete_orphans", "_selected_action": [orphan_and_used_stocks[2].pk]},
    )
    assert Stock.objects.count() == 3


# The symbol lookup behind the chart rows' 代码或符号 field


def test_lookup_gives_market_code_and_the_name_on_file(editor_client):
    Stock.objects.create(market=Market.SHANGHAI, code="600519", name="贵州茅台")
    assert editor_client.get(LOOKUP, {"symbol": "600519"}).json() == {
        "market": 1,
        "market_label": "上海",
        "code": "600519",
        "name": "贵州茅台",
    }
    assert editor_client.get(LOOKUP, {"symbol": "700.hk"}).json()["code"] == "00700"
    assert editor_client.get(LOOKUP, {"symbol": "BABA", "market": "106"}).json()["market"] == 106


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"symbol": "茅台"}, "无法识别股票代码「茅台」"),
        ({"symbol": "999999"}, "「999999」不是深圳市场的代码"),
        ({"symbol": "sh999999"}, "「999999」不是上海市场的代码"),
        ({"symbol": "AAPL"}, "在哪个交易所"),
        ({"symbol": "AAPL", "market": "abc"}, "在哪个交易所"),
        ({}, "请输入股票代码"),
    ],
)
def test_lookup_says_why_a_symbol_cannot_be_read(editor_client, params, reason):
    response = editor_client.get(LOOKUP, params)
    assert response.status_code == 200
    assert reason in response.json()["error"]


@pytest.mark.parametrize("role", ["staff_editor", "contributor"])
def test_lookup_is_open_to_editors_and_contributors(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(LOOKUP, {"symbol": "600519"}).json()["code"] == "600519"


def test_lookup_is_closed_to_anonymous_users_and_staff_without_permissions(client, django_user_model):
    assert client.get(LOOKUP, {"symbol": "600519"}).status_code == 302
    client.force_login(django_user_model.objects.create_user("intern", is_staff=True))
    assert client.get(LOOKUP, {"symbol": "600519"}).status_code == 403


def test_lookup_answers_get_only(editor_client):
    assert editor_client.post(LOOKUP, {"symbol": "600519"}).status_code == 405
    assert not Stock.objects.exists()


def test_chart_rows_load_the_lookup_script_and_know_its_url(editor_client, published_post):
    page = editor_client.get(change_url(published_post)).text
    assert "articles/admin/symbol_lookup.js" in page
    assert f'data-lookup-url="{LOOKUP}"' in page
