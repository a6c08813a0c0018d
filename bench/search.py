"""Benchmark Chinese full-text search as readers get it: the results page over HTTP, one request at a time.

    make bench-search                                    # 1,000,000 posts
    BENCH_ARGS="--posts 20000" make bench-search         # a quick run
    .venv/bin/python bench/search.py --posts 20000 --database-url postgres://postgres@127.0.0.1:5432/finews_bench_search

Loads --posts generated posts (bench/seed_db.py: realistic Chinese bodies with codes, names, rare terms)
into a dedicated database once, serves the site with gunicorn (production settings, DEBUG off), and
requests `/search/?q=…` for the issue's eleven query classes, several queries each, --rounds times,
printing p50 and p95 per class. Then the search index's size, the time to build it (REINDEX), and
EXPLAIN ANALYZE of a common term's candidates both ways: walking the date index, and a bitmap of the
GIN index (what the planner picks, and the other plan forced).
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]

from web import add_site_arguments, fetch, log, prepare_site, site_environment, wait_until_up  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/finews_bench_search"
GOAL_MS = 50


def query_classes(largest_category, first_day, last_day):
    """The issue's eleven classes: {name: [query-string dicts]}, from the generator's own terms."""
    from articles import generator

    two_rare = [term for term in generator.RARE_TERMS if len(term) == 2]
    return {
        "1 character": [{"q": q} for q in ("涨", "股", "业", "的")],
        "2 characters, common": [{"q": q} for q in generator.COMMON_TERMS],
        "2 characters, rare": [{"q": q} for q in two_rare],
        "4 characters": [{"q": q} for q in ("营业收入", "战略合作", "人工智能", "集中竞价")],
        "phrase": [{"q": q} for q in ('"拟以自有资金回购"', '"同比增长"', '"核心产品市场占有率"')],
        "mixed Chinese and ASCII": [{"q": q} for q in generator.MIXED_TERMS],
        "stock code": [{"q": code} for _, code, _ in generator.KNOWN_STOCKS[:4]],
        "stock name": [{"q": name} for _, _, name in generator.KNOWN_STOCKS[:4]],
        "two words": [{"q": q} for q in ("公司 回购", "芯片 减持", "市场 储能")],
        "no hits": [{"q": q} for q in ("不存在的词语", "量子纠缠态", "锑矿 氦气")],
        "over 30% with a filter": [
            {"q": "公司", "category": largest_category},
            {"q": "市场", "from": first_day, "to": last_day},
            {"q": "公司", "sort": "new", "category": largest_category},
        ],
    }


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_site_arguments(parser, port=8205, database_url=DEFAULT_DATABASE_URL)
    parser.add_argument("--rounds", type=int, default=10, help="requests per query (default 10)")
    parser.add_argument("--skip-reindex", action="store_true", help="do not time building the index")
    return parser.parse_args()


def timed(url):
    started = time.perf_counter()
    status, body = fetch(url)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        sys.exit(f"bench: {url} answered {status}")
    return elapsed, body


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def index_figures(database_url, rebuild):
    """(index MB, column MB, posts, seconds to build the index or None)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        index = conn.execute("SELECT pg_relation_size('post_search_document')").fetchone()[0]
        column, posts = conn.execute(
            "SELECT sum(pg_column_size(search_document)), count(*) FROM articles_post"
        ).fetchone()
        seconds = None
        if rebuild:
            conn.execute("SET maintenance_work_mem = '256MB'")
            started = time.perf_counter()
            conn.execute("REINDEX INDEX post_search_document")
            seconds = time.perf_counter() - started
    return index / 2**20, (column or 0) / 2**20, posts, seconds


