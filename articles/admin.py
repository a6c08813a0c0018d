"""The editors' admin: posts with their charts, categories, sources and stocks."""

import json

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connections, router, transaction
from django.db.models import Count, Q
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import to_historic
from taggit.models import Tag

from . import tasks
from .forms import ImportUploadForm, PostAdminForm, StockChartForm, body_from_editor
from .history import PostHistoryContextHelper, chart_label, record_version
from .importer.body import find_mentions
from .models import APIKey, Category, ImportRun, Market, OriginalFile, PinnedPost, Post, Source, Stock, StockChart
from .models.imports import OUTCOME_LABELS
from .search_text import QueryError, parse_query
from .symbols import SymbolError


class EstimatedCountPaginator(Paginator):
    """Page counts that stay cheap on a million posts (PostgreSQL; other databases count exactly).

    Unfiltered, the table's row estimate stands in for COUNT(*). Filtered, rows are counted only up to
    `exact_below` (ten pages); past that, the planner's estimate for the filtered query is shown instead.
    """

    exact_below = 1_000

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor != "postgresql":
            return super().count
        if not queryset.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                estimate = cursor.fetchone()[0]
            if estimate > self.exact_below:
                return estimate
        counted = queryset.order_by()[: self.exact_below + 1].count()
        if counted <= self.exact_below:
            return counted
        plan = json.loads(queryset.order_by().explain(format="json"))
        return max(counted, plan[0]["Plan"]["Plan Rows"])


class StateListFilter(admin.SimpleListFilter):
    """Draft, scheduled or live, by the model's own definitions of each."""

    title = "状态"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return Post.State.choices

    def queryset(self, request, queryset):
        by_state = {
            Post.State.DRAFT: queryset.drafts,
            Post.State.SCHEDULED: queryset.scheduled,
            Post.State.LIVE: queryset.published,
        }
        return by_state[self.value()]() if self.value() in by_state else queryset


class MinePostsFilter(admin.SimpleListFilter):
    """The posts the signed-in user created: a contributor's drafts, an editor's own stories."""

    title = "创建者"
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", "我创建的")]

    def queryset(self, request, queryset):
        return queryset.filter(created_by=request.user) if self.value() == "1" else queryset


