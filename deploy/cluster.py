"""finews on several nodes, on one machine: what a site that outgrew one box runs, on free loopback ports.

    deploy/cluster                 # or `make cluster`; Ctrl-C stops everything and removes its files
    deploy/cluster --workers 1     # gunicorn workers per app node (2)

It starts, in a temp folder:
- a PostgreSQL primary and a streaming replica of it (throwaway clusters, deploy/postgres.py), the
  schema migrated on the primary;
- Redis (a redis-server of its own): the shared cache (db 0) and the job queue's broker (db 1);
- an S3 API server (moto's) with a media bucket;
- two app nodes (gunicorn), configured alike: DATABASE_URL, DATABASE_REPLICA_URLS, CACHE_URL,
  CELERY_BROKER_URL and MEDIA_S3_*, as production's would be (docs/scaling.md);
- a Celery worker, for renditions, share cards and admin imports;
- nginx in front, balancing the two nodes and moving a request to the other node when one fails
  (proxy_next_upstream); it serves the collected static files itself.

tests/test_cluster.py starts the same cluster and drives it.
"""

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg

from deploy.postgres import MissingComponent, Postgres, free_port
from deploy.processes import launch

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "finews-media"
S3_KEYS = {"MEDIA_S3_ACCESS_KEY_ID": "cluster", "MEDIA_S3_SECRET_ACCESS_KEY": "cluster-secret"}

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/logs/nginx-error.log warn;
events {{ worker_connections 512; }}
http {{
    include {mime_types};
    access_log {folder}/logs/nginx-access.log;
    client_body_temp_path {folder}/nginx/body;
    proxy_temp_path {folder}/nginx/proxy;
    fastcgi_temp_path {folder}/nginx/fastcgi;
    uwsgi_temp_path {folder}/nginx/uwsgi;
    scgi_temp_path {folder}/nginx/scgi;
    client_max_body_size {upload_limit}m;

    # The app nodes. A node that fails a request is left out for fail_timeout, and the request goes
    # to the other (proxy_next_upstream below): readers do not see one node going away.
    upstream finews_nodes {{
{servers}
        keepalive 16;
    }}

    server {{
        listen 127.0.0.1:{port};

        location /static/ {{
            alias {static_root}/;
            expires 1y;
        }}

        location / {{
            proxy_pass http://finews_nodes;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # A refused or reset connection, or a node answering 502-504, is retried once on the other
            # node. nginx never retries a POST that reached a node (non_idempotent is not listed).
            proxy_next_upstream error timeout http_502 http_503 http_504;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            # Which node answered, for the cluster's test and whoever watches it.
            add_header X-Finews-Node $upstream_addr always;
        }}
    }}
}}
"""


def find_program(name, *folders):
    """The path of program `name` in `folders` (the project's virtualenv first) or on PATH, or MissingComponent."""
    found = next((str(Path(f, name)) for f in folders if os.access(Path(f, name), os.X_OK)), None) or shutil.which(name)
    if not found:
        raise MissingComponent(f"{name} is not installed")
    return found


class Cluster:
    """The processes above, started by start() and all stopped by stop(), which also removes the folder."""

    def __init__(self, workers=2, **settings):
        self.workers = workers
        # Extra environment for every node and the job worker, e.g. REPLICA_MAX_LAG_SECONDS.
        self.settings = settings
        self.folder = None
        self.processes = {}
        self.primary = self.replica = None

    # Start and stop

    def start(self):
        programs = {
            "nginx": find_program("nginx", "/usr/sbin"),
            "redis": find_program("redis-server", "/usr/bin", "/usr/sbin"),
            "moto": find_program("moto_server", Path(sys.executable).parent),
            "gunicorn": find_program("gunicorn", Path(sys.executable).parent),
            "celery": find_program("celery", Path(sys.executable).parent),
        }
        if not (ROOT / "finews" / "celery.py").exists():
            raise MissingComponent("the job queue's Celery app (finews/celery.py) is not there")
        self.folder = Path(tempfile.mkdtemp(prefix="finews-cluster-"))
        try:
            self._start(programs)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, programs):
        (self.folder / "logs").mkdir()
        Postgres.give_to_postgres(self.folder)
        # nginx's workers run as an unprivileged user and serve the static files from here.
        self.folder.chmod(0o755)
        self.primary = Postgres.primary(self.folder / "primary")
        with psycopg.connect(self.primary.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE finews")
        self.replica = self.primary.replica(self.folder / "replica")
        self.ports = {name: free_port() for name in ("redis", "s3", "node_a", "node_b", "nginx")}
        self.redis_url = f"redis://127.0.0.1:{self.ports['redis']}"
        self.s3_url = f"http://127.0.0.1:{self.ports['s3']}"
        self.url = f"http://127.0.0.1:{self.ports['nginx']}"
        self.nodes = {"a": f"http://127.0.0.1:{self.ports['node_a']}", "b": f"http://127.0.0.1:{self.ports['node_b']}"}
        self.env = self.site_environment()

        self.launch("redis", programs["redis"], "--port", self.ports["redis"], "--bind", "127.0.0.1", "--save", "")
        self.launch("s3", programs["moto"], "-H", "127.0.0.1", "-p", self.ports["s3"])
        self.manage("migrate", "--no-input", "-v0")
        self.manage("collectstatic", "--no-input", "-v0")
        wait_for(f"{self.s3_url}/", "the S3 server")
        self.create_bucket()
        for name in ("a", "b"):
            self.launch(
                f"node_{name}",
                programs["gunicorn"],
                "finews.wsgi",
                *("--bind", f"127.0.0.1:{self.ports[f'node_{name}']}", "--workers", self.workers),
                *("--no-control-socket", "--graceful-timeout", "5"),
                "--access-logfile",
                "-",
            )
        self.launch("worker", programs["celery"], "-A", "finews", "worker", "--pool", "solo", "--loglevel", "INFO")
        (self.folder / "nginx").mkdir()
        nginx_conf = self.folder / "nginx.conf"
        nginx_conf.write_text(self.nginx_config())
        self.launch("nginx", programs["nginx"], "-c", nginx_conf, "-e", self.folder / "logs" / "nginx-error.log")
        for name, url in self.nodes.items():
            wait_for(f"{url}/robots.txt", f"app node {name}")
        wait_for(f"{self.url}/robots.txt", "nginx")

    def stop(self):
        """Stop every process (each with what it started), the PostgreSQL servers, and remove the folder."""
        processes = list(self.processes.values())
        self.processes.clear()
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        for server in (self.replica, self.primary):
            if server:
                server.stop(mode="immediate")
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def kill(self, name):
        """Kill process `name` and everything it started (gunicorn's workers) at once, as a machine going
        away would."""
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)

    # Configuration

    def site_environment(self):
        """What each app node and the worker are given: the production variables, pointed at this cluster."""
        return {
            **os.environ,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(40),
            "SITE_URL": self.url,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on loopback: no redirect to HTTPS, cookies sent back over HTTP.
            "SECURE_SSL_REDIRECT": "0",
            "SECURE_COOKIES": "0",
            "DATABASE_URL": self.primary.url("finews"),
            "DATABASE_REPLICA_URLS": self.replica.url("finews"),
            "REPLICA_CHECK_SECONDS": "1",
            "CACHE_URL": f"{self.redis_url}/0",
            "CELERY_BROKER_URL": f"{self.redis_url}/1",
            "MEDIA_S3_BUCKET": BUCKET,
            "MEDIA_S3_ENDPOINT_URL": self.s3_url,
            "MEDIA_S3_REGION": "us-east-1",
            **S3_KEYS,
            "STATIC_ROOT": str(self.folder / "static"),
            "MEDIA_ROOT": str(self.folder / "media"),
            **{name: str(value) for name, value in self.settings.items()},
        }

    def nginx_config(self):
        servers = "\n".join(
            f"        server 127.0.0.1:{self.ports[f'node_{name}']} max_fails=1 fail_timeout=10s;"
            for name in self.nodes
        )
        return NGINX_CONF.format(
            folder=self.folder,
            port=self.ports["nginx"],
            servers=servers,
            static_root=self.folder / "static",
            mime_types="/etc/nginx/mime.types",
            upload_limit=int(self.env.get("IMPORT_UPLOAD_MAX_MB", 200)) + 1,
        )

    def create_bucket(self):
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.s3_url,
            aws_access_key_id=S3_KEYS["MEDIA_S3_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_KEYS["MEDIA_S3_SECRET_ACCESS_KEY"],
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        # Anyone may read the files, as pages link them (or a CDN in front of the bucket fetches them).
        public_read = {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
        policy = {"Version": "2012-10-17", "Statement": [public_read]}
        client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))

    # Processes

    def launch(self, name, *command):
        """Start process `name` (deploy/processes.py), logging to logs/<name>.log in the folder."""
        self.processes[name] = launch(command, self.folder / "logs" / f"{name}.log", self.env)

    def manage(self, *args, **env):
        """Run a management command against the cluster's databases; returns its output."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def create_admin(self, username, password):
        self.manage(
            "createsuperuser",
            "--no-input",
            "--username",
            username,
            "--email",
            f"{username}@example.com",
            DJANGO_SUPERUSER_PASSWORD=password,
        )

    def log(self, name, lines=40):
        """The last `lines` lines of process `name`'s output."""
        path = self.folder / "logs" / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def wait_for(url, what, seconds=60):
    """Wait until `url` answers at all (any HTTP status)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError as error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not answer at {url} within {seconds} s: {error}") from None
            time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app node (2)")
    args = parser.parse_args()
    cluster = Cluster(workers=args.workers)
    try:
        print("cluster: starting PostgreSQL primary and replica, Redis, S3, two app nodes, a worker, nginx…")
        cluster.start()
        password = secrets.token_urlsafe(12)
        cluster.create_admin("admin", password)
        print(f"cluster: the site  {cluster.url}/  (admin: admin / {password})")
        for name, url in cluster.nodes.items():
            print(f"cluster: node {name}    {url}/")
        print(f"cluster: primary {cluster.primary.url('finews')}, replica {cluster.replica.url('finews')}")
        print(f"cluster: redis {cluster.redis_url}, S3 {cluster.s3_url}/{BUCKET}, logs in {cluster.folder}/logs")
        print("cluster: Ctrl-C stops everything")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(process.poll() is None for process in cluster.processes.values()):
            time.sleep(1)
        stopped = [name for name, process in cluster.processes.items() if process.poll() is not None]
        print(f"cluster: {', '.join(stopped)} stopped; see {cluster.folder}/logs", file=sys.stderr)
    except MissingComponent as missing:
        sys.exit(f"cluster: {missing}")
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
