"""Time the post changelist, its filters, its search and the admin autocompletes on a large database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finews_bench_admin python bench/admin.py --repeat 7

Seed the database first with bench/seed_db.py (a million posts). Requests go through Django's test
client as a member of the Editors group, so permissions, the paginator and the templates all count.
Prints the median and slowest time of each page and marks those over the 500 ms target.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finews.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from articles.models import Category, Post, Source  # noqa: E402
from articles.roles import EDITORS, sync_role_groups  # noqa: E402

TARGET_MS = 500


def pages():
    """(label, url, query) for each page measured, with filter values taken from the data."""
    changelist = reverse("admin:articles_post_changelist")
    autocomplete = reverse("admin:autocomplete")
    by_size = list(Category.objects.annotate(n=Count("posts")).order_by("-n").values_list("pk", "n"))
    largest, smallest = by_size[0][0], by_size[-1][0]
    source = Source.objects.annotate(n=Count("posts")).order_by("-n").first().pk
    newest_day = timezone.localdate(Post.objects.published().latest().published_at)
    info_code = Post.objects.exclude(info_code=None).order_by("-id").values_list("info_code", flat=True).first()

    def complete(field, term):
        return {"app_label": "articles", "model_name": "post", "field_name": field, "term": term}

    return [
        ("changelist", changelist, {}),
        ("state = draft", changelist, {"state": "draft"}),
        ("state = scheduled", changelist, {"state": "scheduled"}),
        ("state = live", changelist, {"state": "live"}),
        ("largest category", changelist, {"category__id__exact": largest}),
        ("smallest category", changelist, {"category__id__exact": smallest}),
        ("source", changelist, {"source__id__exact": source}),
        ("category + state = live", changelist, {"category__id__exact": smallest, "state": "live"}),
        ("published in newest day", changelist, {
            "published_at__gte": f"{newest_day:%Y-%m-%d} 00:00:00+08:00",
            "published_at__lt": f"{newest_day + datetime.timedelta(days=1):%Y-%m-%d} 00:00:00+08:00",
        }),
        ("published in newest week", changelist, {
            "published_at__gte": f"{newest_day - datetime.timedelta(days=7):%Y-%m-%d} 00:00:00+08:00",
            "published_at__lt": f"{newest_day + datetime.timedelta(days=1):%Y-%m-%d} 00:00:00+08:00",
        }),
        ("search: 2 characters", changelist, {"q": "央行"}),
        ("search: 4 characters", changelist, {"q": "政策利好"}),
        ("search: rare phrase", changelist, {"q": "不存在的标题词语"}),
        ("search: info code", changelist, {"q": info_code}),
        ("autocomplete category", autocomplete, complete("category", "")),
        ("autocomplete category 证券", autocomplete, complete("category", "证券")),
        ("autocomplete source 报", autocomplete, complete("source", "报")),
        ("autocomplete tags", autocomplete, complete("tags", "")),
        ("autocomplete tags 新能源", autocomplete, complete("tags", "新能源")),
        ("autocomplete stocks 600", autocomplete, complete("stocks", "600")),
    ]  # fmt: skip


def editor_client():
    groups = sync_role_groups()
    user, _ = get_user_model().objects.get_or_create(username="bench-editor", defaults={"is_staff": True})
    user.groups.add(groups[EDITORS])
    client = Client()
    client.force_login(user)
    return client


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per page (after one warm-up)")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        sys.exit("bench/admin.py measures PostgreSQL: set DATABASE_URL to the seeded database.")
    total = Post.objects.count()
    print(f"{total:,} posts, {args.repeat} timed requests per page, median / slowest in ms")
    client = editor_client()
    measured, slow = pages(), []
    for label, url, query in measured:
        client.get(url, query)
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            response = client.get(url, query)
            timings.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                sys.exit(f"{label}: HTTP {response.status_code} for {url} {query}")
        median = statistics.median(timings)
        flag = "  over target" if median > TARGET_MS else ""
        print(f"{label:32} {median:8.1f} {max(timings):8.1f}{flag}")
        if flag:
            slow.append(label)
    print(f"{len(slow)} of {len(measured)} pages over {TARGET_MS} ms" + (f": {', '.join(slow)}" if slow else ""))


if __name__ == "__main__":
    # Production settings minus the collected-static manifest, which a checkout does not have.
    with override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ):
        main()