class StockChartInline(admin.TabularInline):
    model = StockChart
    form = StockChartForm
    extra = 0
    fields = ["move", "position", "symbol", "market", "code", "chart_type", "preview"]
    readonly_fields = ["move", "preview"]

    class Media:
        js = ["articles/admin/chart_order.js", "articles/admin/symbol_lookup.js"]

    @admin.display(description="移动")
    def move(self, chart):
        return mark_safe(
            '<button type="button" class="button" data-chart-move="up" title="上移">↑</button> '
            '<button type="button" class="button" data-chart-move="down" title="下移">↓</button>'
        )

    @admin.display(description="预览")
    def preview(self, chart):
        if not chart.pk:
            return "保存后显示"
        # The chart exactly as the article shows it, scaled down by the admin stylesheet.
        return render_to_string("articles/_stock_chart.html", {"chart": chart})

    # Chart rows are part of the post: whoever may not edit the post may not edit its charts.
    def has_add_permission(self, request, obj):
        return super().has_add_permission(request, obj) and (obj is None or obj.editable_by(request.user))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or obj.editable_by(request.user))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.editable_by(request.user))


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin):
    form = PostAdminForm
    list_display = [
        "title",
        "state_badge",
        "category",
        "source",
        "published_time",
        "view_count",
        "preview_link",
    ]
    list_select_related = ["category", "source"]
    # The reader's search index (get_search_results); info codes and keys exactly, as they are pasted.
    search_fields = ["title", "info_code__exact", "key__exact"]
    search_help_text = "搜索标题、摘要、正文、标签和股票中的字词，或输入完整的资讯编号、导入键。"
    # Not date_hierarchy: its year/month lists are a DISTINCT over every matching post (seconds at a
    # million); these ranges cost nothing.
    list_filter = [
        StateListFilter,
        MinePostsFilter,
        ("published_at", admin.DateFieldListFilter),
        "pinned_to",
        "category",
        "source",
    ]
    autocomplete_fields = ["category", "source"]
    readonly_fields = [
        "lead_image_preview",
        "state_badge",
        # Derived from the charts and the body's stock links on every save (save_related).
        "stocks",
        "created_by",
        "created_at",
        "updated_at",
        "imported_at",
        "edited_at",
        # Found by the importer (articles/stories.py): the canonical copy of the same story.
        "twin_of",
        "content_updated_at",
        "corrected_at",
        "view_count",
    ]
    # Where a post leads the site: for whoever may publish (Post.curatable_by), never for contributors.
    curation_fields = ["pinned_to", "pin_order", "pinned_until", "breaking_until"]
    inlines = [StockChartInline]
    actions = ["publish", "publish_now", "unpublish", "flag_breaking", "clear_breaking"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    save_on_top = True
    object_history_form_template = "admin/articles/post/object_history_form.html"
    object_history_list_template = "admin/articles/post/object_history_list.html"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "category",
                    "source",
                    "tags",
                    "summary",
                    "body",
                    "correction",
                    "lead_image",
                    "lead_image_preview",
                ]
            },
        ),
        (
            "发布",
            {
                "fields": ["state_badge", "status", "published_at"],
                "description": "状态为「发布」且发布时间在将来，即为定时发布：到时自动发布，无需再操作。",
            },
        ),
        (
            "头条与快讯",
            {
                "fields": ["pinned_to", "pin_order", "pinned_until", "breaking_until"],
                "description": "仅已发布的文章可以置顶或设为快讯；撤回为草稿即取消。快讯默认 30 分钟，"
                "可在列表中用「设为快讯」操作，或在此设定截止时间。",
            },
        ),
        ("来源信息", {"fields": ["info_code", "key", "original_url", "stocks", "twin_of"], "classes": ["collapse"]}),
        (
            "记录",
            {
                "fields": [
                    "created_by",
                    "created_at",
                    "updated_at",
                    "imported_at",
                    "edited_at",
                    "content_updated_at",
                    "corrected_at",
                    "view_count",
                ],
                "classes": ["collapse"],
            },
        ),
    ]

    @admin.display(description="当前状态", ordering="status")
    def state_badge(self, post):
        if post.pk is None:
            return "—"
        # Pins and breaking news beside the state: one column, so the list fits a laptop screen.
        badges = [(post.state, post.state.label)]
        if post.pin_running:
            badges.append(("pinned", post.get_pinned_to_display()))
        if post.breaking_until and post.breaking_until > timezone.now():
            badges.append(("breaking", "快讯"))
        return format_html_join(" ", '<span class="state-badge state-{}">{}</span>', badges)

    class Media:
        css = {"all": ["articles/admin/post.css"]}
        js = ["articles/admin/body_preview.js"]

    @admin.display(description="发布时间", ordering="published_at")
    def published_time(self, post):
        # Compact, so the column fits a laptop screen beside the filters (Beijing time).
        return f"{localtime(post.published_at):%Y-%m-%d %H:%M}"

    @admin.display(description="题图预览")
    def lead_image_preview(self, post):
        picture = post.lead_picture
        if picture is None:
            return "—"
        return format_html(
            '<img class="lead-image-preview" src="{}" width="{}" height="{}" alt="">',
            picture.renditions[0].url,
            picture.renditions[0].width,
            picture.renditions[0].height,
        )

    @admin.display(description="预览")
    def preview_link(self, post):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">预览</a>', reverse("articles:post_preview", args=[post.pk])
        )

    def view_on_site(self, post):
        # Only a live post has a reader page; drafts and scheduled posts have the preview instead.
        return post.get_absolute_url() if post.is_live else None

    def get_readonly_fields(self, request, obj=None):
        may_publish = self.has_publish_permission(request)
        # Contributors write drafts; only those who may publish choose the status, pins and breaking news.
        readonly = [*self.readonly_fields, *([] if may_publish else ["status", *self.curation_fields])]
        if obj is not None and to_historic(obj) is not None:
            # The revert form restores what the post says, not what it is: its URL, share-link code and
            # import key stay (blanking them broke share links), and so does the publication time of
            # whoever may not publish. Pins and breaking flags are today's decisions, not a version's.
            readonly += ["slug", "info_code", "key", *([] if may_publish else ["published_at"])]
            readonly += [field for field in self.curation_fields if field not in readonly]
        return readonly

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm("articles.delete_others_post"):
            # Bulk deletion would reach others' posts; one's own can be deleted from their page.
            actions.pop("delete_selected", None)
        return actions

    def has_change_permission(self, request, obj=None):
        if obj is not None and to_historic(obj) is not None:
            # simple-history asks about a version (the revert form); reverting to it changes the post as it
            # is now, if it still exists.
            obj = self.post_as_it_is_now(obj)
            if obj is None:
                return False
        return super().has_change_permission(request, obj) and (obj is None or obj.editable_by(request.user))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or obj.deletable_by(request.user))

    @staticmethod
    def post_as_it_is_now(version):
        """The stored post a version (a historical instance) belongs to, or None; looked up once."""
        if not hasattr(version, "_post_as_it_is_now"):
            version._post_as_it_is_now = Post.objects.filter(pk=version.pk).first()
        return version._post_as_it_is_now

    def has_publish_permission(self, request):
        return request.user.has_perm("articles.publish_post")

    def get_urls(self):
        return [
            path(
                "symbol-lookup/",
                self.admin_site.admin_view(self.symbol_lookup_view),
                name="articles_post_symbol_lookup",
            ),
            path(
                "body-preview/",
                self.admin_site.admin_view(self.body_preview_view),
                name="articles_post_body_preview",
            ),
            *super().get_urls(),
        ]

    def body_preview_view(self, request):
        """JSON for body_preview.js: the typed body as the article will show it (rendered, sanitised, short
        codes drawn). POST, since a body is long; it stores nothing."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request) and not self.has_change_permission(request):
            raise PermissionDenied
        preview = Post(body=body_from_editor(request.POST.get("body", "")))
        return JsonResponse({"html": preview.body_html})

    def symbol_lookup_view(self, request):
        """JSON for symbol_lookup.js: the market and code a typed symbol stands for, with the stock's name
        when it is on file, or the reason it cannot be read — what saving the chart row would decide."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        if not request.user.has_perm("articles.view_stockchart") and not request.user.has_perm(
            "articles.change_stockchart"
        ):
            raise PermissionDenied
        market = request.GET.get("market", "")
        market = int(market) if market.isdigit() and int(market) in Market.values else None
        try:
            symbol, stock = Stock.objects.look_up(request.GET.get("symbol", ""), market)
        except SymbolError as error:
            return JsonResponse({"error": str(error)})
        return JsonResponse(
            {
                "market": symbol.market,
                "market_label": symbol.market.label,
                "code": symbol.code,
                "name": stock.name if stock else "",
            }
        )

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history checks only the view permission here, then saves a POST. Reverting changes the
        # post: it needs the change view's permission, judged on the post as it is now, for showing the
        # form too, and saves the way the change view does.
        post = self.get_object(request, unquote(object_id))
        if post is None or not version_id.isdigit():
            raise Http404
        if not self.has_change_permission(request, post):
            raise PermissionDenied
        version = get_object_or_404(Post.history, id=post.pk, history_id=version_id)
        if request.method == "POST":
            version_post = version.instance
            form = self.get_form(request, version_post, change=True)(request.POST, request.FILES, instance=version_post)
            if form.is_valid():
                with transaction.atomic(using=router.db_for_write(Post)):
                    restored = self.save_form(request, form, change=True)
                    self.save_model(request, restored, form, change=True)
                    self.save_related(request, form, [], change=True)
                    self.log_change(request, restored, self.construct_change_message(request, form, []))
                return self.response_change(request, restored)
        # The form, or the POST that failed validation above with its errors, shown by simple-history (whose
        # own save is never reached: it validates the same data with the same form). The revert form has
        # no chart rows: it says which charts saving brings back.
        charts = [chart_label(chart) for chart in version.charts]
        return super().history_form_view(request, object_id, version_id, {**(extra_context or {}), "charts": charts})

    def get_search_results(self, request, queryset, search_term):
        """Posts holding every word of `search_term` in the search index the reader's search uses (title,
        summary, body, tags, stocks; `"phrases"` and `-words` too), or whose info code or key it is."""
        text = search_term.strip()
        if not text:
            return queryset, False
        try:
            query = parse_query(text)
        except QueryError:  # no words to look for, only perhaps a code
            return queryset.filter(Q(info_code=text) | Q(key=text)), False
        return queryset.search(query, codes=True), False

    def get_historical_record_context_helper(self, request, historical_record):
        return PostHistoryContextHelper(self.model, historical_record)

    def save_model(self, request, obj, form, change):
        obj.edited_at = timezone.now()
        if not change:
            obj.created_by = request.user
        if form.restoring is not None:
            obj._change_reason = f"恢复到 {localtime(form.restoring.history_date):%Y-%m-%d %H:%M:%S} 的版本"
        else:
            obj._change_reason = "后台编辑" if change else "后台新建"
        obj._history_user = request.user
        # The version is recorded by save_related, once the tags and chart rows are saved too.
        obj.save_without_historical_record()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        post = form.instance
        if form.restoring is not None:
            form.restoring.restore_charts(post)
        post.sync_stocks(mentioned=find_mentions(post.body))
        # Search finds a post by its tags and stocks too, saved only now.
        post.refresh_search_document()
        record_version(post, created=not change)

    @admin.action(description="发布所选文章（按设定时间，将来的时间即定时）", permissions=["publish"])
    def publish(self, request, queryset):
        updated = queryset.publish(request.user)
        self.message_user(request, f"已发布 {updated} 篇文章。", messages.SUCCESS)

    @admin.action(description="立即发布所选文章（发布时间设为现在）", permissions=["publish"])
    def publish_now(self, request, queryset):
        updated = queryset.publish(request.user, now=True)
        self.message_user(request, f"已立即发布 {updated} 篇文章。", messages.SUCCESS)

    @admin.action(description="撤回所选文章为草稿", permissions=["publish"])
    def unpublish(self, request, queryset):
        updated = queryset.unpublish(request.user)
        self.message_user(request, f"已撤回 {updated} 篇文章。", messages.SUCCESS)

    @admin.action(description=f"设为快讯（{settings.BREAKING_MINUTES} 分钟，仅限已发布）", permissions=["publish"])
    def flag_breaking(self, request, queryset):
        flagged = queryset.flag_breaking(request.user)
        skipped = queryset.count() - flagged
        note = f"；{skipped} 篇不是已发布状态，未设置" if skipped else ""
        self.message_user(request, f"已将 {flagged} 篇文章设为快讯{note}。", messages.SUCCESS)

    @admin.action(description="取消所选文章的快讯", permissions=["publish"])
    def clear_breaking(self, request, queryset):
        cleared = queryset.clear_breaking(request.user)
        self.message_user(request, f"已取消 {cleared} 条快讯。", messages.SUCCESS)


