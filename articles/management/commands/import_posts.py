import contextlib
import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from articles.importer import Status, import_posts
from articles.importer.importing import DEFAULT_BATCH_SIZE
from articles.importer.report import JsonReport


class Command(BaseCommand):
    help = (
        "Import Jekyll posts from .md files, directory trees and .zip / .tar.gz archives. Re-running is safe: "
        "unchanged files are skipped, changed ones update their post unless an editor has changed it since."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help="a post file, a directory or an archive")
        parser.add_argument("--report", metavar="FILE.json", help="write every file's outcome and reason here")
        parser.add_argument("--dry-run", action="store_true", help="parse and check everything, write nothing")
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help=f"posts per transaction ({DEFAULT_BATCH_SIZE})"
        )
        parser.add_argument(
            "--overwrite-edited", action="store_true", help="replace posts edited in the admin since their import"
        )
        parser.add_argument("--force", action="store_true", help="re-parse and rewrite files that have not changed")
        parser.add_argument(
            "--workers",
            type=int,
            default=max(1, (os.cpu_count() or 1) - 1),
            help="processes that parse while this one writes; 0 parses here (default: CPUs - 1)",
        )

    def handle(self, *args, paths, report, dry_run, batch_size, overwrite_edited, force, workers, verbosity, **options):
        missing = [path for path in paths if not Path(path).exists()]
        if missing:
            raise CommandError(f"no such file or directory: {', '.join(missing)}")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if workers < 0:
            raise CommandError("--workers cannot be negative")
        self.verbosity = verbosity
        with contextlib.ExitStack() as stack:
            report_file = stack.enter_context(open(report, "w", encoding="utf-8")) if report else None
            self.json_report = JsonReport(report_file) if report_file else None
            # A progress bar only for a person watching a terminal; logs and pipes get the messages alone.
            self.progress = stack.enter_context(
                tqdm(unit=" files", disable=not sys.stderr.isatty() or verbosity == 0, file=sys.stderr)
            )
            summary = import_posts(
                paths,
                batch_size=batch_size,
                workers=workers,
                dry_run=dry_run,
                overwrite_edited=overwrite_edited,
                force=force,
                on_outcome=self.report_outcome,
            )
            if self.json_report:
                self.json_report.close(summary)
        failed = summary.counts[Status.FAILED]
        line = ("Dry run, nothing written: " if dry_run else "") + summary.line()
        self.stdout.write(self.style.ERROR(line) if failed else self.style.SUCCESS(line))
        if failed:
            where = f"the messages above and {report}" if report else "the messages above"
            raise CommandError(f"{failed} file(s) could not be imported; see {where}", returncode=1)

    def report_outcome(self, outcome):
        self.progress.update()
        if self.json_report:
            self.json_report.add(outcome)
        if outcome.status == Status.FAILED:
            self.message(self.style.ERROR(f"{outcome.path}: {outcome.reason}"))
        elif outcome.status == Status.CONFLICT or (outcome.status == Status.SKIPPED and outcome.key):
            self.message(self.style.WARNING(f"{outcome.path}: {outcome.reason}"))
        elif self.verbosity >= 2 and outcome.status != Status.SKIPPED:
            self.message(f"{outcome.path}: {outcome.status}")
        if self.verbosity >= 1:
            for warning in outcome.warnings:
                self.message(self.style.NOTICE(f"{outcome.path}: {warning}"))

    def message(self, text):
        if self.progress.disable:
            self.stderr.write(text)
        else:
            self.progress.write(text, file=sys.stderr)
