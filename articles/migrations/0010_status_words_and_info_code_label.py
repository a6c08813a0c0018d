"""One set of words for a post's status (草稿, 发布; 定时发布 and 已发布 as states), and a Chinese label for
the info code."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0009_chart_history_in_post_records_only'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicalpost',
            name='info_code',
            field=models.CharField(blank=True, db_index=True, help_text='旧站分享链接 NewsShare.html?infoCode= 中的编号，如 NW202205252391453833', max_length=40, null=True, verbose_name='资讯编号'),
        ),
        migrations.AlterField(
            model_name='historicalpost',
            name='status',
            field=models.CharField(choices=[('draft', '草稿'), ('published', '发布')], default='draft', max_length=10, verbose_name='状态'),
        ),
        migrations.AlterField(
            model_name='post',
            name='info_code',
            field=models.CharField(blank=True, help_text='旧站分享链接 NewsShare.html?infoCode= 中的编号，如 NW202205252391453833', max_length=40, null=True, unique=True, verbose_name='资讯编号'),
        ),
        migrations.AlterField(
            model_name='post',
            name='status',
            field=models.CharField(choices=[('draft', '草稿'), ('published', '发布')], default='draft', max_length=10, verbose_name='状态'),
        ),
    ]
