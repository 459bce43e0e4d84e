"""Admin for data managers and administrators: research data only; identities are not listed here
(they are read through the audited identity service), and concealed allocation lists never shown."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from oncotrials.apps.audit.admin_mixins import AuditedAdminMixin

from .models import ConsentForm, Patient, RandomisationScheme, Registration, SlotAllocation


@admin.register(Patient)
class PatientAdmin(AuditedAdminMixin, SimpleHistoryAdmin):  # type: ignore[misc]
    list_display = (
        "research_id",
        "site",
        "sex",
        "year_of_birth",
        "diagnosis",
        "referral_source",
        "referral_date",
    )
    list_filter = ("site", "referral_source", "sex")
    search_fields = ("research_id",)
    readonly_fields = ("research_id", "version")


@admin.register(ConsentForm)
class ConsentFormAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "kind", "version", "valid_from", "valid_to", "ethics_approval_date")
    list_filter = ("kind",)


@admin.register(SlotAllocation)
class SlotAllocationAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("cohort", "dose_level", "site", "slots", "open_from", "open_until")


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: registrations move only through the journey services (locks, checks, audit)."""

    list_display = ("patient", "trial", "cohort", "dose_level", "registered_on", "status")
    list_filter = ("status", "trial")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(RandomisationScheme)
class RandomisationSchemeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("trial", "method", "blinded", "created_at")
    exclude = ("allocation_list",)

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
