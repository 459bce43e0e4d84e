"""Unit operations in the admin. Resources, opening hours, staffing and closures are edited with
a reason for change and an audit event (the resources page does the same through the services);
requests, bookings, plan runs and accrual plans are shown only (their writes check windows, hours
and plans, which the services own)."""

from __future__ import annotations

from django.contrib import admin

from oncotrials.apps.audit.admin_mixins import AuditedAdminMixin

from .models import (
    AccrualPlan,
    Booking,
    CareRequest,
    Closure,
    NurseShift,
    PlanRun,
    Resource,
    UnitCalendar,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(Resource)
class ResourceAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "kind", "site", "name", "active")
    list_filter = ("site", "kind", "active")
    search_fields = ("code", "name")
    fields = ("site", "kind", "code", "name", "active")


@admin.register(UnitCalendar)
class UnitCalendarAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("site", "chair_open", "chair_close", "pharmacy_open", "pharmacy_close")


@admin.register(NurseShift)
class NurseShiftAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("site", "starts", "ends", "nurses")
    list_filter = ("site",)


@admin.register(Closure)
class ClosureAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("site", "on", "reason")
    list_filter = ("site",)


@admin.register(CareRequest)
class CareRequestAdmin(ReadOnlyAdmin):
    list_display = ("label", "site", "unit", "kind", "target", "weight", "source", "status")
    list_filter = ("site", "unit", "source", "status")
    search_fields = ("label",)


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ("request", "site", "resource", "starts_at", "ends_at")
    list_filter = ("site",)


@admin.register(PlanRun)
class PlanRunAdmin(ReadOnlyAdmin):
    list_display = ("site", "monday", "status", "objective", "lower_bound", "created_at")
    list_filter = ("site", "status")
    exclude = ("instance", "solution")


@admin.register(AccrualPlan)
class AccrualPlanAdmin(ReadOnlyAdmin):
    list_display = ("trial", "cohort", "target", "starts_on", "duration_months", "certainty")
