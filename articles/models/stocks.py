"""Stocks and boards, and the stock charts posts embed."""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from articles.symbols import (
    US_MARKETS,
    ChartType,
    Market,
    Symbol,
    SymbolError,
    check_code_range,
    normalize_code,
    parse_symbol,
)
from articles.validators import (
    CHART_IMAGE_HOSTS,
    QUOTE_HOSTS,
    is_allowed_url,
    validate_chart_image_url,
    validate_quote_url,
)


class StockQuerySet(models.QuerySet):
    def complete(self, symbol, market=None):
        """`symbol` (a parsed Symbol) with its market filled in: a bare US ticker takes `market` (an
        editor's choice) when that is a US exchange, else the exchange of a stock already on file;
        SymbolError when neither says."""
        if symbol.market is not None:
            return symbol
        if market is not None and Market(market) in US_MARKETS:
            return Symbol(Market(market), symbol.code)
        known = self.filter(code=symbol.code, market__in=US_MARKETS).values_list("market", flat=True).first()
        if known is None:
            raise SymbolError(
                f"「{symbol.code}」在哪个交易所？请在「市场」中选择纳斯达克、纽约证券交易所或美国证券交易所"
            )
        return Symbol(Market(known), symbol.code)

    def fill_names(self, names):
        """Name the stocks that have no name yet from `names`, `{(market, code): name}`; a name an
        editor gave stays. Returns how many were named."""
        unnamed = self.filter(name="", code__in={code for _, code in names})
        stocks = [stock for stock in unnamed if (stock.market, stock.code) in names]
        for stock in stocks:
            stock.name = names[stock.market, stock.code]
        return self.bulk_update(stocks, ["name"])

    def look_up(self, text, market=None):
        """`(Symbol, Stock or None)` for a typed symbol: parsed, completed (`market` as in complete()) and
        checked as saving a chart row would, with the stock when it is on file; SymbolError otherwise."""
        symbol = self.complete(parse_symbol(text), market)
        stock = self.filter(market=symbol.market, code=symbol.code).first()
        if stock is None:
            check_code_range(symbol.market, symbol.code)
        return symbol, stock

    def check_plausible(self, market, code):
        """Raise SymbolError for an A-share code its market never issues (`999999`), unless that stock is
        on file: what an editor added in the admin, or an import brought, always passes."""
        try:
            check_code_range(market, code)
        except SymbolError:
            if not self.filter(market=market, code=code).exists():
                raise

    def orphans(self):
        """Stocks no post charts or mentions: neither in a post's stocks nor in any chart row."""
        linked = Stock.posts.through.objects.filter(stock_id=models.OuterRef("pk"))
        charted = StockChart.objects.filter(market=models.OuterRef("market"), code=models.OuterRef("code"))
        return self.exclude(models.Exists(linked)).exclude(models.Exists(charted))

    def delete_orphans(self):
        """Delete the orphans among these stocks; returns how many."""
        return self.orphans().delete()[1].get(Stock._meta.label, 0)


class Stock(models.Model):
    """A security or board that posts chart or mention; its page lists those posts."""

    market = models.IntegerField("市场", choices=Market.choices)
    code = models.CharField("代码", max_length=20)
    name = models.CharField("名称", max_length=100, blank=True)

    objects = StockQuerySet.as_manager()

    class Meta:
        ordering = ["market", "code"]
        verbose_name = verbose_name_plural = "股票"
        constraints = [
            models.UniqueConstraint(fields=["market", "code"], name="stock_market_code_unique"),
        ]

    def __str__(self):
        label = f"{self.get_market_display()} {self.code}"
        return f"{self.name}（{label}）" if self.name else label

    def get_absolute_url(self):
        return reverse("articles:stock_detail", args=[self.market, self.code])

    def clean(self):
        """The code as EastMoney spells it for the market, or an error. Its range is not checked: adding a
        stock is how an editor vouches for a code outside the usual ones."""
        if self.market is None or not self.code:
            return
        try:
            self.code = normalize_code(self.market, self.code)
        except SymbolError as error:
            raise ValidationError({"code": str(error)}) from None

    @property
    def symbol(self):
        """EastMoney's `market.code` form, e.g. `116.00020`."""
        return f"{self.market}.{self.code}"


