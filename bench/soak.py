"""Soak the reader site at saturation for a long run and check that nothing drifts.

    make bench-soak                                            # 10 minutes, 1,000,000 posts
    make bench-soak BENCH_ARGS="--posts 20000 --duration 60"   # a minute on a small database

A small run wants a database of its own (BENCH_DATABASE_URL, or --database-url): the default is
bench/web.py's, which holds the million posts.

Serves the site as bench/web.py does (the same database loader, gunicorn with 2 workers, production
settings, DEBUG off) and drives it with wrk at --connections (16: more than the workers can answer
at once) for --duration seconds, each request a page drawn at random from a mix a reader population
makes: mostly articles, a sample spread over the whole database so most are cold (not in any cache),
then category, source, tag and stock listings (first and deep pages), the home page, the latest
news, feeds, searches, sitemaps and the old site's share links (301s).

Every --sample seconds it records each worker's resident memory and the database's connections by
state (pg_stat_activity). It prints the samples, then: the responses that were not 2xx or 3xx (must
be 0), socket errors and timeouts, each worker's memory at the start and the end, and the range of
connection counts. The exit status is 1 when any response failed.
"""

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web import ROOT, add_site_arguments, fetch, log, prepare_site, site_environment, wait_until_up

# How many URLs of each kind the mix holds, out of about 10,000: its shares of the requests.
MIX = {
    "article": 6000,
    "category": 1000,
    "category deep page": 600,
    "source, tag or stock": 700,
    "home": 400,
    "latest": 300,
    "feed": 300,
    "search": 300,
    "share link (301)": 300,
    "sitemap": 100,
}
# Pick a URL from the mix for each request; wrk prints what it saw, as JSON, when it is done.
WRK_SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end

request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "seconds": %%f, "non_2xx_3xx": %%d, "connect": %%d, "read": %%d, "write": %%d, ' ..
    '"timeout": %%d, "p50_ms": %%f, "p99_ms": %%f, "max_ms": %%f}\\n',
    summary.requests, summary.duration / 1e6, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_site_arguments(parser, port=8203)
    parser.add_argument("--duration", type=int, default=600, help="seconds of load (default 600)")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--sample", type=int, default=30, help="seconds between samples (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="the random mix's seed (default 0)")
    return parser.parse_args()


def mix_paths(seed):
    """The URL paths of the mix (MIX), chosen with the site's own rules: published posts only, its
    cursors and URLs. Articles are a random sample of the whole table, so most are cold."""
    import django

    django.setup()
    from django.db import connections

    from articles.models import Category, Post, Source, Stock
    from articles.pagination import Cursor
    from articles.reading import site_url

    rng = random.Random(seed)
    published = Post.objects.published()
    highest = Post.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def sample_posts(count, **filters):
        # Random ids over the whole range: an index lookup each, wherever they fall in the table.
        ids = rng.sample(range(1, highest + 1), min(highest, count * 2))
        return list(published.filter(pk__in=ids, **filters).only("slug", "published_at", "info_code")[:count])

    categories = list(Category.objects.all())
    sources = list(Source.objects.all()[:200])
    stocks = list(Stock.objects.all()[:500])
    tags = list(Post.tags.most_common()[:200])
    posts = sample_posts(MIX["article"])
    cursors = sample_posts(MIX["category deep page"])
    titles = [post.title for post in published.only("title").filter(pk__in=[p.pk for p in posts[:300]])]
    shared = [post for post in posts if post.info_code]
    kinds = {
        "article": [post.get_absolute_url() for post in posts],
        "category": [category.get_absolute_url() for category in categories],
        "category deep page": [
            f"{post.category.get_absolute_url()}?before={Cursor.of(post)}"
            for post in published.filter(pk__in=[c.pk for c in cursors]).select_related("category")
        ],
        "source, tag or stock": [source.get_absolute_url() for source in sources]
        + [site_url("articles:tag_detail", tag.slug) for tag in tags if tag.slug]
        + [stock.get_absolute_url() for stock in stocks],
        "home": ["/"],
        "latest": ["/news/"],
        "feed": ["/rss.xml", "/atom.xml"] + [f"{c.get_absolute_url()}rss.xml" for c in categories],
        "search": [f"/search/?{urlencode({'q': title[: rng.randint(2, 4)]})}" for title in titles],
        "share link (301)": [post.share_url() for post in shared],
        "sitemap": ["/sitemap.xml", "/sitemap-news.xml"],
    }
    paths = []
    for kind, count in MIX.items():
        if kinds[kind]:
            paths += [rng.choice(kinds[kind]) for _ in range(count)]
        else:
            log(f"soak: the database has nothing for {kind!r}; left out of the mix")
    rng.shuffle(paths)
    # Only the site's own connections are counted.
    connections.close_all()
    return paths


