"""Posts: what readers may see (PostQuerySet.published), and everything a post carries."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Subquery
from django.db.models.functions import Greatest
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from simple_history.models import HistoricalRecords
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from articles import images
from articles.history import PostSnapshotHistory, record_version
from articles.search_text import QueryError, SearchDocumentField, document, html_text, parse_query
from articles.slugs import pinyin_slug, unique_slug
from articles.symbols import SymbolError, normalize_code
from articles.validators import (
    EARLIEST_PUBLICATION,
    LATEST_PUBLICATION,
    validate_post_key,
    validate_publication_date,
)

from .stocks import STOCK_SHORTCODE, Stock, StockChart, shortcode_chart


class TaggedPost(TaggedItemBase):
    """Direct foreign key to Post instead of taggit's generic relation, so tag pages join on an index."""

    content_object = models.ForeignKey("Post", on_delete=models.CASCADE, related_name="tagged_items")

    class Meta:
        verbose_name = "文章标签"
        verbose_name_plural = "文章标签"
        constraints = [
            models.UniqueConstraint(fields=["content_object", "tag"], name="tagged_post_unique"),
        ]


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

    def search(self, query, stock=None, codes=False):
        """Posts holding every included term of `query` (a parsed articles.search_text.Query) and none of its
        excluded ones; with `stock`, also every post that charts or mentions it or names its code or name;
        with `codes`, also the post whose info code or import key the query is (the admin's search).

        PostgreSQL matches the posts' search documents through their GIN index. SQLite, the zero-setup
        database, looks for each term in titles, summaries and bodies, post by post.
        """
        found = self._text_holds(query, stock)
        if stock is not None:
            found |= models.Q(pk__in=Post.stocks.through.objects.filter(stock=stock).values("post_id"))
        if codes:
            found |= models.Q(info_code=query.raw) | models.Q(key=query.raw)
        return self.filter(found)

    def text_search(self, query, stock=None, loose=False):
        """Posts whose text holds `query` (as `search` has it) or, with `stock`, the stock's code or name.

        One condition on the GIN index: a search whose candidates must be few or walked newest first
        adds a stock's linked posts apart (articles.search), since an OR with them would have every
        post's document read. `loose` (PostgreSQL): every token of each word in any order, exclusions
        aside, which the index answers without reading documents; the caller confirms the few it keeps.
        """
        return self.filter(self._text_holds(query, stock, loose))

    def _text_holds(self, query, stock, loose=False):
        queries = [query]
        for word in {stock.code, stock.name} - {""} if stock is not None else ():
            try:
                queries.append(parse_query(f'"{word}"'))
            except QueryError:  # a name of punctuation only: the stock's links suffice
                continue
        if connections[self.db].vendor == "postgresql":
            tsquery = " | ".join(f"({each.tsquery(loose=loose)})" for each in queries)
            return models.Q(search_document__matches=tsquery)
        found = models.Q()
        for each in queries:
            holds_all = models.Q()
            for term in each.terms:
                holds = models.Q(title__icontains=term.text) | models.Q(summary__icontains=term.text)
                holds |= models.Q(body__icontains=term.text)
                holds_all &= ~holds if term.excluded else holds
            found |= holds_all
        return found

    # How each kind of reader scope narrows posts: listing pages, their feeds and the new-posts notice.
    SCOPE_LOOKUPS = {"category": "category", "source": "source", "tag": "tagged_items__tag", "stock": "stocks"}

    def in_scope(self, kind, obj):
        """Posts in one category, source, tag or stock (`kind`), given as an object or its id."""
        try:
            lookup = self.SCOPE_LOOKUPS[kind]
        except KeyError:
            raise ValueError(f"no such scope: {kind!r}") from None
        return self.filter(**{lookup: obj})

    def older_than(self, published_at, pk):
        """Posts after (published_at, pk) in newest-first order, newest first.

        The plain `published_at <=` bound lets PostgreSQL start its index scan at that point, so
        the thousandth page of a listing costs what the first does.
        """
        return (
            self.filter(published_at__lte=published_at)
            .exclude(published_at=published_at, pk__gte=pk)
            .order_by("-published_at", "-pk")
        )

    def newer_than(self, published_at, pk):
        """Posts before (published_at, pk) in newest-first order, nearest first (oldest first)."""
        return (
            self.filter(published_at__gte=published_at)
            .exclude(published_at=published_at, pk__lte=pk)
            .order_by("published_at", "pk")
        )

    def last_change_expression(self):
        """An expression for when anything readers see last changed, for Last-Modified headers.

        That is the newest edit to any post (an unpublished or moved post changes pages it left),
        or the newest post to go live (a scheduled post changes pages at its time, without a write).
        Both are one index probe, evaluated once per query whatever it is annotated on.
        """
        edited = Post.objects.order_by("-updated_at").values("updated_at")[:1]
        went_live = Post.objects.published().order_by("-published_at").values("published_at")[:1]
        return Greatest(Subquery(edited), Subquery(went_live))

    def publish(self, user, *, now=False):
        """Publish drafts (at their set time: a future one schedules them), or with `now` also bring
        scheduled posts forward to this moment. Each change is an edit by `user` in the post's history."""
        if now:
            moment = timezone.now()
            targets = self.exclude(status=Post.Status.PUBLISHED, published_at__lte=moment)
            return targets._change_status(user, "立即发布", status=Post.Status.PUBLISHED, published_at=moment)
        return self.drafts()._change_status(user, "发布", status=Post.Status.PUBLISHED)

    def unpublish(self, user):
        """Return published and scheduled posts to draft, recorded as edits by `user`."""
        return self.filter(status=Post.Status.PUBLISHED)._change_status(user, "撤回为草稿", status=Post.Status.DRAFT)

    def _change_status(self, user, reason, **values):
        # One save per post rather than update(), so each change lands in history with who and why.
        count = 0
        for post in self.iterator(chunk_size=500):
            for field, value in values.items():
                setattr(post, field, value)
            post.edited_at = timezone.now()
            post._history_user, post._change_reason = user, reason
            post.save_without_historical_record(update_fields=[*values, "edited_at", "updated_at"])
            record_version(post)
            count += 1
        return count


