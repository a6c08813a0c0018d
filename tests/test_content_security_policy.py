"""Every page sends a Content-Security-Policy: this site's scripts and styles only, images from here and
EastMoney's chart and image hosts, no plugins, no framing. The browser test proves pages still work under it."""

import pytest

from articles.validators import CHART_IMAGE_HOSTS

pytestmark = pytest.mark.django_db


def policy(response):
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", ["/", "/news/no-such-post/", "/admin/login/"])
def test_pages_allow_only_this_sites_scripts_and_styles_and_no_framing(client, path):
    directives = policy(client.get(path))

    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    # Style attributes only by the hash of their exact text (simple-history's one), nothing inline else.
    assert directives["style-src-attr"][0] == "'unsafe-hashes'"
    assert all(value.startswith("'sha256-") for value in directives["style-src-attr"][1:])
    values = [value for values in directives.values() for value in values]
    assert "'unsafe-inline'" not in values
    assert "'unsafe-eval'" not in values


def test_images_may_come_from_the_chart_hosts_and_eastmoneys_image_cdn(client, published_post):
    images = policy(client.get(published_post.get_absolute_url()))["img-src"]

    assert images[0] == "'self'"
    assert set(CHART_IMAGE_HOSTS) <= set(images)
    assert "*.dfcfw.com" in images
    assert len(images) == len(CHART_IMAGE_HOSTS) + 2
