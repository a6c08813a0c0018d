from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from articles.tasks import BACKFILL_JOB_SIZE, backfill_images


class Command(BaseCommand):
    help = (
        "Queue image jobs (renditions, Open Graph crop, share card) for every post whose files are missing "
        "or out of date, newest first: the posts an import left to this command, or all after a design change "
        "of the cards. Run again at will: posts that are done are skipped. Without CELERY_BROKER_URL the jobs "
        "run here, one after another (about 50 ms a card)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--job-size", type=int, default=BACKFILL_JOB_SIZE, help=f"posts per job ({BACKFILL_JOB_SIZE})"
        )

    def handle(self, *args, job_size, **options):
        if job_size < 1:
            raise CommandError("--job-size must be at least 1")
        posts, jobs = backfill_images(job_size=job_size)
        where = "made in this process" if settings.CELERY_TASK_ALWAYS_EAGER else "queued for the workers"
        self.stdout.write(self.style.SUCCESS(f"{posts} posts in {jobs} jobs {where}"))
