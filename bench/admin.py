"""Time the post changelist, its filters, its search and the admin autocompletes on a million posts.

    make bench-admin                       # or: .venv/bin/python bench/admin.py --repeat 7

Loads --posts generated posts (bench/seed_db.py) into a dedicated database once (finews_bench_admin,
or --database-url / BENCH_ADMIN_DATABASE_URL), then requests each page through Django's test client
as a member of the Editors group, so permissions, the paginator and the templates all count. Prints
the median and slowest time of each page and marks those over the 500 ms target.
"""

import argparse
import datetime
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from web import prepare_database  # noqa: E402 - the web benchmark's database loader, shared

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/finews_bench_admin"
TARGET_MS = 500


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_ADMIN_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts to load (default 1,000,000)")
    parser.add_argument("--reseed", action="store_true", help="empty the database's posts and load them again")
    parser.add_argument("--repeat", type=int, default=7, help="timed requests per page after a warm-up (default 7)")
    return parser.parse_args()


def pages():
    """(label, url, query) for each page measured, with filter values taken from the data."""
    from django.db.models import Count
    from django.urls import reverse
    from django.utils import timezone

    from articles.models import Category, Post, Source

    changelist = reverse("admin:articles_post_changelist")
    autocomplete = reverse("admin:autocomplete")
    by_size = list(Category.objects.annotate(n=Count("posts")).order_by("-n").values_list("pk", flat=True))
    largest, smallest = by_size[0], by_size[-1]
    source = Source.objects.annotate(n=Count("posts")).order_by("-n").first().pk
    newest_day = timezone.localdate(Post.objects.published().latest().published_at)
    day_after = newest_day + datetime.timedelta(days=1)
    info_code = Post.objects.exclude(info_code=None).order_by("-id").values_list("info_code", flat=True).first()

    def since(day):
        return {
            "published_at__gte": f"{day:%Y-%m-%d} 00:00:00+08:00",
            "published_at__lt": f"{day_after:%Y-%m-%d} 00:00:00+08:00",
        }

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
        ("published on the newest day", changelist, since(newest_day)),
        ("published in the newest week", changelist, since(newest_day - datetime.timedelta(days=6))),
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
    ]


def editor_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    from articles.roles import EDITORS, sync_role_groups

    groups = sync_role_groups()
    user, _ = get_user_model().objects.get_or_create(username="bench-editor", defaults={"is_staff": True})
    user.groups.add(groups[EDITORS])
    client = Client()
    client.force_login(user)
    return client


def measure(args):
    from articles.models import Post

    print(f"{Post.objects.count():,} posts, {args.repeat} timed requests per page, median / slowest in ms")
    client, measured, slow = editor_client(), pages(), []
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
        print(f"{label:34} {median:8.1f} {max(timings):8.1f}{flag}")
        if flag:
            slow.append(label)
    print(f"{len(slow)} of {len(measured)} pages over {TARGET_MS} ms" + (f": {', '.join(slow)}" if slow else ""))


def main():
    args = parse_args()
    env = {
        "DATABASE_URL": args.database_url,
        "DJANGO_SETTINGS_MODULE": "finews.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "benchmark-only-secret-key"),
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "testserver",
        "SITE_URL": "http://testserver",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    prepare_database(args, {**os.environ})

    import django
    from django.conf import settings

    # Whitenoise's note about an uncollected STATIC_ROOT, as in the test settings.
    warnings.filterwarnings("ignore", "No directory at")
    from django.test.utils import override_settings

    django.setup()
    # Production settings, less the collected-static manifest that a checkout does not have.
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": static}):
        measure(args)


if __name__ == "__main__":
    main()
