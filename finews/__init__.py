"""The finews project: settings, URLs and the WSGI/ASGI entry points."""

import sys

# Loaded with Django, so that jobs queued from web requests and commands use finews's Celery settings.
from .celery import app as celery_app

__all__ = ["celery_app", "load_settings_or_exit"]


def load_settings_or_exit(status=1):
    """Read the settings now; a missing or invalid variable ends the process with one line on stderr.

    The settings raise ImproperlyConfigured naming the variable. Met later, inside Django's start-up,
    that would be a long traceback that buries the one line an operator needs.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018 (reading one setting loads them all)
    except ImproperlyConfigured as error:
        print(f"finews: {error}", file=sys.stderr)
        sys.exit(status)
