"""Post history that includes tags and stock charts.

django-simple-history records a post's own fields. Tags (a taggit manager) and charts (their own table)
are kept as a snapshot on each historical post record, so a version shows, diffs and restores them too.

A post's tags and charts are saved after the post itself (the admin saves the form, then tags and
inlines), so the snapshot taken when the record is created is refreshed when they change: on the record
that the same post object's last save created — one edit, one history entry. A tag change with no save
before it gets a record of its own.
"""

import dataclasses
import datetime

from django.db import models
from django.utils import timezone
from simple_history.template_utils import HistoricalRecordContextHelper

CHART_FIELDS = ("position", "market", "code", "chart_type", "image_url", "quote_url")


class PostSnapshotHistory(models.Model):
    """Extra fields of the historical post model (simple-history `bases`)."""

    tag_names = models.JSONField("标签", default=list, blank=True)
    charts = models.JSONField("股票图表", default=list, blank=True)

    class Meta:
        abstract = True

    def snapshot_changes(self, old_history):
        """Changes of the tag and chart snapshots since `old_history` (simple-history's diff_against covers
        the post's own fields only)."""
        return self._get_field_changes_for_diff(old_history, ["tag_names", "charts"], False)

    def restore_related(self, post):
        """Give `post` the tags and charts this version had (recorded on the post's latest record)."""
        post.charts.all().delete()
        for chart in self.charts:
            post.charts.create(**chart)
        post.tags.set(self.tag_names)
        if record := getattr(post, "_latest_history_record", None):
            refresh_snapshot(record, post)


class PostHistoryContextHelper(HistoricalRecordContextHelper):
    """Adds the tag and chart changes to each version's list, labelled with the historical model's verbose
    names (it knows the snapshot fields); charts read `K 线图 116.00020`, times are Beijing time."""

    def __init__(self, model, historical_record, **kwargs):
        super().__init__(type(historical_record), historical_record, **kwargs)

    def context_for_delta_changes(self, delta):
        changes = [*delta.changes, *delta.new_record.snapshot_changes(delta.old_record)]
        return super().context_for_delta_changes(dataclasses.replace(delta, changes=changes))

    def prepare_delta_change_value(self, change, value):
        if change.field == "charts":
            return [chart_label(chart) for chart in value]
        if isinstance(value, datetime.datetime):
            return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S}"
        return super().prepare_delta_change_value(change, value)


def chart_label(chart):
    from .models import StockChart

    return str(StockChart(**chart))


def snapshot(post):
    """The tag names and charts of a saved post, as stored on its historical records."""
    return {
        "tag_names": sorted(post.tags.names()),
        "charts": list(post.charts.order_by("position", "id").values(*CHART_FIELDS)),
    }


def fill_snapshot(sender, instance, history_instance, **kwargs):
    """pre_create_historical_record: a new post version starts with the post's current tags and charts.

    A deletion record keeps those of the last version: by then the rows are gone with the post.
    """
    if history_instance.history_type == "+":
        return
    if history_instance.history_type == "-":
        last = sender.objects.filter(id=instance.pk).order_by("-history_date", "-history_id").first()
        values = {"tag_names": last.tag_names, "charts": last.charts} if last else {}
    else:
        values = snapshot(instance)
    for field, value in values.items():
        setattr(history_instance, field, value)


def remember_record(sender, instance, history_instance, **kwargs):
    """post_create_historical_record: tag and chart changes that follow belong to this record."""
    instance._latest_history_record = history_instance


def record_tag_change(sender, instance, action, **kwargs):
    """m2m_changed on the tag table: update this edit's record, or record the change on its own."""
    if action not in ("post_add", "post_remove", "post_clear") or kwargs.get("reverse"):
        return
    record = getattr(instance, "_latest_history_record", None)
    if record is None:
        instance._change_reason = "修改标签"
        instance.save(update_fields=["updated_at"])
        del instance._change_reason
        return
    refresh_snapshot(record, instance)


def record_chart_change(sender, instance, history_instance, **kwargs):
    """post_create_historical_record for a chart: refresh the record of the post edit it is part of."""
    post = instance.post if instance._meta.get_field("post").is_cached(instance) else None
    record = getattr(post, "_latest_history_record", None)
    if record is not None:
        refresh_snapshot(record, post)


def refresh_snapshot(record, post):
    values = snapshot(post)
    type(record).objects.filter(pk=record.pk).update(**values)
    for field, value in values.items():
        setattr(record, field, value)