# Saving any of these writes the search document again.
SEARCHED_FIELDS = {"title", "summary", "body"}


class PostManager(models.Manager.from_queryset(PostQuerySet)):
    def get_queryset(self):
        # The search document is as large as the body and only PostgreSQL reads it: never load it.
        return super().get_queryset().defer("search_document")


class Post(models.Model):
    """One news item."""

    # One set of words everywhere: a post is 草稿, or set to 发布 — which makes it 定时发布 until its
    # time and 已发布 from then on.
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "发布"

    class State(models.TextChoices):
        """What readers see: status combined with the publication time."""

        DRAFT = "draft", "草稿"
        SCHEDULED = "scheduled", "定时发布"
        LIVE = "live", "已发布"

    title = models.CharField("标题", max_length=300)
    slug = models.SlugField("URL 标识", max_length=200, unique=True, blank=True, help_text="留空则按标题自动生成")
    key = models.CharField(
        "导入键",
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="旧站文件的稳定编号（infoCode 或文件编号），重复导入时据此匹配",
        validators=[validate_post_key],
    )
    info_code = models.CharField(
        "资讯编号",
        max_length=40,
        unique=True,
        null=True,
        blank=True,
        help_text="旧站分享链接 NewsShare.html?infoCode= 中的编号，如 NW202205252391453833",
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField("发布时间", default=timezone.now, validators=[validate_publication_date])
    summary = models.TextField("摘要", blank=True)
    body = models.TextField("正文", blank=True, help_text="HTML，展示前会经过白名单清理")
    category = models.ForeignKey("Category", on_delete=models.PROTECT, related_name="posts", verbose_name="栏目")
    source = models.ForeignKey(
        "Source", on_delete=models.SET_NULL, null=True, blank=True, related_name="posts", verbose_name="来源"
    )
    tags = TaggableManager("标签", through=TaggedPost, blank=True)
    stocks = models.ManyToManyField(
        "Stock", blank=True, related_name="posts", verbose_name="相关股票", help_text="图表展示或正文提及的股票"
    )
    original_url = models.URLField("原文链接", max_length=500, blank=True)
    lead_image = models.ImageField(
        "题图",
        upload_to="lead/%Y/%m/",
        blank=True,
        width_field="lead_image_width",
        height_field="lead_image_height",
        help_text="JPEG、PNG、WebP 或 GIF；自动转正方向并去除 EXIF 等元数据",
    )
    lead_image_width = models.PositiveIntegerField("题图宽度", null=True, blank=True, editable=False)
    lead_image_height = models.PositiveIntegerField("题图高度", null=True, blank=True, editable=False)
    # Written by the image job only (articles/tasks.py): pages read it instead of asking the storage.
    image_files = models.JSONField(
        "图片文件",
        null=True,
        blank=True,
        editable=False,
        help_text="后台任务生成的题图尺寸与分享卡片（images.make_files 的记录）",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="创建者",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # The importer compares these two: an editor's change after the last
    # import must not be overwritten by a re-import.
    imported_at = models.DateTimeField("最近导入", null=True, blank=True, editable=False)
    edited_at = models.DateTimeField("最近编辑", null=True, blank=True, editable=False)
    # What search finds the post by (articles.search_text): its title, summary, tags, stocks and body text.
    # Written with the post by save(), refresh_search_document() (after tags or stocks change) and the
    # importer; `manage.py rebuild_search` writes every post's again.
    search_document = SearchDocumentField("搜索索引", null=True, blank=True, editable=False)

    objects = PostManager()
    # image_files describes files, not the post: reverting a version must not bring back an old record;
    # the search document follows from the fields that are recorded.
    history = HistoricalRecords(
        excluded_fields=["updated_at", "image_files", "search_document"], bases=[PostSnapshotHistory]
    )

    # The fields a post takes from the file it is imported from. Key and slug are set once, when the import
    # creates the post; the lead image and the editorial bookkeeping are the site's own.
    IMPORTED_FIELDS = (
        "title",
        "info_code",
        "status",
        "published_at",
        "summary",
        "body",
        "category_id",
        "source_id",
        "original_url",
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = verbose_name_plural = "文章"
        get_latest_by = "published_at"
        permissions = [
            ("publish_post", "Can publish posts"),
            ("delete_others_post", "Can delete posts created by others"),
        ]
        constraints = [
            # No writer, COPY included, may store a time Python cannot read back (year 10000) or that is
            # a typing or crawler mistake (Go's zero time): see validate_publication_date.
            models.CheckConstraint(
                condition=models.Q(published_at__gte=EARLIEST_PUBLICATION, published_at__lt=LATEST_PUBLICATION),
                name="post_published_at_in_range",
                violation_error_message="发布时间须在 1990 年至 2100 年之间。",
            ),
        ]
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
            # The newest edit anywhere: reader pages' Last-Modified (PostQuerySet.last_change_expression).
            models.Index(fields=["-updated_at"], name="post_updated_at"),
            # The admin's draft filter: a few thousand rows among a million.
            models.Index(
                fields=["-published_at", "-id"], name="post_drafts_newest", condition=models.Q(status="draft")
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Post, self.slug_base(), exclude_pk=self.pk)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or not SEARCHED_FIELDS.isdisjoint(update_fields):
            self.search_document = self.build_search_document(*self.search_related())
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_document"}
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            # image_files belongs to the image job, which may have written it since this instance was
            # loaded: writing back the stale value would lose the record of files the job just made.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "image_files"
            ]
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:post_detail", args=[self.slug])

    @staticmethod
    def search_document_for(title, summary, body, tag_names=(), stock_codes=()):
        """The search document of a post's texts, tags and stock codes: title and tags weigh most, then the
        summary and codes, then the body (its text, tags stripped). The importer's parse workers build it
        with this too. Stock names are left to the stocks' links (PostQuerySet.search), which a renamed
        stock keeps current."""
        tags = " ".join(sorted(tag_names, key=str.casefold))
        codes = " ".join(sorted(stock_codes))
        return document((title, "A"), (tags, "A"), (summary, "B"), (codes, "B"), (html_text(body), "D"))

    def build_search_document(self, tag_names=(), stock_codes=()):
        return self.search_document_for(self.title, self.summary, self.body, tag_names, stock_codes)

    def search_related(self):
        """(tag names, stock codes) of a saved post, for its search document: one query."""
        if self.pk is None or self._state.adding:
            return (), ()
        kind = models.Value("tag", output_field=models.CharField())
        tags = TaggedPost.objects.filter(content_object=self.pk).values_list(kind, "tag__name")
        kind = models.Value("stock", output_field=models.CharField())
        stocks = Stock.objects.filter(posts=self.pk).values_list(kind, "code")
        found = {"tag": [], "stock": []}
        for row_kind, name in tags.union(stocks, all=True):
            found[row_kind].append(name)
        return found["tag"], found["stock"]

    def refresh_search_document(self):
        """Write the post's search document again, e.g. once its tags and stocks are saved."""
        self.search_document = self.build_search_document(*self.search_related())
        Post.objects.filter(pk=self.pk).update(search_document=self.search_document)

    def slug_base(self):
        """What a new post's slug is made from (Post.slug_base_for)."""
        return self.slug_base_for(self.info_code, self.key, self.title)

    @staticmethod
    def slug_base_for(info_code, key, title):
        """A new post's slug before it is made unique (slugs.unique_slug): its info code or import key, else
        its title in pinyin. The importer derives the slugs of the posts it creates with this too."""
        return slugify(info_code or key or "") or pinyin_slug(title) or "post"

    @classmethod
    def imported_values(cls, parsed, *, category_id, source_id):
        """The values of IMPORTED_FIELDS for `parsed` (the importer's ParsedPost), given the ids its category
        and source were found under."""
        return {
            "title": parsed.title,
            "info_code": parsed.info_code,
            "status": parsed.status,
            "published_at": parsed.published_at,
            "summary": parsed.summary,
            "body": parsed.body,
            "category_id": category_id,
            "source_id": source_id,
            "original_url": parsed.original_url,
        }

    def differs_from(self, values):
        """Whether any of `values` (field attname → value, e.g. imported_values) is not what this post holds."""
        return any(getattr(self, name) != value for name, value in values.items())

    def clean(self):
        errors = []
        for tag, chart in self.stock_shortcodes():
            try:
                if isinstance(chart, Exception):
                    raise chart
                Stock.objects.check_plausible(chart.market, chart.code)
            except SymbolError as error:
                errors.append(f"「{tag}」：{error}")
        if errors:
            raise ValidationError({"body": [f"正文中的股票短代码有误 {e}" for e in errors]})

    def stock_shortcodes(self):
        """Each `[stock 116.00020]` / `[stock sh600519 r]` in the body as (tag, unsaved StockChart or the
        SymbolError saying why it cannot be one)."""
        return [(match[0], shortcode_chart(match)) for match in STOCK_SHORTCODE.finditer(self.body)]

    @property
    def body_html(self):
        """The body as the article page shows it: stored bodies are already sanitised; stock short codes
        become the chart they name, a short code alone in a paragraph replacing the paragraph."""

        def expand(match):
            chart = shortcode_chart(match)
            if isinstance(chart, Exception):
                return match[0]
            return render_to_string("articles/_stock_chart.html", {"chart": chart})

        return mark_safe(STOCK_SHORTCODE.sub(expand, self.body))

    @property
    def lead_picture(self):
        """The lead image as an images.Picture: its renditions once the image job made them, the original
        until then; None without an image. Reads the post only, never the storage."""
        if not self.lead_image:
            return None
        return images.picture(self.image_files, self.lead_image.name, self.lead_image_width, self.lead_image_height)

    @property
    def og_image_url(self):
        """URL of the post's 1200×630 Open Graph image: the crop of its lead image or its generated card once
        the image job made it, the site's default card until then."""
        share = (self.image_files or {}).get("share")
        return self.lead_image.storage.url(share) if share else static(images.DEFAULT_CARD)

    @property
    def images_made(self):
        """Whether the image job has made what the post shows now (a new lead image, or a title, source or
        date on its card, needs the job again)."""
        wanted = images.share_name(self.pk, self.lead_image.name, self.title, self.source_id, self.published_at)
        return (self.image_files or {}).get("share") == wanted

    @property
    def is_live(self):
        return self.status == self.Status.PUBLISHED and self.published_at <= timezone.now()

    @property
    def is_scheduled(self):
        return self.status == self.Status.PUBLISHED and self.published_at > timezone.now()

    @property
    def state(self):
        """Post.State: draft, scheduled or live, the state editors see in the admin."""
        if self.status == self.Status.DRAFT:
            return self.State.DRAFT
        return self.State.SCHEDULED if self.is_scheduled else self.State.LIVE

    def editable_by(self, user):
        """Whoever may publish edits any post; contributors only their own drafts."""
        if not user.has_perm("articles.change_post"):
            return False
        return user.has_perm("articles.publish_post") or (
            self.status == self.Status.DRAFT and self.created_by_id == user.pk
        )

    def deletable_by(self, user):
        """Posts by others need `delete_others_post`; one's own only while one may still edit them."""
        if not user.has_perm("articles.delete_post"):
            return False
        return user.has_perm("articles.delete_others_post") or (
            self.created_by_id == user.pk and self.editable_by(user)
        )

    def share_url(self):
        """The old share-link URL readers arrive with, or None without an info code."""
        if not self.info_code:
            return None
        return f"{reverse('articles:share')}?infoCode={self.info_code}"

    def sync_stocks(self, mentioned=()):
        """Make the post's stocks exactly those it charts (chart rows and body short codes) and those in
        `mentioned`: (market, code) pairs of the stocks its body links to, found by the caller with the
        importer's find_mentions. A stock no longer charted or mentioned leaves; codes that are not a
        valid code of their market are passed over."""
        charts = [*self.charts.all(), *(c for _, c in self.stock_shortcodes() if isinstance(c, StockChart))]
        symbols = {}
        for market, code in [*((c.market, c.code) for c in charts), *mentioned]:
            try:
                symbols.setdefault((market, normalize_code(market, code)), None)
            except ValueError:  # SymbolError, or a market id EastMoney does not have
                continue
        self.stocks.set([Stock.objects.get_or_create(market=market, code=code)[0] for market, code in symbols])
