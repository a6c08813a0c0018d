"""A Jekyll post file turned into a ParsedPost: every field the database needs, checked, plus warnings."""

import datetime
import hashlib
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from taggit.models import Tag

from articles.models import Category, OriginalFile, Post, Source, Stock
from articles.stories import body_digest
from articles.tagging import normalize_tag
from articles.validators import (
    EARLIEST_PUBLICATION,
    LATEST_PUBLICATION,
    validate_category_slug,
    validate_post_key,
    validate_publication_date,
)

from .body import SHARE_URL, Chart, parse_body
from .frontmatter import PostFileError, date_from_key, parse_date, read_front_matter, split_front_matter

KEY_LENGTH = Post._meta.get_field("key").max_length
SHARE_URL_BYTES = re.compile(SHARE_URL.pattern.encode())
# Jekyll's `published: false` keeps a post off the site: it becomes a draft.
UNPUBLISHED = {"false", "no", "off"}
# What a category slug cannot hold (validate_category_slug); each becomes `-`, so `A股/港股` → `A股-港股`.
UNROUTABLE = re.compile(r"[/\\?#%\x00-\x1f\x7f]")


@dataclass(slots=True)
class ParsedPost:
    """One post as the importer writes it and the exporter reads it back."""

    key: str
    title: str
    published_at: datetime.datetime
    category_slug: str
    category_name: str
    info_code: str | None = None
    status: str = Post.Status.PUBLISHED
    summary: str = ""
    body: str = ""
    source: str | None = None
    tags: list[str] = field(default_factory=list)
    original_url: str = ""
    charts: list[Chart] = field(default_factory=list)
    mentions: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Built where the post is parsed (the parse workers), being costly parts of writing it.
    search_document: object = field(default=None, compare=False, repr=False)
    body_digest: str | None = field(default=None, compare=False, repr=False)

    @property
    def stocks(self):
        """Every `(market, code)` the post charts or mentions, in order of appearance."""
        return list(dict.fromkeys([(chart.market, chart.code) for chart in self.charts] + self.mentions))

    def build_derived(self):
        """Build what writing the post derives from its texts: its search document (Post.search_document_for)
        and its body's digest (stories.body_digest, which finds its twins); returns the post."""
        codes = [code for _, code in self.stocks]
        self.search_document = Post.search_document_for(self.title, self.summary, self.body, self.tags, codes)
        self.body_digest = body_digest(self.body)
        return self