@admin.register(PinnedPost)
class PinnedPostAdmin(admin.ModelAdmin):
    """The running pins, home page first, each group in the order readers see it; ↑/↓ reorder them.

    A list over the posts' own pin fields (set on the post's form), for whoever may pin (Post.curatable_by).
    """

    list_display = ["title", "pinned_to", "category", "pin_order", "pinned_until", "published_time", "move"]
    list_display_links = ["title"]
    list_select_related = ["category"]
    list_filter = ["pinned_to"]

    # Home page first ("home" after "category"), then by category, each group as readers see it.
    ordering = ["-pinned_to", "category", "pin_order", "-published_at", "-id"]

    def get_queryset(self, request):
        return Post.objects.pinned().order_by()

    @admin.display(description="发布时间")
    def published_time(self, post):
        return f"{localtime(post.published_at):%Y-%m-%d %H:%M}"

    @admin.display(description="排序")
    def move(self, post):
        # Buttons of the changelist's own form (which carries the CSRF token), sent to the move view.
        buttons = [
            ("up", "上移", "↑"),
            ("down", "下移", "↓"),
        ]
        return format_html_join(
            " ",
            '<button type="submit" class="button" formaction="{}" title="{}">{}</button>',
            (
                (reverse("admin:articles_pinnedpost_move", args=[post.pk, way]), title, arrow)
                for way, title, arrow in buttons
            ),
        )

    def get_urls(self):
        move = path(
            "<int:pk>/move/<str:direction>/",
            self.admin_site.admin_view(self.move_view),
            name="articles_pinnedpost_move",
        )
        return [move, *super().get_urls()]

    def move_view(self, request, pk, direction):
        """Move a pin up or down its group (POST), then back to the list."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if direction not in ("up", "down"):
            raise Http404
        post = get_object_or_404(Post.objects.pinned(), pk=pk)
        if not post.curatable_by(request.user):
            raise PermissionDenied
        post.move_pin(-1 if direction == "up" else 1, request.user)
        return redirect("admin:articles_pinnedpost_changelist")

    # The list is a view of posts: pins are set on the post's form, by whoever may publish.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("articles.publish_post") and request.user.has_perm("articles.change_post")

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PostCountAdmin(admin.ModelAdmin):
    """A changelist with each row's post count, counted in the page's own query."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        # Autocomplete needs names only; counting a million posts there would make typing lag.
        if request.resolver_match and request.resolver_match.url_name == "autocomplete":
            return queryset
        return queryset.annotate(post_count=Count("posts"))

    @admin.display(description="文章数", ordering="post_count")
    def post_count(self, obj):
        return obj.post_count


