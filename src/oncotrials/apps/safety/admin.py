"""Read-mostly admin views for data managers; clinical writes go through the services."""

from __future__ import annotations

from django.contrib import admin

from .models import AdverseEvent, AstctAssessment, DltCase, DltRuleSet, SaeReport


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Changes to clinical records must be audited, so the admin only shows them."""

    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(AdverseEvent)
class AdverseEventAdmin(ReadOnlyAdmin):
    list_display = ("pk", "registration", "term", "grade", "onset_date", "serious", "status")
    list_filter = ("status", "serious", "immune_related")
    search_fields = ("term", "registration__patient__research_id")


@admin.register(SaeReport)
class SaeReportAdmin(ReadOnlyAdmin):
    list_display = ("adverse_event", "kind", "sequence", "due_at", "sent_at")


@admin.register(AstctAssessment)
class AstctAssessmentAdmin(ReadOnlyAdmin):
    list_display = ("registration", "scale", "assessed_at", "grade")


@admin.register(DltRuleSet)
class DltRuleSetAdmin(ReadOnlyAdmin):
    list_display = ("trial", "version", "updated_at")


@admin.register(DltCase)
class DltCaseAdmin(ReadOnlyAdmin):
    list_display = ("registration", "term", "proposed_outcome", "rule_id", "status")
    list_filter = ("status",)
