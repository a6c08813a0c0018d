"""An admin import: an archive of Jekyll posts an editor uploaded, run by the job queue through the
same importer as `import_posts`, with its progress, summary and per-file report kept here."""

from django.conf import settings
from django.db import models

# What an admin import keeps of its per-file outcomes in the database, for its page; the whole report,
# every file included, is a JSON file beside the upload.
PROBLEMS_SHOWN = 500
# The importer's outcomes (report.Status values) as the admin names them.
OUTCOME_LABELS = {
    "created": "新建",
    "updated": "更新",
    "unchanged": "未变",
    "conflict": "冲突",
    "failed": "失败",
    "skipped": "跳过",
}


class ImportRun(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "导入中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    upload = models.FileField("压缩包", upload_to="imports/%Y/%m/")
    original_name = models.CharField("文件名", max_length=255)
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.QUEUED)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="上传人", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True)
    finished_at = models.DateTimeField("结束时间", null=True)
    attempts = models.PositiveIntegerField("运行次数", default=0)
    # Files done so far in the current attempt, and how many of each outcome ("created", "failed": the
    # importer's report.Status values).
    processed = models.PositiveIntegerField("已处理文件", default=0)
    counts = models.JSONField("各结果数量", default=dict)
    summary = models.CharField("摘要", max_length=300, blank=True)
    # Why the run as a whole failed (an unreadable upload, a job out of retries), in words for the editor.
    error = models.TextField("错误", blank=True)
    # Failed, conflicting and skipped-post files with their reasons, and files with warnings: at most
    # PROBLEMS_SHOWN of them, as dicts of report.Outcome.as_dict().
    problems = models.JSONField("问题文件", default=list)
    report = models.FileField("完整报告", upload_to="imports/reports/%Y/%m/", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "文章导入"
        ordering = ["-created_at", "-pk"]
        permissions = [("import_posts", "可以上传压缩包导入文章")]

    def __str__(self):
        return f"{self.original_name}（{self.get_state_display()}）"

    @property
    def finished(self):
        return self.state in (self.State.DONE, self.State.FAILED)

    def progress_text(self):
        """`导入中：已处理 120 个文件（新建 100，更新 0，…）`"""
        counts = "，".join(f"{label} {self.counts.get(status, 0)}" for status, label in OUTCOME_LABELS.items())
        return f"{self.get_state_display()}：已处理 {self.processed} 个文件（{counts}）"

    def progress(self):
        """What the progress endpoint answers: the state, files done, counts per outcome, the summary."""
        return {
            "state": self.state,
            "processed": self.processed,
            "counts": self.counts,
            "text": self.progress_text(),
            "summary": self.summary,
            "error": self.error,
            "finished": self.finished,
        }
