"""One story stored twice: how the importer recognises twins.

The old site often published a story twice, as a 东财滚动新闻 post under a numeric id
(`202205262391921712`) and as the publisher's post under `NW` + the same digits. The copy may have an
empty title or time, so twins are recognised by those digits or by the same text.
"""

import hashlib
import html
import re
import unicodedata

from django.utils.html import strip_tags

# A key made of a letter prefix (NW, AN, …) and the digits both copies share.
STORY_DIGITS = re.compile(r"[A-Za-z]{0,4}(\d{12,30})")
# A closing source line, `（证券时报）` or `（文章来源：证券时报）`: one copy of a story may keep it in its body.
CLOSING_SOURCE = re.compile(r"[（(][^（）()]{1,40}[）)]\s*$")
# Shorter texts ("沪指收涨") are too often the same words for different days' stories.
MIN_DIGEST_CHARACTERS = 40
# Two posts with the same text count as one story only when published this close together.
SAME_TEXT_WITHIN_SECONDS = 2 * 24 * 3600


def story_digits(key):
    """The digits a post's key shares with its twin's (`NW202205262391921712` → `202205262391921712`), or None."""
    match = STORY_DIGITS.fullmatch(key or "")
    return match[1] if match else None


def body_digest(body):
    """A digest of a body's words, letters and digits only (markup, spacing, punctuation and a closing
    source line aside), or "" for a text too short to tell one story from another."""
    text = CLOSING_SOURCE.sub("", html.unescape(strip_tags(body or "")).strip())
    kept = "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum())
    if len(kept) < MIN_DIGEST_CHARACTERS:
        return ""
    return hashlib.sha256(kept.encode()).hexdigest()


def canonical_first(posts):
    """`posts` (of one story) ordered with the canonical one first: the publisher's post (an info code, a
    lettered key), then the one with a source, then the oldest."""
    return sorted(
        posts,
        key=lambda post: (
            not post["info_code"],
            story_digits(post["key"]) == post["key"],
            post["source_id"] is None,
            post["pk"],
        ),
    )
