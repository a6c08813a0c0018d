from django.core.management.base import BaseCommand

from articles.models import Stock


class Command(BaseCommand):
    help = (
        "Delete stocks that no post charts or mentions (left behind when a chart row or a body changed); "
        "with --dry-run, only list them."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list the orphan stocks, delete nothing")

    def handle(self, *args, dry_run, verbosity, **options):
        orphans = Stock.objects.orphans()
        if dry_run:
            stocks = list(orphans)
            if verbosity > 0:
                for stock in stocks:
                    self.stdout.write(f"{stock.symbol}\t{stock}")
            self.stdout.write(f"{len(stocks)} orphan stocks would be deleted (dry run; nothing deleted)")
            return
        deleted = Stock.objects.delete_orphans()
        self.stdout.write(self.style.SUCCESS(f"{deleted} orphan stocks deleted"))
