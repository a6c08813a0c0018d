"""The article's "微信扫一扫" QR code: its share link as inline SVG, drawn once per link."""

import pytest
import segno

from articles import qrcodes

pytestmark = pytest.mark.django_db


def test_article_shows_its_share_links_qr_code_as_inline_svg(client, published_post):
    html = client.get(published_post.get_absolute_url()).content.decode()

    assert '<figure class="qr-code" id="wechat-qr">' in html
    assert '<svg viewBox="0 0' in html and 'class="qr"' in html and "<title>微信扫一扫</title>" in html
    assert 'aria-controls="wechat-qr"' in html


def test_the_code_spells_the_share_link(published_post):
    link = "http://127.0.0.1:8000/html_News/NewsShare.html?infoCode=NW202205252391453833"

    svg = str(qrcodes.qr_svg(link))

    # segno decodes nothing; a code of the same link with the same options is the same drawing.
    assert svg == segno.make(link, error="m", micro=False).svg_inline(**qrcodes.SVG_OPTIONS)
    assert svg != segno.make(link + "x", error="m", micro=False).svg_inline(**qrcodes.SVG_OPTIONS)


def test_a_post_without_info_code_gets_the_code_of_its_own_address(client, make_post):
    post = make_post(title="没有资讯编号")
    address = f"http://127.0.0.1:8000{post.get_absolute_url()}"

    html = client.get(post.get_absolute_url()).content.decode()

    assert str(qrcodes.qr_svg(address)) in html


def test_the_code_is_drawn_once_per_link_and_then_cached(monkeypatch):
    drawn = []
    make = segno.make
    monkeypatch.setattr(qrcodes.segno, "make", lambda *args, **kwargs: drawn.append(args) or make(*args, **kwargs))

    first = qrcodes.qr_svg("https://news.example.com/news/nw1/")
    again = qrcodes.qr_svg("https://news.example.com/news/nw1/")
    qrcodes.qr_svg("https://news.example.com/news/nw2/")

    assert first == again
    assert len(drawn) == 2
