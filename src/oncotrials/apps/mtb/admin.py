"""Admin views of the tumour board: read-only (writes go through the services, audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import MtbCase, MtbMeeting, MtbRecommendation, MtbReferral


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(MtbMeeting)
class MtbMeetingAdmin(_ReadOnly):
    list_display = ("held_on", "site", "title", "status", "chair")
    list_filter = ("site", "status")


@admin.register(MtbCase)
class MtbCaseAdmin(_ReadOnly):
    list_display = ("meeting", "patient", "added_by_hand", "actionable")
    raw_id_fields = ("meeting", "patient")


@admin.register(MtbRecommendation)
class MtbRecommendationAdmin(_ReadOnly):
    list_display = ("case", "kind", "trial", "cohort", "signed_name", "signed_at")
    list_filter = ("kind",)


@admin.register(MtbReferral)
class MtbReferralAdmin(_ReadOnly):
    list_display = ("patient", "trial", "cohort", "opened_on", "withdrawn_at")
