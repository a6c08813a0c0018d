"""Media storage and job-queue settings, as the environment sets them."""

import json

from .test_settings import assert_one_line, manage


def configured(name, **env):
    """A setting's value, as JSON, as a process started with `env` (and DEBUG on) sees it."""
    code = f"from django.conf import settings; import json; print(json.dumps(settings.{name}))"
    result = manage("shell", "--no-startup", "--verbosity", "0", "-c", code, DEBUG="1", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def image_sources(**env):
    return configured("CONTENT_SECURITY_POLICY", **env)["DIRECTIVES"]["img-src"]


def test_media_stay_on_local_disk_and_jobs_in_process_by_default():
    assert configured("STORAGES")["default"] == {"BACKEND": "articles.storage.AtomicFileSystemStorage"}
    assert configured("CELERY_TASK_ALWAYS_EAGER") is True


def test_a_bucket_puts_media_in_s3_with_public_unsigned_urls_and_no_overwrites():
    bucket = {
        "MEDIA_S3_BUCKET": "finews-media",
        "MEDIA_S3_ENDPOINT_URL": "https://s3.example.com",
        "MEDIA_S3_CUSTOM_DOMAIN": "media.example.com",
    }
    storage = configured("STORAGES", **bucket)["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["custom_domain"]) == (
        "finews-media",
        "https://s3.example.com",
        "media.example.com",
    )
    assert options["querystring_auth"] is False and options["file_overwrite"] is False


def test_pages_may_load_images_from_the_bucket_or_its_cdn():
    assert "https://media.example.com" in image_sources(MEDIA_S3_BUCKET="b", MEDIA_S3_CUSTOM_DOMAIN="media.example.com")
    assert {"https://s3.example.com", "https://b.s3.example.com"} <= set(
        image_sources(MEDIA_S3_BUCKET="b", MEDIA_S3_ENDPOINT_URL="https://s3.example.com")
    )
    assert {"https://b.s3.amazonaws.com", "https://b.s3.eu-west-1.amazonaws.com"} <= set(
        image_sources(MEDIA_S3_BUCKET="b", MEDIA_S3_REGION="eu-west-1")
    )
    assert not [source for source in image_sources() if "amazonaws" in source or "s3." in source]


def test_a_broker_sends_jobs_to_workers():
    broker = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/1"}
    assert configured("CELERY_TASK_ALWAYS_EAGER", **broker) is False
    assert configured("CELERY_BROKER_URL", **broker) == "redis://127.0.0.1:6379/1"


def test_malformed_media_settings_are_one_line_not_a_traceback():
    assert_one_line(
        manage("check", DEBUG="1", MEDIA_S3_ENDPOINT_URL="s3.example.com"),
        "MEDIA_S3_ENDPOINT_URL must be an http(s):// URL, not 's3.example.com'",
    )
    assert_one_line(
        manage("check", DEBUG="1", MEDIA_S3_CUSTOM_DOMAIN="https://cdn.example.com/"),
        "MEDIA_S3_CUSTOM_DOMAIN is a host name such as media.example.com, not 'https://cdn.example.com/'",
    )
