"""API keys: how the newsroom's crawler (and any other writer) authenticates to the JSON API."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

# Every key starts with this, so a key pasted into a chat or a log is recognisable (and greppable by
# secret scanners); the next characters, kept in the clear as `prefix`, tell keys apart in the admin.
TOKEN_PREFIX = "finews_"
SHOWN_CHARACTERS = 8


def hash_token(token):
    """The stored digest of `token`. Keys are 256 random bits, so one fast hash is enough: unlike a
    password, a key cannot be guessed from a list, and a digest stolen from the database is useless."""
    return hashlib.sha256(token.encode()).hexdigest()


class APIKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)

    def authenticate(self, token, scope):
        """The active key `token` spells with `scope`, or None; notes when it was used."""
        if not token or not token.startswith(TOKEN_PREFIX):
            return None
        key = self.active().filter(hashed_token=hash_token(token), scope=scope).first()
        if key is not None:
            key.last_used_at = timezone.now()
            APIKey.objects.filter(pk=key.pk).update(last_used_at=key.last_used_at)
        return key


class APIKey(models.Model):
    """A named, revocable key for one scope of the API. Only its SHA-256 is stored: the key itself is
    shown once, when it is made, and cannot be seen again."""

    class Scope(models.TextChoices):
        INGEST = "ingest", "写入文章（爬虫导入）"

    name = models.CharField("名称", max_length=60, unique=True, help_text="谁在用这个密钥，例如「东财爬虫」")
    scope = models.CharField("权限", max_length=20, choices=Scope.choices, default=Scope.INGEST)
    prefix = models.CharField("密钥开头", max_length=20, editable=False)
    hashed_token = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name="创建者",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True, editable=False)

    objects = APIKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = verbose_name_plural = "API 密钥"

    def __str__(self):
        return self.name

    def issue_token(self):
        """Give this key a new secret and return it: the only time it exists in the clear."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.prefix = token[: len(TOKEN_PREFIX) + SHOWN_CHARACTERS]
        self.hashed_token = hash_token(token)
        return token

    def revoke(self):
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    @property
    def is_active(self):
        return self.revoked_at is None

    @property
    def change_reason(self):
        """How the posts this key writes are recorded in their history."""
        return f"ingest: {self.name} (API key #{self.pk})"
