"""Unit operations in the admin. Resources, opening hours, staffing and closures are edited with
a reason for change and an audit event (the resources page does the same through the services);
a booking's place is edited with the same placement check as the planner (open day, window,
opening and pharmacy hours, resource kind, capacity); requests, plan runs and accrual plans are
shown only (their writes check windows, hours and plans, which the services own)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from oncotrials.apps.audit.admin_mixins import AuditedAdminMixin
from oncotrials.core.errors import ValidationError

from .models import (
    AccrualPlan,
    Booking,
    BookingStatus,
    CareRequest,
    Closure,
    NurseShift,
    PlanRun,
    Resource,
    UnitCalendar,
)
from .placement import PlacementChecker


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


class BookingForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Booking
        fields = ("resource", "starts_at", "prep_starts_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        b = self.instance
        if self.errors or not data.get("starts_at"):
            return data
        checker = PlacementChecker(b.site)
        try:
            place = checker.check(
                request=b.request,
                starts_at=data["starts_at"],
                prep_starts_at=data.get("prep_starts_at"),
                resource=data.get("resource"),
                others=checker.others(exclude=[b.request_id]),
            )
        except ValidationError as exc:
            field = exc.extra.get("field")
            raise forms.ValidationError(
                {field if field in self.fields else "__all__": exc.message}
            ) from None
        b.ends_at = place.ends
        return data


@admin.register(Booking)
class BookingAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("request", "site", "resource", "starts_at", "ends_at", "status")
    list_filter = ("site", "status")
    form = BookingForm
    fields = ("resource", "starts_at", "prep_starts_at")
    audited_fields = ("resource_id", "starts_at", "ends_at", "prep_starts_at")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # bookings come from plans, re-plans and the planner page

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # cancelling is a state, on the planner page

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != BookingStatus.ACTIVE:
            return False
        return super().has_change_permission(request, obj)


@admin.register(PlanRun)
class PlanRunAdmin(ReadOnlyAdmin):
    list_display = ("site", "monday", "status", "objective", "lower_bound", "created_at")
    list_filter = ("site", "status")
    exclude = ("instance", "solution")


@admin.register(AccrualPlan)
class AccrualPlanAdmin(ReadOnlyAdmin):
    list_display = ("trial", "cohort", "target", "starts_on", "duration_months", "certainty")
