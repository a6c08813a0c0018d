"""The editors' admin: posts with their charts, categories, sources and stocks."""

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import Count
from django.utils import timezone
from django.utils.functional import cached_property
from simple_history.admin import SimpleHistoryAdmin

from .models import Category, OriginalFile, Post, Source, Stock, StockChart


class EstimatedCountPaginator(Paginator):
    """On an unfiltered PostgreSQL changelist, use the planner's row estimate instead of a full COUNT(*)."""

    exact_below = 10_000

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if connection.vendor == "postgresql" and not queryset.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                estimate = cursor.fetchone()[0]
            if estimate > self.exact_below:
                return estimate
        return super().count


# A scheme-less URL typed by an editor is https (Django 6's default already).
URL_FIELDS_ASSUME_HTTPS = {models.URLField: {"assume_scheme": "https"}}


class StockChartInline(admin.TabularInline):
    model = StockChart
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    extra = 0
    fields = ["position", "market", "code", "chart_type", "image_url", "quote_url"]


@admin.register(Post)
class PostAdmin(SimpleHistoryAdmin):
    list_display = ["title", "category", "source", "status", "published_at"]
    list_filter = ["status", "category", "source"]
    list_select_related = ["category", "source"]
    search_fields = ["title", "=info_code", "=key"]
    date_hierarchy = "published_at"
    autocomplete_fields = ["category", "source", "stocks"]
    readonly_fields = ["created_at", "updated_at", "imported_at", "edited_at"]
    inlines = [StockChartInline]
    actions = ["publish", "unpublish"]
    paginator = EstimatedCountPaginator
    formfield_overrides = URL_FIELDS_ASSUME_HTTPS
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["title", "slug", "category", "source", "tags", "summary", "body", "lead_image"]}),
        ("发布", {"fields": ["status", "published_at"]}),
        ("来源信息", {"fields": ["info_code", "key", "original_url", "stocks"], "classes": ["collapse"]}),
        ("记录", {"fields": ["created_at", "updated_at", "imported_at", "edited_at"], "classes": ["collapse"]}),
    ]

    def save_model(self, request, obj, form, change):
        obj.edited_at = timezone.now()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        form.instance.sync_stocks()

    @admin.action(description="发布所选文章", permissions=["change"])
    def publish(self, request, queryset):
        updated = queryset.update(status=Post.Status.PUBLISHED, edited_at=timezone.now())
        self.message_user(request, f"已发布 {updated} 篇文章。", messages.SUCCESS)

    @admin.action(description="撤回所选文章为草稿", permissions=["change"])
    def unpublish(self, request, queryset):
        updated = queryset.update(status=Post.Status.DRAFT, edited_at=timezone.now())
        self.message_user(request, f"已撤回 {updated} 篇文章。", messages.SUCCESS)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "post_count"]
    list_editable = ["position"]
    search_fields = ["name", "slug"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(post_count=Count("posts"))

    @admin.display(description="文章数", ordering="post_count")
    def post_count(self, obj):
        return obj.post_count


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "post_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(post_count=Count("posts"))

    @admin.display(description="文章数", ordering="post_count")
    def post_count(self, obj):
        return obj.post_count


@admin.register(Stock)
class StockAdmin(admin.ModelAdmin):
    list_display = ["code", "market", "name"]
    list_filter = ["market"]
    search_fields = ["code", "name"]


@admin.register(OriginalFile)
class OriginalFileAdmin(admin.ModelAdmin):
    list_display = ["path", "post", "imported_at"]
    search_fields = ["path", "sha256"]
    readonly_fields = ["post", "path", "sha256", "imported_at", "text"]
    exclude = ["compressed_text"]

    def has_add_permission(self, request):
        return False
