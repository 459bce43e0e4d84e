"""Registered patients of the shared trial, ready for tumour assessments.

Time is frozen: registration happens on 2026-11-12 (the journey's calendar), then the clock moves
to 2027-12-31 so that a year of follow-up scans lies in the past.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

LATER = dt.date(2027, 12, 31)
BASELINE = dt.date(2026, 11, 5)
START = dt.date(2026, 11, 13)  # on treatment


@dataclass
class Cohort:
    journey: Any
    registrations: list[Any]

    @property
    def reg(self) -> Any:
        return self.registrations[0]


def _register(journey: Any, patient: Any, screen: Any) -> Any:
    from oncotrials.apps.subjects.services import registration_change_status, registration_create

    nurse = journey.unit.users["nurse"]
    screen(journey, patient, nurse)
    reg = registration_create(
        patient=patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    return registration_change_status(
        registration=reg, to_status="on_treatment", on=START, by=nurse
    )


@pytest.fixture
def registered(journey, screen, monkeypatch):
    """``registered(n)``: n patients of the main site registered in T-SHARED, on treatment."""
    from django.utils import timezone

    from oncotrials.apps.subjects.services import patient_create

    def make(n: int = 1) -> Cohort:
        regs = [_register(journey, journey.patient, screen)]
        for i in range(1, n):
            patient = patient_create(
                site=journey.unit.main,
                by=journey.unit.users["nurse"],
                family_name=f"Patient{i}",
                given_name="Test",
                birth_date=dt.date(1960, 1, 1),
                hospital_number=f"H-T{i:03d}",
                sex="M",
                referral_source="department",
                referral_date=dt.date(2026, 10, 1),
            )
            regs.append(_register(journey, patient, screen))
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: LATER)
        return Cohort(journey, regs)

    return make


def lesions_table1() -> list[dict[str, Any]]:
    """Two targets (30 + 20 = 50 mm) and one non-target."""
    return [
        {"lesion_id": "T1", "organ": "liver", "role": "target", "diameter_mm": "30"},
        {"lesion_id": "T2", "organ": "lung", "role": "target", "diameter_mm": "20"},
        {"lesion_id": "NT1", "organ": "bone", "role": "non_target", "kind": "blastic_bone"},
    ]


def visit(t1: Any, t2: Any, nt: str = "present") -> list[dict[str, Any]]:
    return [
        {"lesion_id": "T1", "diameter_mm": t1},
        {"lesion_id": "T2", "diameter_mm": t2},
        {"lesion_id": "NT1", "status": nt},
    ]


@pytest.fixture
def tm():
    """The helpers above, as a fixture (test modules cannot import this conftest by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        lesions=lesions_table1, visit=visit, BASELINE=BASELINE, START=START, LATER=LATER
    )
