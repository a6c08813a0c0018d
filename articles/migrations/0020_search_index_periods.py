"""The search index holds each post's month too, as a second column (articles.search_text, PERIOD_FUNCTION):
a term in many posts is then looked for among the newest months first, within the index, instead of visiting
every post that holds it. A condition on the documents alone still uses the index. The new index is built
beside the old one and takes its name."""

from django.db import migrations

from articles.search_text import PERIOD_FUNCTION

SEARCH_INDEX = "post_search_document"


def index_periods(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # IMMUTABLE, as an index needs: the month of a UTC moment, written out in digits, never changes.
    schema_editor.execute(
        f"CREATE OR REPLACE FUNCTION {PERIOD_FUNCTION}(moment timestamptz) RETURNS tsvector "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        "AS $$ SELECT array_to_tsvector(ARRAY['~' || to_char(moment AT TIME ZONE 'UTC', 'YYYYMM')]) $$"
    )
    schema_editor.execute(
        f"CREATE INDEX {SEARCH_INDEX}_new ON articles_post USING gin "
        f"(search_document, {PERIOD_FUNCTION}(published_at))"
    )
    schema_editor.execute(f"DROP INDEX {SEARCH_INDEX}")
    schema_editor.execute(f"ALTER INDEX {SEARCH_INDEX}_new RENAME TO {SEARCH_INDEX}")


def index_documents_alone(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX {SEARCH_INDEX}")
    schema_editor.execute(f"CREATE INDEX {SEARCH_INDEX} ON articles_post USING gin (search_document)")
    schema_editor.execute(f"DROP FUNCTION {PERIOD_FUNCTION}(timestamptz)")


class Migration(migrations.Migration):
    dependencies = [("articles", "0019_post_search_document")]

    operations = [migrations.RunPython(index_periods, index_documents_alone)]
