from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

TODAY = dt.date(2026, 11, 20)


@dataclass
class Journey:
    unit: Any
    patient: Any  # main site
    partner_patient: Any
    form: Any
    cohort: Any
    dose_level: Any


@pytest.fixture
def journey(unit, monkeypatch) -> Journey:
    from django.utils import timezone

    from oncotrials.apps.subjects.services import consent_form_create, patient_create
    from oncotrials.apps.trials.services import trial_change_status

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    admin = unit.users["admin"]
    trial = unit.trial_shared
    for status in ("set_up", "open"):
        trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
    from oncotrials.apps.trials.services import cohort_create, dose_level_create

    cohort = cohort_create(trial=trial, code="ESC", name="Escalation", kind="escalation", by=admin)
    dl = dose_level_create(cohort=cohort, level=1, agent="Drug B", dose="50", unit="mg", by=admin)
    form = consent_form_create(
        kind="trial",
        trial=trial,
        version="1.0",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
        options=["future_research", "genetic_analysis"],
    )
    patient = patient_create(
        site=unit.main,
        by=unit.users["nurse"],
        family_name="Martin",
        given_name="Claire",
        birth_date=dt.date(1961, 4, 2),
        hospital_number="H-0001",
        sex="F",
        referral_source="tumour_board",
        referral_date=dt.date(2026, 10, 1),
        diagnosis="coad",
    )
    partner_patient = patient_create(
        site=unit.partner,
        by=unit.users["partner_investigator"],
        family_name="Durand",
        given_name="Paul",
        birth_date=dt.date(1970, 1, 1),
        hospital_number="P-0001",
        sex="M",
        referral_source="partner_centre",
        referral_date=dt.date(2026, 10, 2),
    )
    return Journey(unit, patient, partner_patient, form, cohort, dl)


def consent_and_screen(
    j: Journey,
    patient: Any,
    user: Any,
    *,
    signed=dt.date(2026, 11, 2),
    eligible_on=dt.date(2026, 11, 10),
):
    from oncotrials.apps.subjects.services import consent_sign, screening_close, screening_start

    consent_sign(
        patient=patient,
        form=j.form,
        signed_on=signed,
        by=user,
        options_granted={"future_research": True},
    )
    episode = screening_start(
        patient=patient,
        trial=j.cohort.trial,
        kind="screening",
        started_on=signed,
        by=user,
        checklist=["ECOG 0-1", "Measurable disease"],
    )
    screening_close(
        episode=episode,
        outcome="eligible",
        closed_on=eligible_on,
        by=user,
        checklist=[
            {"criterion": "ECOG 0-1", "met": True},
            {"criterion": "Measurable disease", "met": True},
        ],
    )
    return episode


@pytest.fixture
def screen():
    """``screen(journey, patient, user)``: sign the trial consent and close an eligible screening."""
    return consent_and_screen
