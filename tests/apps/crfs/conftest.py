"""A registered, treated patient of the shared trial with the example visit schedule.

Today is 2026-11-20 (the journey fixture); C1D1 was on 2026-11-13, so C1D8 is due today,
screening (SCR) is overdue and C1D1 is done.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"
PASSWORD = "a-long-test-password-42"  # tests/conftest.py


@dataclass
class Casebook:
    journey: Any
    unit: Any
    registration: Any
    users: dict[str, Any]


@pytest.fixture
def cb(journey, screen) -> Casebook:
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.subjects.services import (
        registration_change_status,
        registration_create,
        visit_record,
    )
    from oncotrials.apps.trials.services import schedule_set

    unit = journey.unit
    doc = yaml.safe_load(EXAMPLE.read_text())
    schedule_set(trial=journey.cohort.trial, document=doc, by=unit.users["admin"])
    nurse = unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    reg = registration_change_status(
        registration=reg, to_status="on_treatment", on=dt.date(2026, 11, 13), by=nurse
    )
    visit_record(registration=reg, code="C1D1", on=dt.date(2026, 11, 13), by=nurse)
    users = dict(unit.users)
    users["shared_monitor"] = user_create(username="shared_monitor", password=PASSWORD)
    membership_grant(
        user=users["shared_monitor"],
        role=Role.SPONSOR_MONITOR,
        site=unit.main,
        trial=journey.cohort.trial,
    )
    users["investigator"].first_name, users["investigator"].last_name = "Ines", "Vidal"
    users["investigator"].save()
    return Casebook(journey, unit, reg, users)
