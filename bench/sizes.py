"""Database and index sizes of a loaded finews database, per post, extrapolated to larger sites.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finews_bench_sizes .venv/bin/python bench/sizes.py --load 200000
    .venv/bin/python bench/sizes.py --database-url postgres://…/finews_bench_web --scale 1000000 --scale 10000000

With --load N it first creates and migrates the database if needed and loads N generated posts with
bench/seed_db.py (--reset). It then VACUUMs, prints every table's heap, TOAST and index sizes and each
index's size, and the whole database per post and scaled linearly to each --scale (default 1M and 10M
posts): the content grows with the post count, the reference tables (categories, stocks, tags) barely.
docs/scaling.md quotes its output.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
MB = 1024 * 1024

TABLES_SQL = """
SELECT c.relname,
       pg_relation_size(c.oid) AS heap,
       coalesce(pg_total_relation_size(c.reltoastrelid), 0) AS toast,
       pg_indexes_size(c.oid) AS indexes,
       c.reltuples::bigint AS rows
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
ORDER BY pg_total_relation_size(c.oid) DESC
"""
INDEXES_SQL = """
SELECT t.relname, i.relname, pg_relation_size(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND t.relname LIKE 'articles_%%'
ORDER BY pg_relation_size(i.oid) DESC
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="default: $DATABASE_URL")
    parser.add_argument("--load", type=int, metavar="N", help="first load N generated posts (replaces the posts)")
    parser.add_argument("--scale", type=int, action="append", help="post counts to extrapolate to (1M and 10M)")
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("a PostgreSQL --database-url (or DATABASE_URL) is required")
    args.scale = args.scale or [1_000_000, 10_000_000]
    return args


def load(url, count):
    server, _, name = url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "1"}
    manage = [sys.executable, "manage.py", "migrate", "--no-input", "-v0"]
    subprocess.run(manage, cwd=ROOT, env=env, check=True)
    seed = [sys.executable, "bench/seed_db.py", "--count", str(count), "--reset", "--database-url", url]
    subprocess.run(seed, cwd=ROOT, env=env, check=True)


def main():
    args = parse_args()
    if args.load:
        load(args.database_url, args.load)
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        posts = conn.execute("SELECT count(*) FROM articles_post").fetchone()[0]
        tables = conn.execute(TABLES_SQL).fetchall()
        indexes = conn.execute(INDEXES_SQL).fetchall()
        database = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    if not posts:
        sys.exit("sizes: the database holds no posts (use --load N)")

    print(f"{posts:,} posts; database {database / MB:,.1f} MB, {database / posts:,.0f} bytes per post\n")
    print(f"| table | rows | heap MB | TOAST MB | indexes MB | per post, bytes |\n|{'---|' * 6}")
    for name, heap, toast, index_size, rows in tables:
        if heap + toast + index_size >= MB // 10:
            total = heap + toast + index_size
            print(
                f"| {name} | {rows:,} | {heap / MB:,.1f} | {toast / MB:,.1f} | {index_size / MB:,.1f} "
                f"| {total / posts:,.0f} |"
            )
    print(f"\n| index | table | MB | per post, bytes |\n|{'---|' * 4}")
    for table, name, size in indexes:
        if size >= MB // 10:
            print(f"| {name} | {table} | {size / MB:,.1f} | {size / posts:,.1f} |")
    heap_total = sum(heap + toast for _n, heap, toast, _i, _r in tables)
    index_total = sum(index_size for *_x, index_size, _r in tables)
    print(f"\n| posts | tables GB | indexes GB | database GB |\n|{'---|' * 4}")
    for scale in [posts, *args.scale]:
        factor = scale / posts
        print(
            f"| {scale:,} | {heap_total * factor / 1024 / MB:,.1f} | {index_total * factor / 1024 / MB:,.1f} "
            f"| {database * factor / 1024 / MB:,.1f} |"
        )


if __name__ == "__main__":
    main()
