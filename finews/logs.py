"""Logging helpers that settings.LOGGING names."""

import logging


class WithoutTraceback(logging.Filter):
    """Keeps a record's message line and drops its traceback: for errors anyone can cause as often
    as they like, whose traceback says nothing (a request with a Host header the site does not
    serve), so they cannot flood the log."""

    def filter(self, record):
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
