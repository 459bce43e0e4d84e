"""Registration follows the escalation: the next patient receives the dose the escalation allows,
an investigator may override it with an audited reason, and a stopped or waiting escalation
takes no new patient."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import close_old_connections
from django.utils import timezone

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.dosing.services import escalation_decide, plan_create
from oncotrials.apps.safety.dlt_review import dlt_case_adjudicate
from oncotrials.apps.safety.models import DltCase
from oncotrials.apps.safety.services import adverse_event_create
from oncotrials.apps.subjects.inclusion_rules import dose_gate
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.services import patient_create, registration_create
from oncotrials.apps.trials.services import dose_level_create
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError

PASSWORD = "a-long-test-password-42"  # tests/conftest.py

ON = dt.date(2026, 11, 12)
AFTER_THE_WINDOW = dt.date(2026, 12, 20)  # registered 2026-11-12: the 28-day window has closed


def _confirmed_dlt(journey, registration):
    """A DLT as the DLT review records it (the one record of DLTs): a complete grade 4 AE
    probably related in the window is proposed as a case, then confirmed by an investigator."""
    ae = adverse_event_create(
        registration=registration,
        data={
            "term": "Neutrophil count decreased",
            "grade": 4,
            "onset_date": "2026-11-14",
            "attribution": {"Drug B": "probable"},
            "action_taken": "interrupted",
            "outcome": "recovering",
        },
        by=journey.unit.users["nurse"],
        complete=True,
    )
    dlt_case_adjudicate(
        case=DltCase.objects.get(adverse_event=ae),
        decision="confirm",
        reason="grade 4 neutropenia",
        password=PASSWORD,
        meaning="I confirm this DLT",
        version=1,
        by=journey.unit.users["investigator"],
    )


@pytest.fixture
def esc(journey, screen):
    """A 3+3 escalation over DL1-DL3 of the journey's cohort, starting at DL1, and a factory of
    eligible patients at the main site."""
    admin, investigator = journey.unit.users["admin"], journey.unit.users["investigator"]
    dl2 = dose_level_create(
        cohort=journey.cohort, level=2, agent="Drug B", dose="100", unit="mg", by=admin
    )
    dl3 = dose_level_create(
        cohort=journey.cohort, level=3, agent="Drug B", dose="200", unit="mg", by=admin
    )
    plan = plan_create(
        cohort=journey.cohort, design="3+3", start_level=journey.dose_level, by=investigator
    )
    counter = iter(range(1000))

    def eligible_patient():
        n = next(counter)
        p = patient_create(
            site=journey.unit.main,
            by=journey.unit.users["nurse"],
            family_name=f"G{n}",
            given_name="X",
            birth_date=dt.date(1960, 1, 1),
            hospital_number=f"G-{n}",
            sex="F",
            referral_source="department",
            referral_date=dt.date(2026, 10, 1),
        )
        screen(journey, p, journey.unit.users["nurse"])
        return p

    return journey, plan, [journey.dose_level, dl2, dl3], eligible_patient


def _register(journey, patient, level, who="nurse", reason=""):
    return registration_create(
        patient=patient,
        cohort=journey.cohort,
        dose_level=level,
        registered_on=ON,
        by=journey.unit.users[who],
        dose_override_reason=reason,
    )


def test_the_allowed_level_is_accepted_and_another_refused(esc):
    journey, _, levels, eligible = esc
    gate = dose_gate(journey.cohort)
    assert gate is not None
    assert gate.allowed == (levels[0].pk,)
    assert "DL1" in gate.reason
    reg = _register(journey, eligible(), levels[0])
    assert reg.dose_level == levels[0]
    p = eligible()
    with pytest.raises(ValidationError, match="receives DL1, not DL2") as exc:
        _register(journey, p, levels[1])
    assert exc.value.extra["field"] == "dose_level"
    assert not p.registrations.exists()


def test_an_investigator_overrides_the_dose_with_an_audited_reason(esc):
    journey, _, levels, eligible = esc
    p = eligible()
    reg = _register(journey, p, levels[1], who="investigator", reason="Sponsor-approved cohort")
    assert reg.dose_level == levels[1]
    event = AuditEvent.objects.get(action="create", object_type="subjects.registration")
    assert "Sponsor-approved cohort" in event.reason
    assert "DL2 instead of DL1" in event.reason
    assert event.changes["dose_override"][1]["reason"] == "Sponsor-approved cohort"


def test_an_override_needs_an_investigator_and_a_reason(esc):
    journey, _, levels, eligible = esc
    p = eligible()
    with pytest.raises(PermissionDeniedError, match="record dose-escalation decisions"):
        _register(journey, p, levels[1], who="nurse", reason="I think so")
    with pytest.raises(ValidationError, match="reason for the override"):
        _register(journey, p, levels[1], who="investigator", reason="   ")
    assert not p.registrations.exists()
    assert not AuditEvent.objects.filter(object_type="subjects.registration").exists()


def test_a_complete_cohort_waits_for_its_dlt_window_and_the_decision(esc, monkeypatch):
    journey, plan, levels, eligible = esc
    investigator = journey.unit.users["investigator"]
    regs = [_register(journey, eligible(), levels[0]) for _ in range(3)]  # pending: a cohort
    p = eligible()
    with pytest.raises(ConflictError, match="still in the DLT window") as exc:
        _register(journey, p, levels[0])
    assert exc.value.code == "accrual_closed"
    # Not even an investigator's override opens a waiting cohort.
    with pytest.raises(ConflictError, match="still in the DLT window"):
        _register(journey, p, levels[1], who="investigator", reason="urgent")
    assert len(regs) == 3
    # No DLT case and the window closed: each patient is evaluable without a DLT.
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: AFTER_THE_WINDOW)
    with pytest.raises(ConflictError, match=r"recommends escalate to DL2\. Record the committee"):
        _register(journey, p, levels[0])
    escalation_decide(
        plan=plan,
        action="escalate",
        next_dose_level=levels[1],
        by=investigator,
        password=PASSWORD,
        meaning="SRC",
    )
    assert dose_gate(journey.cohort).allowed == (levels[1].pk,)
    with pytest.raises(ValidationError, match="receives DL2, not DL1"):
        _register(journey, p, levels[0])
    assert _register(journey, p, levels[1]).dose_level == levels[1]


def test_a_stopped_escalation_takes_no_new_patient(esc):
    journey, plan, levels, eligible = esc
    investigator = journey.unit.users["investigator"]
    escalation_decide(
        plan=plan,
        action="stop",
        by=investigator,
        password=PASSWORD,
        meaning="SRC",
        deviation_reason="Sponsor stops the development",
    )
    p = eligible()
    for level, who, reason in ((levels[0], "nurse", ""), (levels[1], "investigator", "x")):
        with pytest.raises(ConflictError, match="stopped by the committee's decision"):
            _register(journey, p, level, who=who, reason=reason)
    assert not Registration.objects.exists()


def test_the_design_saying_stop_closes_accrual(esc):
    journey, _, levels, eligible = esc
    for _ in range(3):
        _confirmed_dlt(journey, _register(journey, eligible(), levels[0]))
    gate = dose_gate(journey.cohort)
    assert gate.closed
    assert "recommends stopping" in gate.reason
    with pytest.raises(ConflictError, match="recommends stopping"):
        _register(journey, eligible(), levels[0])


def test_the_api_gates_the_dose_and_takes_the_override(esc, client_for):
    journey, _, levels, eligible = esc
    p = eligible()
    url = f"/api/v1/patients/{p.pk}/registrations"
    body = {
        "cohort_id": journey.cohort.pk,
        "dose_level_id": levels[1].pk,
        "registered_on": "2026-11-12",
    }
    r = client_for("nurse").post(url, json.dumps(body), content_type="application/json")
    assert r.status_code == 422
    assert r.json()["extra"]["field"] == "dose_level"
    body["dose_override_reason"] = "Intra-protocol exception agreed with the sponsor"
    r = client_for("nurse").post(url, json.dumps(body), content_type="application/json")
    assert r.status_code == 403
    r = client_for("investigator").post(url, json.dumps(body), content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["dose_level_id"] == levels[1].pk


def test_the_form_lists_only_the_allowed_level_and_overrides_for_investigators(esc, client_for):
    journey, _, levels, eligible = esc
    p = eligible()
    nurse_page = client_for("nurse").get(f"/patients/{p.pk}/").content.decode()
    assert f'value="{journey.cohort.pk}:{levels[0].pk}"' in nurse_page
    assert f'value="{journey.cohort.pk}:{levels[1].pk}"' not in nurse_page
    assert "dose_override_reason" not in nurse_page
    inv = client_for("investigator")
    page = inv.get(f"/patients/{p.pk}/").content.decode()
    assert f'value="{journey.cohort.pk}:{levels[1].pk}"' in page
    assert "override: give the reason" in page
    assert 'name="dose_override_reason"' in page
    base = f"/patients/{p.pk}/journey/register/"
    target = f"{journey.cohort.pk}:{levels[1].pk}"
    r = inv.post(base, {"cohort": target, "registered_on": "2026-11-12"}, follow=True)
    assert "receives DL1, not DL2" in r.content.decode()
    assert not p.registrations.exists()
    r = inv.post(
        base,
        {"cohort": target, "registered_on": "2026-11-12", "dose_override_reason": "Agreed"},
        follow=True,
    )
    assert "Registered in" in r.content.decode()
    assert p.registrations.get().dose_level == levels[1]


def test_the_form_says_why_a_cohort_is_closed(esc, client_for):
    journey, plan, levels, eligible = esc
    escalation_decide(
        plan=plan,
        action="stop",
        by=journey.unit.users["investigator"],
        password=PASSWORD,
        meaning="SRC",
        deviation_reason="Sponsor stops the development",
    )
    p = eligible()
    page = client_for("nurse").get(f"/patients/{p.pk}/").content.decode()
    assert 'data-testid="registration-closed"' in page
    assert "stopped by the committee" in page
    assert f'value="{journey.cohort.pk}:{levels[0].pk}"' not in page


def test_the_form_offers_cohorts_of_trials_where_the_patient_is_eligible_only(journey, client_for):
    page = client_for("nurse").get(f"/patients/{journey.patient.pk}/").content.decode()
    assert 'data-testid="form-register"' not in page  # no eligible screening yet


@pytest.mark.django_db(transaction=True)
def test_the_last_place_of_the_cohort_goes_to_one_of_two_simultaneous_registrations(esc):
    journey, _, levels, eligible = esc
    _register(journey, eligible(), levels[0])
    _register(journey, eligible(), levels[0])
    first, second = eligible(), eligible()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def go(patient, who):
        try:
            barrier.wait()
            _register(journey, patient, levels[0], who=who)
            outcomes.append("registered")
        except ConflictError as exc:
            outcomes.append(f"conflict: {exc.message}")
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=go, args=(first, "nurse")),
        threading.Thread(target=go, args=(second, "investigator")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["conflict", "registered"]
    assert any("is complete" in o for o in outcomes)
    assert Registration.objects.filter(cohort=journey.cohort).count() == 3
