"""Tumour data in the admin, read-only: every write goes through the services, which re-evaluate
the responses and write the audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Assessment,
    Lesion,
    LesionMeasurement,
    NewLesion,
    ResponseEvaluation,
    ResponseOverride,
    TimepointResponse,
    TumourAssessmentSettings,
)


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MeasurementInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = LesionMeasurement
    extra = 0


class NewLesionInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = NewLesion
    extra = 0


@admin.register(TumourAssessmentSettings)
class SettingsAdmin(ReadOnlyMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ("trial", "criteria", "confirmation_required", "version")


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ("registration", "kind", "date", "method", "status", "version")
    list_filter = ("kind", "status", "method")
    inlines = [MeasurementInline, NewLesionInline]


@admin.register(Lesion)
class LesionAdmin(ReadOnlyMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ("registration", "lesion_id", "role", "organ", "nodal", "baseline_diameter_mm")
    list_filter = ("role", "nodal", "method")


class TimepointInline(ReadOnlyMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = TimepointResponse
    extra = 0
    fields = ("date", "overall", "rule", "sum_mm", "change_from_baseline_pct")


@admin.register(ResponseEvaluation)
class EvaluationAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("registration", "criteria", "bor", "bor_confirmed", "progression_date")
    inlines = [TimepointInline]


@admin.register(ResponseOverride)
class OverrideAdmin(ReadOnlyMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("registration", "assessment", "computed_response", "response", "created_by")
