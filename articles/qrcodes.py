"""QR codes of share links, drawn as inline SVG for the article's "微信扫一扫" box: WeChat readers share
a page by scanning it, as EastMoney's article pages let them."""

import hashlib

import segno
from django.core.cache import cache
from django.utils.safestring import mark_safe

# A code depends only on its link, which does not change: drawn once, then kept for a month.
QR_SECONDS = 30 * 24 * 3600
# The light background is drawn, so the code scans on a dark page or on paper alike; its size is CSS's.
SVG_OPTIONS = {
    "scale": 1,
    "border": 2,
    "dark": "#000",
    "light": "#fff",
    "title": "微信扫一扫",
    "svgclass": "qr",
    "lineclass": None,
    "omitsize": True,
}


def qr_svg(url):
    """The QR code of `url` as an inline <svg> (class "qr"), drawn once per link and cached.

    Error correction M survives a smudged print or a phone screen's glare.
    """
    key = "share-qr:" + hashlib.sha256(url.encode()).hexdigest()
    svg = cache.get(key)
    if svg is None:
        svg = segno.make(url, error="m", micro=False).svg_inline(**SVG_OPTIONS)
        cache.set(key, svg, QR_SECONDS)
    return mark_safe(svg)