class StockChart(models.Model):
    """A stock-chart image embedded in a post, as EastMoney's `EM_StockImg` block showed it."""

    # Defined with the markets, below the models (history.py labels charts with it); named here too.
    ChartType = ChartType

    post = models.ForeignKey("Post", on_delete=models.CASCADE, related_name="charts", verbose_name="文章")
    position = models.PositiveSmallIntegerField("顺序", default=0)
    market = models.IntegerField("市场", choices=Market.choices)
    code = models.CharField("代码", max_length=20)
    chart_type = models.CharField("图表类型", max_length=2, choices=ChartType.choices, default=ChartType.KLINE)
    image_url = models.URLField("原图片地址", max_length=500, blank=True, validators=[validate_chart_image_url])
    quote_url = models.URLField("行情页地址", max_length=500, blank=True, validators=[validate_quote_url])

    class Meta:
        ordering = ["post", "position", "id"]
        verbose_name = verbose_name_plural = "股票图表"
        indexes = [models.Index(fields=["market", "code"], name="stockchart_symbol")]

    def __str__(self):
        return f"{self.get_chart_type_display()} {self.symbol}"

    def clean(self):
        """The code as EastMoney spells it for the market (`20` → `00020` in Hong Kong), or an error.

        A stored chart given another stock or type drops the image and quote URLs it was imported with:
        they showed the old one, and the new one's follow from its symbol."""
        if self.market is None or not self.code:
            return
        try:
            self.code = normalize_code(self.market, self.code)
            Stock.objects.check_plausible(self.market, self.code)
        except SymbolError as error:
            raise ValidationError({"code": str(error)}) from None
        if self.pk is not None:
            stored = StockChart.objects.filter(pk=self.pk).values("market", "code", "chart_type").first() or {}
            if (stored.get("market"), stored.get("code")) != (self.market, self.code):
                self.image_url = self.quote_url = ""
            elif stored.get("chart_type") != self.chart_type:
                self.image_url = ""

    @property
    def symbol(self):
        return f"{self.market}.{self.code}"

    @property
    def image_src(self):
        """The chart image: the original URL when it is on EastMoney's chart service, else that service's
        URL for the symbol (rows stored before URLs were checked may hold anything)."""
        if is_allowed_url(self.image_url, CHART_IMAGE_HOSTS):
            return self.image_url
        return f"https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid={self.symbol}&imageType={self.chart_type}"

    @property
    def quote_href(self):
        """The quote page: the original URL when it is on EastMoney's quote site, else its page for the symbol."""
        if is_allowed_url(self.quote_url, QUOTE_HOSTS):
            return self.quote_url
        return f"https://quote.eastmoney.com/unify/r/{self.symbol}"

    @property
    def alt_text(self):
        return f"{self.get_chart_type_display()} {self.code}（{self.get_market_display()}）"


# `[stock 116.00020]` or `[stock sh600519 r]`; alone in a paragraph, the paragraph goes too, since a chart
# figure cannot sit inside <p>.
STOCK_SHORTCODE = re.compile(r"(<p>\s*)?\[stock\s+([^\]\s]+)(?:\s+([^\]\s]+))?\s*\](?(1)\s*</p>)", re.IGNORECASE)


def shortcode_chart(match):
    """The unsaved StockChart a STOCK_SHORTCODE match names, or the SymbolError explaining why not."""
    chart_type = (match[3] or StockChart.ChartType.KLINE).lower()
    if chart_type not in StockChart.ChartType.values:
        return SymbolError(f"图表类型应为 k（K 线图）或 r（分时图），而不是「{match[3]}」")
    try:
        symbol = parse_symbol(match[2])
    except SymbolError as error:
        return error
    if symbol.market is None:
        return SymbolError(f"美股请写明交易所，例如 105.{symbol.code}（纳斯达克）或 106.{symbol.code}（纽交所）")
    return StockChart(market=symbol.market, code=symbol.code, chart_type=chart_type)
