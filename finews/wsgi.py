"""WSGI entry point, used by gunicorn in production."""

import os

from django.core.wsgi import get_wsgi_application

from finews import load_settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "finews.settings")
# Exit status 4 is gunicorn's "app failed to load": it stops instead of restarting workers forever.
load_settings_or_exit(status=4)

application = get_wsgi_application()
