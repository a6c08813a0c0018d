"""Load generated news into a migrated finews database through the importer's write path, for benchmarks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finews_bench python bench/seed_db.py --count 1000000 --reset

The posts come from articles.generator, deterministic for --seed (post n is always the same post, so a
database can be topped up): several paragraphs of market news naming companies and codes, inline stock
links, stock charts on about 40% of posts, categories with the old site's skew, a few drafts and
scheduled posts, and the search terms the generator lists. They are written as an import writes them
(articles.importer.writing.write_parsed: COPY, posts with their history records, tags, stocks and
charts), without files to read or parse, in batches of --batch-size, one transaction each, with the
tables' indexes as they are. A worker process generates the next batches while this one writes.
"""

import argparse
import itertools
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finews.settings")
# The loader serves nothing; production settings only insist on a key and the site's address.
os.environ.setdefault("SECRET_KEY", "benchmark-loader-only")
os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="how many posts to add (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0, help="the generator's series (default 0)")
    parser.add_argument(
        "--start", type=int, help="the first post of the series to add (default: as many as the database holds)"
    )
    parser.add_argument("--reset", action="store_true", help="empty the content tables first")
    parser.add_argument("--batch-size", type=int, default=2000, help="posts per transaction (default 2000)")
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        parser.error("a PostgreSQL DATABASE_URL is required (migrated with `manage.py migrate`)")
    return args


def generate(count, seed, start):
    """One batch of parsed posts (run in the worker process)."""
    from articles import generator

    return list(generator.parsed_posts(count, seed=seed, start=start))


def reset():
    """Empty the tables the loader fills, ids restarting at 1."""
    from django.db import connection
    from taggit.models import Tag

    from articles.models import Category, Post, Source, Stock

    tables = [model._meta.db_table for model in (Post, Post.history.model, Category, Source, Stock, Tag)]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def add_stocks():
    """The generator's stocks and boards with their names, so stock pages and searches by name find them."""
    from articles import generator
    from articles.models import Stock

    stocks = [Stock(market=market, code=code, name=name) for market, code, name in generator.STOCKS + generator.BOARDS]
    Stock.objects.bulk_create(stocks, ignore_conflicts=True)


def load(args):
    from django.db import connection

    from articles.importer import Status
    from articles.importer.writing import Lookups, write_parsed
    from articles.models import Post, StockChart, TaggedPost

    if args.reset:
        reset()
    add_stocks()
    start = Post.objects.count() if args.start is None else args.start
    batches = [
        (min(args.batch_size, start + args.count - first), first)
        for first in range(start, start + args.count, args.batch_size)
    ]
    lookups = Lookups()
    started = time.monotonic()
    done = 0
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn, initializer=_setup) as pool:
        # Two batches ahead at most, which bounds memory.
        pending = iter(batches)
        waiting = [pool.submit(generate, size, args.seed, first) for size, first in itertools.islice(pending, 2)]
        while waiting:
            posts = waiting.pop(0).result()
            waiting += [pool.submit(generate, size, args.seed, first) for size, first in itertools.islice(pending, 1)]
            outcomes = write_parsed(posts, lookups)
            if failed := [outcome for outcome in outcomes if outcome.status == Status.FAILED]:
                sys.exit(f"seed_db: {len(failed)} posts failed, e.g. {failed[0].key}: {failed[0].reason}")
            done += len(posts)
            print(f"{done:>10,} posts  {time.monotonic() - started:7.1f} s", file=sys.stderr, flush=True)
    with connection.cursor() as cursor:
        for model in (Post, Post.history.model, StockChart, TaggedPost, Post.stocks.through):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    elapsed = time.monotonic() - started
    print(
        f"Loaded {args.count:,} posts (from post {start:,} of series {args.seed}) in {elapsed:.0f} s "
        f"({args.count / elapsed:,.0f} posts/s)."
    )


def _setup():
    import django

    django.setup()


def main():
    args = parse_args()
    _setup()
    load(args)


if __name__ == "__main__":
    main()
