"""Stock symbols as editors type them, turned into EastMoney's market id and code.

Accepted forms, case-insensitive:

- EastMoney's own `market.code`: `116.00020`, `1.600519`, `105.AAPL`, `90.BK0477`
- A-share codes, bare or with an exchange: `600519`, `sh600519`, `600519.SH`, `000001.SZ`, `bj830799`
- Hong Kong: `00020.HK`, `hk700`, `0700.HK` (padded to five digits)
- US tickers: `AAPL` (exchange unknown until an editor or a known stock says), `AAPL.O`, `IBM.N`, `BRK.B`
"""

import re
from dataclasses import dataclass

from django.db import models

EXAMPLES = "600519、sh600519、00020.HK、AAPL、116.00020"


class Market(models.IntegerChoices):
    """EastMoney market ids, as they appear in `nid=116.00020`."""

    SHENZHEN = 0, "深圳"
    SHANGHAI = 1, "上海"
    BOARD = 90, "板块"
    INDEX = 100, "全球指数"
    NASDAQ = 105, "纳斯达克"
    NYSE = 106, "纽约证券交易所"
    NYSE_AMERICAN = 107, "美国证券交易所"
    HONG_KONG = 116, "香港"


class ChartType(models.TextChoices):
    """EastMoney chart images, as `imageType=` names them."""

    KLINE = "k", "K 线图"
    INTRADAY = "r", "分时图"


US_MARKETS = {Market.NASDAQ, Market.NYSE, Market.NYSE_AMERICAN}
# Wind/Reuters suffixes name the US exchange. `.A` is left out: `BRK.A` is a share class.
US_SUFFIXES = {"O": Market.NASDAQ, "OQ": Market.NASDAQ, "N": Market.NYSE}
A_SHARE_EXCHANGES = {"SH": Market.SHANGHAI, "SS": Market.SHANGHAI, "SZ": Market.SHENZHEN, "BJ": Market.SHENZHEN}

A_SHARE = re.compile(r"\d{6}")
HK_CODE = re.compile(r"\d{1,5}")
US_TICKER = re.compile(r"[A-Z][A-Z0-9]{0,5}(?:[._-][A-Z])?")
BOARD = re.compile(r"BK\d{4}")
INDEX_CODE = re.compile(r"[A-Z0-9_]{1,12}")


class SymbolError(ValueError):
    """A symbol that cannot be understood; the message says what was typed and what is expected."""


@dataclass(frozen=True)
class Symbol:
    """A parsed symbol. `market` is None for a bare US ticker whose exchange is not known yet."""

    market: Market | None
    code: str


# The prefixes of the codes each A-share market id issues, by kind. A code outside them is a typing
# mistake (`999999`) unless the stock is on file. EastMoney files the Beijing Stock Exchange under
# market 0, with Shenzhen.
A_SHARE_PREFIXES = {
    Market.SHANGHAI: {
        "A 股": ("600", "601", "603", "605", "688", "689"),
        "B 股": ("900",),
        "指数": ("000",),
        "基金": ("50", "51", "52", "56", "58"),
        "可转债": ("11",),
    },
    Market.SHENZHEN: {
        "A 股": ("000", "001", "002", "003", "300", "301"),
        "北交所股票": ("43", "83", "87", "92"),
        "B 股": ("200",),
        "指数": ("399", "899"),
        "基金": ("15", "16"),
        "可转债": ("12",),
    },
}


def a_share_market(code):
    """The market of a bare six-digit code: Shanghai for 5xxxxx funds, 6xxxxx shares, 900xxx B shares
    and 11xxxx bonds; Shenzhen (and Beijing, 92xxxx included) otherwise."""
    shanghai = code[0] in "56" or code.startswith(("900", "11"))
    return Market.SHANGHAI if shanghai else Market.SHENZHEN


def check_code_range(market, code):
    """Raise SymbolError when `code` (normalised) is an A-share code its market never issues.

    Other markets' codes are only checked for their form (normalize_code)."""
    by_kind = A_SHARE_PREFIXES.get(market)
    if by_kind is None or code.startswith(tuple(prefix for prefixes in by_kind.values() for prefix in prefixes)):
        return
    label = Market(market).label
    shares = [f"{kind}以 {'、'.join(by_kind[kind])} 开头" for kind in ("A 股", "北交所股票") if kind in by_kind]
    raise SymbolError(f"「{code}」不是{label}市场的代码：{label} {'，'.join(shares)}")


def normalize_code(market, code):
    """`code` as EastMoney spells it for `market`, or SymbolError saying why it does not fit."""
    market = Market(market)
    code = code.strip().upper()
    if market in (Market.SHANGHAI, Market.SHENZHEN):
        if not A_SHARE.fullmatch(code):
            raise SymbolError(f"{market.label}代码应为 6 位数字，而不是「{code}」")
        return code
    if market == Market.HONG_KONG:
        if not HK_CODE.fullmatch(code):
            raise SymbolError(f"港股代码应为 1–5 位数字，而不是「{code}」")
        return code.zfill(5)
    if market in US_MARKETS:
        if not US_TICKER.fullmatch(code):
            raise SymbolError(f"美股代码应为字母（如 AAPL、BRK.B），而不是「{code}」")
        # EastMoney writes share classes with an underscore: BRK_B.
        return re.sub(r"[.-]", "_", code)
    if market == Market.BOARD:
        if not BOARD.fullmatch(code):
            raise SymbolError(f"板块代码应形如 BK0477，而不是「{code}」")
        return code
    if not INDEX_CODE.fullmatch(code):
        raise SymbolError(f"指数代码应为字母或数字（如 HSI），而不是「{code}」")
    return code


def parse_symbol(text):
    """Parse one typed symbol into a Symbol; raise SymbolError with the reason otherwise."""
    raw = text.strip()
    value = raw.upper()
    if not value:
        raise SymbolError(f"请输入股票代码，例如 {EXAMPLES}")
    try:
        return _parse(value)
    except SymbolError as error:
        raise SymbolError(f"无法识别股票代码「{raw}」：{error}") from None


def _parse(value):
    if match := re.fullmatch(r"(SH|SZ|BJ)(\d{6})", value):
        return Symbol(A_SHARE_EXCHANGES[match[1]], match[2])
    if match := re.fullmatch(r"(\d{6})\.(SH|SS|SZ|BJ)", value):
        return Symbol(A_SHARE_EXCHANGES[match[2]], match[1])
    if A_SHARE.fullmatch(value):
        return Symbol(a_share_market(value), value)
    if match := re.fullmatch(r"HK(\d{1,5})|(\d{1,5})\.HK", value):
        return Symbol(Market.HONG_KONG, (match[1] or match[2]).zfill(5))
    if match := re.fullmatch(r"(\d{1,3})\.(\S+)", value):
        market_id, code = int(match[1]), match[2]
        if market_id not in Market.values:
            raise SymbolError(f"未知的市场编号 {market_id}")
        return Symbol(Market(market_id), normalize_code(market_id, code))
    if BOARD.fullmatch(value):
        return Symbol(Market.BOARD, value)
    if match := re.fullmatch(r"([A-Z][A-Z0-9._-]*)\.(OQ|O|N)", value):
        return Symbol(US_SUFFIXES[match[2]], normalize_code(Market.NASDAQ, match[1]))
    if US_TICKER.fullmatch(value):
        return Symbol(None, normalize_code(Market.NASDAQ, value))
    raise SymbolError(f"示例：{EXAMPLES}")
