"""Login throttling with django-axes: the lockout check for logins over HTTP, and the lockout page."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import admin
from django.shortcuts import render


class FinewsAxesBackend(AxesStandaloneBackend):
    """Refuse a login attempt from a username and address that failed too often (see settings).

    Axes counts failures per request, so it refuses `authenticate()` calls made without one. Those
    come from code, not from a login form (the test client's `login()`, a shell session), and pass
    on to the next backend unthrottled.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_page(request, original_response=None, credentials=None):
    """What a locked-out login attempt gets: the admin's login page look, saying when to try again."""
    context = {
        **admin.site.each_context(request),
        "title": "登录已暂停",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "admin/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
