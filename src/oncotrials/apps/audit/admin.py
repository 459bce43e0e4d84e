from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the trail is append-only, here as everywhere."""

    list_display = (
        "partition",
        "seq",
        "occurred_at",
        "actor_username",
        "action",
        "object_type",
        "object_id",
        "channel",
    )
    list_filter = ("action", "channel", "object_type", "partition")
    search_fields = ("object_id", "actor_username", "object_repr")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
