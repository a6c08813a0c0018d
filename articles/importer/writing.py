"""Writing parsed posts: reference data cached in memory, each batch of posts in one transaction."""

import datetime
from dataclasses import dataclass

from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from taggit.models import Tag

from articles import freshness
from articles.models import Category, OriginalFile, Post, Source, Stock, StockChart, TaggedPost, category_slug_key
from articles.slugs import unique_slug
from articles.tasks import queue_imported

from .body import Chart
from .copying import insert_rows, instance_values, reserve_ids
from .files import PostFile
from .parsing import ParsedPost
from .report import Outcome, Status
from .twins import link_twins

CHANGE_REASON = "import"
# Post.history builds a manager each time it is read: look the historical model up once.
HISTORICAL_POST = Post.history.model
EARLIEST = datetime.datetime.min.replace(tzinfo=datetime.UTC)


@dataclass(slots=True)
class Candidate:
    """A parsed post on its way to the database, with the file it came from.

    Posts made in code (the benchmark loader's generated posts) come from no file: `file` is None, and
    they get no OriginalFile.
    """

    file: PostFile | None
    sha256: str
    compressed_text: bytes
    post: ParsedPost
    # The read step found no post with this key: in a batch, it is inserted without further checks.
    known_new: bool = False
    # stories.body_digest of the post's body, once it is to be written.
    digest: str = ""

    @property
    def recency(self):
        """What decides between two files with one key: the later date, then the later mtime."""
        return self.post.published_at, (self.file and self.file.mtime) or EARLIEST

    @property
    def path(self):
        return self.file.path if self.file else self.post.key

    def outcome(self, status, reason=""):
        return Outcome(self.path, status, key=self.post.key, reason=reason, warnings=self.post.warnings)

    def original_file(self, post_id, now):
        """The OriginalFile row of this candidate's file (a dict for insert_rows), None without a file."""
        if self.file is None:
            return None
        return {
            "post_id": post_id,
            "path": self.file.path,
            "sha256": self.sha256,
            "compressed_text": self.compressed_text,
            "modified_at": self.file.mtime,
            "imported_at": now,
        }


class Lookups:
    """Ids of categories, sources, tags and stocks by name, so a batch needs no per-post queries.

    Categories and sources (a few dozen) are loaded up front; tags and stocks as batches name them.
    New ones are created on first sight, outside the batch's transaction.
    """

    def __init__(self):
        self.categories = {category_slug_key(slug): pk for pk, slug in Category.objects.values_list("pk", "slug")}
        self.sources = dict(Source.objects.values_list("name", "pk"))
        self.tags = {}
        self.stocks = {}

    def prepare(self, posts):
        """Make sure everything `posts` refer to exists and is cached."""
        for post in posts:
            if category_slug_key(post.category_slug) not in self.categories:
                category = Category.objects.create(slug=post.category_slug, name=post.category_name)
                self.categories[category_slug_key(post.category_slug)] = category.pk
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
        return self.categories[category_slug_key(post.category_slug)]

    def source(self, post):
        return self.sources[post.source] if post.source else None


def write_posts(candidates, lookups, *, overwrite_edited=False, force=False, reason=CHANGE_REASON):
    """Create or update the posts of one batch; each post is written whole or not at all. Their history
    records carry `reason` ("import", or which API key ingested them).

    The batch is one transaction. Should the database reject it, the posts are retried one by one so
    that only the offending one fails, with the database's reason.
    """
    lookups.prepare([candidate.post for candidate in candidates])
    batch = len(candidates) > 1
    try:
        with transaction.atomic():
            _relax_commit()
            return _write(
                candidates, lookups, overwrite_edited=overwrite_edited, force=force, optimistic=batch, reason=reason
            )
    except DatabaseError as error:
        if not batch:
            return [candidates[0].outcome(Status.FAILED, f"the database rejected it: {error}".strip())]
    outcomes = []
    for candidate in candidates:
        outcomes += write_posts([candidate], lookups, overwrite_edited=overwrite_edited, force=force, reason=reason)
    return outcomes


def write_parsed(posts, lookups):
    """Create posts made in code, not read from files (the benchmark loader's generated ParsedPosts), as one
    batch of write_posts: the same rows and history an import of their files writes, less the OriginalFiles."""
    return write_posts([Candidate(None, "", b"", post, known_new=True) for post in posts], lookups)


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
        skipped.append(loser.outcome(Status.SKIPPED, f"duplicate key {loser.post.key}: {winner.path} is newer"))
    return list(latest.values()), skipped


def _write(candidates, lookups, *, overwrite_edited, force, optimistic, reason):
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
        elif stored and stored.path != candidate.path and candidate.recency < _recency(post, stored):
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
    for candidate in [*creates, *(candidate for candidate, _ in updates)]:
        candidate.digest = _derived(candidate.post).body_digest
    _warn_likely_duplicates(creates)
    written = _create(creates, lookups, now, check_slugs=not optimistic, reason=reason)
    written += _update(updates, lookups, now, reason)
    digests = {candidate.post.key: candidate.digest for candidate in creates}
    digests.update((candidate.post.key, candidate.digest) for candidate, _ in updates)
    _link_twins([o for o in written if o.status in (Status.CREATED, Status.UPDATED)], digests, now)
    return outcomes + written


