"""Jobs that write search documents again: a renamed tag, and a rebuild of every post's."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from taggit.models import Tag

from articles.models import Post
from articles.search_text import parse_query

pytestmark = pytest.mark.django_db


def found(text):
    return set(Post.objects.published().text_search(parse_query(text)).values_list("pk", flat=True))


def test_a_renamed_tag_finds_its_posts_by_the_new_name(make_post, django_capture_on_commit_callbacks):
    post = make_post(title="电池产能扩张", tags=["锂电"])
    tag = Tag.objects.get(name="锂电")

    with django_capture_on_commit_callbacks(execute=True):
        tag.name = "储能"
        tag.save()

    assert found("储能") == {post.pk}
    assert found("锂电") == set()


def test_rebuild_search_writes_every_documents_again(make_post, django_capture_on_commit_callbacks):
    posts = [make_post(title=f"半导体设备{n}") for n in range(3)]
    Post.objects.update(search_document=None)
    assert found("半导体") == set()
    out = StringIO()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("rebuild_search", "--job-size", "2", stdout=out)

    assert found("半导体") == {post.pk for post in posts}
    assert "3 posts in 2 jobs" in out.getvalue()


def test_rebuild_search_refuses_an_empty_job():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("rebuild_search", "--job-size", "0")
