"""How tumours plugs into the apps below it, connected once from ``TumoursConfig.ready``.

Tumour assessments take part in the generic queries, SDV and e-signatures of the casebook, and
an assessment dated within an imaging visit's window is that visit's RECIST form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from oncotrials.apps.crfs.records import casebook_provider_register, record_type_register
from oncotrials.apps.subjects.progression import register_progression_provider
from oncotrials.apps.subjects.visit_evidence import group_dates, register_visit_evidence

from .models import Assessment, ResponseEvaluation


def connect() -> None:
    record_type_register(Assessment)
    casebook_provider_register(_assessments)
    register_visit_evidence(_assessment_dates)
    register_progression_provider(_progression_dates)


def _progression_dates(registration_ids: Collection[int]) -> Mapping[int, dt.date]:
    """RECIST progression date of each registration that progressed (one query)."""
    rows = ResponseEvaluation.objects.filter(
        registration_id__in=registration_ids, progression_date__isnull=False
    ).values_list("registration_id", "progression_date")
    return {reg_id: on for reg_id, on in rows if on is not None}


def _assessments(registration: Any) -> Any:
    return Assessment.objects.filter(registration=registration)


def _assessment_dates(
    registration_ids: Collection[int],
) -> Mapping[int, Mapping[str, Iterable[dt.date]]]:
    """``recist`` -> dates of each registration's tumour assessments (one query)."""
    rows = Assessment.objects.filter(registration_id__in=registration_ids).values_list(
        "registration_id", "date"
    )
    return group_dates((reg_id, "recist", on) for reg_id, on in rows)