def _link_twins(outcomes, digests, now):
    """Link the posts just written to the other copies of their stories, and name each one's twin in its
    outcome (a warning too, for the operator)."""
    found = link_twins([outcome.key for outcome in outcomes], digests, now)
    for outcome in outcomes:
        if outcome.key in found:
            canonical, twin = found[outcome.key]
            outcome.twin = twin
            if canonical:
                outcome.warnings.append(f"the same story as {twin}, which now points here (canonical)")
            else:
                outcome.warnings.append(f"the same story as {twin}, the canonical copy: listed once")


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


def _create(candidates, lookups, now, *, check_slugs, reason):
    if not candidates:
        return []
    ids = reserve_ids(Post, len(candidates))
    rows = [
        {
            "id": pk,
            "key": candidate.post.key,
            "slug": _slug(candidate.post, check=check_slugs),
            "created_at": now,
            "updated_at": now,
            "imported_at": now,
            "body_digest": candidate.digest,
            "search_document": _derived(candidate.post).search_document,
            **_imported_values(candidate.post, lookups),
        }
        for pk, candidate in zip(ids, candidates, strict=True)
    ]
    insert_rows(Post, rows)
    _insert_history(candidates, rows, "+", now, reason)
    queue_imported(rows)
    pairs = list(zip(candidates, ids, strict=True))
    _create_charts(pairs)
    _create_related(pairs, lookups, now)
    freshness.changed(freshness.SITE, *(name for candidate in candidates for name in _scopes(candidate.post, lookups)))
    freshness.note_scheduled([row["published_at"] for row in rows if row["status"] == Post.Status.PUBLISHED])
    return [candidate.outcome(Status.CREATED) for candidate in candidates]


def _scopes(post, lookups):
    """The versions of cached pages a parsed post shows on (articles/freshness.py), from the lookups."""
    related = _related(post, lookups)
    names = [freshness.scope("category", lookups.category(post))]
    names += [freshness.scope("source", lookups.source(post))] if post.source else []
    names += [freshness.scope("tag", pk) for pk in related["tags"]]
    names += [freshness.scope("stock", pk) for pk in related["stocks"]]
    return names


def _imported_values(post, lookups):
    return Post.imported_values(post, category_id=lookups.category(post), source_id=lookups.source(post))


def _derived(post):
    """The post with its search document and body digest, built by its parse worker (a post made in code
    may come without)."""
    return post if post.body_digest is not None else post.build_derived()


def _slug(post, *, check):
    """The slug Post.save would give the post. Unchecked (a first import's batch), a slug another post
    holds makes the insert fail, and the batch is retried post by post, checked."""
    base = Post.slug_base_for(post.info_code, post.key, post.title)
    return unique_slug(Post, base) if check else base


def _insert_history(candidates, rows, history_type, now, reason):
    """The posts' history records, with the tag and chart snapshot that articles.history keeps.

    Each record is what simple-history's bulk_history_create makes of a post: the tracked fields' values,
    the time, type and reason of the change, and no user (an import is nobody's edit).
    """
    tracked = [field.attname for field in HISTORICAL_POST.tracked_fields]
    insert_rows(
        HISTORICAL_POST,
        [
            {
                **{name: row[name] for name in tracked if name in row},
                "history_date": now,
                "history_type": history_type,
                "history_change_reason": reason,
                "history_user_id": None,
                **_snapshot(candidate.post),
            }
            for candidate, row in zip(candidates, rows, strict=True)
        ],
    )


def _snapshot(post):
    """The tag names and charts of a parsed post as a post's history record stores them."""
    return {
        "tag_names": sorted(post.tags),
        "charts": [{"position": position, **chart.as_dict()} for position, chart in enumerate(post.charts)],
    }


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
    files = (candidate.original_file(post_id, now) for candidate, post_id in pairs)
    insert_rows(OriginalFile, [row for row in files if row is not None])


def _create_charts(pairs):
    # Recorded in the post's history snapshot only; charts have no history of their own.
    charts = [
        (post_id, position, chart)
        for candidate, post_id in pairs
        for position, chart in enumerate(candidate.post.charts)
    ]
    ids = reserve_ids(StockChart, len(charts)) if charts else []
    insert_rows(
        StockChart,
        [
            {"id": pk, "post_id": post_id, "position": position, **chart.as_dict()}
            for pk, (post_id, position, chart) in zip(ids, charts, strict=True)
        ],
    )


