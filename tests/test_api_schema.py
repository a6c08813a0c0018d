"""The API against its own OpenAPI document (schemathesis): on a small database, with generated requests
of every operation, valid and invalid, no answer is a 500 and every answer matches the document."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from articles.api import api
from articles.models import APIKey, Market

from .test_import_command import post_text

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = get_wsgi_application()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def keep_connection():
    """The WSGI handler closes the database connection after each request, which would end the test's
    transaction; Django's test client stops it from doing so in the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def small_site(settings, make_post, keep_connection):
    """A few posts with tags, a chart and a stock, and an ingest key; returns the key's secret."""
    # Schemathesis's WSGI client calls the site as localhost.
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    for n in range(3):
        post = make_post(title=f"港股异动 {n}", info_code=f"NW2022052623919217{n:02d}", tags=["港股"])
        post.charts.create(market=Market.HONG_KONG, code="00020")
        post.sync_stocks()
    key = APIKey(name="测试爬虫")
    secret = key.issue_token()
    key.save()
    return secret


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_matches_the_openapi_document(case, small_site):
    # Schemathesis's WSGI client asks for gzip, as requests does, but does not decode it as requests does;
    # gzipped reads are tested in test_page_cache.
    headers = {"Accept-Encoding": "identity"}
    if case.path == "/api/v1/ingest":
        headers["Authorization"] = f"Bearer {small_site}"
    case.call_and_validate(headers=headers, checks=CHECKS)


def test_ingest_examples_import_a_real_post_through_the_document(small_site, client):
    # The generated cases mostly fail to parse as posts: one real post checks the happy path's schema.
    operation = schema["/api/v1/ingest"]["POST"]
    case = operation.Case(body={"name": "2022-05-21-NW1.md", "text": post_text("NW1")}, media_type="application/json")

    response = case.call_and_validate(headers={"Authorization": f"Bearer {small_site}"}, checks=CHECKS)

    assert response.status_code == 200
