"""finews on several nodes (deploy/cluster): two app nodes behind nginx, a job worker, a PostgreSQL primary
and streaming replica, Redis and an S3 server, all started on free loopback ports and driven over HTTP.

Which database answered a reader shows in what the page holds: with the replica's replay paused, a post
published on the primary is on a reader's page only when the primary served it. Reader URLs carry a
query string never asked before, so that no cache in front answers instead of the database.
"""

import contextlib
import io
import itertools
import re
import time
import zipfile
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from PIL import Image

from deploy.cluster import BUCKET, Cluster
from deploy.postgres import MissingComponent

from .post_form import post_form_data

requests = pytest.importorskip("requests", reason="requests is not installed (pip install -r requirements-dev.txt)")

pytestmark = pytest.mark.cluster

EDITOR, PASSWORD = "chief", "cluster-editor-password"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DEMO_POSTS = Path(__file__).resolve().parent.parent / "articles" / "demo_posts" / "_posts"


class Site:
    """The running cluster, an editor logged in through node A (the session works on every node), and
    what the tests do with them."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.a, self.b = cluster.nodes["a"], cluster.nodes["b"]
        self.nginx = cluster.url
        self.queries = itertools.count()
        cluster.create_admin(EDITOR, PASSWORD)
        with self.primary() as conn:
            category = conn.execute(
                "INSERT INTO articles_category (slug, name, description, position)"
                " VALUES ('kx', '快讯', '', 0) RETURNING id"
            )
            self.category = SimpleNamespace(pk=category.fetchone()[0])
        self.editor = requests.Session()
        login = f"{self.a}/admin/login/"
        token = CSRF.search(self.editor.get(login).text)[1]
        fields = {"csrfmiddlewaretoken": token, "username": EDITOR, "password": PASSWORD, "next": "/admin/"}
        assert self.editor.post(login, fields).url.endswith("/admin/")

    def primary(self):
        return psycopg.connect(self.cluster.primary.url("finews"), autocommit=True)

    def on_replica(self, sql):
        with psycopg.connect(self.cluster.replica.url("finews"), autocommit=True) as conn:
            return conn.execute(sql).fetchone()

    @contextlib.contextmanager
    def replay_paused(self):
        """The replica keeps receiving the primary's changes but stops applying them."""
        self.on_replica("SELECT pg_wal_replay_pause()")
        # Pausing is only asked for: replay stops at its next record, which the test must wait for.
        eventually(lambda: self.on_replica("SELECT pg_get_wal_replay_pause_state() = 'paused'")[0])
        try:
            yield
        finally:
            self.on_replica("SELECT pg_wal_replay_resume()")

    def save_post(self, node, title, post_id=None, slug="", **files):
        """Add a published post (or change post `post_id`) through the admin of `node`; returns its id and slug."""
        path = f"/admin/articles/post/{post_id}/change/" if post_id else "/admin/articles/post/add/"
        token = CSRF.search(self.editor.get(f"{node}{path}").text)[1]
        fields = post_form_data(category=self.category, title=title, slug=slug, status="published")
        response = self.editor.post(f"{node}{path}", {**fields, "csrfmiddlewaretoken": token}, files=files or None)
        assert response.history and response.history[0].status_code == 302, response.text[:3000]
        with self.primary() as conn:
            return conn.execute("SELECT id, slug FROM articles_post WHERE title = %s", [title]).fetchone()

    def read(self, base, path="/news/"):
        """A reader's request (no cookies) for `path` through `base`."""
        return requests.get(f"{base}{path}", params={"n": next(self.queries)}, timeout=10)

    def wait_until_replayed(self):
        with self.primary() as conn:
            position = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        eventually(lambda: self.on_replica(f"SELECT pg_last_wal_replay_lsn() >= '{position}'")[0])


