import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.generator import write_post_files


class Command(BaseCommand):
    help = (
        "Write N synthetic Jekyll posts in every variant the old crawler produced (about 1% malformed on "
        "purpose) under DIR, for demo data and benchmarks. The same seed gives the same files."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR", help="where to write; created if missing")
        parser.add_argument("--count", type=int, default=1000, help="how many posts (1000)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (0)")

    def handle(self, *args, directory, count, seed, **options):
        if count < 0:
            raise CommandError("--count cannot be negative")
        if Path(directory).exists() and not Path(directory).is_dir():
            raise CommandError(f"{directory} is a file, not a directory")
        started = time.perf_counter()
        try:
            malformed = write_post_files(directory, count=count, seed=seed)
        except OSError as error:
            raise CommandError(f"cannot write posts under {directory}: {error.strerror or error}") from error
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{count} posts ({malformed} malformed on purpose) written to {directory} in {elapsed:.1f} s"
            )
        )
