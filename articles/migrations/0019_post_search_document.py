"""Chinese full-text search: each post's search document (articles.search_text), filled in batches, then
its GIN index, built once over the filled column rather than row by row."""

from django.db import migrations, transaction

import articles.search_text
from articles.search_text import document, html_text

SEARCH_INDEX = "post_search_document"
BATCH = 2000


def fill_search_documents(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    Post = apps.get_model("articles", "Post")
    TaggedPost = apps.get_model("articles", "TaggedPost")
    PostStocks = Post.stocks.through
    last = 0
    while True:
        with transaction.atomic(using=connection.alias):
            posts = list(
                Post.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "title", "summary", "body")[:BATCH]
            )
            if not posts:
                break
            ids = [pk for pk, *_ in posts]
            tags, stocks = {}, {}
            for post_id, name in TaggedPost.objects.filter(content_object__in=ids).values_list(
                "content_object_id", "tag__name"
            ):
                tags.setdefault(post_id, []).append(name)
            for post_id, code in PostStocks.objects.filter(post__in=ids).values_list("post_id", "stock__code"):
                stocks.setdefault(post_id, []).append(code)
            # As Post.search_document_for builds it.
            texts = [
                document(
                    (title, "A"),
                    (" ".join(sorted(tags.get(pk, []), key=str.casefold)), "A"),
                    (summary, "B"),
                    (" ".join(sorted(stocks.get(pk, []))), "B"),
                    (html_text(body), "D"),
                ).text()
                for pk, title, summary, body in posts
            ]
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE articles_post AS post SET search_document = filled.document::tsvector "
                    "FROM unnest(%s::bigint[], %s::text[]) AS filled(id, document) WHERE post.id = filled.id",
                    [ids, texts],
                )
            last = ids[-1]


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON articles_post USING gin (search_document)")
    # How common each token is decides between walking the date index and a bitmap of the GIN index:
    # a larger sample of the most common tokens makes that estimate right for more of them.
    schema_editor.execute("ALTER TABLE articles_post ALTER COLUMN search_document SET STATISTICS 1000")
    schema_editor.execute("ANALYZE articles_post")


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")


class Migration(migrations.Migration):
    # Each batch commits by itself: a million posts are not filled in one transaction.
    atomic = False

    dependencies = [("articles", "0018_curation")]

    operations = [
        migrations.AddField(
            model_name="post",
            name="search_document",
            field=articles.search_text.SearchDocumentField(
                blank=True, editable=False, null=True, verbose_name="搜索索引"
            ),
        ),
        migrations.RunPython(fill_search_documents, migrations.RunPython.noop),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