def eventually(check, seconds=30):
    """Wait until `check()` is true, failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"still not so after {seconds} s"
        time.sleep(0.25)


@pytest.fixture(scope="module")
def site():
    # Replicas may lag a minute here: the tests pause replay on purpose, and the replica must not be
    # skipped for that. It is checked every second (the cluster's REPLICA_CHECK_SECONDS).
    cluster = Cluster(workers=1, REPLICA_MAX_LAG_SECONDS=60)
    try:
        cluster.start()
    except MissingComponent as missing:
        pytest.skip(f"no cluster to test: {missing}")
    try:
        yield Site(cluster)
    except BaseException:
        for name in cluster.processes:
            print(f"--- {name}\n{cluster.log(name)}")
        raise
    finally:
        cluster.stop()


def test_a_post_published_on_node_a_shows_through_node_b_and_nginx(site):
    site.save_post(site.a, "甲：在节点 A 发布")

    eventually(lambda: "甲：在节点 A 发布" in site.read(site.b).text)
    response = site.read(site.nginx, "/")
    assert response.status_code == 200
    assert "甲：在节点 A 发布" in response.text
    # nginx serves the collected static files itself, without asking a node.
    stylesheet = requests.get(f"{site.nginx}/static/css/site.css", timeout=10)
    assert stylesheet.status_code == 200
    assert "X-Finews-Node" not in stylesheet.headers


def png(size=(1600, 900)):
    data = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(data, "PNG")
    return data.getvalue()


def test_an_image_uploaded_on_node_a_gets_renditions_from_the_worker_that_node_b_links_in_the_bucket(site):
    _, slug = site.save_post(site.a, "乙：带题图的新闻", lead_image=("cover.png", png(), "image/png"))
    bucket = f"{site.cluster.s3_url}/{BUCKET}/"

    def page():
        return site.read(site.b, f"/news/{slug}/").text

    # Until the worker is done, the page shows the original; then the renditions, from the bucket.
    eventually(lambda: f'srcset="{bucket}renditions/' in page())
    rendition = re.search(rf'srcset="({re.escape(bucket)}renditions/[^ "]+)', page())[1]
    served = requests.get(rendition, timeout=10)
    assert served.status_code == 200
    assert Image.open(io.BytesIO(served.content)).width in (320, 640, 1280)


def test_editors_read_their_own_writes_at_once_on_either_node(site):
    post_id, slug = site.save_post(site.a, "丙：编辑前")
    site.wait_until_replayed()

    with site.replay_paused():
        site.save_post(site.b, "丙：编辑后", post_id=post_id, slug=slug)
        changelist = site.editor.get(f"{site.a}/admin/articles/post/", params={"q": "丙"})
        article_for_editor = site.editor.get(f"{site.a}/news/{slug}/")
        article_for_reader = site.read(site.nginx, f"/news/{slug}/")

    assert "丙：编辑后" in changelist.text
    assert article_for_editor.status_code == 200
    assert "丙：编辑后" in article_for_editor.text
    # Readers read the replica, which has not applied the edit yet; once it has, they see it too.
    assert article_for_reader.status_code == 200
    assert "丙：编辑前" in article_for_reader.text
    eventually(lambda: "丙：编辑后" in site.read(site.nginx, f"/news/{slug}/").text)


def test_with_the_replica_stopped_readers_get_pages_from_the_primary_and_the_replica_again_once_back(site):
    site.cluster.replica.stop()
    try:
        site.save_post(site.a, "丁：副本停机时发布")
        answers = [site.read(site.nginx) for _ in range(20)]
    finally:
        site.cluster.replica.start()
    assert [response.status_code for response in answers] == [200] * 20
    assert all("丁：副本停机时发布" in response.text for response in answers)

    site.wait_until_replayed()
    with site.replay_paused():
        site.save_post(site.a, "戊：副本恢复后发布")
        # Every worker of both nodes comes back to the replica within its next check.
        eventually(lambda: all("戊：副本恢复后发布" not in site.read(site.nginx).text for _ in range(6)))


def test_an_archive_uploaded_on_node_a_is_imported_by_the_worker_and_followed_on_node_b(site):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for path in sorted(DEMO_POSTS.glob("*.md"))[:5]:
            archive.writestr(f"_posts/{path.name}", path.read_bytes())
    add = f"{site.a}/admin/articles/importrun/add/"
    token = CSRF.search(site.editor.get(add).text)[1]
    response = site.editor.post(add, {"csrfmiddlewaretoken": token}, files={"upload": ("demo.zip", data.getvalue())})
    run = re.search(r"/admin/articles/importrun/(\d+)/change/", response.url)[1]

    progress = f"{site.b}/admin/articles/importrun/{run}/progress/"
    eventually(lambda: site.editor.get(progress).json()["finished"])
    assert site.editor.get(progress).json()["summary"].startswith("5 created, 0 updated")


def test_killing_node_a_under_load_moves_readers_to_node_b_and_no_request_fails(site):
    statuses, nodes = [], []
    for n in range(150):
        if n == 50:
            site.cluster.kill("node_a")
        response = site.read(site.nginx)
        statuses.append(response.status_code)
        nodes.append(response.headers["X-Finews-Node"])

    node_a, node_b = (url.removeprefix("http://") for url in (site.a, site.b))
    assert {node_a, node_b} <= set(nodes[:50])
    assert statuses == [200] * 150
    assert all(node.endswith(node_b) for node in nodes[50:])
