"""The news data model, one module per concept:

- `posts`: Post (what readers may see is `Post.objects.published()`) and its tags;
- `categories`, `sources`: the site's sections and the publishers posts come from;
- `stocks`: stocks and boards, and the stock charts posts embed;
- `files`: the original files posts were imported from;
- `imports`: archives editors upload in the admin, imported by the job queue;
- `apikeys`: keys for the JSON API (the crawler's ingest).
"""

from articles.symbols import Market

from .apikeys import APIKey
from .categories import Category, CategoryQuerySet, category_slug_key
from .files import OriginalFile
from .imports import ImportRun
from .posts import Post, PostQuerySet, TaggedPost
from .sources import Source
from .stocks import STOCK_SHORTCODE, Stock, StockChart, StockQuerySet, shortcode_chart

__all__ = [
    "STOCK_SHORTCODE",
    "APIKey",
    "Category",
    "CategoryQuerySet",
    "ImportRun",
    "Market",
    "OriginalFile",
    "Post",
    "PostQuerySet",
    "Source",
    "Stock",
    "StockChart",
    "StockQuerySet",
    "TaggedPost",
    "category_slug_key",
    "shortcode_chart",
]
