"""The news data model: publishers, categories, posts and their stock charts."""

import zlib

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from pypinyin import lazy_pinyin
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase


class Source(models.Model):
    """A publisher a post came from, e.g. 上海证券报·中国证券网."""

    name = models.CharField("名称", max_length=100, unique=True)
    slug = models.SlugField("URL 标识", max_length=200, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "来源"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Source, pinyin_slug(self.name) or "source")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:source_detail", args=[self.slug])


class CategoryQuerySet(models.QuerySet):
    def get_by_slug(self, slug):
        """The category whatever the case of `slug` (the old site had `TechWeb` and `Techweb`)."""
        return self.get(slug__iexact=slug)


class Category(models.Model):
    """A listing section. The slug is the old site's URL key, spelled as it was."""

    # Not a SlugField: real keys hold spaces, `·`, parentheses and mixed case,
    # and old URLs must keep resolving exactly.
    slug = models.CharField("URL 标识", max_length=200)
    name = models.CharField("名称", max_length=200)
    description = models.TextField("简介", blank=True)
    position = models.PositiveIntegerField("排序", default=0, help_text="数字小的排在前面")

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = verbose_name_plural = "栏目"
        constraints = [
            models.UniqueConstraint(Lower("slug"), name="category_slug_unique_ignoring_case"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:category_detail", args=[self.slug])


class TaggedPost(TaggedItemBase):
    """Direct foreign key to Post instead of taggit's generic relation, so tag pages join on an index."""

    content_object = models.ForeignKey("Post", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        verbose_name = "文章标签"
        verbose_name_plural = "文章标签"
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="tagged_post_unique"),
        ]


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


class Stock(models.Model):
    """A security or board that posts chart or mention; its page lists those posts."""

    market = models.IntegerField("市场", choices=Market.choices)
    code = models.CharField("代码", max_length=20)
    name = models.CharField("名称", max_length=100, blank=True)

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

    @property
    def symbol(self):
        """EastMoney's `market.code` form, e.g. `116.00020`."""
        return f"{self.market}.{self.code}"


class PostQuerySet(models.QuerySet):
    def published(self):
        """What readers may see: published, and not scheduled for later."""
        return self.filter(status=Post.Status.PUBLISHED, published_at__lte=timezone.now())

    def scheduled(self):
        return self.filter(status=Post.Status.PUBLISHED, published_at__gt=timezone.now())

    def drafts(self):
        return self.filter(status=Post.Status.DRAFT)

    def in_category(self, category):
        return self.filter(category=category)


class Post(models.Model):
    """One news item."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"

    title = models.CharField("标题", max_length=300)
    slug = models.SlugField("URL 标识", max_length=200, unique=True, blank=True, help_text="留空则按标题自动生成")
    key = models.CharField(
        "导入键",
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="旧站文件的稳定编号（infoCode 或文件编号），重复导入时据此匹配",
    )
    info_code = models.CharField("infoCode", max_length=40, unique=True, null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField("发布时间", default=timezone.now)
    summary = models.TextField("摘要", blank=True)
    body = models.TextField("正文", blank=True, help_text="HTML，展示前会经过白名单清理")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="posts", verbose_name="栏目")
    source = models.ForeignKey(
        Source, on_delete=models.SET_NULL, null=True, blank=True, related_name="posts", verbose_name="来源"
    )
    tags = TaggableManager("标签", through=TaggedPost, blank=True)
    stocks = models.ManyToManyField(
        Stock, blank=True, related_name="posts", verbose_name="相关股票", help_text="图表展示或正文提及的股票"
    )
    original_url = models.URLField("原文链接", max_length=500, blank=True)
    lead_image = models.ImageField("题图", upload_to="lead/%Y/%m/", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # The importer compares these two: an editor's change after the last
    # import must not be overwritten by a re-import.
    imported_at = models.DateTimeField("最近导入", null=True, blank=True, editable=False)
    edited_at = models.DateTimeField("最近编辑", null=True, blank=True, editable=False)

    objects = PostQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = verbose_name_plural = "文章"
        get_latest_by = "published_at"
        permissions = [("publish_post", "Can publish posts")]
        indexes = [
            # Listings and feeds walk these newest first; partial so drafts cost nothing.
            models.Index(
                fields=["category", "-published_at", "-id"],
                name="post_category_newest",
                condition=models.Q(status="published"),
            ),
            models.Index(
                fields=["-published_at", "-id"],
                name="post_published_newest",
                condition=models.Q(status="published"),
            ),
            models.Index(fields=["source", "-published_at", "-id"], name="post_source_newest"),
            models.Index(fields=["-published_at"], name="post_published_at"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            base = slugify(self.info_code or self.key or "") or pinyin_slug(self.title) or "post"
            self.slug = unique_slug(Post, base, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:post_detail", args=[self.slug])

    @property
    def body_html(self):
        """The body as the article page shows it (stored bodies are already sanitised)."""
        return mark_safe(self.body)

    @property
    def is_live(self):
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    @property
    def is_scheduled(self):
        return self.status == self.Status.PUBLISHED and self.published_at > timezone.now()

    @property
    def state(self):
        """`draft`, `scheduled` or `live`, the state editors see in the admin."""
        if self.status == self.Status.DRAFT:
            return "draft"
        return "scheduled" if self.is_scheduled else "live"

    def share_url(self):
        """The old share-link URL readers arrive with, or None without an info code."""
        if not self.info_code:
            return None
        return f"{reverse('articles:share')}?infoCode={self.info_code}"

    def sync_stocks(self):
        """Make sure every charted stock is among the post's stocks (mentions are added by the caller)."""
        charted = [Stock.objects.get_or_create(market=c.market, code=c.code)[0] for c in self.charts.all()]
        self.stocks.add(*charted)


class StockChart(models.Model):
    """A stock-chart image embedded in a post, as EastMoney's `EM_StockImg` block showed it."""

    class ChartType(models.TextChoices):
        KLINE = "k", "K 线图"
        INTRADAY = "r", "分时图"

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="charts", verbose_name="文章")
    position = models.PositiveSmallIntegerField("顺序", default=0)
    market = models.IntegerField("市场", choices=Market.choices)
    code = models.CharField("代码", max_length=20)
    chart_type = models.CharField("图表类型", max_length=2, choices=ChartType.choices, default=ChartType.KLINE)
    image_url = models.URLField("原图片地址", max_length=500, blank=True)
    quote_url = models.URLField("行情页地址", max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["post", "position", "id"]
        verbose_name = verbose_name_plural = "股票图表"
        indexes = [models.Index(fields=["market", "code"], name="stockchart_symbol")]

    def __str__(self):
        return f"{self.get_chart_type_display()} {self.symbol}"

    @property
    def symbol(self):
        return f"{self.market}.{self.code}"

    @property
    def image_src(self):
        """The chart image: the original URL when known, else EastMoney's chart service for the symbol."""
        return self.image_url or (
            f"https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid={self.symbol}&imageType={self.chart_type}"
        )

    @property
    def quote_href(self):
        return self.quote_url or f"https://quote.eastmoney.com/unify/r/{self.symbol}"

    @property
    def alt_text(self):
        return f"{self.get_chart_type_display()} {self.code}（{self.get_market_display()}）"


class OriginalFile(models.Model):
    """The Jekyll file a post was imported from, kept compressed so it can be re-parsed later."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="original_file")
    path = models.CharField("路径", max_length=500)
    sha256 = models.CharField(max_length=64, db_index=True)
    compressed_text = models.BinaryField()
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "原始文件"

    def __str__(self):
        return self.path

    @property
    def text(self):
        return zlib.decompress(self.compressed_text).decode("utf-8")

    @staticmethod
    def compress(text):
        return zlib.compress(text.encode("utf-8"), 6)


def pinyin_slug(text, max_length=80):
    """An ASCII slug for Chinese text: `商汤复工` → `shang-tang-fu-gong`."""
    return slugify(" ".join(lazy_pinyin(text)))[:max_length].strip("-")


def unique_slug(model, base, exclude_pk=None):
    """`base`, or `base-2`, `base-3`… whichever `model` does not use yet."""
    base = base[:190]
    existing = model.objects.filter(slug__startswith=base)
    if exclude_pk:
        existing = existing.exclude(pk=exclude_pk)
    taken = set(existing.values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
