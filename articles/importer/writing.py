"""Writing parsed posts: reference data cached in memory, each batch of posts in one transaction."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag

from articles.models import Category, OriginalFile, Post, Source, Stock, StockChart, TaggedPost
from articles.slugs import unique_slug
from articles.tasks import queue_imported

from .body import Chart
from .copying import insert_history, insert_rows, instance_values, reserve_ids
from .files import PostFile
from .parsing import ParsedPost
from .report import Outcome, Status

CHANGE_REASON = "import"
# Fields an import sets; slug, key, lead image and editorial bookkeeping stay as they are on update.
IMPORTED_FIELDS = [
    "title",
    "info_code",
    "status",
    "published_at",
    "summary",
    "body",
    "category_id",
    "source_id",
    "original_url",
    "imported_at",
    "updated_at",
]
EARLIEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)


@dataclass(slots=True)
class Candidate:
    """A parsed post on its way to the database, with the file it came from."""

    file: PostFile
    sha256: str
    compressed_text: bytes
    post: ParsedPost
    # The read step found no post with this key: in a batch, it is inserted without further checks.
    known_new: bool = False

    @property
    def recency(self):
        """What decides between two files with one key: the later date, then the later mtime."""
        return self.post.published_at, self.file.mtime or EARLIEST

    def outcome(self, status, reason=""):
        return Outcome(self.file.path, status, key=self.post.key, reason=reason, warnings=self.post.warnings)


class Lookups:
    """Ids of categories, sources, tags and stocks by name, so a batch needs no per-post queries.

    Categories and sources (a few dozen) are loaded up front; tags and stocks as batches name them.
    New ones are created on first sight, outside the batch's transaction.
    """

    def __init__(self):
        # The old site's `TechWeb` and `Techweb` are one category: compare slugs ignoring case.
        self.categories = {slug.lower(): pk for pk, slug in Category.objects.values_list("pk", "slug")}
        self.sources = dict(Source.objects.values_list("name", "pk"))
        self.tags = {}
        self.stocks = {}

    def prepare(self, posts):
        """Make sure everything `posts` refer to exists and is cached."""
        for post in posts:
            if post.category_slug.lower() not in self.categories:
                category = Category.objects.create(slug=post.category_slug, name=post.category_name)
                self.categories[post.category_slug.lower()] = category.pk
            if post.source and post.source not in self.sources:
                self.sources[post.source] = Source.objects.create(name=post.source).pk
        self._prepare_tags([tag for post in posts for tag in post.tags])
        self._prepare_stocks({stock for post in posts for stock in post.stocks})

    def _prepare_tags(self, names):
        missing = {}
        for name in names:
            if name.lower() not in self.tags:
                missing.setdefault(name.lower(), name)  # the first spelling seen names a new tag
        if not missing:
            return
        # Tags match ignoring case (TAGGIT_CASE_INSENSITIVE), so `AI` finds an existing `ai`.
        found = Tag.objects.annotate(lowered=Lower("name")).filter(lowered__in=missing).values_list("lowered", "pk")
        self.tags.update(found)
        for lowered, name in missing.items():
            if lowered not in self.tags:
                self.tags[lowered] = Tag.objects.create(name=name).pk

    def _prepare_stocks(self, symbols):
        missing = symbols - self.stocks.keys()
        if not missing:
            return
        self._load_stocks(missing)
        if new := missing - self.stocks.keys():
            Stock.objects.bulk_create([Stock(market=m, code=c) for m, c in new], ignore_conflicts=True)
            self._load_stocks(new)

    def _load_stocks(self, symbols):
        rows = Stock.objects.filter(code__in={code for _, code in symbols}).values_list("market", "code", "pk")
        self.stocks.update({(market, code): pk for market, code, pk in rows if (market, code) in symbols})

    def category(self, post):
        return self.categories[post.category_slug.lower()]

    def source(self, post):
        return self.sources[post.source] if post.source else None


def write_posts(candidates, lookups, *, overwrite_edited=False, force=False):
    """Create or update the posts of one batch; each post is written whole or not at all.

    The batch is one transaction. Should the database reject it, the posts are retried one by one so
    that only the offending one fails, with the database's reason.
    """
    lookups.prepare([candidate.post for candidate in candidates])
    batch = len(candidates) > 1
    try:
        with transaction.atomic():
            _relax_commit()
            return _write(candidates, lookups, overwrite_edited=overwrite_edited, force=force, optimistic=batch)
    except DatabaseError as error:
        if not batch:
            return [candidates[0].outcome(Status.FAILED, f"the database rejected it: {error}".strip())]
    outcomes = []
    for candidate in candidates:
        outcomes += write_posts([candidate], lookups, overwrite_edited=overwrite_edited, force=force)
    return outcomes


def _relax_commit():
    # Committing without waiting for the WAL flush makes each batch's commit cheap. A crash of the
    # database server may then lose the last batches written; the import is re-runnable and the
    # next run writes them again, as nothing marks them done but the rows themselves.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def keep_latest(candidates):
    """Of several files with the same key, keep the one with the later date (then mtime); skip the others."""
    latest = {}
    skipped = []
    for candidate in candidates:
        other = latest.get(candidate.post.key)
        if other is None:
            latest[candidate.post.key] = candidate
            continue
        winner, loser = (candidate, other) if candidate.recency >= other.recency else (other, candidate)
        latest[candidate.post.key] = winner
        skipped.append(loser.outcome(Status.SKIPPED, f"duplicate key {loser.post.key}: {winner.file.path} is newer"))
    return list(latest.values()), skipped


def _write(candidates, lookups, *, overwrite_edited, force, optimistic):
    """Decide each candidate's fate and write the batch.

    Optimistic (a whole batch): posts the read step found no row for are inserted without looking for
    a post holding their info code or slug, which on a first import saves the batch two queries. Should
    one collide, the database rejects the batch and write_posts retries post by post, checking all.
    """
    checked = [c for c in candidates if not (optimistic and c.known_new)]
    keys = [c.post.key for c in checked]
    codes = [c.post.info_code for c in checked if c.post.info_code]
    # One query: the posts these keys name (locked against a concurrent editor save), and any post
    # already holding one of the info codes under another key.
    found = (
        list(
            Post.objects.select_for_update(of=("self",))
            .filter(Q(key__in=keys) | Q(info_code__in=codes))
            .select_related("original_file")
        )
        if checked
        else []
    )
    existing = {post.key: post for post in found}
    code_owners = {post.info_code: post for post in found if post.info_code}

    outcomes, creates, updates = [], [], []
    for candidate in candidates:
        post = existing.get(candidate.post.key)
        owner = code_owners.get(candidate.post.info_code)
        if owner is not None and owner.key != candidate.post.key:
            reason = f"info code {candidate.post.info_code} already belongs to post #{owner.pk} «{owner.title}»"
            outcomes.append(candidate.outcome(Status.FAILED, reason))
        elif post is None:
            creates.append(candidate)
        elif (stored := _original_file(post)) and stored.sha256 == candidate.sha256 and not force:
            outcomes.append(candidate.outcome(Status.UNCHANGED))
        elif stored and stored.path != candidate.file.path and candidate.recency < _recency(post, stored):
            reason = f"duplicate key {candidate.post.key}: {stored.path}, already imported, is newer"
            outcomes.append(candidate.outcome(Status.SKIPPED, reason))
        elif _edited_since_import(post) and not overwrite_edited:
            reason = (
                f"edited in the admin at {timezone.localtime(post.edited_at):%Y-%m-%d %H:%M} since its last import; "
                "left as it is (--overwrite-edited replaces it)"
            )
            outcomes.append(candidate.outcome(Status.CONFLICT, reason))
        else:
            updates.append((candidate, post))

    now = timezone.now()
    _warn_likely_duplicates(creates)
    outcomes += _create(creates, lookups, now, check_slugs=not optimistic)
    outcomes += _update(updates, lookups, now)
    return outcomes


def _original_file(post):
    try:
        return post.original_file
    except OriginalFile.DoesNotExist:
        return None


def _recency(post, stored):
    return post.published_at, stored.modified_at or EARLIEST


def _edited_since_import(post):
    return post.edited_at is not None and (post.imported_at is None or post.edited_at > post.imported_at)


def _warn_likely_duplicates(candidates):
    """The crawler sometimes stored one story under two codes: flag new posts whose title and time are taken."""
    if not candidates:
        return
    # By time alone (indexed, and far fewer parameters than titles too); titles are compared here.
    rows = Post.objects.filter(published_at__in={c.post.published_at for c in candidates})
    seen = {(title, published_at): key for title, published_at, key in rows.values_list("title", "published_at", "key")}
    for candidate in candidates:
        story = candidate.post.title, candidate.post.published_at
        if story in seen:
            candidate.post.warnings.append(f"likely a duplicate of {seen[story]} (same title and time)")
        seen.setdefault(story, candidate.post.key)


def _imported_values(post, lookups, now):
    """The Post fields an import sets (IMPORTED_FIELDS)."""
    return {
        "title": post.title,
        "info_code": post.info_code,
        "status": post.status,
        "published_at": post.published_at,
        "summary": post.summary,
        "body": post.body,
        "category_id": lookups.category(post),
        "source_id": lookups.source(post),
        "original_url": post.original_url,
        "imported_at": now,
        "updated_at": now,
    }


def _create(candidates, lookups, now, *, check_slugs):
    if not candidates:
        return []
    ids = reserve_ids(Post, len(candidates))
    rows = [
        {"id": pk, "key": candidate.post.key, "created_at": now, **_imported_values(candidate.post, lookups, now)}
        for pk, candidate in zip(ids, candidates, strict=True)
    ]
    _assign_slugs(rows, check=check_slugs)
    insert_rows(Post, rows)
    _insert_history(candidates, rows, "+", now)
    queue_imported(rows)
    pairs = list(zip(candidates, ids, strict=True))
    _create_charts(pairs, now)
    _create_related(pairs, lookups, now)
    return [candidate.outcome(Status.CREATED) for candidate in candidates]


def _assign_slugs(rows, *, check):
    """Slugs from the keys, as Post.slug_base() makes them; with `check`, made unique against the table.

    Unchecked (a first import's batch), a slug another post holds makes the insert fail and the batch
    is retried post by post, checked.
    """
    # Keys are the info code or the file id, so slugify(key) is slug_base(); Post's own fallback covers
    # keys that slugify to nothing (file names in Chinese).
    bases = [slugify(row["key"]) or Post(key=row["key"], title=row["title"]).slug_base() for row in rows]
    taken = set(Post.objects.filter(slug__in=bases).values_list("slug", flat=True)) if check else set()
    for row, base in zip(rows, bases, strict=True):
        row["slug"] = unique_slug(Post, base) if base in taken else base


def _insert_history(candidates, rows, history_type, now):
    """The posts' history records, each with the tag and chart snapshot that articles.history keeps."""
    insert_history(
        Post,
        rows,
        history_type,
        reason=CHANGE_REASON,
        date=now,
        tag_names=[sorted(candidate.post.tags) for candidate in candidates],
        charts=[
            [{"position": position, **chart.as_dict()} for position, chart in enumerate(candidate.post.charts)]
            for candidate in candidates
        ],
    )


def _create_related(pairs, lookups, now):
    """Tags, mentioned and charted stocks, and the original file of freshly written posts."""
    insert_rows(
        TaggedPost,
        [
            {"content_object_id": post_id, "tag_id": lookups.tags[tag.lower()]}
            for candidate, post_id in pairs
            for tag in candidate.post.tags
        ],
    )
    insert_rows(
        Post.stocks.through,
        [
            {"post_id": post_id, "stock_id": lookups.stocks[symbol]}
            for candidate, post_id in pairs
            for symbol in candidate.post.stocks
        ],
    )
    insert_rows(
        OriginalFile,
        [
            {
                "post_id": post_id,
                "path": candidate.file.path,
                "sha256": candidate.sha256,
                "compressed_text": candidate.compressed_text,
                "modified_at": candidate.file.mtime,
                "imported_at": now,
            }
            for candidate, post_id in pairs
        ],
    )


def _create_charts(pairs, now):
    charts = [
        (post_id, position, chart)
        for candidate, post_id in pairs
        for position, chart in enumerate(candidate.post.charts)
    ]
    ids = reserve_ids(StockChart, len(charts)) if charts else []
    rows = [
        {"id": pk, "post_id": post_id, "position": position, **chart.as_dict()}
        for pk, (post_id, position, chart) in zip(ids, charts, strict=True)
    ]
    insert_rows(StockChart, rows)
    insert_history(StockChart, rows, "+", reason=CHANGE_REASON, date=now)


def _update(pairs, lookups, now):
    if not pairs:
        return []
    candidates = [candidate for candidate, _ in pairs]
    posts = [post for _, post in pairs]
    for candidate, post in pairs:
        for name, value in _imported_values(candidate.post, lookups, now).items():
            setattr(post, name, value)
    Post.objects.bulk_update(posts, IMPORTED_FIELDS)
    rows = [instance_values(post) for post in posts]
    _insert_history(candidates, rows, "~", now)
    queue_imported(rows)
    ids = [post.pk for post in posts]
    _replace_changed_charts(pairs, now)
    TaggedPost.objects.filter(content_object_id__in=ids).delete()
    Post.stocks.through.objects.filter(post_id__in=ids).delete()
    OriginalFile.objects.filter(post_id__in=ids).delete()
    _create_related(list(zip(candidates, ids, strict=True)), lookups, now)
    return [candidate.outcome(Status.UPDATED) for candidate in candidates]


def _replace_changed_charts(pairs, now):
    """Replace the charts of posts whose charts changed; unchanged charts keep their rows and history."""
    stored = defaultdict(list)
    for chart in StockChart.objects.filter(post_id__in=[post.pk for _, post in pairs]).order_by("position", "id"):
        stored[chart.post_id].append(
            Chart(chart.market, chart.code, chart.chart_type, chart.image_url, chart.quote_url)
        )
    changed = [(candidate, post.pk) for candidate, post in pairs if stored[post.pk] != candidate.post.charts]
    if changed:
        # The delete records a history row per removed chart: a query each, for changed charts only.
        StockChart.objects.filter(post_id__in=[post_id for _, post_id in changed]).delete()
        _create_charts(changed, now)
