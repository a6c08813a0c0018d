"""Values every page rendered with a request may use."""

from django.conf import settings


def site(request):
    """The site's name (SITE_NAME), whole for titles and metadata, and split at its first space
    into the masthead's name and tagline ("finews" and "财经新闻")."""
    brand, _, tagline = settings.SITE_NAME.partition(" ")
    return {"site_name": settings.SITE_NAME, "site_brand": brand, "site_tagline": tagline}
