from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save
from simple_history.signals import post_create_historical_record, pre_create_historical_record


class ArticlesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "articles"
    verbose_name = "新闻"

    def ready(self):
        # Bookkeeping only: history snapshots of tags and charts, and queueing a post's image jobs.
        from . import history, tasks
        from .models import Post, StockChart, TaggedPost

        historical_post = Post.history.model
        pre_create_historical_record.connect(history.fill_snapshot, sender=historical_post)
        post_create_historical_record.connect(history.remember_record, sender=historical_post)
        post_create_historical_record.connect(history.record_chart_change, sender=StockChart.history.model)
        m2m_changed.connect(history.record_tag_change, sender=TaggedPost)
        post_save.connect(tasks.queue_images_after_save, sender=Post)
        post_delete.connect(tasks.queue_removal_after_delete, sender=Post)