def decode(data):
    """The text of a post file: UTF-8 with or without a BOM, newlines made `\\n`."""
    if (nul := data.find(b"\x00")) >= 0:
        # No text file holds one, and PostgreSQL cannot store one in text.
        raise PostFileError(f"not a text file: a NUL byte at offset {nul}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        # Raised outside this block: the decode error holds a copy of the file, which a traceback
        # cycle would keep alive until the next garbage collection.
        bad = error.start
    else:
        return text.replace("\r\n", "\n").replace("\r", "\n")
    raise PostFileError(f"not UTF-8 text: byte 0x{data[bad]:02x} at offset {bad} cannot be decoded")


def content_hash(data):
    """The SHA-256 of a file's bytes, as OriginalFile keeps it."""
    return hashlib.sha256(data).hexdigest()


def post_key(info_code, file_id):
    """The stable import key: the info code, else the file id (long ids shortened, still unique and stable)."""
    key = info_code or file_id
    if len(key) > KEY_LENGTH:
        key = f"{key[: KEY_LENGTH - 9]}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
    return key


def quick_key(data, file_id):
    """The key parse_post will find, read from the raw bytes: a re-import skips unchanged files unparsed."""
    codes = SHARE_URL_BYTES.findall(data)
    return post_key(codes[-1].decode() if codes else None, file_id)


def parse_post(text, file_id):
    """Parse a post's text; raise PostFileError saying what is wrong when it cannot be imported."""
    front, body_text = split_front_matter(text)
    meta, yaml_note = read_front_matter(front)
    body = parse_body(body_text)
    warnings = [yaml_note] if yaml_note else []
    warnings += body.warnings
    key = post_key(body.info_code, file_id)
    try:
        validate_post_key(key)
    except ValidationError:
        raise PostFileError(
            f"the file name gives the key {key!r}, which cannot name an exported file "
            "(no '/', '\\', control characters or leading space; not '.' or '..')"
        ) from None

    title = _one_value(meta.get("title"))
    if not title:
        title = body.first_sentence()
        if not title:
            raise PostFileError("no title, and no digest or body to take one from")
        warnings.append(f"empty title; used the first sentence of the {'digest' if body.summary else 'body'}")

    written_date = _one_value(meta.get("date"))
    published_at = parse_date(written_date)
    if published_at is None:
        published_at = date_from_key(key) or date_from_key(file_id)
        if published_at is None:
            raise PostFileError("no date, and the info code / file id does not start with YYYYMMDD")
        origin = "info code" if date_from_key(key) and body.info_code else "file id"
        written_date = f"{published_at.date().isoformat()} (from the {origin})"
        warnings.append(f"empty date; took {published_at.date().isoformat()} from the {origin}")
    try:
        validate_publication_date(published_at)
    except ValidationError:
        raise PostFileError(
            f"date {written_date!r} is out of range: publication dates run from {EARLIEST_PUBLICATION.year} "
            f"to {LATEST_PUBLICATION.year - 1}"
        ) from None

    slugs = _values(meta.get("categories", meta.get("category")))
    written_slug = slugs[0] if slugs else body.back_link_slug
    if not written_slug:
        raise PostFileError("no category: `categories` is empty and no back-link names one")
    category_slug = _routable(written_slug, warnings)
    if len(slugs) > 1:
        warnings.append(f"several categories; filed under the first, {category_slug!r}")
    tags = _tags(meta.get("tags"), warnings)

    post = ParsedPost(
        key=key,
        title=title,
        published_at=published_at,
        category_slug=category_slug,
        category_name=body.back_link_name or (tags[0] if tags else written_slug),
        info_code=body.info_code,
        status=Post.Status.DRAFT if _one_value(meta.get("published")).lower() in UNPUBLISHED else Post.Status.PUBLISHED,
        summary=body.summary,
        body=body.html,
        source=body.source or None,
        tags=tags,
        original_url=body.original_url,
        charts=body.charts,
        mentions=body.mentions,
        warnings=warnings,
    )
    _check_lengths(post)
    return post.build_derived()


def _routable(slug, warnings):
    """The category slug as the reader site can route it: `/`, `?`, `#`, `%` and control characters mapped to `-`."""
    routable = UNROUTABLE.sub("-", slug)
    try:
        validate_category_slug(routable)
    except ValidationError:
        raise PostFileError(f"category {slug!r} cannot be part of a URL") from None
    if routable != slug:
        warnings.append(f"category {slug!r} cannot be part of a URL; filed under {routable!r}")
    return routable


def _tags(value, warnings):
    """Tag names, width-folded, one per spelling ignoring case (the last wins), and only names a tag URL
    can be made of."""
    names = {normalize_tag(name).lower(): normalize_tag(name) for name in _values(value)}
    tags = []
    for name in names.values():
        if Tag().slugify(name):
            tags.append(name)
        elif name:
            warnings.append(f"tag {name!r} has no letter or digit; dropped")
    return tags


def _one_value(value):
    if isinstance(value, list):
        value = value[0] if value else ""
    return value.strip() if isinstance(value, str) else ""


def _values(value):
    """A front-matter string is one value (slugs and tag names hold spaces); a list is several."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [item.strip() for item in value if isinstance(item, str) and item.strip()]


def _limit(model, name):
    return model._meta.get_field(name).max_length


LIMITS = {
    "title": _limit(Post, "title"),
    "info code": _limit(Post, "info_code"),
    "category": _limit(Category, "slug"),
    "category name": _limit(Category, "name"),
    "source": _limit(Source, "name"),
    "original URL": _limit(Post, "original_url"),
    "tag": _limit(Tag, "name"),
    "stock code": _limit(Stock, "code"),
}


def _check_lengths(post):
    values = [
        ("title", post.title),
        ("info code", post.info_code or ""),
        ("category", post.category_slug),
        ("category name", post.category_name),
        ("source", post.source or ""),
        ("original URL", post.original_url),
        *(("tag", tag) for tag in post.tags),
        *(("stock code", code) for _, code in post.stocks),
    ]
    for label, value in values:
        if len(value) > LIMITS[label]:
            raise PostFileError(
                f"{label} too long ({len(value)} characters; the limit is {LIMITS[label]}): {value[:40]!r}…"
            )


def parse_posts(files):
    """For each `(data, file_id)`: `(ParsedPost or the PostFileError saying why not, compressed text)`.

    This is the CPU-heavy part of an import, so it runs in worker processes: it takes and returns only
    picklable values, and compresses the original text for OriginalFile while it is at it.
    """
    results = []
    for data, file_id in files:
        try:
            text = decode(data)
            results.append((parse_post(text, file_id), OriginalFile.compress(text)))
        except PostFileError as error:
            # A fresh exception, without the traceback whose frames hold the batch's files.
            results.append((PostFileError(str(error)), None))
        except Exception as error:
            # A defect in the parser must cost this file, not the import; the text is not quoted.
            reason = f"cannot be parsed: the importer failed on it ({type(error).__name__}); please report it"
            results.append((PostFileError(reason), None))
    return results
