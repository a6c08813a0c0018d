"""Search on SQLite, the zero-setup database: the same URL and page, each word looked for post by post."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import datetime
from django.conf import settings
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from articles.models import Category, Post

category = Category.objects.create(slug="news", name="要闻")
now = timezone.now()
Post.objects.create(title="央行降准", body="<p>释放长期资金</p>", category=category, status="published",
                    published_at=now - datetime.timedelta(hours=1))
Post.objects.create(title="市场综述", body="<p>降准利好银行股</p>", category=category, status="published",
                    published_at=now - datetime.timedelta(hours=2))
Post.objects.create(title="降准草稿", category=category)
Post.objects.create(title="芯片新闻", body="<p>ETF 资金流入</p>", category=category, status="published",
                    published_at=now - datetime.timedelta(hours=3))
storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=storages, ALLOWED_HOSTS=["testserver"]):
    client = Client()
    for params in [{"q": "降准"}, {"q": "降准 -银行"}, {"q": "etf"}, {"q": "降准", "sort": "new"}, {"q": "<b>"}]:
        response = client.get("/search/", params)
        html = response.content.decode()
        print(response.status_code, html.count('class="post-item"'), "<mark>" in html)
    print(client.get("/search/", {"q": "降准", "from": "nope"}).status_code)
"""


def test_search_works_on_sqlite_with_the_same_url_and_page(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    for command in (["migrate", "--no-input", "-v0"], ["shell", "--no-startup", "-v0", "-c", SCRIPT]):
        result = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr

    assert result.stdout.split("\n")[:6] == [
        "200 2 True",  # both published posts holding 降准, title or body
        "200 1 True",  # less the one that says 银行
        "200 1 True",  # case does not matter
        "200 2 True",
        "200 0 False",  # junk: a friendly message
        "400",
    ]
