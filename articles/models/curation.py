"""What the newsroom's curation keeps beside posts: the URLs a live post had before its slug changed,
and its reads per hour (the most-read lists)."""

from django.db import models


class OldSlug(models.Model):
    """A slug a live post was reachable under: its old URL answers with a 301 to the post's current one."""

    slug = models.SlugField("旧 URL 标识", max_length=200, unique=True)
    post = models.ForeignKey("Post", on_delete=models.CASCADE, related_name="old_slugs", verbose_name="文章")
    created_at = models.DateTimeField("改名时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "旧网址"

    def __str__(self):
        return self.slug


class ViewCount(models.Model):
    """Reads of one post counted in one hour, written in batches by articles.popularity.flush_views."""

    post = models.ForeignKey("Post", on_delete=models.CASCADE, related_name="view_counts")
    hour = models.DateTimeField("小时")
    views = models.PositiveIntegerField("阅读数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "每小时阅读数"
        constraints = [models.UniqueConstraint(fields=["post", "hour"], name="view_count_post_hour")]
        # The most-read lists sum the last day's or week's rows of every post.
        indexes = [models.Index(fields=["hour", "post"], name="view_count_hour")]

    def __str__(self):
        return f"{self.post_id} @ {self.hour:%Y-%m-%d %H}:00: {self.views}"
