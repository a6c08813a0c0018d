"""The site's URLs plus `/bench/bare/`, the benchmark's Django reference.

It returns the saved article page from memory as an HttpResponse: no template, no query, the same
middleware. That is the ceiling Django itself sets on this machine.
"""

import os
from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.urls import include, path


@cache
def saved_page():
    return Path(os.environ["BENCH_SAVED_PAGE"]).read_bytes()


def bare(request):
    return HttpResponse(saved_page())


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("finews.urls")),
]
