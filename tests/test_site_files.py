"""Files browsers ask for at the site's root, served by whitenoise."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_favicon_ico_is_the_sites_icon_not_a_redirect_or_a_404(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = b"".join(response.streaming_content)
    assert body == (ROOT / "static" / "root" / "favicon.ico").read_bytes()
    assert body.startswith(b"\x00\x00\x01\x00")  # an ICO file's header
