# Loaded with Django, so that jobs queued from web requests and commands use finews's Celery settings.
from .celery import app as celery_app

__all__ = ["celery_app"]
