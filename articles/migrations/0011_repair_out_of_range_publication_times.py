"""Posts stored with a publication time outside 1990–2100 (year 10000 from `9999-12-31 23:59:59 -1200`,
1 BC from Go's zero time) become drafts at the nearest time in range, before 0011 forbids such times.

Nothing is lost: each repaired post gets a history record whose reason gives the original time, and
history records holding such a time get the same repair and note. Python cannot read these values
(psycopg fails on year 10000), so they are only compared and turned into text inside the database.
"""

import datetime

from django.db import migrations, models
from django.db.models.functions import Cast
from django.utils import timezone

# As articles.validators has them today; a migration keeps its own copy.
EARLIEST = datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2101, 1, 1, tzinfo=datetime.UTC)
BEIJING = datetime.timezone(datetime.timedelta(hours=8), "Asia/Shanghai")
# The last second of 2100 in Beijing time, which editors read.
LAST_SECOND = datetime.datetime(2100, 12, 31, 23, 59, 59, tzinfo=BEIJING)
REASON_LENGTH = 100  # simple-history's history_change_reason


def out_of_range(queryset, *fields):
    """`(the stored time as text, the time in range to put instead, *fields)` of rows out of range."""
    rows = (
        queryset.filter(models.Q(published_at__lt=EARLIEST) | models.Q(published_at__gte=LATEST))
        .annotate(
            original=Cast("published_at", models.CharField()),
            too_early=models.ExpressionWrapper(models.Q(published_at__lt=EARLIEST), models.BooleanField()),
        )
        .values_list("original", "too_early", *fields)
    )
    return [(original, EARLIEST if too_early else LAST_SECOND, *rest) for original, too_early, *rest in rows]


def note(original, clamped):
    shown = timezone.localtime(clamped, BEIJING)
    return f"发布时间 {original} 超出 1990–2100 年：已改为草稿，暂设为北京时间 {shown:%Y-%m-%d %H:%M}，请核对"


def repair(apps, schema_editor):
    Post = apps.get_model("articles", "Post")
    HistoricalPost = apps.get_model("articles", "HistoricalPost")
    db = schema_editor.connection.alias
    tracked = [field.attname for field in HistoricalPost._meta.concrete_fields if not field.name.startswith("history_")]
    tracked = [name for name in tracked if name not in ("tag_names", "charts")]

    for original, clamped, pk, reason in out_of_range(
        HistoricalPost.objects.using(db), "pk", "history_change_reason"
    ):
        reason = f"（原发布时间 {original}）{reason or ''}"[:REASON_LENGTH]
        HistoricalPost.objects.using(db).filter(pk=pk).update(published_at=clamped, history_change_reason=reason)
    for original, clamped, pk in out_of_range(Post.objects.using(db), "pk"):
        Post.objects.using(db).filter(pk=pk).update(status="draft", published_at=clamped)
        post = Post.objects.using(db).get(pk=pk)
        last = HistoricalPost.objects.using(db).filter(id=pk).order_by("-history_date", "-history_id")
        snapshot = last.values("tag_names", "charts").first() or {"tag_names": [], "charts": []}
        HistoricalPost.objects.using(db).create(
            **{name: getattr(post, name) for name in tracked},
            **snapshot,
            history_date=timezone.now(),
            history_type="~",
            history_change_reason=note(original, clamped)[:REASON_LENGTH],
        )


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0010_status_words_and_info_code_label"),
    ]

    operations = [
        migrations.RunPython(repair, migrations.RunPython.noop),
    ]
