"""Each role's home page costs a fixed number of queries whatever the number of patients: the
same count with 3 registrations (each with a form under an open query) as with 30."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

# The largest measured: the administrator, who sees every section (43 queries with one escalation
# cohort). Each section adds its own few queries, none per row.
HOME_BUDGET = 50
PERSONAS = ("investigator", "nurse", "datamanager", "monitor", "admin")


def _with_queried_forms(journey: Any, regs: list[Any]) -> None:
    from oncotrials.apps.crfs.services import form_save, query_raise

    for reg in regs:
        form = form_save(
            registration=reg,
            visit_code="C1D1",
            form_name="vital_signs",
            data={"assessed_on": "2026-11-13", "systolic_bp": "120", "heart_rate": 72},
            version=0,
            complete=True,
            by=journey.unit.users["nurse"],
        )
        query_raise(
            record=form,
            field="heart_rate",
            text=f"Source says 62 for {reg.patient.research_id}?",
            by=journey.unit.users["datamanager"],
        )


def _home_queries(clients: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for persona, client in clients.items():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/")
        assert response.status_code == 200
        counts[persona] = len(ctx.captured_queries)
    return counts


def test_home_queries_do_not_grow_with_patients(journey, enrol, client_for):
    clients = {persona: client_for(persona) for persona in PERSONAS}
    regs = enrol(3)
    _with_queried_forms(journey, regs)
    _home_queries(clients)  # warm the sessions and the parsed-schedule cache
    small = _home_queries(clients)
    more = enrol(27)
    _with_queried_forms(journey, more)
    large = _home_queries(clients)
    assert large == small, (small, large)
    assert max(large.values()) <= HOME_BUDGET, large
    # The lists were not empty: the rows' queries were counted too.
    admin = clients["admin"].get("/").content.decode()
    assert "Source says 62 for" in admin
    nurse = clients["nurse"].get("/").content.decode()
    visits = nurse.split('data-testid="home-visits-today"', 1)[1].split("</section>", 1)[0]
    assert visits.count("<li>") == 10


def _escalating_cohorts(unit: Any, first: int, n: int) -> list[Any]:
    """``n`` open phase I trials at the main site, each with an escalation cohort run by a 3+3
    plan whose first cohort of three is registered at DL1 and still in its DLT window (so the
    cohort waits for the committee and shows on the investigator's home page)."""
    from oncotrials.apps.dosing.services import plan_create
    from oncotrials.apps.subjects.services import (
        consent_form_create,
        consent_sign,
        patient_create,
        registration_change_status,
        registration_create,
        screening_close,
        screening_start,
    )
    from oncotrials.apps.trials.services import (
        cohort_create,
        dose_level_create,
        trial_change_status,
        trial_create,
    )

    admin, nurse = unit.users["admin"], unit.users["nurse"]
    cohorts = []
    for t in range(first, first + n):
        trial = trial_create(
            data={
                "protocol_code": f"T-ESC-{t}",
                "title": f"Escalation trial {t}",
                "sponsor": "Sponsor",
                "sponsor_type": "industry",
                "phase": "I-esc",
                "modality": "drug",
                "tumour_types": ["NSCLC"],
            },
            sites=[unit.main],
            by=admin,
        )
        for status in ("set_up", "open"):
            trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
        cohort = cohort_create(
            trial=trial, code="ESC", name="Escalation", kind="escalation", by=admin
        )
        dl1 = dose_level_create(
            cohort=cohort, level=1, agent="Drug E", dose="10", unit="mg", by=admin
        )
        dose_level_create(cohort=cohort, level=2, agent="Drug E", dose="20", unit="mg", by=admin)
        plan_create(cohort=cohort, design="3+3", start_level=dl1, by=unit.users["investigator"])
        form = consent_form_create(
            kind="trial",
            trial=trial,
            version="1.0",
            version_date=dt.date(2026, 1, 5),
            ethics_approval_date=dt.date(2026, 2, 1),
            valid_from=dt.date(2026, 2, 1),
            by=admin,
        )
        for p in range(3):
            patient = patient_create(
                site=unit.main,
                by=nurse,
                family_name=f"Esc{t}x{p}",
                given_name="Test",
                birth_date=dt.date(1960, 1, 1),
                hospital_number=f"E-{t:03d}-{p}",
                sex="F",
                referral_source="department",
                referral_date=dt.date(2026, 10, 1),
            )
            consent_sign(patient=patient, form=form, signed_on=dt.date(2026, 11, 2), by=nurse)
            episode = screening_start(
                patient=patient,
                trial=trial,
                kind="screening",
                started_on=dt.date(2026, 11, 2),
                by=nurse,
                checklist=["ECOG 0-1"],
            )
            screening_close(
                episode=episode,
                outcome="eligible",
                closed_on=dt.date(2026, 11, 10),
                by=nurse,
                checklist=[{"criterion": "ECOG 0-1", "met": True}],
            )
            reg = registration_create(
                patient=patient,
                cohort=cohort,
                dose_level=dl1,
                registered_on=dt.date(2026, 11, 12),
                by=nurse,
            )
            registration_change_status(
                registration=reg, to_status="on_treatment", on=dt.date(2026, 11, 13), by=nurse
            )
        cohorts.append(cohort)
    return cohorts


def test_home_queries_do_not_grow_with_escalation_cohorts(journey, client_for):
    """The investigator's "escalations awaiting the committee" reads every open escalation
    cohort at once: the same count with one such cohort as with four."""
    clients = {persona: client_for(persona) for persona in ("investigator", "admin")}
    _escalating_cohorts(journey.unit, 1, 1)
    _home_queries(clients)  # warm the sessions and the parsed caches
    one = _home_queries(clients)
    _escalating_cohorts(journey.unit, 2, 3)
    four = _home_queries(clients)
    assert four == one, (one, four)
    assert max(four.values()) <= HOME_BUDGET, four
    page = clients["investigator"].get("/").content.decode()
    for t in range(1, 5):
        assert f"T-ESC-{t}" in page
