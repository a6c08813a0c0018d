"""Bulk inserts fast enough for 100,000-post imports: PostgreSQL's COPY, else bulk_create.

bulk_create builds a model instance per row and turns every value into SQL text in Python; that is
most of an import's time. These functions take plain dicts and, on PostgreSQL, stream them with COPY,
which psycopg encodes in C. COPY returns no ids, so rows that others point at get ids reserved first.
"""

import contextlib
import datetime

from django.db import connection
from django.db.models import Max

# Values psycopg writes as they are; anything else (JSON, files) goes through its field's get_db_prep_save().
PLAIN_VALUES = {str, int, bool, bytes, datetime.datetime, type(None)}


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
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        _logged(cursor, sql),
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        for row in rows:
            copy.write_row([_prepared(field, row.get(field.attname, defaults.get(field.attname))) for field in fields])


def insert_history(model, rows, history_type, *, reason, date, **extra):
    """Insert simple-history records for `rows` (dicts) of `model`, as its bulk_history_create would.

    `extra` gives per-row values for the historical model's own fields: name → list, one per row.
    """
    historical = model.history.model
    defaults = {field.attname: field.get_default() for field in model._meta.concrete_fields}
    records = []
    for n, row in enumerate(rows):
        record = {field.attname: row.get(field.attname, defaults[field.attname]) for field in historical.tracked_fields}
        record.update({name: column[n] for name, column in extra.items()})
        record.update(history_date=date, history_type=history_type, history_change_reason=reason)
        records.append(record)
    insert_rows(historical, records)


def instance_values(instance):
    """A saved instance's field values as insert_rows and history_rows take them."""
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields}


def _prepared(field, value):
    return value if type(value) in PLAIN_VALUES else field.get_db_prep_save(value, connection)


def _logged(cursor, sql):
    # COPY bypasses execute(); log it like a query so query counts (DEBUG, tests) still see it.
    return cursor.debug_sql(sql) if connection.queries_logged else contextlib.nullcontext()
