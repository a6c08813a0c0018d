"""Admin logins are throttled by django-axes: too many failures lock out a username from an address."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
LOGIN = reverse("admin:login")


@pytest.fixture
def user(django_user_model, settings):
    # A fast hasher: these tests log in a dozen times.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_superuser("desk", "desk@example.com", PASSWORD)


def log_in(client, password, address="203.0.113.7", username="desk"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, REMOTE_ADDR=address)


def test_failed_logins_up_to_the_limit_lock_out_that_username_from_that_address(client, user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200  # the login form again, with its error

    locked = log_in(client, "wrong")

    assert locked.status_code == 429
    html = locked.content.decode()
    assert f"登录失败已达 {settings.AXES_FAILURE_LIMIT} 次" in html
    assert "暂停 15 分钟" in html
    # Now even the right password is refused, and nobody is logged in.
    refused = log_in(client, PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_leaves_the_same_username_free_from_another_address(client, user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong", address="203.0.113.7")

    response = log_in(client, PASSWORD, address="198.51.100.20")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_a_correct_login_before_the_limit_succeeds_and_starts_the_count_again(client, user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(client, "wrong")

    assert log_in(client, PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "wrong").status_code == 200
    assert log_in(client, PASSWORD).status_code == 302


def test_failures_are_recorded_without_the_password(client, user):
    log_in(client, "hunter2-wrong")

    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == ("desk", "203.0.113.7", 1)
    assert "hunter2-wrong" not in attempt.post_data


def test_test_client_logins_are_not_throttled(client, user):
    # client.login() authenticates without a request, force_login() without a password: neither is a
    # login attempt from the web, and both keep working for the rest of the suite.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "wrong")

    assert client.login(username="desk", password=PASSWORD)
    assert client.get("/admin/").status_code == 200
    client.logout()
    client.force_login(user)
    assert client.get("/admin/").status_code == 200
