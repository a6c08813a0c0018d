"""Admin forms: the post form (Markdown or HTML body, sanitised; checked lead image; tag chips), the
stock-chart row and the upload of an archive to import."""

import tarfile
import zipfile

from django import forms
from django.conf import settings
from django.urls import reverse_lazy
from django.utils import timezone
from simple_history.models import to_historic

from . import images
from .html import sanitize_html
from .importer.body import render_markdown
from .importer.uploads import archive_suffix
from .models import ImportRun, Post, Stock, StockChart
from .symbols import EXAMPLES, SymbolError, parse_symbol
from .tagging import parse_tags

BODY_HELP = (
    "空一行即分段。可用 Markdown：**粗体**、*斜体*、[链接文字](https://…)、行首 > 引用、- 列表、## 小标题；"
    "也可以直接写 HTML。保存时转为 HTML，并按白名单清理（脚本、样式、表单等会被去掉）。"
    "股票图表：单独一行写 [stock sh600519]，分时图写 [stock sh600519 r]。下方预览保存后的样子。"
)


def body_from_editor(text):
    """The body as stored from what an editor typed: Markdown (HTML passes through it untouched, as it did
    on the old site) rendered to HTML, then sanitised."""
    return sanitize_html(render_markdown(text))


PUBLISHED_AT_HELP = (
    "将来的时间即定时发布，到时自动发布。草稿改为「发布」时，如这里是已过去的时间且未改动，则以保存的时刻为发布时间。"
)


class HttpsURLField(forms.URLField):
    """A URL where a scheme-less one typed by an editor is https (Django 6's default already).

    Named in the forms' `field_classes`, which the admin's own form factory honours too."""

    def __init__(self, **kwargs):
        super().__init__(assume_scheme="https", **kwargs)


class LeadImageField(forms.FileField):
    """An image upload checked by decoding it (not by its name) and stored re-encoded without metadata."""

    widget = forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/gif"})

    def to_python(self, data):
        upload = super().to_python(data)
        return images.prepare_upload(upload) if upload else upload


class TagAutocomplete(forms.SelectMultiple):
    """Tags as chips: existing ones are suggested by the admin's autocomplete view, new ones are typed.

    Submits the names in taggit's comma-separated form, so TaggableManager's form field reads them as usual.
    """

    autocomplete_url = reverse_lazy("admin:autocomplete")

    @property
    def media(self):
        # The same files, minified or not, as the admin's own autocomplete widgets load.
        extra = "" if settings.DEBUG else ".min"
        return forms.Media(
            css={"screen": [f"admin/css/vendor/select2/select2{extra}.css", "admin/css/autocomplete.css"]},
            js=[
                f"admin/js/vendor/jquery/jquery{extra}.js",
                f"admin/js/vendor/select2/select2.full{extra}.js",
                "admin/js/vendor/select2/i18n/zh-CN.js",
                "admin/js/jquery.init.js",
                "articles/admin/tag_autocomplete.js",
            ],
        )

    def __init__(self, attrs=None):
        super().__init__({"class": "tag-autocomplete", **(attrs or {})}, choices=())

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"]["data-autocomplete-url"] = str(self.autocomplete_url)
        return context

    def format_value(self, value):
        """Names from the tags of an instance, a list of names, or a submitted comma-separated string."""
        if not value:
            return []
        if isinstance(value, str):
            return parse_tags(value)
        return [getattr(tag, "name", tag) for tag in value]

    def optgroups(self, name, value, attrs=None):
        return [(None, [self.create_option(name, tag, tag, True, n) for n, tag in enumerate(value)], 0)]

    def value_from_datadict(self, data, files, name):
        # Each value is a name (or, without JavaScript, a whole "a, b" string); the trailing comma keeps
        # taggit in comma mode, so a single name with spaces stays one tag.
        return "".join(f"{value}, " for value in data.getlist(name) if value.strip())


