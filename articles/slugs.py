"""Slugs: Chinese text in pinyin, and the next free slug of a model."""

from django.utils.text import slugify


def pinyin_slug(text, max_length=80):
    """An ASCII slug for Chinese text: `商汤复工` → `shang-tang-fu-gong`."""
    # Imported here: pypinyin's dictionaries take 55 MB, which processes that never make a slug
    # (import parse workers, most web requests) need not carry.
    from pypinyin import lazy_pinyin

    return slugify(" ".join(lazy_pinyin(text)))[:max_length].strip("-")


def unique_slug(model, base, exclude_pk=None):
    """`base`, or `base-2`, `base-3`… whichever `model` does not use yet."""
    base = base[:190]
    existing = model.objects.filter(slug__startswith=base)
    if exclude_pk:
        existing = existing.exclude(pk=exclude_pk)
    taken = set(existing.values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
