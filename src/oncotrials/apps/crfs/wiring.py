"""How crfs plugs into the apps below it, connected once from ``CrfsConfig.ready``.

Forms, labs, drug administrations and registrations are records of the casebook (queries, SDV,
signatures); form data, labs and doses recorded for a visit attest that it took place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.db.models import Min, Model
from django.db.models.functions import TruncDate

from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.visit_evidence import group_dates, register_visit_evidence
from oncotrials.core.schedule import VISIT_EVIDENCE_PREFIX

from .models import DrugAdministration, FormInstance, LabResult
from .records import casebook_provider_register, record_type_register
from .services import form_field_names


def connect() -> None:
    record_type_register(FormInstance, field_names=form_field_names)
    for model in (LabResult, DrugAdministration, Registration):
        record_type_register(model)
    casebook_provider_register(_crfs_casebook_records)
    register_visit_evidence(_visit_records_evidence)


def _crfs_casebook_records(registration: Any) -> list[Model]:
    return [
        *FormInstance.objects.filter(registration=registration),
        *LabResult.objects.filter(registration=registration),
        *DrugAdministration.objects.filter(registration=registration),
    ]


def _visit_records_evidence(
    registration_ids: Collection[int],
) -> Mapping[int, Mapping[str, Iterable[dt.date]]]:
    """``visit:<code>`` -> the first day a form, lab or dose was recorded for each visit (one
    query: a union of the three tables, grouped). The calendar reads only the earliest date of
    a ``visit:`` kind: the visit was done on it."""
    forms = (
        FormInstance.objects.filter(registration_id__in=registration_ids)
        .values("registration_id", "visit_code")
        .annotate(day=TruncDate(Min("created_at")))
        .values_list("registration_id", "visit_code", "day")
        .order_by()
    )
    labs = (
        LabResult.objects.filter(registration_id__in=registration_ids)
        .exclude(visit_code="")
        .values("registration_id", "visit_code")
        .annotate(day=Min("sampled_on"))
        .values_list("registration_id", "visit_code", "day")
        .order_by()
    )
    doses = (
        DrugAdministration.objects.filter(registration_id__in=registration_ids)
        .exclude(visit_code="")
        .values("registration_id", "visit_code")
        .annotate(day=Min("administered_on"))
        .values_list("registration_id", "visit_code", "day")
        .order_by()
    )
    rows = forms.union(labs, doses, all=True).order_by()
    return group_dates((reg_id, VISIT_EVIDENCE_PREFIX + code, day) for reg_id, code, day in rows)
