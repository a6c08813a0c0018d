import os
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from articles.importer import Status, import_posts
from articles.importer.files import check_path
from articles.importer.importing import DEFAULT_BATCH_SIZE
from articles.importer.report import JsonReport

# Skipped files named in the normal output; the report and -v 2 name them all.
SKIPPED_SHOWN = 20


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
        if problems := [f"{printable(path)}: {problem}" for path in paths if (problem := check_path(path))]:
            raise CommandError(f"cannot import {'; '.join(problems)}")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if workers < 0:
            raise CommandError("--workers cannot be negative")
        self.verbosity = verbosity
        self.not_posts = 0
        try:
            self.json_report = JsonReport(report) if report else None
        except OSError as error:
            raise CommandError(f"cannot write the report {report}: {error.strerror or error}") from None
        try:
            # A progress bar only for a person watching a terminal; logs and pipes get the messages alone.
            with tqdm(unit=" files", disable=not sys.stderr.isatty() or verbosity == 0, file=sys.stderr) as bar:
                self.progress = bar
                summary = import_posts(
                    paths,
                    batch_size=batch_size,
                    workers=workers,
                    dry_run=dry_run,
                    overwrite_edited=overwrite_edited,
                    force=force,
                    on_outcome=self.report_outcome,
                )
        except BaseException as error:
            # The report says what was done before the run stopped, whatever stopped it.
            self.close_report(interrupted_by=error)
            if isinstance(error, KeyboardInterrupt):
                where = f"; {report} says what was done" if report else ""
                raise CommandError(f"interrupted{where}", returncode=130) from None
            raise
        self.close_report()
        self.finish(summary, dry_run, report, paths)

    def finish(self, summary, dry_run, report, paths):
        failed = summary.counts[Status.FAILED]
        hidden = self.not_posts - SKIPPED_SHOWN
        if hidden > 0 and self.verbosity == 1:
            self.message(f"… and {hidden:,} more skipped" + (f"; {report} names them all" if report else ""))
        line = ("Dry run, nothing written: " if dry_run else "") + summary.line()
        self.stdout.write(self.style.ERROR(line) if failed else self.style.SUCCESS(line))
        if summary.total == self.not_posts:
            self.stderr.write(
                self.style.WARNING(
                    f"No post files found in {', '.join(map(printable, paths))}: posts are named "
                    "YYYY-MM-DD-<id>.md (or -<id>.md) and are regular files."
                )
            )
            raise CommandError("nothing to import", returncode=1)
        if failed:
            where = f"the messages above and {report}" if report else "the messages above"
            raise CommandError(f"{failed} file(s) could not be imported; see {where}", returncode=1)

    def close_report(self, interrupted_by=None):
        if not self.json_report:
            return
        try:
            self.json_report.close(interrupted_by=interrupted_by)
        except OSError as error:
            self.json_report.discard()
            raise CommandError(f"cannot write the report: {error.strerror or error}") from None

    def report_outcome(self, outcome):
        self.progress.update()
        if self.json_report:
            self.json_report.add(outcome)
        path = printable(outcome.path)
        if outcome.status == Status.SKIPPED and not outcome.key:
            self.not_posts += 1
            if self.verbosity >= 2 or (self.verbosity == 1 and self.not_posts <= SKIPPED_SHOWN):
                self.message(f"{path}: skipped, {outcome.reason}")
        elif outcome.status == Status.FAILED:
            self.message(self.style.ERROR(f"{path}: {outcome.reason}"))
        elif outcome.status in (Status.CONFLICT, Status.SKIPPED):
            self.message(self.style.WARNING(f"{path}: {outcome.reason}"))
        elif self.verbosity >= 2:
            self.message(f"{path}: {outcome.status}")
        if self.verbosity >= 1:
            for warning in outcome.warnings:
                self.message(self.style.NOTICE(f"{path}: {warning}"))

    def message(self, text):
        if self.progress.disable:
            self.stderr.write(text)
        else:
            self.progress.write(text, file=sys.stderr)


def printable(text):
    """A path as it may be printed to a terminal: control characters (escape sequences) shown escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
