from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models import Model


class CrfsConfig(AppConfig):
    name = "oncotrials.apps.crfs"
    label = "crfs"
    verbose_name = "Case report forms: queries, verification, signatures"

    def ready(self) -> None:
        from oncotrials.apps.subjects.models import Registration

        from . import checks  # noqa: F401  (registers the system checks)
        from .models import DrugAdministration, FormInstance, LabResult
        from .records import casebook_provider_register, record_type_register
        from .services import form_field_names

        record_type_register(FormInstance, field_names=form_field_names)
        for model in (LabResult, DrugAdministration, Registration):
            record_type_register(model)
        casebook_provider_register(_crfs_casebook_records)


def _crfs_casebook_records(registration: Any) -> list[Model]:
    from .models import DrugAdministration, FormInstance, LabResult

    return [
        *FormInstance.objects.filter(registration=registration),
        *LabResult.objects.filter(registration=registration),
        *DrugAdministration.objects.filter(registration=registration),
    ]
