"""Tag name normalisation shared by the admin form and the importer."""

import unicodedata

from taggit.utils import _parse_tags


def normalize_tag(name):
    """Fold full-width forms (`ＡＩ`, `（`) to their ordinary width and trim spaces."""
    return unicodedata.normalize("NFKC", name).strip()


def parse_tags(tagstring):
    """taggit's own parser, applied after width folding (TAGGIT_TAGS_FROM_STRING)."""
    return sorted({normalize_tag(tag) for tag in _parse_tags(tagstring or "") if normalize_tag(tag)})
