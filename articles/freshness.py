"""Which cached reader pages are still true: versions of the site and of each scope, bumped by writes.

A cached page (articles.reading.reader_page) is stored with the versions of what it shows, and is
served only while each of them is unchanged. A change bumps the versions it affects, so the next
request for any page showing it is made again, and pages showing none of it stay cached:

- `all`, the generation: every page. Bumped by a category created, renamed or deleted (the menu), a
  source, tag or stock renamed or deleted (headlines name them), and `site_changed()`.
- `posts`: the home page, /news/, search, feeds, sitemaps, the new-posts poll and 404s. Bumped by
  any post saved, published, unpublished, deleted or imported.
- `post:<id>`: its article page and share link. Bumped by the post, its tags, stocks and charts.
- `ranking`: the pages showing the most read (home, articles, /hot/). Bumped when a flush of read
  counts changes a ranking (articles.popularity).
- `category:<id>`, `source:<id>`, `tag:<id>`, `stock:<id>`: its listing, and the articles that link
  its posts (neighbours in a category, related posts by stock or tag). Bumped by a post in it,
  before or after the change (a post moved out of a category changes that category too).

A version is the time of its last bump (and a random part), under its own key, kept twice as long as
a page may be: bumping one is one write, never a scan of keys. A change bumps at once and again when its
transaction commits; a page is not stored if a version it shows was bumped while it was being made,
so a page made from rows as they were before a commit is never kept. With read replicas, which may be
behind the primary, that holds for the most they can be behind (`replica_lag`): a page is not stored,
and what is cached under versions (the site state, fragments) is kept only until that has passed
(`keep_seconds`), so that what a replica read before it applied a change is read again after.

When CDN_PURGE_URL is set, each committed change also tells the CDN which URLs to purge (`purge_cdn`).

Nothing is written when a scheduled post's time arrives, or when a pin or a breaking-news flag runs
out, so the next such moment is kept too (NEXT_SCHEDULED_KEY): a cached page is not served at or
after it, and the first request then bumps the scopes of the posts that went live, and the whole
site when a pin or flag ran out (`catch_up`). Setting or clearing a breaking-news flag bumps the
generation: the banner is on every page.
"""

import datetime
import json
import logging
import math
import secrets
import time
import urllib.request

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Min, Q
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from .models import Category, Post, Source, Stock, StockChart, TaggedPost
from .routing import sticky_seconds

GENERATION = "all"
SITE = "posts"
RANKING = "ranking"
VERSION_PREFIX = "articles:version:"
NEXT_SCHEDULED_KEY = "articles:next-scheduled"
PURGE_TIMEOUT_SECONDS = 5

logger = logging.getLogger(__name__)


def scope(kind, pk):
    """The version name of one post, category, source, tag or stock: `category:3`."""
    return f"{kind}:{pk}"


def version_keys(names):
    return {VERSION_PREFIX + name: name for name in names}


def read_tracked(keys):
    """cache.get_many of small keys every page reads (versions, the ranking). On Redis (finews.cache) what
    this process read before comes from memory until Redis says it changed: no round trip."""
    return getattr(cache, "get_many_tracked", cache.get_many)(keys)


def versions(names):
    """{name: token} of the versions `names`, at most one cache round trip; a version not in the cache
    (never bumped, or evicted) gets a new token, so nothing cached before can match it."""
    keys = version_keys(names)
    found = read_tracked(list(keys))
    missing = {key: new_token(0.0) for key in keys if key not in found}
    if missing:
        cache.set_many(missing, timeout=version_seconds())
        found.update(missing)
    return {name: found[key] for key, name in keys.items()}


def key_part(names):
    """A cache-key part that changes whenever any of the versions `names` does, and when the newest of them
    was bumped (for keep_seconds)."""
    tokens = versions(names).values()
    return "-".join(token[1] for token in tokens), newest(tokens)


def newest(tokens):
    """When the newest of the version `tokens` was bumped (time.time())."""
    return max((token[0] for token in tokens), default=0.0)


def bumped_at(names):
    """When the newest of the versions `names` was bumped: one cache round trip."""
    return newest(versions(names).values())


def replica_lag():
    """The most what reader pages read can be behind the primary: with replicas, the most a usable one can
    be (articles/routing.py), else 0."""
    return sticky_seconds() if settings.DATABASE_REPLICAS else 0


def keep_seconds(seconds, changed_at):
    """How long what is read now may be cached under versions whose newest was bumped at `changed_at`:
    `seconds`, or, within replica_lag() of that bump, only until it has passed (0: not at all). Read from a
    replica then, it may show the rows as they were before the change, under the versions after it; read
    again afterwards, it cannot."""
    until = changed_at + replica_lag() - time.time()
    return seconds if until <= 0 else min(seconds, int(until))


