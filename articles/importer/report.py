"""What happened to each file, and the run's totals."""

import enum
import json
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

    def as_dict(self):
        return {
            "path": self.path,
            "status": str(self.status),
            "key": self.key,
            "reason": self.reason,
            "warnings": self.warnings,
        }


@dataclass
class Summary:
    """Counts per status and the elapsed time of a run."""

    counts: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)
    elapsed: float = 0.0

    def add(self, outcome):
        self.counts[outcome.status] += 1

    def finish(self):
        self.elapsed = time.perf_counter() - self.started
        return self

    @property
    def total(self):
        return sum(self.counts.values())

    @property
    def posts_per_second(self):
        return self.total / self.elapsed if self.elapsed else 0.0

    def line(self):
        """`N created, N updated, N unchanged, N conflicts, N failed, N skipped in 1.2 s (1,234 posts/s)`."""
        c = self.counts
        return (
            f"{c[Status.CREATED]} created, {c[Status.UPDATED]} updated, {c[Status.UNCHANGED]} unchanged, "
            f"{c[Status.CONFLICT]} conflicts, {c[Status.FAILED]} failed, {c[Status.SKIPPED]} skipped "
            f"in {self.elapsed:.1f} s ({self.posts_per_second:,.0f} posts/s)"
        )

    def as_dict(self):
        return {
            **{str(status): self.counts[status] for status in Status},
            "elapsed_seconds": round(self.elapsed, 3),
            "posts_per_second": round(self.posts_per_second, 1),
        }


class JsonReport:
    """Writes every outcome to a JSON file as it happens, so a long run's report never sits in memory.

    The file is `{"files": [...], "summary": {...}}`.
    """

    def __init__(self, stream):
        self.stream = stream
        self.first = True
        stream.write('{"files": [\n')

    def add(self, outcome):
        if not self.first:
            self.stream.write(",\n")
        self.first = False
        self.stream.write(json.dumps(outcome.as_dict(), ensure_ascii=False))

    def close(self, summary):
        self.stream.write('\n],\n"summary": ')
        self.stream.write(json.dumps(summary.as_dict()))
        self.stream.write("}\n")
