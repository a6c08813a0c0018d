"""Admin forms: the post form (sanitised body, checked lead image, tag chips), the stock-chart row and the
upload of an archive to import."""

import tarfile
import zipfile

from django import forms
from django.conf import settings
from django.db import models
from django.urls import reverse_lazy
from simple_history.models import to_historic

from . import images
from .html import sanitize_html
from .importer.uploads import archive_suffix
from .models import ImportRun, Post, Stock, StockChart
from .symbols import EXAMPLES, SymbolError, parse_symbol
from .tagging import parse_tags


def https_url_formfield(db_field, **kwargs):
    """Form fields of a model form, where a scheme-less URL typed by an editor is https."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


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
    """The post change form. When reverting to a version from the history, its tags are filled in too."""

    class Meta:
        model = Post
        fields = "__all__"  # noqa: DJ007 - the admin's fieldsets choose and order them
        field_classes = {"lead_image": LeadImageField}
        formfield_callback = https_url_formfield
        widgets = {"tags": TagAutocomplete}
        help_texts = {"tags": "输入后按回车或逗号添加；已有的标签会自动提示"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.restoring = to_historic(self.instance)
        if self.restoring is not None and not self.is_bound:
            self.initial["tags"] = self.restoring.tag_names

    def clean_body(self):
        return sanitize_html(self.cleaned_data["body"])


class StockChartForm(forms.ModelForm):
    """A chart row: either a typed symbol (`sh600519`, `00020.HK`…) or a market and code."""

    symbol = forms.CharField(
        label="代码或符号",
        required=False,
        help_text=f"如 {EXAMPLES}；填写后自动设置市场和代码",
        widget=forms.TextInput(attrs={"size": 12, "placeholder": "sh600519"}),
    )

    class Meta:
        model = StockChart
        fields = ["position", "symbol", "market", "code", "chart_type", "image_url", "quote_url"]
        formfield_callback = https_url_formfield

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
