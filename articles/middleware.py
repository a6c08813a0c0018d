"""Middleware between the web and every page: input no page can answer is turned away before a
view or a query sees it, a database outage is a designed 503 rather than a bare 500, and a reader page
this process has answered before is answered again before the rest of the middleware and the view run.

The outage middleware sits above the page cache's, so cached pages keep being served while the
database is away.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render
from django.template.loader import render_to_string

from . import reading
from .context_processors import site

logger = logging.getLogger(__name__)

# What a reader's browser is told to wait before trying again during an outage; the 503 page
# reloads itself after the same time, so a reader who keeps the tab open gets the page back.
RETRY_AFTER_SECONDS = 30


def unstorable(text):
    """Whether `text` holds a character no database text column can hold (NUL: PostgreSQL refuses
    it outright), so no slug, key, code or search word spelled with it can match anything."""
    return "\x00" in text


INVALID_CHARACTERS = "链接中含有无效字符。"


class RejectUnstorableInputMiddleware:
    """A 400 for a path, query string or cookie holding NUL (`%00`, or `\\000` in a quoted cookie):
    no row can match it, and PostgreSQL would answer any query holding it (a session key's
    included) with an error. One place, so every route and parameter is covered, those added later
    too. Form fields are checked by the forms (Django's ProhibitNullCharactersValidator)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        parameters = [*request.GET.lists(), *((name, [value]) for name, value in request.COOKIES.items())]
        if unstorable(request.path_info) or any(
            unstorable(key) or any(unstorable(value) for value in values) for key, values in parameters
        ):
            # A 400 is logged by Django's request logger in one line, with the path. Apps and the
            # crawler read JSON under /api/v1/ (the API's error shape), readers the designed page.
            if request.path_info.startswith("/api/v1/"):
                return JsonResponse({"detail": INVALID_CHARACTERS}, status=400)
            return render(request, "400.html", {"message": INVALID_CHARACTERS}, status=400)
        return self.get_response(request)


def outage_response(request):
    """The 503 page for a database outage: standalone (it needs no database), with Retry-After, and
    never kept by a browser or a shared cache."""
    context = {**site(request), "retry_after": RETRY_AFTER_SECONDS, "retry_url": request.get_full_path()}
    response = HttpResponse(render_to_string("503.html", context), status=503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def is_outage(error):
    """Whether `error` means the database cannot be reached or the connection was lost (refused,
    reset, terminated, no free pooled connection), rather than a bug in a query."""
    return isinstance(error, OperationalError | InterfaceError)


class DatabaseOutageMiddleware:
    """A view that fails because the database is unreachable answers the 503 page, logged in one
    line rather than a traceback per request. Django closes a connection found unusable at the end
    of the request, so the first request after the database is back connects again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_outage(exception):
            return None
        logger.warning("Database unavailable, answered 503 for %s: %s", request.path, str(exception).strip())
        return outage_response(request)


class ReaderPageGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware for what every reader gets alike (the pages and API reads the page cache
    serves, marked X-Page-Cache), to clients that ask. Nothing else is compressed: the admin's pages, a
    signed-in reader's and the API's writes may hold a CSRF token or a user's data, which compression
    would let an attacker guess (BREACH)."""

    def process_response(self, request, response):
        if not response.has_header("X-Page-Cache"):
            return response
        return super().process_response(request, response)


class PageCacheMiddleware:
    """The page cache's fast path: an anonymous GET or HEAD of a page this process keeps
    (reading.local_pages) is answered here, while the page's versions are unchanged, with the
    headers the middleware below added when it was made (X-Frame-Options, the CSP), so the CSRF,
    auth, messages, CSP, history and axes middleware and the view do no work. What the view's
    decorator (reading.reader_page) stored or served from the shared cache is kept here on its way out.

    Below RejectUnstorableInputMiddleware (a NUL in a cookie is still a 400) and the CORS middleware
    (which adds its headers to a request with an Origin, answered here or not)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not reading.may_use_page_cache(request):
            return self.get_response(request)
        key = reading.page_key(request)
        response = reading.local_page(request, key)
        if response is None:
            response = self.get_response(request)
            reading.keep_local_page(request, key, response)
        return response
