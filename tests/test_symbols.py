import pytest

from articles.models import Market, Stock
from articles.symbols import Symbol, SymbolError, normalize_code, parse_symbol


@pytest.mark.parametrize(
    ("typed", "market", "code"),
    [
        ("600519", Market.SHANGHAI, "600519"),
        ("688981", Market.SHANGHAI, "688981"),
        ("510300", Market.SHANGHAI, "510300"),
        ("000001", Market.SHENZHEN, "000001"),
        ("300750", Market.SHENZHEN, "300750"),
        ("830799", Market.SHENZHEN, "830799"),
        ("sh600519", Market.SHANGHAI, "600519"),
        ("SH000001", Market.SHANGHAI, "000001"),
        ("sz000001", Market.SHENZHEN, "000001"),
        ("600519.SH", Market.SHANGHAI, "600519"),
        ("600519.ss", Market.SHANGHAI, "600519"),
        ("000001.SZ", Market.SHENZHEN, "000001"),
        ("bj830799", Market.SHENZHEN, "830799"),
        ("00020.HK", Market.HONG_KONG, "00020"),
        ("700.hk", Market.HONG_KONG, "00700"),
        ("hk9988", Market.HONG_KONG, "09988"),
        ("AAPL.O", Market.NASDAQ, "AAPL"),
        ("ibm.n", Market.NYSE, "IBM"),
        ("116.00020", Market.HONG_KONG, "00020"),
        ("116.20", Market.HONG_KONG, "00020"),
        ("1.600519", Market.SHANGHAI, "600519"),
        ("105.aapl", Market.NASDAQ, "AAPL"),
        ("106.BRK.B", Market.NYSE, "BRK_B"),
        ("90.BK0477", Market.BOARD, "BK0477"),
        ("BK0477", Market.BOARD, "BK0477"),
        ("100.HSI", Market.INDEX, "HSI"),
        ("  sh600519 ", Market.SHANGHAI, "600519"),
    ],
)
def test_typed_symbol_gives_market_and_code(typed, market, code):
    symbol = parse_symbol(typed)
    assert (symbol.market, symbol.code) == (market, code)


@pytest.mark.parametrize(("typed", "code"), [("AAPL", "AAPL"), ("brk.b", "BRK_B"), ("TSLA", "TSLA")])
def test_bare_us_ticker_leaves_the_exchange_open(typed, code):
    assert parse_symbol(typed) == Symbol(None, code)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "请输入股票代码"),
        ("60051", "示例"),
        ("sh60051", "示例"),
        ("12.600519", "未知的市场编号 12"),
        ("1.60051", "6 位数字"),
        ("116.ABC", "1–5 位数字"),
        ("90.600519", "BK0477"),
        ("茅台", "示例"),
        ("123456.HK", "示例"),
    ],
)
def test_bad_symbol_says_what_was_typed_and_why(typed, reason):
    with pytest.raises(SymbolError) as error:
        parse_symbol(typed)
    assert reason in str(error.value)
    if typed:
        assert f"「{typed}」" in str(error.value)


def test_normalize_code_pads_hong_kong_and_rejects_letters_for_a_shares():
    assert normalize_code(Market.HONG_KONG, "20") == "00020"
    assert normalize_code(Market.NASDAQ, "aapl") == "AAPL"
    with pytest.raises(SymbolError, match="6 位数字"):
        normalize_code(Market.SHANGHAI, "AAPL")


@pytest.mark.django_db
def test_bare_us_ticker_takes_the_chosen_exchange_or_a_known_stock():
    assert Stock.objects.complete(parse_symbol("BABA"), Market.NYSE) == Symbol(Market.NYSE, "BABA")
    Stock.objects.create(market=Market.NASDAQ, code="AAPL")
    assert Stock.objects.complete(parse_symbol("AAPL")) == Symbol(Market.NASDAQ, "AAPL")
    # A non-US market chosen by mistake does not override what is on file.
    assert Stock.objects.complete(parse_symbol("AAPL"), Market.HONG_KONG) == Symbol(Market.NASDAQ, "AAPL")
    with pytest.raises(SymbolError, match="哪个交易所"):
        Stock.objects.complete(parse_symbol("MSFT"))
