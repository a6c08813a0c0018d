"""finews as production serves it, on one machine: gunicorn behind nginx on deploy/nginx.conf.

    scripts/serve-production                 # nginx on 127.0.0.1:8080, gunicorn on a free port
    scripts/serve-production --port 8130 --workers 3

The site's settings come from the environment as in production (SECRET_KEY, DATABASE_URL,
CACHE_URL, SITE_URL…); this collects the static files, fills in deploy/nginx.conf's placeholders
into a folder of its own, and runs `gunicorn` with the recommended command (`gunicorn_command`)
and nginx in front, until Ctrl-C. tests/test_nginx.py and bench/web.py start the same pair.

**Workers:** sync workers, 2 × CPU cores. A reader request that misses the caches is CPU work
(rendering, 3–5 ms hot, more cold) around short waits on PostgreSQL and Redis; one process per
core keeps a core busy while the other waits. More only add memory and context switches; threads
or gevent add nothing to CPU-bound Python under the GIL. nginx buffers slow clients, so a sync
worker is never held by a slow reader.
"""

import argparse
import contextlib
import os
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from deploy.postgres import MissingComponent, free_port
from deploy.processes import launch

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "deploy" / "nginx.conf"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so")
BROTLI = """brotli on;
    brotli_comp_level 5;
    brotli_types text/css text/plain text/xml application/javascript application/json application/xml
                 application/rss+xml application/atom+xml image/svg+xml;"""


def recommended_workers():
    """gunicorn workers for this machine: 2 × its cores (see the module's docstring)."""
    return 2 * (os.cpu_count() or 1)


def gunicorn_command(bind, workers=None):
    """The recommended gunicorn command line for finews (one app server)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "finews.wsgi",
        "--bind",
        bind,
        "--workers",
        str(workers or recommended_workers()),
        # As long as nginx waits (proxy_read_timeout); a worker stuck longer is restarted.
        "--timeout",
        "30",
        "--graceful-timeout",
        "30",
        # Bounded memory over days: each worker is replaced after about 20,000 requests. Not fewer: a new
        # worker costs about a second of CPU (Django starting) and starts with no local pages, so at
        # 2,000 a worker answering page-cache hits was replaced every few seconds and the hot pages
        # spent about 40% of their CPU on it (bench/web.py, 20,000 posts).
        "--max-requests",
        "20000",
        "--max-requests-jitter",
        "2000",
        "--log-level",
        "warning",
    ]


def nginx_config(run_dir, listen, app_servers, static_root, media_root, trusted_proxies=(), worker_processes="auto"):
    """deploy/nginx.conf with its placeholders filled in."""
    brotli = BROTLI_MODULE.exists()
    return string.Template(TEMPLATE.read_text()).safe_substitute(
        RUN_DIR=run_dir,
        LISTEN=listen,
        APP_SERVERS="\n        ".join(f"server {server};" for server in app_servers),
        STATIC_ROOT=static_root,
        MEDIA_ROOT=media_root,
        TRUSTED_PROXIES="\n    ".join(f"set_real_ip_from {cidr};" for cidr in trusted_proxies),
        MODULES=f"load_module {BROTLI_MODULE};" if brotli else "",
        BROTLI=BROTLI if brotli else "",
        WORKER_PROCESSES=worker_processes,
    )


def find_nginx():
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
    if not found:
        raise MissingComponent("nginx is not installed (Debian: apt-get install nginx)")
    return found


class Production:
    """nginx on `port` in front of gunicorn on `app_port` (free ports when None), in a temp folder removed
    by stop(). `env` is the site's environment (os.environ when None)."""

    def __init__(self, port=None, app_port=None, workers=None, env=None, nginx_workers="auto"):
        self.nginx = find_nginx()
        self.port = port or free_port()
        self.app_port = app_port or free_port()
        self.workers = workers
        self.nginx_workers = nginx_workers
        self.env = dict(os.environ if env is None else env)
        self.url = f"http://127.0.0.1:{self.port}"
        self.app_url = f"http://127.0.0.1:{self.app_port}"
        self.folder = None
        self.processes = {}

    def start(self):
        self.folder = Path(tempfile.mkdtemp(prefix="finews-production-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        # nginx's workers run as an unprivileged user and read the static files from here.
        self.folder.chmod(0o755)
        for name in ("logs", "temp", "pages"):
            (self.folder / name).mkdir()
        self.env.setdefault("STATIC_ROOT", str(self.folder / "static"))
        self.env.setdefault("MEDIA_ROOT", str(self.folder / "media"))
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=self.env, check=True
        )
        config = self.folder / "nginx.conf"
        config.write_text(
            nginx_config(
                self.folder,
                f"127.0.0.1:{self.port}",
                [f"127.0.0.1:{self.app_port}"],
                self.env["STATIC_ROOT"],
                self.env["MEDIA_ROOT"],
                worker_processes=self.nginx_workers,
            )
        )
        self.launch("gunicorn", *gunicorn_command(f"127.0.0.1:{self.app_port}", self.workers))
        error_log = self.folder / "logs" / "nginx-error.log"
        self.launch("nginx", self.nginx, "-c", config, "-e", error_log, "-g", "daemon off;")
        wait_for(f"{self.app_url}/robots.txt", "gunicorn", self.processes["gunicorn"])
        wait_for(f"{self.url}/robots.txt", "nginx", self.processes["nginx"])

    def launch(self, name, *command):
        """Start process `name` (deploy/processes.py), logging to logs/<name>.log in the folder."""
        self.processes[name] = launch(command, self.folder / "logs" / f"{name}.log", self.env)

    def log(self, name, lines=40):
        """The last `lines` lines of a process's log, for a failing test's message."""
        path = self.folder / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self):
        """Stop nginx and gunicorn (each with what it started) and remove the folder."""
        processes = list(self.processes.values())
        self.processes.clear()
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def wait_for(url, what, process, seconds=60):
    """Wait until `url` answers at all (any HTTP status), or fail if `process` exits first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError as error:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with status {process.returncode}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not answer at {url} within {seconds} s: {error}") from None
            time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8080, help="nginx's port on 127.0.0.1 (8080)")
    parser.add_argument("--workers", type=int, default=None, help=f"gunicorn workers ({recommended_workers()} here)")
    args = parser.parse_args()
    production = Production(port=args.port, workers=args.workers)
    try:
        production.start()
        print(f"serve-production: {production.url}/ (nginx), gunicorn at {production.app_url}/")
        print(f"serve-production: nginx.conf and logs in {production.folder}; Ctrl-C stops both")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        # Ctrl-C stops both even when started from a shell that ignores SIGINT in background jobs.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        while all(process.poll() is None for process in production.processes.values()):
            time.sleep(1)
        stopped = [name for name, process in production.processes.items() if process.poll() is not None]
        print(f"serve-production: {', '.join(stopped)} stopped", file=sys.stderr)
        for name in stopped:
            print(production.log(name), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        production.stop()


if __name__ == "__main__":
    sys.exit(main())
