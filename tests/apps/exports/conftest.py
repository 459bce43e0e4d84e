"""The trial data of the exports tests: two registered patients of T-SHARED (one per site), a
complete AE with a 250-character verbatim term, a lab result, a dose, a RECIST baseline and a
follow-up."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from exports_data import VERBATIM


def _register(journey: Any, patient: Any, screen: Any, user: Any) -> Any:
    from oncotrials.apps.subjects.services import registration_change_status, registration_create

    screen(journey, patient, user)
    reg = registration_create(
        patient=patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=user,
    )
    return registration_change_status(
        registration=reg, to_status="on_treatment", on=dt.date(2026, 11, 13), by=user
    )


@pytest.fixture
def trial_data(journey: Any, screen: Any) -> Any:
    from oncotrials.apps.crfs.services import administration_record, lab_result_create
    from oncotrials.apps.safety.services import adverse_event_create
    from oncotrials.apps.tumours.services import assessment_save, baseline_save

    unit = journey.unit
    unit.main.country, unit.partner.country = "FR", "US"
    unit.main.save()
    unit.partner.save()
    nurse, partner = unit.users["nurse"], unit.users["partner_investigator"]
    reg = _register(journey, journey.patient, screen, nurse)
    _register(journey, journey.partner_patient, screen, partner)
    administration_record(
        registration=reg,
        agent="Drug B",
        dose="50",
        unit="mg",
        administered_on=dt.date(2026, 11, 13),
        visit_code="C1D1",
        by=nurse,
    )
    lab_result_create(
        registration=reg,
        analyte="neutrophils",
        value="0.8",
        unit="10^9/L",
        sampled_on=dt.date(2026, 11, 14),
        lln="1.8",
        uln="7.5",
        visit_code="C1D1",
        by=nurse,
    )
    adverse_event_create(
        registration=reg,
        data={
            "term": "Colitis",
            "grade": 3,
            "onset_date": "2026-11-14",
            "attribution": {"Drug B": "probable"},
            "action_taken": "interrupted",
            "outcome": "recovering",
            "verbatim": VERBATIM,
        },
        by=nurse,
        complete=True,
    )
    baseline_save(
        registration=reg,
        date=dt.date(2026, 11, 5),
        method="CT",
        lesions=[
            {"lesion_id": "T1", "organ": "liver", "role": "target", "diameter_mm": "30"},
            {"lesion_id": "T2", "organ": "lung", "role": "target", "diameter_mm": "20"},
            {"lesion_id": "NT1", "organ": "bone", "role": "non_target", "kind": "blastic_bone"},
        ],
        by=nurse,
    )
    assessment_save(
        registration=reg,
        date=dt.date(2026, 11, 19),
        measurements=[
            {"lesion_id": "T1", "diameter_mm": "20"},
            {"lesion_id": "T2", "diameter_mm": "12"},
            {"lesion_id": "NT1", "status": "present"},
        ],
        by=nurse,
    )
    return journey
