"""Read-only admin views: clinical data change only through the services (edit checks, versions,
reasons and audit), never through the admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from oncotrials.core.numbers import plain

from .models import (
    DataQuery,
    DrugAdministration,
    FormInstance,
    LabResult,
    Signature,
    SourceVerification,
    TrialFormDeclaration,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(TrialFormDeclaration)
class TrialFormDeclarationAdmin(ReadOnlyAdmin):
    list_display = ("trial", "name", "version", "updated_at")


@admin.register(FormInstance)
class FormInstanceAdmin(ReadOnlyAdmin):
    list_display = ("registration", "visit_code", "form_name", "status", "version", "updated_at")
    list_filter = ("status", "form_name")


@admin.register(LabResult)
class LabResultAdmin(ReadOnlyAdmin):
    list_display = ("registration", "analyte", "value_as_written", "unit", "grade", "sampled_on")
    list_filter = ("analyte", "grade")

    @admin.display(description="value", ordering="value")
    def value_as_written(self, obj: LabResult) -> str:
        return plain(obj.value)


@admin.register(DrugAdministration)
class DrugAdministrationAdmin(ReadOnlyAdmin):
    list_display = (
        "registration",
        "agent",
        "dose_as_written",
        "unit",
        "administered_on",
        "modification",
    )

    @admin.display(description="dose", ordering="dose")
    def dose_as_written(self, obj: DrugAdministration) -> str:
        return plain(obj.dose)


@admin.register(DataQuery)
class DataQueryAdmin(ReadOnlyAdmin):
    list_display = ("pk", "patient", "content_type", "object_id", "field", "status", "origin")
    list_filter = ("status", "origin")


@admin.register(SourceVerification)
class SourceVerificationAdmin(ReadOnlyAdmin):
    list_display = ("patient", "content_type", "object_id", "record_version", "verified_by")


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("patient", "content_type", "object_id", "signer_name", "meaning", "signed_at")
