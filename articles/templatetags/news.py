"""Template helpers for the reader pages, on the reading layer: the category menu, links
({% site_url %}), absolute URLs, dates and schema.org data."""

import json
import unicodedata

from django import template
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles.qrcodes import qr_svg
from articles.reading import MENU_SECONDS, absolute_url, site_state, site_url

register = template.Library()

# As json_script escapes: nothing in the data can close the <script> element.
JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def category_nav(context, current=None):
    """The site header's category menu; `current` (a category id, or "home") is marked as the page.

    The menu is on every page, so it is rendered once per menu and current item and then costs one
    cache lookup: a simple tag rather than an inclusion tag, whose template would be set up again
    on every page even when its content comes from the cache.
    """
    state = site_state(context.get("request"))
    # Not {% cache %}: the menu's split (split_menu) is worked out here, and its key is what it shows.
    key = f"category-nav:{state.menu_key}:{current}"
    html = cache.get(key)
    if html is None:
        shown, more = split_menu(state.categories)
        context = {
            "categories": state.categories,
            "more": more,
            "more_from": len(shown),
            "current": current,
            "current_in_more": any(category.pk == current for category in more),
        }
        html = render_to_string("articles/_category_nav.html", context)
        cache.set(key, html, MENU_SECONDS)
    return html


# How much of the desktop menu's row category links may fill, in em of their text: the row is the
# page's width (72rem) less its padding, "首页" and "更多". Links past it go in the "更多" menu, so
# 30 categories make one row rather than three.
MENU_ROW_EM = 62
# A link's padding and the gap after it, in em of its text.
MENU_LINK_PADDING_EM = 1.6


def menu_link_em(name):
    """About how wide a menu link for `name` is, in em: Chinese (wide) characters take one em, others
    about half, as in the site's fonts."""
    return MENU_LINK_PADDING_EM + sum(1 if unicodedata.east_asian_width(char) in "WF" else 0.55 for char in name)


def split_menu(categories):
    """(the categories that fit the desktop menu's row, in order; the rest, for its "更多" menu)."""
    used = 0
    for index, category in enumerate(categories):
        used += menu_link_em(category.name)
        if used > MENU_ROW_EM:
            return categories[:index], categories[index:]
    return categories, []


@register.simple_tag(name="site_url")
def site_url_tag(name, *args, **kwargs):
    """The reader templates' {% url %}: the same arguments, reversed once per process (reading.site_url).
    Reader templates use it for every route; {% url %} costs a full reverse() on each call."""
    return site_url(name, *args, **kwargs)


@register.filter
def absolute(path):
    """`path` on the site's public address (SITE_URL), for canonical links, Open Graph and JSON-LD."""
    return absolute_url(path)


@register.filter
def short_time(moment):
    """`moment` in site time as `12-01 09:00` within the current year (site time), else with the year."""
    local = timezone.localtime(moment)
    return format_date(local, "m-d H:i" if local.year == timezone.localtime().year else "Y-m-d H:i")


@register.simple_tag
def news_article_jsonld(post, image=""):
    """schema.org NewsArticle data for `post` (with `image`, a URL, when it has one) as a
    <script type="application/ld+json"> element."""
    url = absolute(post.get_absolute_url())
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": post.title[:110],
        "datePublished": post.published_at.isoformat(),
        "dateModified": post.modified_at.isoformat(),
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "articleSection": post.category.name,
        "keywords": [tag.name for tag in post.tags.all()],
        "inLanguage": "zh-CN",
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": absolute("/")},
    }
    if post.summary:
        data["description"] = post.summary
    if post.source:
        data["author"] = {"@type": "Organization", "name": post.source.name}
    if image:
        data["image"] = [absolute(image)]
    text = json.dumps(data, ensure_ascii=False).translate(JSON_SCRIPT_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))


@register.filter
def qr_code(url):
    """The QR code of `url` as inline SVG (articles.qrcodes: drawn once per link, then cached)."""
    return qr_svg(url)


@register.simple_tag(takes_context=True)
def breaking_banner(context):
    """The breaking-news banner on every reader page, from the site state (no query of its own): a link to
    the post while its flag runs, else an empty, hidden banner that the new-posts poll can fill."""
    breaking = site_state(context.get("request")).breaking
    if breaking is None or breaking.until <= timezone.now():
        return mark_safe(
            '<div class="breaking" id="breaking-news" hidden><div class="wrap">'
            '<strong class="breaking-label">快讯</strong><a class="breaking-link" href=""></a></div></div>'
        )
    return format_html(
        '<div class="breaking" id="breaking-news"><div class="wrap">'
        '<strong class="breaking-label">快讯</strong><a class="breaking-link" href="{}">{}</a></div></div>',
        breaking.url,
        breaking.title,
    )
