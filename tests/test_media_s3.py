"""Media in an S3 bucket: a real S3 API server (moto's) on loopback, driven through the admin and the pages."""

import io
import json
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from articles.models import Post

from .image_files import image_bytes
from .post_form import post_form_data

pytestmark = pytest.mark.django_db

CDN = "media.example.cn"
CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    """The URL of an S3 API server on a free loopback port, for this module's tests."""
    moto_server = pytest.importorskip(
        "moto.server", reason="moto[server] is not installed (pip install -r requirements-dev.txt)"
    )
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings, request):
    """A fresh bucket that the site's media storage uses, configured as MEDIA_S3_* settings make it (with
    MEDIA_S3_CUSTOM_DOMAIN when the test is parametrized with `cdn`); returns a function listing its keys."""
    name = f"finews-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
        region_name=CREDENTIALS["region_name"],
    )
    client.create_bucket(Bucket=name)
    options = {**settings.MEDIA_S3_OPTIONS, **CREDENTIALS, "bucket_name": name, "endpoint_url": s3_endpoint}
    url_base = f"{s3_endpoint}/{name}"
    if getattr(request, "param", None) == "cdn":
        options["custom_domain"] = CDN
        url_base = f"https://{CDN}"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }

    def keys():
        return sorted(item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", []))

    keys.name, keys.client, keys.url_base = name, client, url_base
    return keys


def upload(size=(1600, 900), name="cover.png"):
    return SimpleUploadedFile(name, image_bytes(size, fmt="PNG"), content_type="image/png")


def add_post_through_the_admin(editor_client, category, django_capture_on_commit_callbacks, **fields):
    data = post_form_data(category=category, title="桶里的题图", status="published", lead_image=upload(), **fields)
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("admin:articles_post_add"), data)
    assert response.status_code == 302, response.text
    return Post.objects.get(title="桶里的题图")


@pytest.mark.parametrize("bucket", ["bucket", "cdn"], indirect=True)
def test_upload_through_the_admin_gets_renditions_in_the_bucket_and_the_page_links_them(
    bucket, editor_client, category, client, settings, django_capture_on_commit_callbacks
):
    post = add_post_through_the_admin(editor_client, category, django_capture_on_commit_callbacks)

    image = post.lead_image.name
    folder = f"renditions/{Path(image).with_suffix('')}"
    assert image.startswith("lead/") and image.endswith(".png")
    assert bucket() == sorted(
        [image, f"{folder}/og.jpg", *(f"{folder}/{w}.{ext}" for w in (320, 640, 1280) for ext in ("jpg", "webp"))]
    )
    assert not Path(settings.MEDIA_ROOT).exists()

    # A page view makes no request to the bucket: what exists is read from the post.
    storage = Post._meta.get_field("lead_image").storage
    requests = []
    storage.connection.meta.client.meta.events.register("before-call", lambda **call: requests.append(call))
    html = client.get(post.get_absolute_url()).text
    assert requests == []
    base = bucket.url_base
    assert (
        f'srcset="{base}/{folder}/320.webp 320w, {base}/{folder}/640.webp 640w, {base}/{folder}/1280.webp 1280w"'
        in html
    )
    assert f'<img src="{base}/{folder}/640.jpg"' in html
    assert f'<meta property="og:image" content="{base}/{folder}/og.jpg">' in html


def test_bucket_urls_serve_the_renditions(bucket, editor_client, category, django_capture_on_commit_callbacks):
    # Readers fetch media from the bucket directly: production gives it this policy (or a CDN in front).
    public_read = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket.name}/*"}
        ],
    }
    bucket.client.put_bucket_policy(Bucket=bucket.name, Policy=json.dumps(public_read))
    post = add_post_through_the_admin(editor_client, category, django_capture_on_commit_callbacks)

    for rendition in post.lead_picture.renditions:
        with urllib.request.urlopen(rendition.url, timeout=10) as response:
            served = Image.open(io.BytesIO(response.read()))
        assert served.size == (rendition.width, rendition.height)


def test_replacing_the_image_removes_its_renditions_from_the_bucket(
    bucket, editor_client, category, django_capture_on_commit_callbacks
):
    post = add_post_through_the_admin(editor_client, category, django_capture_on_commit_callbacks)
    old_image, old_files = post.lead_image.name, [name for name in bucket() if name.startswith("renditions/")]

    data = post_form_data(post, lead_image=upload((900, 600), name="second.png"))
    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("admin:articles_post_change", args=[post.pk]), data)
    assert response.status_code == 302

    post.refresh_from_db()
    keys = bucket()
    assert post.lead_image.name in keys and post.lead_picture.renditions[-1].width == 900
    assert not set(old_files) & set(keys)
    # The original stays, since earlier versions in the history point at it.
    assert old_image in keys


def test_deleting_the_post_removes_its_files_from_the_bucket(
    bucket, editor_client, category, django_capture_on_commit_callbacks
):
    post = add_post_through_the_admin(editor_client, category, django_capture_on_commit_callbacks)
    assert len(bucket()) == 8

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(reverse("admin:articles_post_delete", args=[post.pk]), {"post": "yes"})
    assert response.status_code == 302

    assert bucket() == []


def test_share_card_of_a_post_without_image_is_stored_in_the_bucket(bucket, make_post, run_image_job):
    post = make_post(title="没有题图的快讯")
    run_image_job(post)

    (card,) = bucket()
    assert card.startswith(f"cards/{post.pk}/") and card.endswith(".png")
    assert post.og_image_url == f"{bucket.url_base}/{card}"
    head = bucket.client.head_object(Bucket=bucket.name, Key=card)
    assert head["ContentType"] == "image/png" and head["CacheControl"] == "public, max-age=86400"


def test_two_uploads_with_one_name_do_not_overwrite_each_other(bucket, make_post):
    first, second = make_post(), make_post()
    first.lead_image.save("cover.png", ContentFile(image_bytes(fmt="PNG", color="red")), save=True)
    second.lead_image.save("cover.png", ContentFile(image_bytes(fmt="PNG", color="blue")), save=True)
    assert first.lead_image.name != second.lead_image.name
    assert len([key for key in bucket() if key.startswith("lead/")]) == 2
