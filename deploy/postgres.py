"""Throwaway PostgreSQL servers in a folder: a primary made with initdb, and streaming replicas of it
made with `pg_basebackup -R`. Used by deploy/cluster and by the tests of read replicas.

Run as root, the servers run as the `postgres` user (initdb refuses root), as scripts/with-postgres does.
"""

import glob
import os
import shutil
import socket
import subprocess
from pathlib import Path

# Settings for a server nobody keeps: no fsync, quick checkpoints, loopback only. Commits stay synchronous
# (which costs nothing without fsync): a commit is then written to the WAL before the client hears of it,
# so a replica that has replayed up to the primary's pg_current_wal_lsn() holds it, as with a real primary.
# With synchronous_commit off, it could still sit in the primary's WAL buffers for a moment after that.
SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off -c listen_addresses=127.0.0.1"


class MissingComponent(RuntimeError):
    """Something the cluster needs is not installed; the message says what."""


def free_port():
    """A TCP port nothing listens on at this moment."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_binaries():
    """The folder holding initdb, pg_ctl and pg_basebackup, newest PostgreSQL first."""
    on_path = shutil.which("initdb")
    candidates = ([str(Path(on_path).parent)] if on_path else []) + sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(path.split("/")[-2]), reverse=True
    )
    for folder in candidates:
        if all(os.access(Path(folder, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "pg_basebackup")):
            return Path(folder)
    raise MissingComponent("PostgreSQL's server binaries (initdb, pg_ctl, pg_basebackup) are not installed")


class Postgres:
    """One server: its data folder, port and binaries."""

    def __init__(self, folder, port, binaries):
        self.folder = Path(folder)
        self.port = port
        self.binaries = binaries

    @classmethod
    def primary(cls, folder, port=None):
        """initdb a new cluster in `folder` (trusting local connections, replication included) and start it."""
        server = cls(folder, port or free_port(), server_binaries())
        server.folder.mkdir(parents=True)
        server.give_to_postgres(server.folder)
        server.run(
            "initdb", "--pgdata", server.folder / "data", "--username", "postgres", "--auth", "trust", "--no-sync"
        )
        server.start()
        return server

    def replica(self, folder, port=None):
        """A streaming replica of this server in `folder`, copied with pg_basebackup -R, started."""
        replica = Postgres(folder, port or free_port(), self.binaries)
        replica.folder.mkdir(parents=True)
        replica.give_to_postgres(replica.folder)
        replica.run(
            "pg_basebackup",
            *("--host", "127.0.0.1", "--port", str(self.port), "--username", "postgres"),
            *("--pgdata", replica.folder / "data", "--write-recovery-conf", "--wal-method", "stream"),
            "--checkpoint=fast",
        )
        replica.start()
        return replica

    def url(self, database="postgres"):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self):
        options = f"-p {self.port} -k {self.folder} {SERVER_OPTIONS}"
        self.run("pg_ctl", "--pgdata", self.folder / "data", "--log", self.folder / "log", "-o", options, "-w", "start")

    def stop(self, mode="fast"):
        self.run("pg_ctl", "--pgdata", self.folder / "data", "--mode", mode, "-w", "stop", check=False)

    def run(self, tool, *args, check=True):
        command = [*self.as_postgres(), str(self.binaries / tool), *map(str, args)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and result.returncode:
            raise RuntimeError(f"{tool} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result

    @staticmethod
    def as_postgres():
        # initdb refuses to run as root.
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @staticmethod
    def give_to_postgres(folder):
        if os.geteuid() == 0:
            try:
                shutil.chown(folder, "postgres")
            except LookupError:
                raise MissingComponent("running as root and there is no 'postgres' user to own a cluster") from None
