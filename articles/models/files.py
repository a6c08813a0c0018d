"""The original files posts were imported from."""

import zlib

from django.db import models
from django.utils import timezone


class OriginalFile(models.Model):
    """The Jekyll file a post was imported from, kept compressed so it can be re-parsed later."""

    post = models.OneToOneField("Post", on_delete=models.CASCADE, related_name="original_file")
    path = models.CharField("路径", max_length=500)
    sha256 = models.CharField(max_length=64, db_index=True)
    compressed_text = models.BinaryField()
    # The file's own mtime: of two files with one key and one date, the later-modified one wins.
    modified_at = models.DateTimeField("文件修改时间", null=True, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "原始文件"

    def __str__(self):
        return self.path

    @property
    def text(self):
        return zlib.decompress(self.compressed_text).decode("utf-8")

    @staticmethod
    def compress(text):
        return zlib.compress(text.encode("utf-8"), 6)
