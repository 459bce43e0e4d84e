from __future__ import annotations

from django.contrib import admin

from .models import DataCut


@admin.register(DataCut)
class DataCutAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "trial", "created_at", "created_by", "subjects")
    list_filter = ("trial",)
    readonly_fields = [f.name for f in DataCut._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False  # a cut is made through its service, which audits it

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
