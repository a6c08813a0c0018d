"""Post history that includes tags and stock charts.

django-simple-history records a post's own fields. Its tags (a taggit manager) and stock charts (rows of
their own) are kept as one snapshot on each historical post record, so a version shows, diffs and
restores them too.

The snapshot is taken where a post is saved with its tags and charts: the admin and the status actions
save the post without simple-history's automatic record and call `record_version` once tags and chart
rows are saved as well — one edit, one record. Any other save (the shell, a data fix) gets simple-history's
own record, which `fill_snapshot` completes with the tags and charts the post has then; a deletion record
gets those the post had just before it was deleted.
"""

import dataclasses
import datetime

from django.db import models
from django.utils import timezone
from simple_history.models import ModelChange
from simple_history.template_utils import HistoricalRecordContextHelper

from .symbols import ChartType

CHART_FIELDS = ("position", "market", "code", "chart_type", "image_url", "quote_url")
SNAPSHOT_FIELDS = ("tag_names", "charts")


class PostSnapshotHistory(models.Model):
    """Extra fields of the historical post model (simple-history `bases`)."""

    tag_names = models.JSONField("标签", default=list, blank=True)
    charts = models.JSONField("股票图表", default=list, blank=True)

    class Meta:
        abstract = True

    def snapshot_changes(self, old_record):
        """Changes of the tag and chart snapshots since `old_record`, as simple-history's ModelChange (its
        diff_against covers the post's own fields only)."""
        return [
            ModelChange(field, getattr(old_record, field), getattr(self, field))
            for field in SNAPSHOT_FIELDS
            if getattr(old_record, field) != getattr(self, field)
        ]

    def restored_onto(self, post, offered):
        """The post to save when reverting to this version: its values for the fields in `offered` (what
        the revert form lets this user change), and `post`'s current values for all others — its URL,
        codes and bookkeeping, and its status and time for whoever may not publish."""
        restored = self.instance
        restored._state.adding = False  # saved as a change of the post, not a new one
        # The image's size fields are not in any form: they go with the image.
        follows_image = {"lead_image_width", "lead_image_height"} if "lead_image" in offered else set()
        for field in post._meta.concrete_fields:
            if field.name not in offered and field.name not in follows_image:
                setattr(restored, field.attname, getattr(post, field.attname))
        # Saved, it is compared with the post as stored (Post.save): restoring a live post's text is a
        # visible update like any other edit.
        restored._loaded = getattr(post, "_loaded", {})
        return restored

    def restore_charts(self, post):
        """Give `post` the stock charts this version had."""
        post.charts.all().delete()
        for chart in self.charts:
            post.charts.create(**chart)


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
    """A chart of a snapshot as people read it: `K 线图 116.00020` (as StockChart's str())."""
    return f"{ChartType(chart['chart_type']).label} {chart['market']}.{chart['code']}"


def snapshot(post):
    """The tag names and charts of a saved post, as stored on its historical records."""
    return {
        "tag_names": sorted(post.tags.names()),
        "charts": list(post.charts.order_by("position", "id").values(*CHART_FIELDS)),
    }


def record_version(post, *, created=False):
    """Record the change to `post` just saved (without simple-history's own record), with its tags and
    charts as they are now; who and why come from `_history_user` and `_change_reason` as usual."""
    (record,) = type(post).history.bulk_history_create(
        [post], update=not created, custom_historical_attrs=snapshot(post)
    )
    return record


def keep_snapshot_for_deletion(sender, instance, **kwargs):
    """pre_delete of a post: remember its tags and charts, which are deleted before its history records the
    deletion."""
    instance._snapshot_when_deleted = snapshot(instance)


def fill_snapshot(sender, instance, history_instance, **kwargs):
    """pre_create_historical_record: a record simple-history makes on its own (a save outside the admin,
    a deletion) gets the tags and charts the post has, or had when it was deleted."""
    if history_instance.history_type == "-":
        values = getattr(instance, "_snapshot_when_deleted", {})
    else:
        values = snapshot(instance)
    for field, value in values.items():
        setattr(history_instance, field, value)
