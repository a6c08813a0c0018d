"""Shared fixtures: a category, a source, posts in each state, an editor, a read replica."""

import copy
import datetime
import io
import os
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connections
from django.utils import timezone
from PIL import Image

from articles import routing
from articles.models import Category, Market, Post, Source
from articles.roles import CONTRIBUTORS, EDITORS, sync_role_groups
from articles.tasks import make_post_images


@pytest.fixture(autouse=True)
def _test_storage(settings, tmp_path):
    # collectstatic's manifest does not exist in a test run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    # A "replica" alias, set up as Django's test mirror of the test database: a connection of its own
    # to the same rows, as a streaming replica would be. Only tests using the `replica` fixture read it.
    default = connections.settings["default"]
    connections.settings["replica"] = {**copy.deepcopy(default), "TEST": {**default["TEST"], "MIRROR": "default"}}


@pytest.fixture
def replica(settings):
    """Replicas configured as DATABASE_REPLICA_URLS would, with "replica" (the test mirror) as the only one;
    returns its connection, checked and found usable, not checked again unless a test says so. Tests that read it need
    `django_db(transaction=True, databases="__all__")`: its connection sees committed rows only."""
    settings.DATABASE_REPLICAS = ["replica"]
    settings.REPLICA_CHECK_SECONDS = 3600
    settings.DATABASE_ROUTERS = ["articles.routing.ReplicaRouter"]
    sessions = settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[:sessions],
        "articles.routing.ReplicaMiddleware",
        *settings.MIDDLEWARE[sessions:],
    ]
    routing.forget_health()
    assert routing.is_usable("replica")
    yield connections["replica"]
    routing.forget_health()


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached fragments (the category menu) must not outlive the test data they were built from.
    cache.clear()


@pytest.fixture
def category(db):
    return Category.objects.create(slug="shanghaizhengquanbao·zhongguozhengquanwang", name="上海证券报·中国证券网新闻")


@pytest.fixture
def source(db):
    return Source.objects.create(name="上海证券报·中国证券网")


@pytest.fixture
def make_post(category, source):
    """Build posts with sensible defaults: `make_post(title=..., status=...)`."""
    counter = iter(range(1, 1_000_000))

    def make(**fields):
        n = next(counter)
        fields.setdefault("title", f"测试新闻 {n}")
        fields.setdefault("category", category)
        fields.setdefault("source", source)
        fields.setdefault("status", Post.Status.PUBLISHED)
        fields.setdefault("published_at", timezone.now() - datetime.timedelta(minutes=n))
        fields.setdefault("body", f"<p>正文 {n}</p>")
        tags = fields.pop("tags", [])
        post = Post.objects.create(**fields)
        if tags:
            post.tags.add(*tags)
        return post

    return make


@pytest.fixture
def charted_posts(make_post):
    """35 published posts, more than a page, each with a K-line chart of its own stock and two tags."""
    posts = []
    for n in range(35):
        post = make_post(title=f"港股异动 {n}", summary=f"摘要 {n}", tags=["港股", f"话题{n}"])
        post.charts.create(market=Market.HONG_KONG, code=f"{n:05d}")
        post.sync_stocks()
        posts.append(post)
    return posts


@pytest.fixture
def published_post(make_post):
    return make_post(title="算力底座不停歇！商汤临港智算中心有序复工", info_code="NW202205252391453833")


@pytest.fixture
def run_image_job():
    """Run the image job for `posts` as a worker does once their save commits; refresh them from the database."""

    def run(*posts):
        result = make_post_images.delay([post.pk for post in posts])
        for post in posts:
            post.refresh_from_db()
        return result

    return run


@pytest.fixture
def editor(django_user_model):
    return django_user_model.objects.create_superuser("editor", "editor@example.com", "correct horse battery")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def role_groups(db):
    """The Editors and Contributors groups as the data migration defines them (re-synced, since a
    transactional test's flush empties the tables the migration filled)."""
    return sync_role_groups()


@pytest.fixture
def staff_editor(django_user_model, role_groups):
    """A member of the Editors group (not a superuser); without a password, which is slow to hash."""
    user = django_user_model.objects.create_user("desk", "desk@example.com", is_staff=True)
    user.groups.add(role_groups[EDITORS])
    return user


@pytest.fixture
def contributor(django_user_model, role_groups):
    """A member of the Contributors group."""
    user = django_user_model.objects.create_user("writer", "writer@example.com", is_staff=True)
    user.groups.add(role_groups[CONTRIBUTORS])
    return user


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by Playwright; browser tests need `apt-get install chromium`."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM
    # calls tests make around it are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium, live_server):
    """A fresh page whose requests may reach only the live server; anything else is aborted, never fetched."""
    context = chromium.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.route(
        lambda url: not url.startswith(live_server.url),
        lambda route: route.abort(),
    )
    page = context.new_page()
    yield page
    context.close()


def serve_charts(page):
    """Answer the requests of `page` and the tabs it opens to EastMoney's chart service with a plain
    chart-sized PNG, as when the service is up (browser_page aborts every other request off the
    live server; a route added later is tried first)."""
    image = io.BytesIO()
    Image.new("RGB", (578, 276), "#f0f0f0").save(image, "PNG")
    page.context.route(
        "https://webquoteklinepic.eastmoney.com/**",
        lambda route: route.fulfill(body=image.getvalue(), content_type="image/png"),
    )


def follow(page, link):
    """Click `link` and return once the page it leads to has loaded, stylesheets included: what a test
    reads or measures next belongs to that page, laid out as readers see it."""
    with page.expect_event("load"):
        link.click()


def save_screenshot(page, name):
    """Save a full-page screenshot under artifacts/screenshots/ (kept by CI)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT_DIR / f"{name}.png", full_page=True)