class PostAdminForm(forms.ModelForm):
    """The post form, also used to revert a post to a version from its history."""

    class Meta:
        model = Post
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose and order them
        field_classes = {"lead_image": LeadImageField, "original_url": HttpsURLField}
        widgets = {
            "tags": TagAutocomplete,
            # body_preview.js shows the body as it will be stored, as the editor types.
            "body": forms.Textarea(
                attrs={"class": "vLargeTextField", "data-preview-url": reverse_lazy("admin:articles_post_body_preview")}
            ),
        }
        help_texts = {
            "tags": "输入后按回车或逗号添加；已有的标签会自动提示",
            "body": BODY_HELP,
            "published_at": PUBLISHED_AT_HELP,
        }

    def __init__(self, *args, instance=None, **kwargs):
        # Reverting, simple-history's form view passes the version as a historical instance. The version
        # gives only what this form offers; all else (URL, codes, and the status and time of whoever may
        # not publish) stays as the post has it now. Its tags are filled in; its charts come back on save.
        self.restoring = to_historic(instance) if instance is not None else None
        if self.restoring is not None:
            instance = self.restoring.restored_onto(Post.objects.get(pk=instance.pk), offered=self.base_fields)
        super().__init__(*args, instance=instance, **kwargs)
        if self.restoring is not None and not self.is_bound:
            self.initial["tags"] = self.restoring.tag_names

    def clean_body(self):
        return body_from_editor(self.cleaned_data["body"])

    def clean_pinned_until(self):
        # An end already past is a typing slip when set now; one that ran out earlier may stay on the form.
        until = self.cleaned_data["pinned_until"]
        if until and until <= timezone.now() and "pinned_until" in self.changed_data:
            raise forms.ValidationError("置顶截止时间已过，请设一个将来的时间或留空。")
        return until

    def clean(self):
        cleaned = super().clean()
        # A past time the editor left alone is when the form was opened or the draft begun, maybe hours
        # ago: a draft set to 发布 with it goes out when saved. A future time schedules it, as set.
        now = timezone.now()
        if (
            cleaned.get("status") == Post.Status.PUBLISHED
            and "status" in self.changed_data
            and "published_at" not in self.changed_data
            and cleaned.get("published_at") is not None
            and cleaned["published_at"] <= now
        ):
            cleaned["published_at"] = now.replace(microsecond=0)
        return cleaned


class StockChartForm(forms.ModelForm):
    """A chart row: either a typed symbol (`sh600519`, `00020.HK`…) or a market and code."""

    symbol = forms.CharField(
        label="代码或符号",
        required=False,
        help_text=f"如 {EXAMPLES}；填写后自动设置市场和代码",
        widget=forms.TextInput(
            attrs={
                "size": 12,
                "placeholder": "sh600519",
                "autocomplete": "off",
                # symbol_lookup.js fills market and code from it as the editor types.
                "data-lookup-url": reverse_lazy("admin:articles_post_symbol_lookup"),
            }
        ),
    )

    class Meta:
        model = StockChart
        # The image and quote page follow from the symbol and type (StockChart.image_src, quote_href):
        # editors do not type those URLs, and imported ones are kept until the chart changes. The order is
        # set with the rows' move buttons.
        fields = ["position", "symbol", "market", "code", "chart_type"]
        widgets = {"position": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["market"].required = self.fields["code"].required = False
        if self.instance.pk:
            self.initial["symbol"] = self.instance.symbol

    def clean(self):
        """A typed symbol (when changed, or when market and code are not both given) sets market and
        code; the model then checks the code fits the market."""
        cleaned = super().clean()
        # An unset market is "" (not None), and Shenzhen's 0 is falsy: compare, don't test truth.
        market = None if cleaned.get("market") in (None, "") else cleaned["market"]
        if "symbol" in self.changed_data or market is None or not cleaned.get("code", "").strip():
            try:
                parsed = Stock.objects.complete(parse_symbol(cleaned.get("symbol", "")), market)
            except SymbolError as error:
                raise forms.ValidationError({"symbol": str(error)}) from None
            cleaned["market"], cleaned["code"] = parsed.market, parsed.code
        return cleaned


class ImportUploadForm(forms.ModelForm):
    """The admin's upload of an archive of Jekyll posts: a .zip or .tar.gz within IMPORT_UPLOAD_MAX_MB that
    opens as the archive its name says, checked before anything is queued."""

    class Meta:
        model = ImportRun
        fields = ["upload"]
        help_texts = {"upload": "Jekyll 文章（.md）的 .zip 或 .tar.gz 压缩包，与 import_posts 命令读取的相同。"}

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        suffix = archive_suffix(upload.name)
        if not suffix:
            raise forms.ValidationError(f"「{upload.name}」不是 .zip 或 .tar.gz 压缩包。")
        limit = settings.IMPORT_UPLOAD_MAX_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(f"压缩包最大 {limit} MB，这个有 {upload.size / 1024 / 1024:.1f} MB。")
        try:
            readable = zipfile.is_zipfile(upload) if suffix == ".zip" else _opens_as_tar(upload)
        finally:
            upload.seek(0)
        if not readable:
            raise forms.ValidationError(f"无法读取「{upload.name}」：文件损坏，或不是它的名字所说的压缩格式。")
        return upload


def _opens_as_tar(upload):
    try:
        with tarfile.open(fileobj=upload, mode="r:gz") as archive:
            archive.next()
    except (tarfile.TarError, OSError, EOFError):
        return False
    return True
