"""Template helpers for the reader pages: the category menu, absolute URLs and schema.org data."""

import json

from django import template
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles.views import fixed_url, site_state

register = template.Library()

# The menu's cache key names everything it shows (SiteState.menu_key), so a cached menu is never
# stale; this only bounds how long one nobody asks for any more lingers.
MENU_SECONDS = 600

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
    key = f"category-nav:{state.menu_key}:{current}"
    html = cache.get(key)
    if html is None:
        html = render_to_string("articles/_category_nav.html", {"categories": state.categories, "current": current})
        cache.set(key, html, MENU_SECONDS)
    return html


@register.simple_tag
def site_url(name, **kwargs):
    """{% url %} for links every page repeats, reversed once per process (views.fixed_url)."""
    return fixed_url(name, **kwargs)


@register.filter
def absolute(path):
    """`path` on the site's public address (SITE_URL), for canonical links, Open Graph and JSON-LD."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return f"{settings.SITE_URL}{path}"


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
        "dateModified": post.updated_at.isoformat(),
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
