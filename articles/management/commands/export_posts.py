import time

from django.core.management.base import BaseCommand, CommandError

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
        self.skipped = 0
        try:
            count = export_posts(directory, on_skipped=self.report_skipped)
        except OSError as error:
            where = error.filename or directory
            raise CommandError(f"cannot write to {where}: {error.strerror or error}") from None
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"{count} posts exported to {directory} in {elapsed:.1f} s"))
        if self.skipped:
            raise CommandError(f"{self.skipped} post(s) could not be exported; see the messages above", returncode=1)

    def report_skipped(self, post, reason):
        self.skipped += 1
        self.stderr.write(self.style.ERROR(f"post #{post.pk} «{post.title}»: {reason}; skipped"))
