"""CPU time of the app per reader request, hot (fragments cached) and cold (cache emptied before each).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finews_bench_sizes .venv/bin/python bench/cpu.py --requests 200

Runs in one process through Django's test client (no HTTP server, so gunicorn's own parsing, about
0.1 ms, is not counted) against a database loaded by bench/sizes.py --load or bench/seed_db.py, with
production settings (DEBUG off) and the local-memory cache. For each page it prints the app's CPU
milliseconds per request (time.process_time) and the wall milliseconds, whose difference is mostly
waiting for PostgreSQL. docs/scaling.md uses these figures for its back-of-envelope.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page and mode (200)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("cpu: set DATABASE_URL to a loaded PostgreSQL database")
    os.environ.update(DEBUG="0", SECRET_KEY="bench-cpu", SITE_URL="http://127.0.0.1:8000", ALLOWED_HOSTS="testserver")
    os.environ.update(SECURE_SSL_REDIRECT="0", LOG_LEVEL="ERROR")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finews.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from articles.models import Category, Post

    # Static files are not collected here: their plain names.
    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    biggest = Category.objects.order_by("-pk").first()
    article = Post.objects.published().order_by("-published_at").first()
    pages = {"home": "/", "article": article.get_absolute_url(), "category": biggest.get_absolute_url()}
    client = Client()
    print(f"| page | hot: CPU ms | hot: wall ms | cold: CPU ms | cold: wall ms |\n|{'---|' * 5}")
    for name, url in pages.items():
        row = []
        for cold in (False, True):
            client.get(url)
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(args.requests):
                if cold:
                    cache.clear()
                response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            row += [(time.process_time() - cpu) / args.requests, (time.perf_counter() - wall) / args.requests]
        print(f"| {name} | " + " | ".join(f"{seconds * 1000:.2f}" for seconds in row) + " |")


if __name__ == "__main__":
    main()
