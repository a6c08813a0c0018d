"""Benchmark the reader site as production serves it, against two references on the same machine.

    make bench-web
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/finews_bench_web .venv/bin/python bench/web.py --runs 3

Loads --posts generated posts (bench/seed_db.py) into a dedicated database once, serves the site
with gunicorn (2 workers, production settings, DEBUG off, the page cache off), and drives each page
with wrk (8 connections): the home page, page 1 and page 3,000 of the largest category, an article, a
share link and a feed. The references run in the same gunicorn: a bare Django view returning the
saved article page from memory (Django's own ceiling here), and nginx serving that saved file.

Then the cached site, as scripts/serve-production runs it (deploy/production.py: the shipped
deploy/nginx.conf in front of gunicorn -w2 with the page cache on, in Redis, --page-cache-url): the
hot home page and article through nginx's micro-cache, as wrk asks (no Accept-Encoding) and as
browsers ask (gzip), and the same from gunicorn directly (Django's page cache alone). Each target
runs --runs times, round-robin; the table shows medians. Last, a mixed run: wrk on the home page
through nginx while a post is published every 5 seconds; it reports nginx's hit ratio and how long
each new post took to show on the home page.

Counting reads: a second gunicorn (--off-port) serves the same site with VIEW_COUNTING=0, so the
article with counting on and off is measured in the same run; the read beacon (one POST a reader's
browser sends per read, each from another client so that every one counts) alone; and whole reads
(the article, then its beacon, on each connection), whose rate is reads/s, not requests/s.
"""

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import psycopg

# The project's root on the path, for deploy/ (the cached site is started as scripts/serve-production starts it).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from deploy.production import Production

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/finews_bench_web"
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
DEEP_PAGE = 3000
PER_PAGE = 30
# A reader's browser: an article, then its read beacon, each beacon from another address so that it counts.
# X-Forwarded-For is a header the site reads, not an address anything is sent to.
READ_SCRIPT = """
local article, beacon, n = "{article}", "{beacon}", 0
local agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
request = function()
  n = n + 1
  if {whole} and n % 2 == 1 then
    return wrk.format("GET", article)
  end
  local client = "198.18." .. math.random(0, 255) .. "." .. math.random(0, 255) .. ", " .. n
  return wrk.format("POST", beacon, {{["User-Agent"] = agent, ["X-Forwarded-For"] = client}}, "")
end
"""
# What every browser sends: the cached site keeps a gzipped copy of each page for it (deploy/nginx.conf).
BROWSER_SCRIPT = 'wrk.headers["Accept-Encoding"] = "gzip, deflate, br"\n'
NGINX_CONF = """
worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    server {{
        listen 127.0.0.1:{port};
        root {tmp}/www;
        default_type "text/html; charset=utf-8";
    }}
}}
"""


def add_site_arguments(parser, *, port, database_url=DEFAULT_DATABASE_URL):
    """The arguments of every benchmark that serves the site from a loaded database: the database, how
    many posts it holds, whether to load them again, gunicorn's port, and the site's cache and replicas
    (site_environment)."""
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", database_url))
    parser.add_argument("--posts", type=int, default=1_000_000, help="posts to load (default 1,000,000)")
    parser.add_argument("--reseed", action="store_true", help="empty the database's posts and load them again")
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", port)), help="gunicorn's port")
    parser.add_argument("--cache-url", default="", help="CACHE_URL for the site, e.g. redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--replica-urls",
        default="",
        help="DATABASE_REPLICA_URLS for the site; the benchmark database's own URL measures the routing's cost",
    )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_site_arguments(parser, port=8201)
    parser.add_argument("--nginx-port", type=int, default=int(os.environ.get("BENCH_NGINX_PORT", 8202)))
    parser.add_argument(
        "--off-port",
        type=int,
        default=int(os.environ.get("BENCH_OFF_PORT", 8203)),
        help="port of the second gunicorn, with read counting off",
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs per target; medians are shown (default 3)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--page-cache-url",
        default=os.environ.get("BENCH_PAGE_CACHE_URL", "redis://127.0.0.1:6379/5"),
        help="CACHE_URL of the cached site, shared with the publisher of the mixed run",
    )
    parser.add_argument("--mixed-seconds", type=int, default=30, help="length of the mixed run (default 30)")
    return parser.parse_args()


def log(message):
    print(message, file=sys.stderr, flush=True)


