from django.db import migrations

from articles.roles import sync_role_groups


def sync_groups(apps, schema_editor):
    # Editors may now upload archives to import (articles.import_posts) and see the imports.
    sync_role_groups(apps)


class Migration(migrations.Migration):
    dependencies = [("articles", "0014_import_run")]

    operations = [migrations.RunPython(sync_groups, migrations.RunPython.noop)]
