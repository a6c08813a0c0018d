from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from articles.tasks import SEARCH_JOB_SIZE, rebuild_search


class Command(BaseCommand):
    help = (
        "Queue jobs that write every post's search document again: after a change of the tokeniser "
        "(articles/search_text.py), or to repair documents. Posts stay searchable meanwhile, by their old "
        "documents. Without CELERY_BROKER_URL the jobs run here, one after another."
    )

    def add_arguments(self, parser):
        parser.add_argument("--job-size", type=int, default=SEARCH_JOB_SIZE, help=f"posts per job ({SEARCH_JOB_SIZE})")

    def handle(self, *args, job_size, **options):
        if job_size < 1:
            raise CommandError("--job-size must be at least 1")
        posts, jobs = rebuild_search(job_size=job_size)
        where = "written in this process" if settings.CELERY_TASK_ALWAYS_EAGER else "queued for the workers"
        self.stdout.write(self.style.SUCCESS(f"{posts} posts in {jobs} jobs {where}"))
