from __future__ import annotations

from django.contrib import admin

from .models import Container, CustodyEvent, SequencingRun, Shipment, Specimen


@admin.register(Specimen)
class SpecimenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "label",
        "patient",
        "specimen_type",
        "lineage",
        "available_quantity",
        "unit",
        "status",
    )
    list_filter = ("specimen_type", "status", "lineage")
    search_fields = ("label", "barcode", "patient__research_id")
    readonly_fields = (
        "initial_quantity",
        "available_quantity",
        "parent_consumed",
        "consumed_quantity",
    )

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # disposal is a state, never a delete


@admin.register(Container)
class ContainerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "kind", "site", "parent", "temperature", "rows", "columns")


@admin.register(CustodyEvent)
class CustodyEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("specimen", "kind", "at", "from_location", "to_location")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("reference", "recipient", "purpose", "status", "flagged")


@admin.register(SequencingRun)
class SequencingRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("library_id", "run_id", "assay", "specimen", "status", "report")
