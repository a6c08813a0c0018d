"""The importer's write path: the rows its COPY transport writes are the rows Django's ORM would write."""

import datetime
from unittest import mock

from taggit.models import Tag

from articles.generator import write_post_files
from articles.history import snapshot
from articles.importer.files import PostFile, iter_post_files
from articles.importer.frontmatter import PostFileError
from articles.importer.parsing import content_hash, parse_posts
from articles.importer.writing import Candidate, Lookups, keep_latest, write_parsed, write_posts
from articles.models import Category, OriginalFile, Post, Source, Stock, StockChart, TaggedPost
from articles.slugs import unique_slug
from articles.stories import body_digest

NOW = datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)
# What each table's rows are compared by, instead of ids, which differ between the two writes.
NATURAL_KEYS = {Post: "key", Category: "slug", Source: "name", Tag: "name", Stock: ("market", "code")}


def candidates(directory):
    """The generated files under `directory`, parsed as an import parses them (malformed ones left out)."""
    files = [item for item in iter_post_files([directory]) if isinstance(item, PostFile)]
    parsed = parse_posts([(file.data, file.file_id) for file in files])
    found = [
        Candidate(file, content_hash(file.data), compressed, post, known_new=True)
        for file, (post, compressed) in zip(files, parsed, strict=True)
        if not isinstance(post, PostFileError)
    ]
    return keep_latest(found)[0]


def write_with_the_orm(candidates):
    """The same posts written the plain way: bulk_create, the search document as the admin writes it, and
    simple-history's bulk_history_create with the tag and chart snapshot articles.history takes of a saved post."""
    lookups = Lookups()
    lookups.prepare([candidate.post for candidate in candidates])
    posts = []
    for candidate in candidates:
        parsed = candidate.post
        ids = {"category_id": lookups.category(parsed), "source_id": lookups.source(parsed)}
        post = Post(key=parsed.key, imported_at=NOW, **Post.imported_values(parsed, **ids))
        post.slug = unique_slug(Post, post.slug_base())
        post.body_digest = body_digest(parsed.body)
        posts.append(post)
    Post.objects.bulk_create(posts)
    pairs = list(zip(candidates, posts, strict=True))
    StockChart.objects.bulk_create(
        StockChart(post=post, position=position, **chart.as_dict())
        for candidate, post in pairs
        for position, chart in enumerate(candidate.post.charts)
    )
    TaggedPost.objects.bulk_create(
        TaggedPost(content_object=post, tag_id=lookups.tags[tag.lower()])
        for candidate, post in pairs
        for tag in candidate.post.tags
    )
    Post.stocks.through.objects.bulk_create(
        Post.stocks.through(post=post, stock_id=lookups.stocks[symbol])
        for candidate, post in pairs
        for symbol in candidate.post.stocks
    )
    OriginalFile.objects.bulk_create(
        OriginalFile(
            post=post,
            path=candidate.file.path,
            sha256=candidate.sha256,
            compressed_text=candidate.compressed_text,
            modified_at=candidate.file.mtime,
            imported_at=NOW,
        )
        for candidate, post in pairs
    )
    for post in posts:
        # Saved with its tags and stocks: the search document as a save in the admin writes it.
        post.refresh_search_document()
        Post.history.bulk_history_create(
            [post], default_change_reason="import", default_date=NOW, custom_historical_attrs=snapshot(post)
        )


def table(model):
    """Every row of `model`, each column by name, references by natural key, without the row's own id."""
    natural = {related: _natural_keys(related) for related in NATURAL_KEYS}
    historical = model is Post.history.model
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    rows = []
    for values in model.objects.values_list(*[field.attname for field in fields]):
        row = {}
        for field, value in zip(fields, values, strict=True):
            if field.is_relation and field.related_model in natural:
                value = natural[field.related_model].get(value)
            elif historical and field.attname == "id":  # the post's id, not a foreign key
                value = natural[Post][value]
            elif isinstance(value, memoryview):
                value = bytes(value)
            row[field.attname] = value
        rows.append(row)
    return sorted(rows, key=repr)


def _natural_keys(model):
    key = NATURAL_KEYS[model]
    if isinstance(key, tuple):
        return {pk: tuple(values) for pk, *values in model.objects.values_list("pk", *key)}
    return dict(model.objects.values_list("pk", key))


def everything():
    tables = [Category, Source, Tag, Stock, Post, Post.history.model, StockChart, TaggedPost, Post.stocks.through]
    return {model._meta.db_table: table(model) for model in [*tables, OriginalFile]}


def empty_database():
    Post.objects.all().delete()
    Post.history.model.objects.all().delete()
    for model in (Category, Source, Stock, Tag):
        model.objects.all().delete()


def test_the_copy_path_writes_the_rows_bulk_create_and_bulk_history_create_would(db, tmp_path):
    write_post_files(tmp_path, count=150, seed=9)
    parsed = candidates(tmp_path)
    assert any(candidate.post.charts for candidate in parsed) and any(not c.post.info_code for c in parsed)

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        write_posts(parsed, Lookups())
        copied = everything()
        empty_database()
        write_with_the_orm(parsed)

    assert copied[Post._meta.db_table]
    # The import also links the generator's stories told twice (articles/stories.py), which the plain
    # ORM writes do not look for.
    twins = [row.pop("twin_of_id") for row in copied[Post._meta.db_table]]
    assert any(twins)
    for row in (written := everything())[Post._meta.db_table]:
        row.pop("twin_of_id")
    assert written == copied


def test_posts_written_without_files_are_the_posts_importing_their_files_writes_less_the_files(db, tmp_path):
    write_post_files(tmp_path, count=60, seed=11)
    parsed = candidates(tmp_path)

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        write_posts(parsed, Lookups())
        imported = everything()
        empty_database()
        write_parsed([candidate.post for candidate in parsed], Lookups())

    written = everything()
    assert written.pop(OriginalFile._meta.db_table) == []
    imported.pop(OriginalFile._meta.db_table)
    assert written == imported


def test_a_post_saved_in_the_admin_and_an_imported_one_derive_their_slugs_alike(db, category, tmp_path):
    saved = Post.objects.create(title="商汤临港智算中心有序复工", key="商汤", category=category)
    # The importer's first batch takes slugs unchecked; taken, the batch is retried post by post, checked.
    write_post_files(tmp_path, count=1, seed=3)
    (candidate,) = candidates(tmp_path)
    candidate.post.key, candidate.post.info_code, candidate.post.title = "新闻", None, saved.title

    write_posts([candidate], Lookups())

    assert Post.objects.get(key="新闻").slug == f"{saved.slug}-2"
    assert saved.slug == Post.slug_base_for(None, "商汤", saved.title) == Post.slug_base_for(None, "新闻", saved.title)