def prepare_site(args, env):
    """The benchmark database filled (prepare_database) and the static files collected, for the site to serve."""
    prepare_database(args, env)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)


def prepare_database(args, env):
    """Create, migrate and fill the benchmark database unless it already holds enough posts."""
    server, _, name = args.database_url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(args.database_url) as conn:
        have = conn.execute("SELECT count(*) FROM articles_post").fetchone()[0]
    if args.reseed or have < args.posts:
        count, reset = (args.posts, ["--reset"]) if args.reseed else (args.posts - have, [])
        log(f"Loading {count:,} posts into {name}…")
        seed = [sys.executable, "bench/seed_db.py", "--count", str(count), *reset]
        subprocess.run(seed, cwd=ROOT, env=env, check=True)


def pick_targets():
    """The URLs to measure, chosen with the site's own rules (published posts only, its cursor format)."""
    import django

    django.setup()
    from django.db.models import Count
    from django.urls import reverse

    from articles.models import Category, Post
    from articles.pagination import Cursor

    largest = Category.objects.annotate(size=Count("posts")).order_by("-size").first()
    listing = Post.objects.published().in_category(largest).order_by("-published_at", "-pk")
    # Page 3,000, or the last page of a smaller database. One slow OFFSET here, none in the site.
    deep = min(DEEP_PAGE, listing.count() // PER_PAGE)
    end_of_previous_page = listing[PER_PAGE * (deep - 1) - 1]
    article = Post.objects.published().filter(charts__isnull=False).first()
    shared = Post.objects.published().exclude(info_code=None).first()
    return {
        "home": "/",
        "category p1": largest.get_absolute_url(),
        f"category p{deep}": f"{largest.get_absolute_url()}?before={Cursor.of(end_of_previous_page)}",
        "article": article.get_absolute_url(),
        "share link (301)": shared.share_url(),
        "feed (RSS)": "/rss.xml",
        "API posts p1": "/api/v1/posts",
        f"API category p{deep}": (
            f"/api/v1/posts?category={quote(largest.slug)}&limit={PER_PAGE}&before={Cursor.of(end_of_previous_page)}"
        ),
        "API post": f"/api/v1/posts/{article.slug}",
        "beacon": reverse("articles:count_view", args=[article.pk]),
    }


def wait_until_up(url, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"bench: the server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:  # not listening yet, or a worker still starting (a timeout on a busy machine)
            time.sleep(0.2)
    sys.exit(f"bench: {url} never answered")


def fetch(url):
    """Status and body of `url`, not following redirects."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        response = urllib.request.build_opener(NoRedirect).open(url, timeout=30)
        return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wrk(url, args, script=None):
    """(requests/s, p50 ms, p99 ms) of one wrk run, with the Lua `script` (a path) when given."""
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency", url]
    command += ["-s", str(script)] if script else []
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.MULTILINE))
    if "Non-2xx or 3xx responses" in output or "Socket errors" in output:
        log(f"bench: errors while loading {url}:\n{output}")

    def ms(value):
        number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()
        return float(number) * UNITS_MS[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    return rps, ms(latency["50"]), ms(latency["99"])


def site_environment(args, tmp):
    """The environment the served site and its set-up commands run in: production settings on the
    benchmark database, files under `tmp`; also applied to this process, which picks the targets."""
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{args.port}",
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
        "CACHE_URL": args.cache_url,
        # Today's rows measure pages as Django makes them; the cached site has its own rows.
        "PAGE_CACHE_SECONDS": "0",
        "DATABASE_REPLICA_URLS": args.replica_urls,
        "LOG_LEVEL": "WARNING",
        "BENCH_SAVED_PAGE": str(tmp / "www" / "article.html"),
        "DJANGO_SETTINGS_MODULE": "bare_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
    }
    os.environ.update(env)
    sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
    return env


def main():
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="finews-bench-"))
    tmp.chmod(0o755)  # nginx's workers run as an unprivileged user
    env = site_environment(args, tmp)
    # This process publishes the mixed run's posts: its writes must reach the cached site's cache.
    os.environ["CACHE_URL"] = args.page_cache_url
    prepare_site(args, env)
    targets = pick_targets()

    base = f"http://127.0.0.1:{args.port}"
    gunicorn = [sys.executable, "-m", "gunicorn", "finews.wsgi", "--workers", "2", "--log-level", "warning"]
    processes = [subprocess.Popen([*gunicorn, "--bind", f"127.0.0.1:{args.port}"], cwd=ROOT, env=env)]
    off = f"http://127.0.0.1:{args.off_port}"
    off_env = {**env, "VIEW_COUNTING": "0", "SITE_URL": off}
    processes.append(subprocess.Popen([*gunicorn, "--bind", f"127.0.0.1:{args.off_port}"], cwd=ROOT, env=off_env))
    cached_site = Production(
        workers=2, env={**env, "CACHE_URL": args.page_cache_url, "PAGE_CACHE_SECONDS": ""}, nginx_workers=2
    )
    try:
        wait_until_up(f"{base}/robots.txt", processes[0])
        wait_until_up(f"{off}/robots.txt", processes[1])
        status, page = fetch(base + targets["article"])
        if status != 200:
            sys.exit(f"bench: the article answered {status}")
        (tmp / "www").mkdir()
        (tmp / "www" / "article.html").write_bytes(page)
        (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=args.nginx_port))
        nginx = ["nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "nginx-error.log")]
        processes.append(subprocess.Popen(nginx))
        wait_until_up(f"http://127.0.0.1:{args.nginx_port}/article.html", processes[-1])

        cached_site.start()
        urls = {
            "nginx static file": f"http://127.0.0.1:{args.nginx_port}/article.html",
            "bare Django view": f"{base}/bench/bare/",
            **{name: base + path for name, path in targets.items() if name != "beacon"},
            "article, counting off": off + targets["article"],
            "read beacon": base + targets["beacon"],
            "article + beacon": base + targets["article"],
            "nginx cache: home": cached_site.url + "/",
            "nginx cache: article": cached_site.url + targets["article"],
            "nginx cache: home, gzip": cached_site.url + "/",
            "nginx cache: article, gzip": cached_site.url + targets["article"],
            "page cache: home": cached_site.app_url + "/",
            "page cache: article": cached_site.app_url + targets["article"],
        }
        scripts = {}
        for name, whole in [("read beacon", "false"), ("article + beacon", "true")]:
            scripts[name] = tmp / f"{name.replace(' ', '-').replace('+', 'and')}.lua"
            script = READ_SCRIPT.format(article=targets["article"], beacon=targets["beacon"], whole=whole)
            scripts[name].write_text(script)
        browser = tmp / "browser.lua"
        browser.write_text(BROWSER_SCRIPT)
        scripts["nginx cache: home, gzip"] = scripts["nginx cache: article, gzip"] = browser
        for name, url in urls.items():
            # The read scripts POST to their targets; only the targets read by GET are fetched first.
            status, body = fetch(url) if scripts.get(name, browser) == browser else (200, b"")
            log(f"{status} {len(body):>7,} B  {name}: {url}")
            if status not in (200, 301):
                sys.exit(f"bench: {name} answered {status}")
            # Warm caches and the workers.
            wrk(url, argparse.Namespace(connections=2, duration=1), scripts.get(name))

        results = {name: [] for name in urls}
        for run in range(1, args.runs + 1):
            for name, url in urls.items():
                rps, p50, p99 = wrk(url, args, scripts.get(name))
                # Two requests make one read: the article and its beacon.
                results[name].append((rps / 2, p50, p99) if name == "article + beacon" else (rps, p50, p99))
                log(f"run {run}/{args.runs} {name}: {results[name][-1][0]:,.0f} req/s")
        mixed = mixed_run(cached_site, args)
    finally:
        cached_site.stop()
        for process in processes:
            process.terminate()
            process.wait()
        shutil.rmtree(tmp)

    report(results, args)
    report_mixed(mixed, args)


def mixed_run(site, args):
    """wrk on the home page through nginx for --mixed-seconds while a post is published every 5 seconds;
    returns (wrk's result, nginx's cache statuses in the run, seconds until each new post showed)."""
    from articles.models import Category, Post

    log_path = site.folder / "logs" / "nginx-access.log"
    category = Category.objects.first()
    published, delays, stop = [], [], threading.Event()

    def publish():
        # On a 5 s clock, not 5 s after the last post showed (just after a refresh of the micro-cache): that
        # would publish in step with the micro-cache, always at the same point of its cycle.
        due = time.monotonic()
        while not stop.wait(max(0.0, (due := due + 5) - time.monotonic())):
            title = f"基准测试快讯 {secrets.token_hex(4)}"
            post = Post.objects.create(title=title, category=category, status=Post.Status.PUBLISHED, body="<p>快讯</p>")
            published.append(post)
            start = time.monotonic()
            while not stop.is_set() and title not in fetch(site.url + "/")[1].decode():
                time.sleep(0.05)
            if not stop.is_set():
                delays.append(time.monotonic() - start)

    start_line = len(log_path.read_text().splitlines()) if log_path.exists() else 0
    publisher = threading.Thread(target=publish)
    publisher.start()
    try:
        result = wrk(site.url + "/", argparse.Namespace(connections=args.connections, duration=args.mixed_seconds))
    finally:
        stop.set()
        publisher.join()
        for post in published:
            post.delete()
    time.sleep(6)  # nginx writes its access log every 5 s
    statuses = [line.rsplit(" ", 1)[-1] for line in log_path.read_text().splitlines()[start_line:]]
    return result, statuses, delays


def report_mixed(mixed, args):
    (rps, p50, p99), statuses, delays = mixed
    hits = sum(status in ("HIT", "STALE", "UPDATING", "REVALIDATED") for status in statuses)
    print(f"\nmixed run: wrk -c{args.connections} -d{args.mixed_seconds}s on the home page through nginx, a post")
    print(f"published every 5 s: {rps:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"nginx hit ratio {hits / max(1, len(statuses)):.1%} of {len(statuses):,} requests")
    if delays:
        print(
            f"new post on the home page after {statistics.median(delays):.1f} s median, "
            f"{max(delays):.1f} s at most, over {len(delays)} posts (target ≤ 5 s)"
        )


def report(results, args):
    """The table of medians. Ratios are taken within each round (every target runs once per round,
    one after the other) and then their median, so load from elsewhere on the machine cancels."""
    medians = {
        name: [statistics.median(values) for values in zip(*runs, strict=True)] for name, runs in results.items()
    }

    def ratio(name, reference):
        return statistics.median(run[0] / ref[0] for run, ref in zip(results[name], results[reference], strict=True))

    cache = args.cache_url or "local memory"
    print(f"\nfinews reader benchmark: gunicorn -w2, wrk -c{args.connections} -d{args.duration}s, ", end="")
    replicas = f", replicas {args.replica_urls}" if args.replica_urls else ""
    print(f"median of {args.runs} runs, {args.posts:,} posts, cache {cache}{replicas}\n")
    print(f"| {'target':<20} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'vs bare':>7} |")
    print(f"|{'-' * 22}|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|")
    for name, (rps, p50, p99) in medians.items():
        print(f"| {name:<20} | {rps:>8,.0f} | {p50:>7.2f} | {p99:>7.2f} | {ratio(name, 'bare Django view'):>7.0%} |")
    # Pages as Django makes them; the cached site's rows ("nginx cache: …", "page cache: …") and the
    # read-counting rows are compared below.
    references = ("nginx static file", "bare Django view", "article, counting off", "read beacon", "article + beacon")
    pages = [name for name in medians if name not in references and ":" not in name]
    slowest = min(pages, key=lambda name: ratio(name, "bare Django view"))
    worst_p99 = max(pages, key=lambda name: medians[name][2])
    deep = next(name for name in pages if name.startswith("category p") and name != "category p1")
    print(f"\nslowest page: {slowest} at {ratio(slowest, 'bare Django view'):.0%} of the bare view (target ≥ 20%)")
    print(f"{deep} runs at {ratio(deep, 'category p1'):.0%} of page 1's rate (target ≥ 80%)")
    print(f"worst p99: {worst_p99} at {medians[worst_p99][2]:.1f} ms (target < 100 ms)")
    for page in ("home", "article"):
        print(
            f"hot {page}: through nginx {ratio(f'nginx cache: {page}', 'nginx static file'):.0%} of the static file "
            f"(target ≥ 50%), Django's page cache {ratio(f'page cache: {page}', 'bare Django view'):.0%} "
            "of the bare view (target ≥ 60%)"
        )
    for page in ("home", "article"):
        print(
            f"hot {page} for browsers (Accept-Encoding: gzip): through nginx "
            f"{ratio(f'nginx cache: {page}, gzip', 'nginx static file'):.0%} of the static file (target ≥ 50%)"
        )
    on_off = ratio("article", "article, counting off")
    print(f"article with read counting on runs at {on_off:.0%} of counting off (target ≥ 95%)")
    whole = ratio("article + beacon", "article, counting off")
    print(f"whole reads (article and beacon, reads/s) run at {whole:.0%} of the article alone, counting off")


if __name__ == "__main__":
    main()
