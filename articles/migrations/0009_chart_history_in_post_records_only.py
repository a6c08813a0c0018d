"""Stock charts lose their own history: each historical post record keeps the post's charts (and tags)."""

from django.conf import settings
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0008_post_image_files'),
        ('taggit', '0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveField(
            model_name='historicalstockchart',
            name='history_user',
        ),
        migrations.RemoveField(
            model_name='historicalstockchart',
            name='post',
        ),
        migrations.DeleteModel(
            name='HistoricalStockChart',
        ),
    ]
