from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from oncotrials.apps.audit.admin_mixins import AuditedAdminMixin

from .models import ApiToken, Membership, Site, User


@admin.register(User)
class OncotrialsUserAdmin(AuditedAdminMixin, UserAdmin):  # type: ignore[type-arg]
    fieldsets = (*UserAdmin.fieldsets, ("oncotrials", {"fields": ("language",)}))  # type: ignore[misc]
    audited_fields = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_active",
        "is_staff",
        "is_superuser",
        "language",
    )


@admin.register(Site)
class SiteAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("code", "name", "city", "country", "time_zone")


@admin.register(Membership)
class MembershipAdmin(AuditedAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "role", "site", "trial", "valid_from", "valid_to")
    list_filter = ("role", "site")
    search_fields = ("user__username",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "user",
        "name",
        "prefix",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("user", "name", "prefix", "scope", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request: object) -> bool:
        return False
