from django.core.management.base import BaseCommand

from articles.importer.twins import link_all


class Command(BaseCommand):
    help = (
        "Find the stories stored twice among the posts already imported (the same digits in their keys, or "
        "the same text within two days) and link each copy to the publisher's post, as imports do from now on."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="posts per batch (1000)")

    def handle(self, *args, batch_size, verbosity, **options):
        done = 0

        def progress(count):
            nonlocal done
            done += count
            if verbosity > 1:
                self.stderr.write(f"{done} posts checked")

        linked = link_all(batch_size=batch_size, on_batch=progress)
        self.stdout.write(self.style.SUCCESS(f"{done} posts checked, {linked} of them copies of one story"))
