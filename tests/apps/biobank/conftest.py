"""A biobank at the main site: a technician, a freezer with one 9×9 box, and a patient of the
shared trial registered and on treatment since 2026-11-13 who signed the translational consent
(storage, future research, genetic analysis; not outside-EU sharing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

START = dt.date(2026, 11, 13)
TIERS = ["sample_storage", "future_research", "genetic_analysis", "outside_eu_sharing"]


@dataclass
class Bank:
    journey: Any
    tech: Any
    patient: Any
    registration: Any
    consent: Any
    box: Any
    rack: Any

    @property
    def unit(self) -> Any:
        return self.journey.unit


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)


def translational_form(admin: Any) -> Any:
    from oncotrials.apps.subjects.services import consent_form_create

    return consent_form_create(
        kind="translational",
        programme="Serial biopsies",
        version="2.0",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
        options=TIERS,
    )


@pytest.fixture
def bank(journey: Any, screen: Any) -> Bank:
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.biobank.services import container_create
    from oncotrials.apps.subjects.services import (
        consent_sign,
        registration_change_status,
        registration_create,
    )

    unit = journey.unit
    admin, nurse = unit.users["admin"], unit.users["nurse"]
    tech = user_create(username="tech", password="a-long-test-password-42")
    membership_grant(user=tech, role=Role.BIOBANK_TECHNICIAN, site=unit.main)
    unit.users["tech"] = tech
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    reg = registration_change_status(registration=reg, to_status="on_treatment", on=START, by=nurse)
    consent = consent_sign(
        patient=journey.patient,
        form=translational_form(admin),
        signed_on=dt.date(2026, 11, 2),
        by=nurse,
        options_granted={t: t != "outside_eu_sharing" for t in TIERS},
    )
    freezer = container_create(site=unit.main, kind="freezer", name="F-80-1", by=tech)
    rack = container_create(site=unit.main, kind="rack", name="R1", parent=freezer, by=tech)
    box = container_create(
        site=unit.main, kind="box", name="B1", parent=rack, rows=9, columns=9, by=tech
    )
    return Bank(journey, tech, journey.patient, reg, consent, box, rack)


def collect(b: Bank, **kw: Any) -> Any:
    from oncotrials.apps.biobank.services import specimen_collect

    args: dict[str, Any] = {
        "patient": b.patient,
        "registration": b.registration,
        "specimen_type": "tissue_frozen",
        "quantity": "20",
        "unit": "mg",
        "collected_at": at(dt.date(2026, 11, 10)),
        "received_at": at(dt.date(2026, 11, 10), 11),
        "anatomic_site": "C34.1",
        "laterality": "left",
        "pathology": "malignant",
        "procedure": "core_needle",
        "by": b.tech,
    }
    args.update(kw)
    return specimen_collect(**args)


@pytest.fixture(name="collect")
def collect_fixture() -> Any:
    """``collect(bank, **overrides)``: a primary specimen (a frozen core biopsy by default)."""
    return collect


@pytest.fixture(name="at")
def at_fixture() -> Any:
    return at
