from django.db import migrations

from articles.roles import sync_role_groups


def create_groups(apps, schema_editor):
    sync_role_groups(apps)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Contributors"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_editorial_images_history_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
