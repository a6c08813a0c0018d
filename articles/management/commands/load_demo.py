import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_POSTS = Path(__file__).resolve().parents[2] / "demo_posts"


class Command(BaseCommand):
    help = (
        "Import the demo posts (idempotent) and make sure an admin login exists. "
        "The login comes from DEMO_ADMIN_USERNAME / DEMO_ADMIN_PASSWORD, or is made up and printed."
    )

    def handle(self, *args, **options):
        call_command("import_posts", str(DEMO_POSTS), verbosity=options["verbosity"], stdout=self.stdout)
        username = os.environ.get("DEMO_ADMIN_USERNAME", "admin")
        password = os.environ.get("DEMO_ADMIN_PASSWORD", "")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            password = password or secrets.token_urlsafe(9)
            get_user_model().objects.create_superuser(username, f"{username}@example.com", password)
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
        else:
            self.stdout.write(f"Admin login: {username} (existing; set DEMO_ADMIN_PASSWORD to reset its password)")
            return
        self.stdout.write(self.style.SUCCESS(f"Admin login: {username} / {password}  at /admin/"))