def explain_both_ways(database_url, tsquery):
    """EXPLAIN ANALYZE of the newest 1,001 published posts matching `tsquery`: as planned, and with the
    other shape forced (no plain index scan: the GIN bitmap; no bitmap: the date index)."""
    sql = (
        "EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF, TIMING OFF) SELECT id FROM articles_post "
        "WHERE status = 'published' AND published_at <= now() AND search_document @@ %s::tsquery "
        "ORDER BY published_at DESC, id DESC LIMIT 1001"
    )
    plans = {}
    with psycopg.connect(database_url) as conn:
        for label, setting in [
            ("as planned", None),
            ("bitmap forced", "enable_indexscan"),
            ("date index forced", "enable_bitmapscan"),
        ]:
            with conn.transaction():
                if setting:
                    conn.execute(f"SET LOCAL {setting} = off")
                    conn.execute("SET LOCAL enable_seqscan = off")
                rows = [row[0] for row in conn.execute(sql, [tsquery])]
            plans[label] = rows
    return plans


def main():
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="finews-bench-search-"))
    # The web benchmark's environment: production settings, the page cache off, so that every request
    # searches.
    env = site_environment(args, tmp)
    prepare_site(args, env)

    import django

    django.setup()
    from django.db.models import Count, Max, Min
    from django.utils import timezone

    from articles.models import Category, Post
    from articles.search_text import parse_query

    largest = Category.objects.annotate(size=Count("posts")).order_by("-size").first().slug
    # The middle half of the posts' dates: a date filter that keeps many posts, whatever the size.
    span = Post.objects.published().aggregate(first=Min("published_at"), last=Max("published_at"))
    quarter = (span["last"] - span["first"]) / 4
    first_day, last_day = [timezone.localdate(span["first"] + quarter * n).isoformat() for n in (1, 3)]
    classes = query_classes(largest, first_day, last_day)
    base = f"http://127.0.0.1:{args.port}"
    gunicorn = [sys.executable, "-m", "gunicorn", "finews.wsgi", "--workers", "1", "--log-level", "warning"]
    server = subprocess.Popen([*gunicorn, "--bind", f"127.0.0.1:{args.port}"], cwd=ROOT, env=env)
    timings = {name: [] for name in classes}
    try:
        wait_until_up(f"{base}/robots.txt", server)
        for name, queries in classes.items():
            for params in queries:
                url = f"{base}/search/?{urlencode(params)}"
                _, body = timed(url)  # warm the worker and the database's cache
                found = body.decode().split('<p role="status">', 1)[-1].split("<", 1)[0].strip()
                log(f"{name}: {params} → {found}")
        for _ in range(args.rounds):
            for name, queries in classes.items():
                for params in queries:
                    timings[name].append(timed(f"{base}/search/?{urlencode(params)}")[0])
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp)

    index_mb, column_mb, posts, build = index_figures(args.database_url, not args.skip_reindex)
    print(f"\nfinews search benchmark: gunicorn -w1, one request at a time, {posts:,} posts, {args.rounds} rounds\n")
    print(f"| {'query class':<24} | {'p50 ms':>7} | {'p95 ms':>7} |")
    print(f"|{'-' * 26}|{'-' * 8}:|{'-' * 8}:|")
    for name, values in timings.items():
        print(f"| {name:<24} | {statistics.median(values):>7.1f} | {percentile(values, 0.95):>7.1f} |")
    worst = max(timings, key=lambda name: percentile(timings[name], 0.95))
    print(f"\nworst p95: {worst} at {percentile(timings[worst], 0.95):.1f} ms (goal < {GOAL_MS} ms, minimum < 100 ms)")
    print(f"search index (GIN): {index_mb:,.1f} MB; search documents: {column_mb:,.1f} MB", end="")
    print(f"; index build (REINDEX): {build:.1f} s" if build is not None else "")
    for label, plan in explain_both_ways(args.database_url, parse_query("公司").tsquery()).items():
        print(f"\nEXPLAIN ANALYZE, a term in most posts (公司), {label}:\n  " + "\n  ".join(plan))


if __name__ == "__main__":
    main()