def _update(pairs, lookups, now, reason):
    """Update posts from their files; a post whose imported values, tags, stocks and charts are all as the
    file has them again (a --force re-import, an edit that changed nothing the post takes) is left as it
    is, with no history record: only its stored original file is brought up to date."""
    if not pairs:
        return []
    stored = _stored_related([post.pk for _, post in pairs])
    changed, same, scopes = [], [], []
    for candidate, post in pairs:
        values = _imported_values(candidate.post, lookups)
        related = _related(candidate.post, lookups)
        if post.differs_from(values) or related != stored[post.pk]:
            # Pages it showed on before (its category and source as loaded, its tags and stocks as stored) change too.
            category_id, source_id = post._loaded_scopes
            scopes += [freshness.scope("post", post.pk), freshness.scope("category", category_id)]
            scopes += [freshness.scope("source", source_id)] if source_id else []
            scopes += [freshness.scope("tag", pk) for pk in stored[post.pk]["tags"]]
            scopes += [freshness.scope("stock", pk) for pk in stored[post.pk]["stocks"]]
            scopes += _scopes(candidate.post, lookups)
            for name, value in values.items():
                setattr(post, name, value)
            post.imported_at = post.updated_at = now
            post.search_document = _derived(candidate.post).search_document
            changed.append((candidate, post, related["charts"] != stored[post.pk]["charts"]))
        else:
            same.append((candidate, post))
    if changed:
        freshness.changed(freshness.SITE, *scopes)
        freshness.note_scheduled([post.published_at for _, post, _ in changed if post.status == Post.Status.PUBLISHED])
    return _write_changed(changed, lookups, now, reason) + _refresh_files(same, now)


def _related(post, lookups):
    """What a parsed post links to, as _stored_related reads it back: tag and stock ids, charts in order."""
    return {
        "tags": {lookups.tags[tag.lower()] for tag in post.tags},
        "stocks": {lookups.stocks[symbol] for symbol in post.stocks},
        "charts": post.charts,
    }


def _stored_related(post_ids):
    """The tags, stocks and charts the posts `post_ids` have now, by post id: three queries."""
    stored = {pk: {"tags": set(), "stocks": set(), "charts": []} for pk in post_ids}
    for post_id, tag_id in TaggedPost.objects.filter(content_object_id__in=post_ids).values_list(
        "content_object_id", "tag_id"
    ):
        stored[post_id]["tags"].add(tag_id)
    for post_id, stock_id in Post.stocks.through.objects.filter(post_id__in=post_ids).values_list(
        "post_id", "stock_id"
    ):
        stored[post_id]["stocks"].add(stock_id)
    for chart in StockChart.objects.filter(post_id__in=post_ids).order_by("position", "id"):
        stored[chart.post_id]["charts"].append(
            Chart(chart.market, chart.code, chart.chart_type, chart.image_url, chart.quote_url)
        )
    return stored


def _write_changed(changed, lookups, now, reason):
    if not changed:
        return []
    candidates = [candidate for candidate, _, _ in changed]
    posts = [post for _, post, _ in changed]
    for candidate, post in zip(candidates, posts, strict=True):
        post.body_digest = candidate.digest
    Post.objects.bulk_update(
        posts, [*Post.IMPORTED_FIELDS, "imported_at", "updated_at", "body_digest", "search_document"]
    )
    rows = [instance_values(post) for post in posts]
    _insert_history(candidates, rows, "~", now, reason)
    queue_imported(rows)
    ids = [post.pk for post in posts]
    # Unchanged charts keep their rows.
    if rechart := [(candidate, post.pk) for candidate, post, charts_changed in changed if charts_changed]:
        StockChart.objects.filter(post_id__in=[post_id for _, post_id in rechart]).delete()
        _create_charts(rechart)
    TaggedPost.objects.filter(content_object_id__in=ids).delete()
    Post.stocks.through.objects.filter(post_id__in=ids).delete()
    OriginalFile.objects.filter(post_id__in=[post.pk for candidate, post, _ in changed if candidate.file]).delete()
    _create_related(list(zip(candidates, ids, strict=True)), lookups, now)
    return [candidate.outcome(Status.UPDATED) for candidate in candidates]


def _refresh_files(same, now):
    """Posts their files leave as they are: store each file as it is now, if it differs from the stored one,
    and count the post as in step with it from now on (imported_at, which conflict detection reads)."""
    refreshed = [(candidate, post) for candidate, post in same if _file_changed(candidate, post)]
    if refreshed:
        ids = [post.pk for _, post in refreshed]
        OriginalFile.objects.filter(post_id__in=ids).delete()
        insert_rows(OriginalFile, [candidate.original_file(post.pk, now) for candidate, post in refreshed])
        Post.objects.filter(pk__in=ids).update(imported_at=now)
    return [candidate.outcome(Status.UNCHANGED) for candidate, _ in same]


def _file_changed(candidate, post):
    if candidate.file is None:
        return False
    stored = _original_file(post)
    return stored is None or (stored.sha256, stored.path, stored.modified_at) != (
        candidate.sha256,
        candidate.file.path,
        candidate.file.mtime,
    )
