"""Personas shared by the app, web and CLI tests.

An investigator and a data manager at the main site, an investigator at the partner site,
a sponsor monitor of one trial, an administrator, and an outsider who must see nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The file-based SQLite test database lives in the data directory (see settings); no Django
# import here, so that the framework-free core tests also run with ``-p no:django``.
Path(os.environ.get("ONCOTRIALS_DATA_DIR", "var")).mkdir(parents=True, exist_ok=True)

PASSWORD = "a-long-test-password-42"


@pytest.fixture(autouse=True)
def _language_reset() -> Any:
    """Each test starts in the default language: a request of a test client activates the
    language of its cookie in the worker's thread, and nothing deactivates it afterwards."""
    yield
    import sys

    if "django.conf" in sys.modules:
        from django.conf import settings

        if settings.configured:
            from django.utils import translation

            translation.deactivate()


@dataclass
class Unit:
    main: Any
    partner: Any
    users: dict[str, Any]
    trial_main: Any  # main site only
    trial_shared: Any  # main + partner
    trial_partner: Any  # partner only
    trial_other: Any  # main only, not the monitor's


@pytest.fixture
def unit(db: Any) -> Unit:
    from oncotrials.apps.accounts.models import Role, Site
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.trials.services import cohort_create, dose_level_create, trial_create

    main = Site.objects.create(code="main", name="Main centre")
    partner = Site.objects.create(
        code="partner", name="Partner centre", time_zone="America/New_York"
    )
    users: dict[str, Any] = {}
    for name in [
        "admin",
        "investigator",
        "datamanager",
        "nurse",
        "partner_investigator",
        "monitor",
        "outsider",
        "monitor_other",
    ]:
        users[name] = user_create(username=name, password=PASSWORD)
    admin = users["admin"]

    def make(
        code: str,
        sites: list[Any],
        phase: str = "I-esc",
        tumours: list[str] | None = None,
        targets: list[str] | None = None,
    ) -> Any:
        return trial_create(
            data={
                "protocol_code": code,
                "title": f"Trial {code}",
                "sponsor": "Sponsor",
                "sponsor_type": "industry",
                "phase": phase,
                "modality": "drug",
                "tumour_types": tumours or ["NSCLC"],
                "targets": targets or ["KRAS G12C"],
            },
            sites=sites,
            by=admin,
        )

    trial_main = make("T-MAIN", [main])
    trial_shared = make(
        "T-SHARED", [main, partner], phase="II", tumours=["COAD"], targets=["BRAF V600E"]
    )
    trial_partner = make("T-PARTNER", [partner], phase="III")
    trial_other = make("T-OTHER", [main], phase="I-exp", tumours=["BRCA"], targets=["PIK3CA"])
    cohort = cohort_create(
        trial=trial_main, code="ESC", name="Escalation", kind="escalation", by=admin
    )
    dose_level_create(cohort=cohort, level=1, agent="Drug A", dose="10", unit="mg", by=admin)

    membership_grant(user=admin, role=Role.ADMINISTRATOR, site=main)
    membership_grant(user=users["investigator"], role=Role.INVESTIGATOR, site=main)
    membership_grant(user=users["datamanager"], role=Role.DATA_MANAGER, site=main)
    membership_grant(user=users["nurse"], role=Role.RESEARCH_NURSE, site=main)
    membership_grant(user=users["partner_investigator"], role=Role.INVESTIGATOR, site=partner)
    membership_grant(user=users["monitor"], role=Role.SPONSOR_MONITOR, site=main, trial=trial_main)
    membership_grant(
        user=users["monitor_other"], role=Role.SPONSOR_MONITOR, site=main, trial=trial_other
    )
    return Unit(main, partner, users, trial_main, trial_shared, trial_partner, trial_other)


@pytest.fixture
def client_for(client: Any, unit: Unit) -> Any:
    """A logged-in test client for a persona: ``client_for("monitor")``."""
    from django.test import Client

    def _login(name: str) -> Client:
        c = Client()
        c.force_login(unit.users[name], backend="django.contrib.auth.backends.ModelBackend")
        return c

    return _login


# --- A patient journey at both sites (used by the app and browser tests) -----------------------

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


VISIT_SCHEDULE_EXAMPLE = (
    Path(__file__).resolve().parents[1] / "docs" / "formats" / "visit-schedule.example.yaml"
)
C1D1 = dt.date(2026, 11, 13)


@pytest.fixture
def enrol(journey, screen):
    """``enrol(n, site="main")``: n more patients registered and on treatment in T-SHARED (each
    has C1D8 due today, 2026-11-20)."""
    import yaml

    from oncotrials.apps.subjects.services import (
        patient_create,
        registration_change_status,
        registration_create,
        visit_record,
    )
    from oncotrials.apps.trials.services import schedule_set

    schedule_set(
        trial=journey.cohort.trial,
        document=yaml.safe_load(VISIT_SCHEDULE_EXAMPLE.read_text()),
        by=journey.unit.users["admin"],
    )
    made: list = []

    def make(n: int, site: str = "main") -> list:
        user = journey.unit.users["nurse" if site == "main" else "partner_investigator"]
        regs = []
        for _ in range(n):
            i = len(made)
            patient = patient_create(
                site=getattr(journey.unit, site),
                by=user,
                family_name=f"Patient{i}",
                given_name="Test",
                birth_date=dt.date(1960, 1, 1),
                hospital_number=f"W-{i:04d}",
                sex="M",
                referral_source="department",
                referral_date=dt.date(2026, 10, 1),
            )
            screen(journey, patient, user)
            reg = registration_create(
                patient=patient,
                cohort=journey.cohort,
                dose_level=journey.dose_level,
                registered_on=dt.date(2026, 11, 12),
                by=user,
            )
            reg = registration_change_status(
                registration=reg, to_status="on_treatment", on=C1D1, by=user
            )
            visit_record(registration=reg, code="C1D1", on=C1D1, by=user)
            made.append(reg)
            regs.append(reg)
        return regs

    return make
