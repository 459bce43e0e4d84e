"""Append-only audit events, sealed with a keyed MAC in one chain per partition.

Each event stores who, what (old and new values), when (aware UTC), why (reason) and how
(channel), the partition it is chained in (``trial-<id>``, ``site-<id>`` or ``global``), its
position ``seq`` in that partition, the id of the key that sealed it and, for an event about a
row, a digest of the row's fields after the change (``row_digest``, checked by
``oncotrials audit verify --rows``).

``hash = HMAC-SHA256(key[key_id], prev_hash || canonical JSON of the event)``: the key comes from
the environment, never from the database, so whoever can write to the database cannot forge an
event or re-seal a history. Events written before the keyed MAC keep ``key_id =
"legacy-sha256"`` (the unkeyed digest of the first version) and may only open the ``global``
chain. The head row of a partition is locked by every append to it, so that its chain stays
linear; writes to different partitions never wait on each other. On PostgreSQL triggers refuse
UPDATE, DELETE and TRUNCATE on events and any move back of a chain head (migrations 0002, 0003).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GLOBAL_PARTITION = "global"
LEGACY_KEY_ID = "legacy-sha256"
GENESIS_HASH = "0" * 64


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    ADMIN = "admin", _("Admin")
    CLI = "cli", _("Command line")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")


class AuditEvent(models.Model):
    partition = models.CharField(max_length=64, default=GLOBAL_PARTITION)
    seq = models.PositiveBigIntegerField()  # position in its partition's chain, from 1
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
    row_digest = models.CharField(max_length=64, blank=True)  # the row after the change
    key_id = models.CharField(max_length=64, default=LEGACY_KEY_ID)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [
            models.UniqueConstraint(fields=["partition", "seq"], name="audit_event_partition_seq")
        ]

    def __str__(self) -> str:
        return f"{self.partition} #{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditChainHead(models.Model):
    """One row per partition: its last sequence number and hash, locked by every append."""

    partition = models.CharField(max_length=64, unique=True, default=GLOBAL_PARTITION)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain {self.partition} at #{self.seq}"
