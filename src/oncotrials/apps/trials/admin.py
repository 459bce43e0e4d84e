from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from oncotrials.apps.audit.admin_mixins import AuditedAdminMixin
from oncotrials.core.numbers import plain

from .models import Cohort, DoseLevel, Trial, TrialSite, TrialStatusChange


class TrialSiteInline(admin.TabularInline):  # type: ignore[type-arg]
    model = TrialSite
    extra = 0


@admin.register(Trial)
class TrialAdmin(AuditedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ("protocol_code", "short_title", "phase", "modality", "status", "sponsor")
    list_filter = ("phase", "status", "modality", "sponsor_type")
    search_fields = ("protocol_code", "title", "sponsor", "nct_number")
    readonly_fields = ("status", "version")  # status moves only through its lifecycle service
    inlines = [TrialSiteInline]


@admin.register(Cohort)
class CohortAdmin(AuditedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ("trial", "code", "name", "kind", "is_open")
    list_filter = ("kind", "is_open")
    readonly_fields = ("version",)


@admin.register(DoseLevel)
class DoseLevelAdmin(AuditedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = ("cohort", "level", "agent", "dose_as_written", "unit", "schedule")
    readonly_fields = ("version",)

    @admin.display(description="dose", ordering="dose")
    def dose_as_written(self, obj: DoseLevel) -> str:
        return plain(obj.dose)


@admin.register(TrialStatusChange)
class TrialStatusChangeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("trial", "from_status", "to_status", "changed_at", "changed_by")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
