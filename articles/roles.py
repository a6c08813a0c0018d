"""The newsroom's two roles, as auth groups with model permissions.

Editors publish and edit everything but manage no users and delete only their own posts; contributors
write drafts that an editor publishes. The data migration creates the groups; run it again (or call
`sync_role_groups`) after changing these lists.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

EDITORS = "Editors"
CONTRIBUTORS = "Contributors"

ROLE_PERMISSIONS = {
    EDITORS: {
        "articles": [
            "add_post", "change_post", "view_post", "delete_post", "publish_post",
            "add_category", "change_category", "view_category",
            "add_source", "change_source", "view_source",
            "add_stock", "change_stock", "view_stock",
            "add_stockchart", "change_stockchart", "view_stockchart", "delete_stockchart",
            "import_posts", "view_importrun",
        ],
        "taggit": ["add_tag", "change_tag", "view_tag"],
    },
    CONTRIBUTORS: {
        "articles": [
            "add_post", "change_post", "view_post", "delete_post",
            "view_category", "view_source", "view_stock",
            "add_stockchart", "change_stockchart", "view_stockchart", "delete_stockchart",
        ],
        "taggit": ["view_tag"],
    },
}  # fmt: skip


def sync_role_groups(apps=global_apps):
    """Create or update the role groups so they hold exactly ROLE_PERMISSIONS; returns them by name.

    Works with the historical app registry of a migration as well as the live one.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Permissions are normally made after migrations finish; a fresh database needs them now.
    for app_label in ("articles", "taggit"):
        app_config = apps.get_app_config(app_label)
        # A migration's app configs have no models module, which create_permissions takes as "no models".
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    available = {
        (permission.content_type.app_label, permission.codename): permission
        for permission in Permission.objects.filter(content_type__app_label__in=["articles", "taggit"]).select_related(
            "content_type"
        )
    }
    groups = {}
    for name, by_app in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        # An earlier migration runs before later models (and their permissions) exist; the migration that
        # calls this after adding them gives them to the groups.
        wanted = [(app, codename) for app, codenames in by_app.items() for codename in codenames]
        group.permissions.set([available[key] for key in wanted if key in available])
        groups[name] = group
    return groups