def children(pid):
    """The ids of `pid`'s child processes (gunicorn's workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def rss_mb(pid):
    """Resident memory of `pid` in MB, or None once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return kb / 1024


def connections_by_state(conn, database):
    """{state: count} of the benchmark database's connections, this one left out."""
    rows = conn.execute(
        "SELECT coalesce(state, 'none'), count(*) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid() GROUP BY 1",
        [database],
    ).fetchall()
    return dict(rows)


class Sampler(threading.Thread):
    """Every `interval` seconds until stopped: each worker's RSS and the database's connections."""

    def __init__(self, master, database_url, interval):
        super().__init__(daemon=True)
        self.master, self.interval = master, interval
        self.database_url = database_url
        self.database = database_url.rpartition("/")[2]
        self.samples = []
        self.stopped = threading.Event()

    def sample(self, conn, started):
        workers = {pid: rss_mb(pid) for pid in children(self.master)}
        states = connections_by_state(conn, self.database)
        self.samples.append({"t": time.monotonic() - started, "rss": workers, "connections": states})
        memory = " ".join(f"{pid}:{mb:.0f}MB" for pid, mb in workers.items() if mb is not None)
        total = sum(states.values())
        log(f"soak: {self.samples[-1]['t']:5.0f}s  workers {memory}  connections {total} {states}")

    def run(self):
        started = time.monotonic()
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while True:
                self.sample(conn, started)
                if self.stopped.wait(self.interval):
                    self.sample(conn, started)
                    return


def main():
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="finews-soak-"))
    env = site_environment(args, tmp)
    prepare_site(args, env)
    paths = mix_paths(args.seed)
    (tmp / "paths.txt").write_text("\n".join(paths) + "\n")
    (tmp / "mix.lua").write_text(WRK_SCRIPT % {"paths": tmp / "paths.txt"})

    base = f"http://127.0.0.1:{args.port}"
    gunicorn = [sys.executable, "-m", "gunicorn", "finews.wsgi", "--workers", str(args.workers)]
    gunicorn += ["--log-level", "warning", "--bind", f"127.0.0.1:{args.port}"]
    server = subprocess.Popen(gunicorn, cwd=ROOT, env=env)
    try:
        wait_until_up(f"{base}/robots.txt", server)
        for path in ("/", paths[0]):
            status, _ = fetch(base + path)
            log(f"soak: {status} {path}")
        log(f"soak: {len(paths):,} URLs in the mix; {args.duration}s at {args.connections} connections")
        sampler = Sampler(server.pid, args.database_url, args.sample)
        sampler.start()
        wrk = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "10s"]
        wrk += ["-s", str(tmp / "mix.lua"), base]
        output = subprocess.run(wrk, capture_output=True, text=True, check=True).stdout
        sampler.stopped.set()
        sampler.join()
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp)
    result = json.loads(output.strip().splitlines()[-1])
    return report(result, sampler.samples, args)


def report(result, samples, args):
    """Print the closing figures; 1 when any response failed, else 0."""
    failed = result["non_2xx_3xx"]
    socket_errors = result["connect"] + result["read"] + result["write"] + result["timeout"]
    first, last = samples[0], samples[-1]
    totals = [sum(sample["connections"].values()) for sample in samples]
    print(f"\nfinews soak: {args.duration}s, wrk -c{args.connections}, gunicorn -w{args.workers}, {args.posts:,} posts")
    print(f"requests: {result['requests']:,} ({result['requests'] / result['seconds']:,.0f}/s)")
    print(f"latency: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, max {result['max_ms']:.0f} ms")
    print(f"non-2xx/3xx responses: {failed}")
    print(f"socket errors: {socket_errors} (timeouts {result['timeout']})")
    print("worker RSS, start → end:")
    for pid, start in first["rss"].items():
        end = last["rss"].get(pid)
        print(f"  {pid}: {start:.0f} MB → " + (f"{end:.0f} MB ({end - start:+.0f} MB)" if end else "restarted"))
    for pid in set(last["rss"]) - set(first["rss"]):
        print(f"  {pid}: new worker, {last['rss'][pid]:.0f} MB at the end")
    print(f"database connections (pg_stat_activity): min {min(totals)}, max {max(totals)}, at the end {totals[-1]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
