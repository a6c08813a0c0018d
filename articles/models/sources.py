"""Publishers posts come from."""

from django.db import models
from django.urls import reverse

from articles.slugs import pinyin_slug, unique_slug


class Source(models.Model):
    """A publisher a post came from, e.g. 上海证券报·中国证券网."""

    name = models.CharField("名称", max_length=100, unique=True)
    slug = models.SlugField("URL 标识", max_length=200, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "来源"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Source, pinyin_slug(self.name) or "source")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:source_detail", args=[self.slug])
