from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.apps import AppConfig
from django.db.models import Model

from oncotrials.apps.subjects.visit_evidence import group_dates


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
        # Form data, labs and doses recorded for a visit attest that it took place.
        from oncotrials.apps.subjects.visit_evidence import register_visit_evidence

        register_visit_evidence(_visit_records_evidence)


def _crfs_casebook_records(registration: Any) -> list[Model]:
    from .models import DrugAdministration, FormInstance, LabResult

    return [
        *FormInstance.objects.filter(registration=registration),
        *LabResult.objects.filter(registration=registration),
        *DrugAdministration.objects.filter(registration=registration),
    ]


def _visit_records_evidence(
    registration_ids: Collection[int],
) -> Mapping[int, Mapping[str, Iterable[dt.date]]]:
    """``visit:<code>`` -> dates of the forms, labs and doses recorded for each visit (one query:
    a union of the three tables)."""
    from django.db.models import F
    from django.db.models.functions import TruncDate

    from oncotrials.core.schedule import VISIT_EVIDENCE_PREFIX

    from .models import DrugAdministration, FormInstance, LabResult

    forms = (
        FormInstance.objects.filter(registration_id__in=registration_ids)
        .annotate(day=TruncDate("created_at"))
        .values_list("registration_id", "visit_code", "day")
        .order_by()
    )
    labs = (
        LabResult.objects.filter(registration_id__in=registration_ids)
        .exclude(visit_code="")
        .annotate(day=F("sampled_on"))
        .values_list("registration_id", "visit_code", "day")
        .order_by()
    )
    doses = (
        DrugAdministration.objects.filter(registration_id__in=registration_ids)
        .exclude(visit_code="")
        .annotate(day=F("administered_on"))
        .values_list("registration_id", "visit_code", "day")
        .order_by()
    )
    rows = forms.union(labs, doses, all=True).order_by()
    return group_dates((reg_id, VISIT_EVIDENCE_PREFIX + code, day) for reg_id, code, day in rows)
