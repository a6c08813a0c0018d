"""What happened to each file, and the run's totals."""

import contextlib
import enum
import errno
import json
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field


class Status(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(slots=True)
class Outcome:
    """One file's result. `reason` says why it failed, conflicted or was skipped; warnings are for the operator."""

    path: str
    status: Status
    key: str | None = None
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    # The key of the other copy of the same story (articles/stories.py), when the import found one.
    twin: str | None = None

    def as_dict(self):
        return {
            "path": self.path,
            "status": str(self.status),
            "key": self.key,
            "reason": self.reason,
            "warnings": self.warnings,
            "twin": self.twin,
        }


@dataclass
class Summary:
    """Counts per status and the elapsed time of a run."""

    counts: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)
    elapsed: float = 0.0
    twins: int = 0

    def add(self, outcome):
        self.counts[outcome.status] += 1
        self.twins += outcome.twin is not None

    def finish(self):
        self.elapsed = time.perf_counter() - self.started
        return self

    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def posts_per_second(self):
        return self.total / self.elapsed if self.elapsed else 0.0

    @property
    def posts(self):
        """Post files written or found unchanged."""
        return self.counts[Status.CREATED] + self.counts[Status.UPDATED] + self.counts[Status.UNCHANGED]

    def line(self):
        """`N created, N updated, N unchanged, N conflicts, N failed, N skipped in 1.2 s (1,234 posts/s)`,
        with `, N twins` before `in` when posts written were found to be copies of one story.

        The rate is left out when no post was written or found unchanged: it would measure nothing.
        """
        c = self.counts
        rate = f" ({self.posts_per_second:,.0f} posts/s)" if self.posts else ""
        twins = f", {self.twins} twins" if self.twins else ""
        return (
            f"{c[Status.CREATED]} created, {c[Status.UPDATED]} updated, {c[Status.UNCHANGED]} unchanged, "
            f"{c[Status.CONFLICT]} conflicts, {c[Status.FAILED]} failed, {c[Status.SKIPPED]} skipped{twins} "
            f"in {self.elapsed:.1f} s{rate}"
        )

    def as_dict(self):
        return {
            **{str(status): self.counts[status] for status in Status},
            "twins": self.twins,
            "elapsed_seconds": round(self.elapsed, 3),
            "posts_per_second": round(self.posts_per_second, 1),
        }


class JsonReport:
    """Writes every outcome to a JSON file as it happens, so a long run's report never sits in memory.

    The file is `{"files": [...], "summary": {...}, "status": "complete"}`; a run stopped by an error or
    Ctrl-C still gets one, with `"status": "interrupted"` and the error. It is written to a temporary
    file beside `path` and renamed over it when closed, so `path` only ever holds a whole report.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        if os.path.isdir(self.path):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", self.path)
        directory = os.path.dirname(self.path) or "."
        descriptor, self.temporary = tempfile.mkstemp(prefix=f".{os.path.basename(self.path)}.", dir=directory)
        self.stream = open(descriptor, "w", encoding="utf-8")  # noqa: SIM115 (close or discard closes it)
        self.summary = Summary()
        self.first = True
        self.stream.write('{"files": [\n')

    def add(self, outcome):
        self.summary.add(outcome)
        if not self.first:
            self.stream.write(",\n")
        self.first = False
        self.stream.write(json.dumps(outcome.as_dict(), ensure_ascii=False))

    def close(self, *, interrupted_by=None):
        """Finish the report and put it in place; `interrupted_by` is the exception that stopped the run."""
        ending = {"summary": self.summary.finish().as_dict()}
        ending["status"] = "complete" if interrupted_by is None else "interrupted"
        if interrupted_by is not None:
            ending["error"] = f"{type(interrupted_by).__name__}: {interrupted_by}".removesuffix(": ")
        # The outcomes' list is closed, then the ending object's members follow it in the same object.
        self.stream.write("\n],\n" + json.dumps(ending, ensure_ascii=False).removeprefix("{") + "\n")
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        os.replace(self.temporary, self.path)

    def discard(self):
        """Remove the temporary file of a report that cannot be finished."""
        self.stream.close()
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.temporary)
