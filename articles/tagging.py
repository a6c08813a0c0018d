"""Tag names as editors type them, shared by the admin form and the importer."""

import unicodedata


def normalize_tag(name):
    """Fold full-width forms (`ＡＩ`, `（`) to their ordinary width and trim spaces."""
    return unicodedata.normalize("NFKC", name).strip()


def parse_tags(tagstring):
    """The tag names in a comma-separated string (TAGGIT_TAGS_FROM_STRING), sorted and without repeats.

    Commas alone separate tags — a full-width `，` folds to one — and spaces belong to the name, since
    Chinese tags such as `21世纪经济报道 21财经APP新闻` hold them. Quotes are ordinary characters.
    """
    return sorted({tag for part in normalize_tag(tagstring or "").split(",") if (tag := normalize_tag(part))})