def version_seconds():
    """How long a version is kept: longer than any page stored with it lives (PAGE_CACHE_SECONDS), so one
    that expired can hold no page; one per post ever shown would otherwise fill the cache."""
    return 2 * max(settings.PAGE_CACHE_SECONDS, 3600)


def new_token(moment=None):
    """A version: when it was bumped (0 for unknown) and a random part, so that two bumps differ."""
    return (time.time() if moment is None else moment, secrets.token_hex(4))


def changed_since(tokens, moment):
    """Whether any of the version `tokens` was bumped at or after `moment` (time.time())."""
    return any(token[0] >= moment for token in tokens)


def changed(*names):
    """Bump the versions `names` now and again when the current transaction commits."""
    names = frozenset(names)
    if not names:
        return
    # A save that cannot tell the cache fails rather than leave stale pages; once committed, a failure
    # to bump again is logged (robust): the first bump already made the pages again.
    bump(names, notify=False)
    transaction.on_commit(lambda: bump(names, notify=True), robust=True)


def bump(names, *, notify):
    cache.set_many({key: new_token() for key in version_keys(names)}, timeout=version_seconds())
    if notify and settings.CDN_PURGE_URL:
        purge_cdn(names)


def purge_cdn(names):
    """Tell the CDN (settings.CDN_PURGE_URL) which pages the versions `names` changed: one POST of JSON,
    {"urls": [absolute URLs]}, or {"all": true} for the generation. A CDN that does not answer is logged
    and left to expire its copies (SHARED_CACHE_SECONDS); the write has committed either way."""
    body = {"all": True} if GENERATION in names else {"urls": sorted(purge_urls(names))}
    request = urllib.request.Request(
        settings.CDN_PURGE_URL,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        urllib.request.urlopen(request, timeout=PURGE_TIMEOUT_SECONDS).close()
    except OSError as error:
        logger.warning("CDN purge of %s failed: %s", body, error)


def purge_urls(names):
    """The absolute URLs of the pages showing the versions `names` (the table above), from a few queries."""
    ids = {}
    for name in names:
        kind, _, pk = name.partition(":")
        ids.setdefault(kind, set()).add(pk)
    paths = set()
    if SITE in ids:
        paths.update(reverse(route) for route in ("articles:home", "articles:latest", "articles:sitemap_index"))
        paths.update(reverse("articles:feed", kwargs={"format": fmt}) for fmt in ("rss", "atom"))
        paths.add(reverse("articles:sitemap", kwargs={"section": "news"}))
    for post in Post.objects.filter(pk__in=ids.get("post", ())).only("slug", "info_code"):
        paths.add(post.get_absolute_url())
        if post.info_code:
            paths.add(f"{reverse('articles:share')}?infoCode={post.info_code}")
    for kind, model in [("category", Category), ("source", Source), ("tag", Tag), ("stock", Stock)]:
        for obj in model.objects.filter(pk__in=ids.get(kind, ())):
            url = obj.get_absolute_url() if kind != "tag" else reverse("articles:tag_detail", kwargs={"slug": obj.slug})
            paths.update([url, f"{url}rss.xml", f"{url}atom.xml"])
    return {f"{settings.SITE_URL}{path}" for path in paths}


def site_changed():
    """Everything readers see changed: every cached page is made again on its next request.

    For what shows on every page and has no scope of its own (the menu, a site-wide banner).
    """
    changed(GENERATION)


def scope_changed(kind, pk):
    """What readers see of one category, source, tag, stock or post changed (`kind`, its id)."""
    changed(scope(kind, pk))


def posts_changed(pks, also=()):
    """The posts `pks` were written or removed in bulk (an import batch, a bulk update): bump the site's
    listings, each post and the scopes they are in now, plus `also` (the scopes they were in before)."""
    changed(SITE, *also, *scopes_of(pks))


def scopes_of(pks):
    """The version names of the posts `pks` and of their categories, sources, tags and stocks: three queries."""
    pks = list(pks)
    if not pks:
        return set()
    names = {scope("post", pk) for pk in pks}
    for category_id, source_id in Post.objects.filter(pk__in=pks).values_list("category_id", "source_id"):
        names.add(scope("category", category_id))
        if source_id:
            names.add(scope("source", source_id))
    tags = TaggedPost.objects.filter(content_object_id__in=pks).values_list("tag_id", flat=True).distinct()
    names.update(scope("tag", pk) for pk in tags)
    stocks = Post.stocks.through.objects.filter(post_id__in=pks).values_list("stock_id", flat=True).distinct()
    names.update(scope("stock", pk) for pk in stocks)
    return names


def note_scheduled(moments):
    """Posts were scheduled for `moments` (datetimes): the next scheduled time is now at the latest the
    earliest of them, and is read again from the database once the transaction commits."""
    known = cache.get(NEXT_SCHEDULED_KEY)
    if known is None:  # a cold cache: learn it while writing, rather than on a reader's request
        plan_schedule()
        return
    moments = [moment.timestamp() for moment in moments if moment.timestamp() > time.time()]
    if not moments:
        return
    if min(moments) < known:
        cache.set(NEXT_SCHEDULED_KEY, min(moments), timeout=None)
    transaction.on_commit(plan_schedule)


def plan_schedule():
    """Record the next moment pages change without a write: a scheduled post going live, or a pin or a
    breaking-news flag running out (math.inf when none is); two queries."""
    now = timezone.now()
    moments = [
        Post.objects.scheduled().aggregate(next=Min("published_at"))["next"],
        *Post.objects.aggregate(
            pin=Min("pinned_until", filter=Q(pinned_until__gt=now)),
            breaking=Min("breaking_until", filter=Q(breaking_until__gt=now)),
        ).values(),
    ]
    moments = [moment.timestamp() for moment in moments if moment]
    cache.set(NEXT_SCHEDULED_KEY, min(moments, default=math.inf), timeout=None)


def catch_up():
    """Before a page is made: if a scheduled post's time has come since the last check, bump what its going
    live changes. Costs nothing (one cache read) unless one has; the first request after does the work."""
    moment = cache.get(NEXT_SCHEDULED_KEY)
    if moment is None:
        # Unknown (a cold or evicted cache): posts may have gone live unseen.
        changed(GENERATION, SITE)
        plan_schedule()
    elif moment <= time.time():
        since = datetime.datetime.fromtimestamp(moment, datetime.UTC)
        posts_changed(Post.objects.published().filter(published_at__gte=since).values_list("pk", flat=True))
        ended = Q(pinned_until__gte=since, pinned_until__lte=timezone.now())
        ended |= Q(breaking_until__gte=since, breaking_until__lte=timezone.now())
        if Post.objects.filter(ended).exists():
            site_changed()
        plan_schedule()


# Signal receivers, connected in apps.py. Each is a write's bookkeeping: it bumps the versions of what the
# write changes, reading the scopes before (a post moved out of a category changes that category too).


def remember_scopes(sender, instance, **kwargs):
    """post_init of Post: the category and source it was loaded with."""
    instance._loaded_scopes = (instance.__dict__.get("category_id"), instance.__dict__.get("source_id"))


def post_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    category_id, source_id = getattr(instance, "_loaded_scopes", (None, None))
    before = [scope("category", category_id)] if category_id else []
    before += [scope("source", source_id)] if source_id else []
    posts_changed([instance.pk], also=before)
    # Fields a save left deferred are not read (that would be a query) and were not changed by it.
    fields = instance.__dict__
    if getattr(instance, "_loaded", {}).get("breaking_until") != fields.get("breaking_until"):
        site_changed()  # the banner is on every page
    ends = [fields.get(name) for name in ("pinned_until", "breaking_until") if fields.get(name)]
    note_scheduled(([instance.published_at] if instance.is_scheduled else []) + ends)
    instance._loaded_scopes = (instance.category_id, instance.source_id)


def post_deleting(sender, instance, **kwargs):
    """pre_delete of Post: its scopes, read while its tag and stock links still exist."""
    posts_changed([instance.pk])


def post_links_changed(sender, instance, action, pk_set=None, model=None, **kwargs):
    """m2m_changed of a post's tags or stocks: the post and the tags or stocks added or removed."""
    if not action.startswith("post_") and action != "pre_clear":
        return
    kind = "tag" if sender is TaggedPost else "stock"
    if isinstance(instance, Post):
        ids = pk_set if pk_set is not None else getattr(instance, kind + "s").values_list("pk", flat=True)
        changed(SITE, scope("post", instance.pk), *(scope(kind, pk) for pk in ids))
    else:  # reverse side: a tag or stock changed its posts
        changed(SITE, scope(kind, instance.pk), *(scope("post", pk) for pk in pk_set or ()))


def chart_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        changed(scope("post", instance.post_id))


def named_changed(sender, instance, created=False, raw=False, **kwargs):
    """A category, source, tag or stock saved or deleted. Headlines and the menu show their names, so a
    change reaches every page; a new source, tag or stock shows nowhere until a post names it."""
    if raw or (created and sender is not Category):
        return
    site_changed()


RECEIVERS = {
    "post_init": [(remember_scopes, Post)],
    "post_save": [(post_saved, Post), (chart_changed, StockChart)]
    + [(named_changed, model) for model in (Category, Source, Tag, Stock)],
    "pre_delete": [(post_deleting, Post)],
    "post_delete": [(chart_changed, StockChart)] + [(named_changed, model) for model in (Category, Source, Tag, Stock)],
    "m2m_changed": [(post_links_changed, TaggedPost), (post_links_changed, Post.stocks.through)],
}
