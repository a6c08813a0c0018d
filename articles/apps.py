from django.apps import AppConfig
from django.db.models import signals
from django.db.models.signals import post_delete, post_save, pre_delete
from simple_history.signals import pre_create_historical_record


class ArticlesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "articles"
    verbose_name = "新闻"

    def ready(self):
        # Bookkeeping only: the tag and chart snapshot of history records made outside the admin, and
        # queueing a post's image jobs once its save or deletion commits, and its search document's when
        # one of its tags is renamed.
        from taggit.models import Tag

        from . import freshness, history, search_text, tasks
        from .models import Post

        search_text.register_adapters()
        pre_delete.connect(history.keep_snapshot_for_deletion, sender=Post)
        pre_create_historical_record.connect(history.fill_snapshot, sender=Post.history.model)
        post_save.connect(tasks.queue_images_after_save, sender=Post)
        post_delete.connect(tasks.queue_removal_after_delete, sender=Post)
        post_save.connect(tasks.tag_saved, sender=Tag)
        # Cached pages: each write bumps the versions of what it changes (articles/freshness.py).
        for signal_name, receivers in freshness.RECEIVERS.items():
            for receiver, sender in receivers:
                uid = f"{receiver.__name__}:{sender.__name__}"
                getattr(signals, signal_name).connect(receiver, sender=sender, dispatch_uid=uid)
