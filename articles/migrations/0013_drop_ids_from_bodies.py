"""Stored bodies lose their `id` attributes, which the sanitiser no longer keeps: a body could take an id the
page itself uses (`share-url`). The imported ones (`<span id="stock_0.002752">`) served nothing.

Bodies are stored as the sanitiser wrote them, every attribute value in double quotes; `id` was allowed
on `span` only.
"""

import re

from django.db import migrations

SPAN_ID = re.compile(r'(<span(?:\s+[\w:-]+="[^"]*")*?)\s+id="[^"]*"')


def drop_ids(apps, schema_editor):
    Post = apps.get_model("articles", "Post")
    posts = Post.objects.using(schema_editor.connection.alias)
    last = 0
    while batch := list(posts.filter(pk__gt=last, body__contains=' id="').order_by("pk").only("body")[:1000]):
        changed = []
        for post in batch:
            body = SPAN_ID.sub(r"\1", post.body)
            if body != post.body:
                post.body = body
                changed.append(post)
        posts.bulk_update(changed, ["body"])
        last = batch[-1].pk


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0012_publication_time_in_range"),
    ]

    operations = [
        migrations.RunPython(drop_ids, migrations.RunPython.noop),
    ]