@admin.register(Category)
class CategoryAdmin(PostCountAdmin):
    list_display = ["name", "slug", "position", "post_count"]
    list_editable = ["position"]
    search_fields = ["name", "slug"]
    # Meta.ordering does not apply to the annotated (GROUP BY) queryset.
    ordering = ["position", "name"]


@admin.register(Source)
class SourceAdmin(PostCountAdmin):
    list_display = ["name", "slug", "post_count"]
    search_fields = ["name"]
    ordering = ["name"]


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ["code", "market", "name"]
    list_filter = ["market"]
    search_fields = ["code", "name"]
    actions = ["delete_orphans"]

    @admin.action(description="删除所选股票中没有文章引用的（图表和正文都未提及）", permissions=["delete"])
    def delete_orphans(self, request, queryset):
        deleted = queryset.delete_orphans()
        kept = queryset.count()
        message = f"删除了 {deleted} 只没有文章引用的股票；所选其余 {kept} 只仍有文章引用，已保留。"
        self.message_user(request, message, messages.SUCCESS)


# taggit's own Tag admin has a "merge tags" view that checks no permission at all, and merges taggit's
# generic tagged items, which posts do not use (they have TaggedPost): this one has neither.
admin.site.unregister(Tag)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    ordering = ["name", "slug"]
    # The post form's tag chips ask the admin's autocomplete, which searches these.
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(OriginalFile)
class OriginalFileAdmin(admin.ModelAdmin):
    list_display = ["path", "post", "imported_at"]
    search_fields = ["path", "sha256"]
    readonly_fields = ["post", "path", "sha256", "imported_at", "text"]
    exclude = ["compressed_text"]

    def has_add_permission(self, request):
        return False


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Import posts: an editor allowed to (articles.import_posts) uploads an archive, the job queue imports it
    (articles/importer/uploads.py), and the run's page shows its progress, then the summary and the files
    that failed, conflicted or were skipped."""

    form = ImportUploadForm
    list_display = ["original_name", "state", "processed", "summary", "started_by", "created_at"]
    list_filter = ["state"]
    list_select_related = ["started_by"]
    run_fields = [
        "original_name",
        "progress",
        "summary",
        "error",
        "problem_files",
        "report",
        "started_by",
        "created_at",
        "started_at",
        "finished_at",
        "attempts",
    ]

    class Media:
        js = ["articles/admin/import_progress.js"]

    def get_fields(self, request, obj=None):
        return ["upload"] if obj is None else self.run_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.run_fields

    def has_add_permission(self, request):
        return request.user.has_perm("articles.import_posts")

    def has_change_permission(self, request, obj=None):
        # A run is a record: what it did, never edited.
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("articles.import_posts") or super().has_view_permission(request, obj)

    def save_model(self, request, obj, form, change):
        obj.started_by = request.user
        obj.original_name = form.cleaned_data["upload"].name
        super().save_model(request, obj, form, change)
        tasks.queue_import(obj)

    def response_add(self, request, obj, post_url_continue=None):
        # To the run's page, which shows its progress.
        return redirect("admin:articles_importrun_change", obj.pk)

    def get_urls(self):
        progress = path(
            "<int:pk>/progress/", self.admin_site.admin_view(self.progress_view), name="articles_importrun_progress"
        )
        return [progress, *super().get_urls()]

    def progress_view(self, request, pk):
        """The run's progress as JSON, for its page to poll: staff who may view imports only."""
        run = get_object_or_404(ImportRun, pk=pk)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        return JsonResponse(run.progress())

    @admin.display(description="进度")
    def progress(self, run):
        url = reverse("admin:articles_importrun_progress", args=[run.pk])
        finished = "true" if run.finished else "false"
        html = '<span class="import-progress" data-url="{}" data-finished="{}">{}</span>'
        return format_html(html, url, finished, run.progress_text())

    @admin.display(description="问题文件")
    def problem_files(self, run):
        if not run.problems:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    problem["path"],
                    OUTCOME_LABELS.get(problem["status"], problem["status"]),
                    "；".join(filter(None, [problem["reason"], *problem["warnings"]])),
                )
                for problem in run.problems
            ),
        )
        return format_html("<table><tr><th>文件</th><th>结果</th><th>原因</th></tr>{}</table>", rows)


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    """Keys for the JSON API. A new key is shown once, in the message after saving it; afterwards only its
    first characters are. Keys are revoked, not deleted, so the history of what they wrote keeps a name."""

    list_display = ["name", "scope", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # A key's scope is what it was issued for: a wider one needs a new key.
        return [*self.readonly_fields, "scope"] if obj else self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            token = obj.issue_token()
            obj.created_by = request.user
            super().save_model(request, obj, form, change)
            message = format_html(
                '新密钥「{}」：<code class="api-token">{}</code> 请立即复制保存，离开本页后无法再次查看。',
                obj.name,
                token,
            )
            self.message_user(request, message, messages.WARNING)
        else:
            super().save_model(request, obj, form, change)

    @admin.action(description="吊销所选密钥（立即失效）", permissions=["change"])
    def revoke(self, request, queryset):
        count = 0
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoke()
            count += 1
        self.message_user(request, f"已吊销 {count} 个密钥。", messages.SUCCESS)
