"""Admin edits are audited like any other: a reason is required, old and new values kept."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.utils import flatten_fieldsets
from django.db import transaction
from django.http import HttpRequest

from oncotrials.apps.accounts.access import acting_user

from .services import audit_record, diff, model_snapshot


class AuditedAdminMixin:
    """Adds a 'reason for change' field to admin forms and writes an audit event per save."""

    audited_fields: tuple[str, ...] | None = None

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # The reason is a form-only field: keep it out of the model fields Django builds from.
        if kwargs.get("fields") is None and "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(super().get_fieldsets(request, obj))  # type: ignore[misc]
        if kwargs.get("fields") is not None:
            kwargs["fields"] = [f for f in kwargs["fields"] if f != "change_reason"]
        form = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]

        class WithReason(form):  # type: ignore[misc,valid-type]
            change_reason = forms.CharField(
                label="Reason for change",
                required=obj is not None,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Required when changing an existing record.",
            )

        return WithReason

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        fieldsets.append(("Audit", {"fields": ("change_reason",)}))
        return fieldsets

    def _fields(self, obj: Any) -> list[str]:
        if self.audited_fields is not None:
            return list(self.audited_fields)
        return [f.attname for f in obj._meta.concrete_fields]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        fields = self._fields(obj)
        before: dict[str, Any] = {}
        if change and obj.pk:
            before = model_snapshot(type(obj)._default_manager.get(pk=obj.pk), fields)
        with transaction.atomic():
            if hasattr(obj, "version") and change:
                obj.version += 1
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            after = model_snapshot(obj, fields)
            audit_record(
                action="update" if change else "create",
                instance=obj,
                changes=diff(before, after) if change else {k: [None, v] for k, v in after.items()},
                reason=form.cleaned_data.get("change_reason", ""),
                by=acting_user(request.user),
                channel="admin",
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit_record(
                action="delete",
                instance=obj,
                changes={k: [v, None] for k, v in model_snapshot(obj, self._fields(obj)).items()},
                by=acting_user(request.user),
                channel="admin",
                reason="Deleted in admin",
            )
            super().delete_model(request, obj)  # type: ignore[misc]
