"""Posts: what readers may see (PostQuerySet.published), and everything a post carries."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.db.models import Q, Subquery
from django.db.models.functions import Coalesce, Greatest
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
from articles.search_text import (
    Matches,
    PostPeriod,
    SearchDocumentField,
    document,
    html_text,
    period_tsquery,
    with_stock,
)
from articles.slugs import pinyin_slug, unique_slug
from articles.stories import body_digest
from articles.symbols import SymbolError, normalize_code
from articles.validators import (
    EARLIEST_PUBLICATION,
    LATEST_PUBLICATION,
    validate_post_key,
    validate_publication_date,
)

from .curation import OldSlug
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

    def pinned(self):
        """Live posts pinned to the home page or their category whose pin has not ended, in pin order."""
        now = timezone.now()
        return (
            self.published()
            .exclude(pinned_to="")
            .filter(Q(pinned_until__isnull=True) | Q(pinned_until__gt=now))
            .order_by("pin_order", "-published_at", "-pk")
        )

    def next_curation_end(self):
        """When the next running pin or breaking-news flag ends (None without one): pages that show it
        change then, without a write, as they do when a scheduled post goes live."""
        now = timezone.now()
        ends = [
            self.filter(**{f"{field}__gt": now}).aggregate(end=models.Min(field))["end"]
            for field in ("pinned_until", "breaking_until")
        ]
        return min((end for end in ends if end), default=None)

    def breaking(self):
        """Live posts flagged as breaking news whose flag has not ended, newest first."""
        return self.published().filter(breaking_until__gt=timezone.now()).order_by("-published_at", "-pk")

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

    def text_search(self, query, stock=None, loose=False, by_row=False, since=None):
        """Posts whose text holds `query` (as `search` has it) or, with the `stock` it names, the stock's code
        or name (articles.search_text.with_stock).

        One condition on the GIN index. A stock's linked posts are among them: their documents hold its
        code (search_document_for), where an OR with the links would have every post's document read.
        `loose` (PostgreSQL): every token of each word in any order, exclusions
        aside, which the index answers without reading documents; the caller confirms the few it keeps,
        `by_row`: checked on each post found otherwise, never through the index. `since` (PostgreSQL, with
        the index): only posts published from the start of that moment's month on, told apart by the
        index itself (articles.search_text.period_tsquery).
        """
        return self.filter(self._text_holds(query, stock, loose, by_row, since))

    def _text_holds(self, query, stock, loose=False, by_row=False, since=None):
        queries = with_stock(query, stock)
        if connections[self.db].vendor == "postgresql":
            tsquery = " | ".join(f"({each.tsquery(loose=loose)})" for each in queries)
            found = models.Q(**{f"search_document__{'matches_row' if by_row else 'matches'}": tsquery})
            if since is not None:
                # A day past now: a post published this moment is in the window whatever the clocks say.
                until = timezone.now() + datetime.timedelta(days=1)
                found &= models.Q(Matches(PostPeriod(), period_tsquery(since, until)))
            return found
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

    def one_per_story(self, kind=None, obj=None):
        """Leave out twins whose canonical post is live and in the same listing: a listing holding both
        copies of a story shows it once; one holding only the copy (another category or source) shows it.

        A tag or stock listing takes a live canonical post to carry the same tags and stocks as its copy,
        as one story does. The canonical post is joined by primary key, one probe per row listed, so a
        listing stays one index range scan.
        """
        canonical = Q(twin_of__status=Post.Status.PUBLISHED, twin_of__published_at__lte=timezone.now())
        if kind in ("category", "source"):
            canonical &= Q(**{f"twin_of__{kind}": obj})
        return self.filter(Q(twin_of__isnull=True) | ~canonical)

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
        # A pin or a breaking-news flag that ran out changed the pages that showed it, without a write.
        now = timezone.now()
        ended = [
            Post.objects.filter(**{f"{field}__lte": now}).order_by(f"-{field}").values(field)[:1]
            for field in ("pinned_until", "breaking_until")
        ]
        # Coalesced: SQLite's GREATEST is NULL when any argument is, and most sites have no ended pin.
        return Greatest(
            Subquery(edited), Subquery(went_live), *(Coalesce(Subquery(q), Subquery(edited)) for q in ended)
        )

    def publish(self, user, *, now=False):
        """Publish drafts (at their set time: a future one schedules them), or with `now` also bring
        scheduled posts forward to this moment. Each change is an edit by `user` in the post's history."""
        if now:
            moment = timezone.now()
            targets = self.exclude(status=Post.Status.PUBLISHED, published_at__lte=moment)
            return targets._change_status(user, "立即发布", status=Post.Status.PUBLISHED, published_at=moment)
        return self.drafts()._change_status(user, "发布", status=Post.Status.PUBLISHED)

    def unpublish(self, user):
        """Return published and scheduled posts to draft, recorded as edits by `user`; they lose their pins
        and breaking-news flags (Post.save)."""
        return self.filter(status=Post.Status.PUBLISHED)._change_status(user, "撤回为草稿", status=Post.Status.DRAFT)

    def flag_breaking(self, user, minutes=None):
        """Flag live posts as breaking news for `minutes` (BREAKING_MINUTES) from now, recorded as edits."""
        until = timezone.now() + datetime.timedelta(minutes=minutes or settings.BREAKING_MINUTES)
        return self.published()._change_status(user, "设为快讯", breaking_until=until)

    def clear_breaking(self, user):
        """End the breaking-news flag of posts that have one running, recorded as edits."""
        running = self.filter(breaking_until__gt=timezone.now())
        return running._change_status(user, "取消快讯", breaking_until=None)

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

    class Pin(models.TextChoices):
        """Where an editor pinned the post: above the home page's list, or above its category's."""

        NONE = "", "不置顶"
        HOME = "home", "首页头条"
        CATEGORY = "category", "栏目置顶"

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
    # One story stored twice (articles/stories.py): the copy points at the canonical post, whose page its
    # own names as canonical, and a listing holding both shows the story once.
    twin_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="twins",
        verbose_name="重复于",
        help_text="同一条新闻的另一份（通常是来源的原文）；列表只显示那一份",
    )
    body_digest = models.CharField(max_length=64, blank=True, editable=False)
    # Curation: pins, breaking news, visible updates (see save()).
    pinned_to = models.CharField("置顶", max_length=10, choices=Pin.choices, default=Pin.NONE, blank=True)
    pin_order = models.PositiveSmallIntegerField(
        "置顶顺序", default=0, help_text="数字小的在前；也可在「头条与置顶」中用 ↑/↓ 调整"
    )
    pinned_until = models.DateTimeField("置顶截止", null=True, blank=True, help_text="留空则一直置顶，直到取消")
    breaking_until = models.DateTimeField(
        "快讯截止", null=True, blank=True, help_text="在此之前，每个页面顶部显示这条快讯；清空即取消"
    )
    content_updated_at = models.DateTimeField(
        "内容更新于", null=True, blank=True, editable=False, help_text="发布后标题、摘要、正文或更正最近一次修改的时间"
    )
    correction = models.TextField("更正", blank=True, help_text="公开的更正说明，显示在正文上方")
    corrected_at = models.DateTimeField("更正时间", null=True, blank=True, editable=False)
    # Written in batches by articles.popularity.flush_views, never by a save.
    view_count = models.PositiveBigIntegerField("阅读数", default=0, editable=False)
    # What search finds the post by (articles.search_text): its title, summary, tags, stocks and body text.
    # Written with the post by save(), refresh_search_document() (after tags or stocks change) and the
    # importer. (Migration 0019 wrote the documents of posts stored before it.)
    search_document = SearchDocumentField("搜索索引", null=True, blank=True, editable=False)

    objects = PostManager()
    # image_files describes files, not the post: reverting a version must not bring back an old record.
    # The twin link and the body's digest are the importer's bookkeeping, and view_count is the readers':
    # none is an edit to the post, and a revert must not bring back an old value. The search document
    # follows from the fields that are recorded.
    history = HistoricalRecords(
        excluded_fields=["updated_at", "image_files", "twin_of", "body_digest", "view_count", "search_document"],
        bases=[PostSnapshotHistory],
    )
    # What a reader sees change on a live post: an edit to these shows "更新于" (content_updated_at).
    CONTENT_FIELDS = ("title", "summary", "body", "correction")
    # Fields whose values as loaded save() compares with the new ones.
    # (breaking_until too: a change to it is a change of every page, articles.freshness).
    TRACKED_FIELDS = (*CONTENT_FIELDS, "slug", "status", "published_at", "breaking_until")
    # Written by their own jobs, never by saving a post loaded before they ran.
    JOB_FIELDS = ("image_files", "view_count")

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
            # Finding a new post's twin by its text.
            models.Index(fields=["body_digest"], name="post_body_digest", condition=~models.Q(body_digest="")),
            # Pins and breaking flags are a handful of rows among a million; the ended ones are the site's
            # last change (last_change_expression).
            models.Index(fields=["pin_order"], name="post_pinned", condition=~models.Q(pinned_to="")),
            models.Index(
                fields=["-pinned_until"], name="post_pinned_until", condition=models.Q(pinned_until__isnull=False)
            ),
            models.Index(
                fields=["-breaking_until"],
                name="post_breaking_until",
                condition=models.Q(breaking_until__isnull=False),
            ),
            # The changelist sorts by reads.
            models.Index(fields=["-view_count"], name="post_view_count"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.body_digest = body_digest(self.body)
        if not self.slug:
            self.slug = unique_slug(Post, self.slug_base(), exclude_pk=self.pk)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or not SEARCHED_FIELDS.isdisjoint(update_fields):
            self.search_document = self.build_search_document(*self.search_related())
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_document"}
        if not self._state.adding and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            # image_files and view_count belong to their jobs, which may have written them since this
            # instance was loaded: writing back stale values would lose what the jobs recorded.
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.JOB_FIELDS
            ]
        changed = self._curation_changes()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = list(dict.fromkeys([*kwargs["update_fields"], *changed]))
        old_slug = self._loaded.get("slug") if self._was_live() else None
        super().save(*args, **kwargs)
        if old_slug and old_slug != self.slug:
            # The old URL keeps answering; the slug the post now has (perhaps one it had before) is no
            # longer an old one.
            OldSlug.objects.filter(slug=self.slug).delete()
            OldSlug.objects.update_or_create(slug=old_slug, defaults={"post": self})
        self._remember_loaded()

    def get_absolute_url(self):
        return reverse("articles:post_detail", args=[self.slug])

    def canonical_url(self):
        """The story's canonical page: the post it is a twin of, else its own."""
        return self.twin_of.get_absolute_url() if self.twin_of_id else self.get_absolute_url()

    @classmethod
    def from_db(cls, db, field_names, values):
        post = super().from_db(db, field_names, values)
        post._remember_loaded()
        return post

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._remember_loaded()

    def _remember_loaded(self):
        # Deferred fields (listings defer the body) are not known, so not compared.
        self._loaded = {name: self.__dict__[name] for name in self.TRACKED_FIELDS if name in self.__dict__}

    def _was_live(self):
        """Whether the post was live as it was loaded (False for a new post)."""
        loaded = getattr(self, "_loaded", {})
        if self._state.adding or "status" not in loaded or "published_at" not in loaded:
            return False
        return loaded["status"] == self.Status.PUBLISHED and loaded["published_at"] <= timezone.now()

    def _curation_changes(self):
        """Apply the curation rules to this save; returns the fields they set.

        A post that is not live loses its pin and breaking flag (unpublishing unpins). An edit a reader can
        see on a live post — title, summary, body or correction — stamps content_updated_at ("更新于"); a
        new or changed correction also stamps corrected_at, which feeds announce.
        """
        changed = []
        if not self.is_live and (self.pinned_to or self.breaking_until):
            self.pinned_to, self.breaking_until = self.Pin.NONE, None
            changed += ["pinned_to", "breaking_until"]
        if self._was_live() and self.is_live:
            loaded = self._loaded
            edited = [name for name in self.CONTENT_FIELDS if name in loaded and loaded[name] != getattr(self, name)]
            if edited:
                self.content_updated_at = timezone.now()
                changed.append("content_updated_at")
            if "correction" in edited and self.correction:
                self.corrected_at = self.content_updated_at
                changed.append("corrected_at")
        return changed

    @staticmethod
    def search_document_for(title, summary, body, tag_names=(), stock_codes=()):
        """The search document of a post's texts, tags and stock codes: title and tags weigh most, then the
        summary and codes, then the body (its text, tags stripped). The importer's parse workers build it
        with this too. Stock names are not in it: a query naming a stock also looks for its code
        (articles.search_text.with_stock), so a renamed stock's posts are found by its new name."""
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
        self.clean_curation()
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

    def clean_curation(self):
        """Only a live post may be pinned or flagged as breaking news (a pin or flag that ran out is history)."""
        errors = {}
        if self.pin_running and not self.is_live:
            errors["pinned_to"] = "只有已发布的文章可以置顶（草稿和定时发布的不行）。"
        if self.breaking_until and self.breaking_until > timezone.now() and not self.is_live:
            errors["breaking_until"] = "只有已发布的文章可以设为快讯（草稿和定时发布的不行）。"
        if errors:
            raise ValidationError(errors)

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
    def modified_at(self):
        """When readers last saw the post change: its last visible update, else its publication."""
        return self.content_updated_at or self.published_at

    @property
    def announced_at(self):
        """What feeds give as the entry's update time: its last correction, else its publication. Other
        edits show on the page ("更新于") but do not make feed readers announce the post again."""
        return max(self.corrected_at or self.published_at, self.published_at)

    @property
    def pin_running(self):
        """Whether the post is pinned and its pin has not ended (live or not: see PostQuerySet.pinned)."""
        return bool(self.pinned_to) and (self.pinned_until is None or self.pinned_until > timezone.now())

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

    def curatable_by(self, user):
        """Pins and breaking flags decide what leads the site: for whoever may publish and edit the post,
        never for contributors."""
        return user.has_perm("articles.publish_post") and self.editable_by(user)

    def pin_group(self):
        """The running pins this post's pin is ordered among: the home page's, or its category's."""
        pins = Post.objects.pinned().filter(pinned_to=self.pinned_to)
        return pins.filter(category=self.category_id) if self.pinned_to == self.Pin.CATEGORY else pins

    def move_pin(self, step, user):
        """Move this pin `step` places (-1 up, +1 down) among its group, numbering the group 1, 2, 3 … in
        its new order; each post whose number changes records it in its history as an edit by `user`."""
        group = list(self.pin_group())
        index = next(i for i, post in enumerate(group) if post.pk == self.pk)
        target = min(max(index + step, 0), len(group) - 1)
        group.insert(target, group.pop(index))
        for order, post in enumerate(group, start=1):
            if post.pin_order != order:
                post.pin_order = order
                post.edited_at = timezone.now()
                post._history_user, post._change_reason = user, "调整置顶顺序"
                post.save_without_historical_record(update_fields=["pin_order", "edited_at", "updated_at"])
                record_version(post)
        self.refresh_from_db(fields=["pin_order"])

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


class PinnedPost(Post):
    """Pinned posts as the admin's "头条与置顶" list shows them, to order them with ↑/↓."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "头条与置顶"
