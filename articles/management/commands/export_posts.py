import time

from django.core.management.base import BaseCommand

from articles.importer.exporting import export_posts


class Command(BaseCommand):
    help = (
        "Write every post as a Jekyll post (front matter, stock-chart blocks, source line, share link) "
        "under DIR/_posts/; import_posts reads them back to the same posts."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR", help="where to write; created if missing")

    def handle(self, *args, directory, **options):
        started = time.perf_counter()
        count = export_posts(directory)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"{count} posts exported to {directory} in {elapsed:.1f} s"))
