import csv
import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from articles.models import Stock

# The team's demo content: a day of news in the crawler's formats, the old site's first post, and
# the names of the stocks they chart and mention (EastMoney market id, code, name).
DEMO = Path(__file__).resolve().parents[2] / "demo_posts"
DEMO_POSTS = [DEMO / "_posts", DEMO / "old_post"]
DEMO_STOCKS = DEMO / "stocks.csv"


class Command(BaseCommand):
    help = (
        "Import the demo posts (idempotent), name their stocks, and make sure an admin login exists. "
        "The login comes from DEMO_ADMIN_USERNAME / DEMO_ADMIN_PASSWORD, or is made up and printed."
    )

    def handle(self, *args, verbosity, **options):
        # A few dozen files: parsing them in this process is quicker than starting workers.
        call_command(
            "import_posts",
            *map(str, DEMO_POSTS),
            workers=0,
            verbosity=verbosity,
            stdout=self.stdout,
            stderr=self.stderr,
        )
        with DEMO_STOCKS.open(encoding="utf-8", newline="") as rows:
            names = {(int(row["market"]), row["code"]): row["name"] for row in csv.DictReader(rows)}
        named = Stock.objects.fill_names(names)
        if verbosity >= 1 and named:
            self.stdout.write(f"Named {named} stocks")
        self.ensure_admin()

    def ensure_admin(self):
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
