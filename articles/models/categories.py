"""Categories: the site's sections, keyed by the old site's URL keys."""

from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse

from articles.validators import validate_category_slug


def category_slug_key(slug):
    """What two spellings of one category's slug share: the old site had `TechWeb` and `Techweb`.
    Lookups in memory (the menu, the importer) and in the database (a unique index) agree on it."""
    return slug.lower()


class CategoryQuerySet(models.QuerySet):
    def get_by_slug(self, slug):
        """The category whatever the case of `slug`, found through the unique index on lower(slug)."""
        return self.alias(slug_key=Lower("slug")).get(slug_key=category_slug_key(slug))


class Category(models.Model):
    """A listing section. The slug is the old site's URL key, spelled as it was."""

    # Not a SlugField: real keys hold spaces, `·`, parentheses and mixed case,
    # and old URLs must keep resolving exactly.
    slug = models.CharField("URL 标识", max_length=200, validators=[validate_category_slug])
    name = models.CharField("名称", max_length=200)
    description = models.TextField("简介", blank=True)
    position = models.PositiveIntegerField("排序", default=0, help_text="数字小的排在前面")

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        verbose_name = verbose_name_plural = "栏目"
        constraints = [
            models.UniqueConstraint(Lower("slug"), name="category_slug_unique_ignoring_case"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("articles:category_detail", args=[self.slug])
