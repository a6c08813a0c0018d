"""Linking the copies of one story (articles/stories.py says what makes two posts one story).

The import links the posts each batch writes; `link_all` goes over posts stored before, for
`manage.py link_twins`.
"""

from django.db.models import Q
from django.utils import timezone

from articles.models import Post
from articles.stories import SAME_TEXT_WITHIN_SECONDS, body_digest, canonical_first, story_digits

FIELDS = ("pk", "key", "info_code", "source_id", "published_at", "body_digest", "twin_of_id")
# The letters info codes put before a story's digits (NW…, AN…).
CODE_PREFIXES = ("NW", "AN")


def link_twins(keys, digests, now):
    """Link the posts `keys` to the other copies of their stories: the same digits in their keys, or the
    same text (`digests`, key → stories.body_digest) published within two days. The canonical copy is the
    publisher's (stories.canonical_first); the others point at it, and their updated_at moves, so that
    their cached pages name it at once.

    Returns {key: (whether it is the canonical copy, the key of its twin)} for the keys that have one.
    One query finds them; none is made when no key has a story's digits and no text is long enough.
    """
    digits = {d for key in keys if (d := story_digits(key))}
    spellings = digits | {prefix + d for d in digits for prefix in CODE_PREFIXES}
    texts = {digests[key] for key in keys if digests.get(key)}
    if not spellings and not texts:
        return {}
    found = Post.objects.filter(Q(key__in=[*spellings, *keys]) | Q(info_code__in=spellings) | Q(body_digest__in=texts))
    rows = {post["pk"]: post for post in found.values(*FIELDS)}
    by_key = {post["key"]: post for post in rows.values()}
    # Each batch finds its own posts too: comparing every pair (same_story) would be quadratic in its size.
    by_digits, by_text = {}, {}
    for other in rows.values():
        for digits in {story_digits(other["key"]), story_digits(other["info_code"])} - {None}:
            by_digits.setdefault(digits, []).append(other)
        if other["body_digest"]:
            by_text.setdefault(other["body_digest"], []).append(other)
    links, named = {}, {}
    for key in keys:
        post = by_key.get(key)
        if post is None:
            continue
        same_keys_or_text = [*by_digits.get(story_digits(key), ()), *by_text.get(post["body_digest"], ())]
        candidates = {other["pk"]: other for other in same_keys_or_text if other["pk"] != post["pk"]}
        story = [post, *(other for other in candidates.values() if same_story(post, other))]
        if len(story) < 2:
            continue
        canonical, *twins = canonical_first(story)
        for twin in twins:
            links[twin["pk"]] = canonical["pk"]
        is_canonical = canonical["pk"] == post["pk"]
        named[key] = (is_canonical, twins[0]["key"] if is_canonical else canonical["key"])
    moved = {}
    for twin, canonical in links.items():
        if rows[twin]["twin_of_id"] != canonical:
            moved.setdefault(canonical, []).append(twin)
    for canonical, twins in moved.items():
        Post.objects.filter(pk__in=twins).update(twin_of_id=canonical, updated_at=now)
    if promoted := {c for c in links.values() if rows[c]["twin_of_id"] is not None}:
        Post.objects.filter(pk__in=promoted).update(twin_of=None, updated_at=now)
    return named


def same_story(post, other):
    """Whether two posts (rows of FIELDS) are copies of one story."""
    digits = story_digits(post["key"])
    if digits and digits in (story_digits(other["key"]), story_digits(other["info_code"])):
        return True
    return (
        bool(post["body_digest"])
        and post["body_digest"] == other["body_digest"]
        and abs((post["published_at"] - other["published_at"]).total_seconds()) <= SAME_TEXT_WITHIN_SECONDS
    )


def link_all(batch_size=1000, on_batch=None):
    """Digest the bodies of posts stored without one and link every story's copies, `batch_size` posts at a
    time in id order; returns how many posts were found to have a twin. `on_batch` is called with the
    number of posts each batch went over."""
    last, linked = 0, 0
    while True:
        posts = list(
            Post.objects.filter(pk__gt=last).order_by("pk").only("pk", "key", "body", "body_digest")[:batch_size]
        )
        if not posts:
            return linked
        stale = []
        for post in posts:
            digest = body_digest(post.body)
            if digest != post.body_digest:
                post.body_digest = digest
                stale.append(post)
        Post.objects.bulk_update(stale, ["body_digest"])
        keyed = [post for post in posts if post.key]
        linked += len(link_twins([p.key for p in keyed], {p.key: p.body_digest for p in keyed}, timezone.now()))
        last = posts[-1].pk
        if on_batch:
            on_batch(len(posts))
