"""The processes a local deployment starts (deploy/production.py, deploy/cluster.py): each in a process
group of its own, its output in a log file of its own."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def launch(command, log, env):
    """Start `command` in the checkout with the environment `env`, its stdout and stderr in the file `log`
    (replaced), no stdin; returns its Popen.

    It leads a process group of its own, so that os.killpg() on its pid stops it with what it started
    (gunicorn's workers, nginx's), as a machine going away would.
    """
    # The process writes to its own copy of the file descriptor: ours is closed at once.
    with open(log, "wb") as output:
        return subprocess.Popen(
            [str(part) for part in command],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
