"""What may be stored, checked the same way wherever a value enters: model fields (so the admin and
`full_clean`), the importer, which writes with COPY and calls these itself, and the API.

Each validator raises ValidationError with a message an editor can act on.
"""

import datetime
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

# Publication times outside this range are typing or crawler mistakes (Go's zero time, year 9999),
# and years outside 1–9999 cannot even be read back by Python once PostgreSQL has stored them.
EARLIEST_PUBLICATION = datetime.datetime(1990, 1, 1, tzinfo=datetime.UTC)
LATEST_PUBLICATION = datetime.datetime(2101, 1, 1, tzinfo=datetime.UTC)

# Category slugs are the old site's URL keys and keep spaces, `·`, parentheses and case; they may
# not hold what cannot sit in one path segment of a URL, nor control characters.
CATEGORY_SLUG = re.compile(r"[^/\\?#%\x00-\x1f\x7f]+")
# Import keys name exported files (`2022-05-25-<key>.md`): no path separators or control characters.
POST_KEY = re.compile(r"[^/\\\x00-\x1f\x7f\s][^/\\\x00-\x1f\x7f]*")

# Where EastMoney serves chart images and quote pages: stored chart URLs must point there.
CHART_IMAGE_HOSTS = frozenset({"webquoteklinepic.eastmoney.com", "webquotepic.eastmoney.com"})
QUOTE_HOSTS = frozenset({"quote.eastmoney.com"})


def validate_publication_date(value):
    """A publication time between 1990 and 2100."""
    if value is not None and not EARLIEST_PUBLICATION <= value < LATEST_PUBLICATION:
        raise ValidationError(
            "发布时间须在 1990 年至 2100 年之间，而不是 %(value)s。", code="out_of_range", params={"value": value}
        )


def validate_category_slug(value):
    """One URL path segment: no `/`, `\\`, `?`, `#`, `%` or control characters, no surrounding spaces,
    not `.` or `..`."""
    if not CATEGORY_SLUG.fullmatch(value) or value != value.strip() or value in (".", ".."):
        raise ValidationError(
            "栏目 URL 标识不能为空，不能以空格开头或结尾，也不能含有 / \\ ? # %% 或控制字符：%(value)r",
            code="invalid_category_slug",
            params={"value": value},
        )


def validate_post_key(value):
    """An import key usable in a file name: no path separators, control characters or leading space."""
    if not POST_KEY.fullmatch(value) or value in (".", ".."):
        raise ValidationError(
            "导入键不能含有 / \\ 或控制字符，也不能以空格开头：%(value)r", code="invalid_key", params={"value": value}
        )


def is_allowed_url(url, hosts):
    """Whether `url` is http(s) on one of `hosts`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and (parts.hostname or "") in hosts


def validate_chart_image_url(value):
    if value and not is_allowed_url(value, CHART_IMAGE_HOSTS):
        raise ValidationError(
            "图表图片地址须为东方财富图表服务的 http(s) 地址（%(hosts)s）。",
            code="chart_host",
            params={"hosts": "、".join(sorted(CHART_IMAGE_HOSTS))},
        )


def validate_quote_url(value):
    if value and not is_allowed_url(value, QUOTE_HOSTS):
        raise ValidationError(
            "行情页地址须为东方财富行情页的 http(s) 地址（%(hosts)s）。",
            code="quote_host",
            params={"hosts": "、".join(sorted(QUOTE_HOSTS))},
        )
