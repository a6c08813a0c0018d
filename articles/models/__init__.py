"""The news data model, one module per concept:

- `posts`: Post (what readers may see is `Post.objects.published()`) and its tags;
- `categories`, `sources`: the site's sections and the publishers posts come from;
- `stocks`: stocks and boards, and the stock charts posts embed;
- `files`: the original files posts were imported from;
- `imports`: archives editors upload in the admin, imported by the job queue;
- `apikeys`: keys for the JSON API (the crawler's ingest);
- `curation`: old slugs of renamed posts and reads per hour (most read).
"""

from articles.symbols import Market

from .apikeys import APIKey
from .categories import Category, CategoryQuerySet, category_slug_key
from .curation import OldSlug, ViewCount
from .files import OriginalFile
from .imports import ImportRun
from .posts import PinnedPost, Post, PostQuerySet, TaggedPost
from .sources import Source
from .stocks import STOCK_SHORTCODE, Stock, StockChart, StockQuerySet, shortcode_chart

__all__ = [
    "STOCK_SHORTCODE",
    "APIKey",
    "Category",
    "CategoryQuerySet",
    "ImportRun",
    "Market",
    "OldSlug",
    "OriginalFile",
    "PinnedPost",
    "Post",
    "PostQuerySet",
    "Source",
    "Stock",
    "StockChart",
    "StockQuerySet",
    "TaggedPost",
    "ViewCount",
    "category_slug_key",
    "shortcode_chart",
]
