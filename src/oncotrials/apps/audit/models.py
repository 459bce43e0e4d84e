"""Append-only, hash-chained audit events.

Each event stores who, what (old and new values), when (aware UTC), why (reason) and how
(channel). ``hash = sha256(prev_hash || canonical JSON of the event)``; the chain head row is
locked for every append so that the chain stays linear under concurrent writers. On PostgreSQL
a trigger (migration 0002) refuses UPDATE and DELETE on the event table.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    CLI = "cli", _("Command line")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")


class AuditEvent(models.Model):
    seq = models.PositiveBigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32)  # create, update, delete, status, read, login, ...
    object_type = models.CharField(max_length=100)  # app_label.model
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict)  # {field: [old, new]}
    reason = models.TextField(blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """One row: the last sequence number and hash, locked by every append."""

    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain head at #{self.seq}"
