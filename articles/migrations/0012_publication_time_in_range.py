"""No writer, COPY included, may store a publication time outside 1990–2100 (0010 repaired those there were)."""

import datetime

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0011_repair_out_of_range_publication_times'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='post',
            constraint=models.CheckConstraint(condition=models.Q(('published_at__gte', datetime.datetime(1990, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)), ('published_at__lt', datetime.datetime(2101, 1, 1, 0, 0, tzinfo=datetime.timezone.utc))), name='post_published_at_in_range', violation_error_message='发布时间须在 1990 年至 2100 年之间。'),
        ),
    ]
