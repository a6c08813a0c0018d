"""The Celery application that runs finews's background jobs (articles/tasks.py).

Settings come from Django's, under the CELERY_ prefix (finews/settings.py). Start a worker with
`make worker`, which runs `celery -A finews worker`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finews.settings")

app = Celery("finews")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
