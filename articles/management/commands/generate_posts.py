import time

from django.core.management.base import BaseCommand, CommandError

from articles.importer.generating import generate_posts


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
        started = time.perf_counter()
        malformed = generate_posts(directory, count=count, seed=seed)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"{count} posts ({malformed} malformed on purpose) written to {directory} in {elapsed:.1f} s"
            )
        )
