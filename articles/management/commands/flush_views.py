from django.core.management.base import BaseCommand

from articles.popularity import flush_views


class Command(BaseCommand):
    help = (
        "Write the article reads counted in the cache to the database and recompute the most-read rankings. "
        "`celery -A finews beat` runs this every VIEW_FLUSH_SECONDS; run it from cron where there is no beat."
    )

    def handle(self, *args, verbosity, **options):
        written = flush_views()
        if verbosity > 0:
            self.stdout.write(self.style.SUCCESS(f"{written} reads written"))
