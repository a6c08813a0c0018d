"""Sitemaps: `/sitemap.xml` indexes the sections below; `news` is the Google News sitemap of the last 48 hours.

Routes and cache policy are in articles/urls.py, on the reading layer like every reader page.

At a million posts the `posts` section runs to 20 files of at most 50,000 URLs; each file is a
primary-key range, so the last is as quick to build as the first (no OFFSET, no COUNT).
"""

import datetime
import math
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.db.models import Max
from django.utils import timezone
from django.utils.functional import cached_property
from taggit.models import Tag

from .models import Category, Post, Source, Stock
from .reading import SCOPES, site_url


class SiteUrlSitemap(Sitemap):
    """URLs on SITE_URL, like canonical links, whichever host the sitemap was fetched on."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class IdRangePaginator:
    """Pages of `queryset` by primary-key range: page n holds the rows with ids in ((n-1)·size, n·size]."""

    def __init__(self, queryset, per_page):
        self.queryset = queryset
        self.per_page = per_page

    @cached_property
    def num_pages(self):
        highest = Post.objects.aggregate(highest=Max("pk"))["highest"] or 0
        return max(1, math.ceil(highest / self.per_page))

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("页码须为整数") from None
        if not 1 <= number <= self.num_pages:
            raise EmptyPage("没有这一页")
        low = (number - 1) * self.per_page
        rows = self.queryset.filter(pk__gt=low, pk__lte=low + self.per_page).order_by("pk")
        return Page(list(rows), number, self)


class PostSitemap(SiteUrlSitemap):
    changefreq = "monthly"

    def items(self):
        # A twin's page names its canonical copy's (articles/stories.py): sitemaps list canonical pages only.
        return Post.objects.published().filter(twin_of__isnull=True).only("slug", "updated_at")

    @property
    def paginator(self):
        return IdRangePaginator(self.items(), self.limit)

    def lastmod(self, post):
        return post.updated_at

    def get_latest_lastmod(self):
        return Post.objects.published().aggregate(latest=Max("updated_at"))["latest"]


class NewsSitemap(SiteUrlSitemap):
    """Google News: posts of the last 48 hours, at most 1,000, with publication, date and title."""

    limit = 1000

    def items(self):
        since = timezone.now() - datetime.timedelta(hours=48)
        posts = Post.objects.published().filter(published_at__gte=since, twin_of__isnull=True)
        return posts.only("slug", "title", "published_at", "updated_at")[: self.limit]

    def lastmod(self, post):
        return post.updated_at

    def get_urls(self, page=1, site=None, protocol=None):
        urls = super().get_urls(page, site, protocol)
        for url in urls:
            url["news"] = True
        return urls


class CategorySitemap(SiteUrlSitemap):
    changefreq = "hourly"

    def items(self):
        return Category.objects.all()


class SourceSitemap(SiteUrlSitemap):
    changefreq = "daily"

    def items(self):
        return Source.objects.all()


class TagSitemap(SiteUrlSitemap):
    changefreq = "daily"

    def items(self):
        # A tag stored with an empty slug (a name of punctuation only, before validation) has no page.
        return Tag.objects.exclude(slug="").order_by("pk")

    def location(self, tag):
        return SCOPES["tag"].url(tag)


class StockSitemap(SiteUrlSitemap):
    changefreq = "daily"

    def items(self):
        return Stock.objects.all()


class PageSitemap(SiteUrlSitemap):
    changefreq = "always"

    def items(self):
        return ["articles:home", "articles:latest"]

    def location(self, name):
        return site_url(name)


SITEMAPS = {
    "news": NewsSitemap,
    "pages": PageSitemap,
    "categories": CategorySitemap,
    "posts": PostSitemap,
    "sources": SourceSitemap,
    "tags": TagSitemap,
    "stocks": StockSitemap,
}
