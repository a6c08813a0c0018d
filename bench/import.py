"""Import benchmark: generate posts, import them twice into a scratch PostgreSQL database, print the numbers.

    make bench-import                                   # 100,000 posts, 3 rounds, medians
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/finews python bench/import.py --count 20000 --rounds 1
    python bench/import.py --corpus posts/             # import these files instead of generating them

The posts come from `manage.py generate_posts` (about 1% malformed on purpose, so each import exits 1
and reports them), or from --corpus, so that two versions of the code can import the very same files.
Each round imports into a fresh copy of a migrated template database on the server DATABASE_URL names
(`<its database>_bench_import`, `…_template`): first the whole corpus, then the same files again (all
unchanged). Reported per
import: posts/s as the command measures it (files handled / its own elapsed time), the wall time of
the whole command, its CPU time per post with its parse workers (PostgreSQL's own not included; a
figure that a busy shared machine changes little), the exact peak RSS of the import process (wait4),
and the peak RSS of the process tree including parse workers (sampled every 50 ms). Both databases
are dropped at the end.
"""

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
MANAGE = [sys.executable, str(ROOT / "manage.py")]
SUMMARY = re.compile(r"(\d+) created, (\d+) updated, (\d+) unchanged, (\d+) conflicts, (\d+) failed, (\d+) skipped")
RATE = re.compile(r"\(([\d,]+) posts/s\)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="posts to generate (100000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3, help="repeat both imports; medians are reported (3)")
    parser.add_argument("--workers", type=int, help="import_posts --workers (its default when omitted)")
    parser.add_argument("--corpus", metavar="DIR", help="import the posts in DIR instead of generating --count")
    args = parser.parse_args()

    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/finews"))
    # Named after DATABASE_URL's database, so that runs against different databases do not collide.
    scratch = f"{server.path.strip('/')}_bench_import"
    template = f"{scratch}_template"
    admin_url = server._replace(path="/postgres").geturl()
    extra = ["--workers", str(args.workers)] if args.workers is not None else []

    with tempfile.TemporaryDirectory(prefix="finews-bench-") as generated:
        corpus = args.corpus or generated
        if not args.corpus:
            started = time.perf_counter()
            run([*MANAGE, "generate_posts", corpus, "--count", str(args.count), "--seed", str(args.seed)])
            load = os.getloadavg()[0]
            print(f"generated {args.count:,} posts in {time.perf_counter() - started:.1f} s; load average {load:.2f}")
        recreate(admin_url, template)
        run([*MANAGE, "migrate", "--no-input", "-v0"], database=server._replace(path=f"/{template}").geturl())
        results = {"first import": [], "unchanged re-import": []}
        try:
            for round_number in range(1, args.rounds + 1):
                recreate(admin_url, scratch, template=template)
                database = server._replace(path=f"/{scratch}").geturl()
                for label in results:
                    result = measure([*MANAGE, "import_posts", corpus, "-v0", *extra], database)
                    results[label].append(result)
                    print(f"round {round_number}, {label}: {describe(result)}")
        finally:
            for name in (scratch, template):
                drop(admin_url, name)
    posts = f"the posts in {args.corpus}" if args.corpus else f"{args.count:,} generated posts"
    print(f"\nmedians of {args.rounds} round(s), {posts}, import_posts {' '.join(extra)}".rstrip())
    # The machine may be shared: the load says how much of it the benchmark had.
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    for label, rounds in results.items():
        medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0] if key != "summary"}
        print(f"  {label}: {describe(medians)}")


def describe(result):
    return (
        f"{result['rate']:,.0f} posts/s (command), {result['wall']:.1f} s wall, {result['cpu_ms']:.2f} ms CPU/post, "
        f"peak RSS {result['rss_mb']:.0f} MB (import process), {result['tree_mb']:.0f} MB (with workers)"
        + (f"  [{result['summary']}]" if "summary" in result else "")
    )


def measure(command, database):
    """Run `command`; return its rate, wall time and peak memory."""
    env = {**os.environ, "DATABASE_URL": database}
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tree_peak = [0]
    sampler = threading.Thread(target=sample_tree_rss, args=(process.pid, tree_peak), daemon=True)
    sampler.start()
    output = []
    readers = [threading.Thread(target=lambda s=s: output.append(s.read())) for s in (process.stdout, process.stderr)]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    text = "\n".join(output)
    summary, rate = SUMMARY.search(text), RATE.search(text)
    if not summary or not rate:
        sys.exit(f"bench: import_posts printed no summary (exit {process.returncode}):\n{text[-2000:]}")
    return {
        "rate": float(rate[1].replace(",", "")),
        "wall": wall,
        "rss_mb": usage.ru_maxrss / 1024,
        # CPU of the command and its parse workers (not PostgreSQL's), per post: what load on a shared
        # machine does not change.
        "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000 / sum(map(int, summary.groups())),
        "tree_mb": max(tree_peak[0], usage.ru_maxrss * 1024) / 2**20,
        "summary": summary[0],
    }


def sample_tree_rss(pid, peak):
    """Keep peak[0] at the largest total RSS (bytes) seen of `pid` and its descendants."""
    page = os.sysconf("SC_PAGE_SIZE")
    while Path(f"/proc/{pid}").exists():
        total = 0
        for process in [pid, *descendants(pid)]:
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += int(Path(f"/proc/{process}/statm").read_text().split()[1]) * page
        peak[0] = max(peak[0], total)
        time.sleep(0.05)


def descendants(pid):
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in children] + [d for child in children for d in descendants(int(child))]


def run(command, database=None):
    env = {**os.environ, **({"DATABASE_URL": database} if database else {})}
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def recreate(admin_url, name, template=None):
    drop(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def drop(admin_url, name):
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
