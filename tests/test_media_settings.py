"""Media storage and job-queue settings, as the environment sets them."""

import json

from .test_settings import manage

SHOW = (
    "from django.conf import settings; import json; "
    "print(json.dumps([settings.STORAGES['default'], settings.CELERY_TASK_ALWAYS_EAGER, settings.CELERY_BROKER_URL]))"
)


def configured(**env):
    result = manage("shell", "--no-imports", "-c", SHOW, DEBUG="1", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_media_stay_on_local_disk_and_jobs_in_process_by_default():
    storage, eager, _broker = configured()
    assert storage == {"BACKEND": "articles.storage.AtomicFileSystemStorage"}
    assert eager is True


def test_a_bucket_puts_media_in_s3_with_public_unsigned_urls_and_no_overwrites():
    storage, _eager, _broker = configured(
        MEDIA_S3_BUCKET="finews-media",
        MEDIA_S3_ENDPOINT_URL="https://s3.example.com",
        MEDIA_S3_CUSTOM_DOMAIN="media.example.com",
    )
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["custom_domain"]) == (
        "finews-media",
        "https://s3.example.com",
        "media.example.com",
    )
    assert options["querystring_auth"] is False and options["file_overwrite"] is False


def test_a_broker_sends_jobs_to_workers():
    _storage, eager, broker = configured(CELERY_BROKER_URL="redis://127.0.0.1:6379/1")
    assert (eager, broker) == (False, "redis://127.0.0.1:6379/1")


def test_malformed_media_settings_fail_loudly():
    for env, message in [
        ({"MEDIA_S3_ENDPOINT_URL": "s3.example.com"}, "MEDIA_S3_ENDPOINT_URL must be an http(s):// URL"),
        ({"MEDIA_S3_CUSTOM_DOMAIN": "https://cdn.example.com/"}, "MEDIA_S3_CUSTOM_DOMAIN is a host name"),
    ]:
        result = manage("check", DEBUG="1", **env)
        assert result.returncode != 0
        assert message in result.stderr
