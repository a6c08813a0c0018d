"""The POST data of the admin's post form, as a browser would send it."""

from django.utils import timezone


def split_time(name, moment):
    """A date-time field as the admin's two inputs send it (empty for none)."""
    if moment is None:
        return {f"{name}_0": "", f"{name}_1": ""}
    local = timezone.localtime(moment)
    return {f"{name}_0": local.strftime("%Y-%m-%d"), f"{name}_1": local.strftime("%H:%M:%S")}


def post_form_data(post=None, *, category=None, charts=(), **fields):
    """Form data for adding a post (`category` required) or changing `post`; `fields` override values.

    `charts` are dicts of chart-row fields appended as new rows; a changed post's existing charts are
    sent unchanged (add `DELETE` to one by passing `delete_charts=[...]` ids in `fields`).
    """
    delete_charts = set(fields.pop("delete_charts", ()))
    published_at = timezone.localtime(fields.pop("published_at", post.published_at if post else timezone.now()))
    data = {
        "title": post.title if post else "新文章",
        "slug": post.slug if post else "",
        "category": post.category_id if post else category.pk,
        "source": (post.source_id or "") if post else "",
        "tags": ", ".join(sorted(post.tags.names())) if post else "",
        "summary": post.summary if post else "",
        "body": post.body if post else "<p>正文</p>",
        "status": post.status if post else "draft",
        "published_at_0": published_at.strftime("%Y-%m-%d"),
        "published_at_1": published_at.strftime("%H:%M:%S"),
        "info_code": (post.info_code or "") if post else "",
        "key": (post.key or "") if post else "",
        "original_url": post.original_url if post else "",
        "correction": post.correction if post else "",
        "pinned_to": post.pinned_to if post else "",
        "pin_order": str(post.pin_order) if post else "0",
        **split_time("pinned_until", post.pinned_until if post else None),
        **split_time("breaking_until", post.breaking_until if post else None),
    }
    data.update(fields)
    existing = list(post.charts.all()) if post else []
    rows = [
        {
            "id": chart.pk,
            "post": post.pk,
            "position": chart.position,
            "market": chart.market,
            "code": chart.code,
            "chart_type": chart.chart_type,
            "symbol": chart.symbol,
            **({"DELETE": "on"} if chart.pk in delete_charts else {}),
        }
        for chart in existing
    ]
    rows += [{"position": n, "symbol": "", "chart_type": "k", **row} for n, row in enumerate(charts, len(existing))]
    data.update(
        {
            "charts-TOTAL_FORMS": str(len(rows)),
            "charts-INITIAL_FORMS": str(len(existing)),
            "charts-MIN_NUM_FORMS": "0",
            "charts-MAX_NUM_FORMS": "1000",
        }
    )
    for n, row in enumerate(rows):
        data.update({f"charts-{n}-{name}": value for name, value in row.items()})
    return data
