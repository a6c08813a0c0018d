"""Bulk inserts fast enough for 100,000-post imports: PostgreSQL's COPY, else bulk_create.

Transport only: what the rows hold is decided by the models and the writer. bulk_create builds a model
instance per row and turns every value into SQL text in Python; that is most of an import's time.
These functions take plain dicts and, on PostgreSQL, stream them with COPY, which psycopg encodes in C.
COPY returns no ids, so rows that others point at get ids reserved first.
"""

import contextlib
import functools
import operator

from django.db import connection
from django.db.models import Max

# Field types whose values psycopg cannot write as they are: JSON needs its adapter, files their name.
PREPARED = {"JSONField", "FileField", "ImageField"}


def reserve_ids(model, count):
    """`count` primary keys for new rows of `model`, taken from its sequence."""
    if connection.vendor != "postgresql":
        # SQLite (the zero-setup demo) has no sequences; it serialises writers, so the next ids are free.
        start = (model._base_manager.aggregate(last=Max("pk"))["last"] or 0) + 1
        return list(range(start, start + count))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def insert_rows(model, rows):
    """Insert `rows` (dicts of attname → value) into `model`'s table; missing fields take their defaults."""
    if not rows:
        return
    defaults = {field.attname: field.get_default() for field in model._meta.concrete_fields if not field.primary_key}
    fields = [field for field in model._meta.concrete_fields if not field.primary_key or field.attname in rows[0]]
    if connection.vendor != "postgresql":
        model._base_manager.bulk_create([model(**{**defaults, **row}) for row in rows])
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = tuple(field.column for field in fields)
    sql = f"COPY {table} ({', '.join(map(connection.ops.quote_name, columns))}) FROM STDIN"
    types = _column_types(table, columns)
    names = [field.attname for field in fields]
    row_values = operator.itemgetter(*names) if len(names) > 1 else lambda values: (values[names[0]],)
    conversions = [(field.attname, field.get_db_prep_save) for field in fields if field.get_internal_type() in PREPARED]
    with (
        connection.cursor() as cursor,
        _logged(cursor, sql),
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        # Text, not binary: PostgreSQL's binary input of a tsvector would not merge a token's occurrences
        # (articles.search_text.SearchDocument). psycopg escapes the rows in C.
        copy.set_types(types)
        for row in rows:
            values = {**defaults, **row}
            for name, prepare in conversions:
                values[name] = prepare(values[name], connection)
            copy.write_row(row_values(values))


def instance_values(instance):
    """A saved instance's field values as insert_rows takes them (files as their names)."""
    return {
        field.attname: field.get_prep_value(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
    }


@functools.cache
def _column_types(table, columns):
    """Type OIDs of `columns`, from which psycopg picks how to write each value (built-in types, so the
    same in every database)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attname = ANY(%s)",
            [table, list(columns)],
        )
        types = dict(cursor.fetchall())
    return [types[column] for column in columns]


def _logged(cursor, sql):
    # COPY bypasses execute(); log it like a query so query counts (DEBUG, tests) still see it.
    return cursor.debug_sql(sql) if connection.queries_logged else contextlib.nullcontext()
