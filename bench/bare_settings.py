"""Settings for `make bench-web`: the production settings, with bare_urls adding the Django reference page."""

from finews.settings import *  # noqa: F403

ROOT_URLCONF = "bare_urls"
