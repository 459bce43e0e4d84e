"""One DLT truth: the DLT review's cases and their signed adjudication decide each patient's DLT
outcome, and every page that shows DLTs reads that one decision.

Time is frozen by the ``journey`` fixture (today 2026-11-20; registered 2026-11-12, day 9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.crfs.models import DataQuery, QueryEvent
from oncotrials.apps.crfs.services import (
    administration_record,
    query_answer,
    query_close,
    query_raise,
)
from oncotrials.apps.dosing.services import dlt_record, escalation_state, plan_create
from oncotrials.apps.safety.dlt_review import dlt_case_adjudicate, dlt_rules_save, dlt_status_for
from oncotrials.apps.safety.models import AdverseEvent, DltCase
from oncotrials.apps.safety.selectors import ae_summary, dlt_table
from oncotrials.apps.safety.services import adverse_event_create, adverse_event_void
from oncotrials.apps.subjects.services import registration_change_status
from oncotrials.core.errors import ConflictError, NotFoundError, PermissionDeniedError

PASSWORD = "a-long-test-password-42"  # tests/conftest.py


def _ae(safety, complete_ae, **overrides):
    return adverse_event_create(
        registration=safety.registration,
        data=complete_ae(**overrides),
        by=safety.users["nurse"],
        complete=True,
    )


@pytest.fixture
def plan(safety):
    """The cohort is in escalation (BOIN, target 0.3, from the journey's dose level)."""
    return plan_create(
        cohort=safety.journey.cohort,
        design="boin",
        target=0.3,
        start_level=safety.journey.dose_level,
        by=safety.users["investigator"],
    )


def _pages(safety, client_for):
    """What each page shows of the patient's DLT: escalation (page and API), DLT review page,
    confirmed-DLT list (API), trial safety DLT table, patient AE page."""
    c = client_for("investigator")
    cohort, trial = safety.journey.cohort.pk, safety.registration.trial_id
    got = c.get(f"/api/v1/cohorts/{cohort}/escalation").json()
    assert "doses" in got, got
    api = got["doses"][0]
    page = c.get(f"/cohorts/{cohort}/escalation/").content.decode()
    confirmed = c.get(f"/api/v1/safety/dlt-cases?status=confirmed&trial_id={trial}").json()
    (row,) = c.get(f"/api/v1/safety/trials/{trial}/dlt-table").json()
    review = c.get("/safety/dlt/").content.decode()
    patient = c.get(f"/patients/{safety.registration.patient_id}/adverse-events/").content.decode()
    return {
        "escalation": (api["dlts"], api["pending"], api["evaluable"]),
        "confirmed_list": [x["term"] for x in confirmed],
        "table": (row["dlts"], row["pending"], row["evaluable"]),
        "review_confirmed": "Confirmed DLT" in review,
        "patient_outcome": patient.split('data-testid="dlt-status"')[1].split("</span>")[0],
        "page": page,
    }


def test_escalation_dlt_review_and_confirmed_list_agree_after_adjudication_and_revision(
    safety, rules, plan, complete_ae, client_for
):
    investigator = safety.users["investigator"]
    _ae(safety, complete_ae)
    case = DltCase.objects.get()
    before = _pages(safety, client_for)
    assert before["escalation"] == before["table"] == (0, 1, 0)
    assert before["confirmed_list"] == []
    assert "pending" in before["patient_outcome"]

    case = dlt_case_adjudicate(
        case=case,
        decision="confirm",
        reason="grade 3 colitis needing steroids",
        password=PASSWORD,
        meaning="I confirm this DLT",
        version=1,
        by=investigator,
    )
    after = _pages(safety, client_for)
    assert after["escalation"] == after["table"] == (1, 0, 1)
    assert after["confirmed_list"] == ["Colitis"]
    assert after["review_confirmed"]
    assert ">dlt" in after["patient_outcome"]
    (state,) = escalation_state(plan=plan)
    assert (state.dlts, state.evaluable) == (1, 1)

    # Revised on review: rejected, with a new signature; every page follows at once.
    dlt_case_adjudicate(
        case=case,
        decision="reject",
        reason="stool culture: C. difficile",
        password=PASSWORD,
        meaning="I reject this DLT on review",
        version=2,
        by=investigator,
    )
    revised = _pages(safety, client_for)
    assert revised["escalation"] == revised["table"] == (0, 1, 0)  # window open until 12-02
    assert revised["confirmed_list"] == []
    assert not revised["review_confirmed"]
    assert "pending" in revised["patient_outcome"]
    signs = AuditEvent.objects.filter(object_type="safety.dltcase", action="sign")
    assert signs.count() == 2


def test_a_dlt_outcome_entered_in_dosing_is_refused_and_points_at_the_dlt_review(
    safety, plan, client_for, send
):
    url = f"/api/v1/registrations/{safety.registration.pk}/dlt"
    body = {"outcome": "dlt", "assessed_on": "2026-11-19", "reason": "neutropenia"}
    r = send(client_for("investigator"), url, body, "put")
    assert r.status_code == 409
    assert "DLT review" in r.json()["message"]
    assert "/safety/dlt/" in r.json()["message"]
    assert send(client_for("nurse"), url, body, "put").status_code == 403
    with pytest.raises(ConflictError, match="follows the DLT review"):
        dlt_record(
            registration=safety.registration,
            outcome="no_dlt",
            on=dt.date(2026, 11, 19),
            by=safety.users["investigator"],
        )
    (state,) = escalation_state(plan=plan)
    assert (state.dlts, state.pending) == (0, 1)


# --- a trial in escalation without DLT rules ------------------------------------------------


def test_a_trial_in_escalation_without_rules_is_flagged_and_its_related_grade_3_aes_prompt(
    safety, plan, complete_ae, client_for, dlt_rules_doc
):
    trial = safety.registration.trial
    c = client_for("investigator")
    assert 'data-testid="no-dlt-rules"' in c.get(f"/trials/{trial.pk}/safety/").content.decode()
    dashboard = c.get("/safety/").content.decode()
    assert 'data-testid="no-dlt-rules"' in dashboard
    assert trial.protocol_code in dashboard
    # unlikely, grade 2, or outside the window (28 days by default): nothing to adjudicate
    _ae(safety, complete_ae, attribution={"Drug B": "unlikely"}, grade=4, term="Colitis")
    _ae(safety, complete_ae, grade=2)
    assert not DltCase.objects.exists()
    ae = _ae(safety, complete_ae, term="Neutrophil count decreased", grade=4, immune_related=False)
    case = DltCase.objects.get()
    assert (case.adverse_event, case.proposed_outcome, case.status) == (ae, "pending", "proposed")
    assert "no DLT rules" in case.reason
    assert "day 3 of the 28-day" in case.reason
    assert dlt_status_for(safety.registration).outcome == "pending"
    dlt_case_adjudicate(
        case=case,
        decision="confirm",
        reason="grade 4 neutropenia",
        password=PASSWORD,
        meaning="I confirm",
        version=1,
        by=safety.users["investigator"],
    )
    (state,) = escalation_state(plan=plan)
    assert (state.dlts, state.evaluable, state.pending) == (1, 1, 0)
    # Once DLT rules are saved, the flag goes.
    dlt_rules_save(trial=trial, document=dlt_rules_doc, by=safety.users["investigator"])
    assert 'data-testid="no-dlt-rules"' not in c.get("/safety/").content.decode()


def test_a_trial_not_in_escalation_is_not_flagged(safety, complete_ae, client_for):
    _ae(safety, complete_ae, grade=3)
    assert not DltCase.objects.exists()
    page = client_for("investigator").get("/safety/").content.decode()
    assert 'data-testid="no-dlt-rules"' not in page


# --- the per-patient DLT-window tracker -------------------------------------------------------


def test_tracker_shows_the_day_of_the_window_and_why_a_patient_is_not_evaluable(
    safety, rules, plan, client_for, monkeypatch
):
    url = f"/trials/{safety.registration.trial_id}/safety/"
    page = client_for("investigator").get(url).content.decode()
    tracker = page.split('data-testid="dlt-tracker"')[1].split("</table>")[0]
    assert "day 9 of 21" in tracker
    assert "not yet" in tracker
    status = dlt_status_for(safety.registration)
    assert (status.day, status.window_days, status.evaluable) == (9, 21, None)
    registration_change_status(
        registration=safety.registration,
        to_status="off_study",
        on=dt.date(2026, 11, 18),
        by=safety.users["nurse"],
        reason="consent withdrawn",
    )
    safety.registration.refresh_from_db()
    status = dlt_status_for(safety.registration)
    assert (status.outcome, status.evaluable) == ("not_evaluable", False)
    assert "off study on 2026-11-18 (day 7), before the 21-day DLT window closed" in status.reason
    (state,) = escalation_state(plan=plan)
    assert (state.treated, state.evaluable, state.pending) == (1, 0, 0)
    tracker = client_for("investigator").get(url).content.decode()
    assert "off study on 2026-11-18" in tracker


def test_insufficient_exposure_per_the_rules_makes_the_patient_not_evaluable(
    safety, dlt_rules_doc, plan, monkeypatch
):
    dlt_rules_doc["dlt"]["evaluability"] = {"min_fraction_planned_dose": 0.75}
    dlt_rules_save(
        trial=safety.registration.trial, document=dlt_rules_doc, by=safety.users["investigator"]
    )
    level = safety.journey.dose_level
    administration_record(
        registration=safety.registration,
        agent=level.agent,
        dose=level.dose / 2,
        unit=level.unit,
        administered_on=dt.date(2026, 11, 12),
        modification="reduction",
        modification_reason="pharmacy error",
        by=safety.users["nurse"],
    )
    assert dlt_status_for(safety.registration).outcome == "pending"  # window open
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 12, 10))
    status = dlt_status_for(safety.registration)
    assert (status.outcome, status.evaluable) == ("not_evaluable", False)
    assert "insufficient exposure: 50 % of the planned dose" in status.reason
    assert "75 %" in status.reason


def test_a_patient_whose_window_closed_without_a_dlt_is_evaluable(safety, rules, plan, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 12, 3))
    status = dlt_status_for(safety.registration)
    assert (status.outcome, status.evaluable) == ("no_dlt", True)
    assert "closed on 2026-12-02" in status.reason
    (state,) = escalation_state(plan=plan)
    assert (state.evaluable, state.dlts) == (1, 0)


# --- voiding instead of deleting ----------------------------------------------------------------


def test_voiding_an_ae_closes_its_open_queries_and_takes_it_out_of_counts_and_the_dlt_review(
    safety, rules, plan, complete_ae, client_for
):
    users = safety.users
    ae = _ae(safety, complete_ae)
    assert DltCase.objects.filter(adverse_event=ae).exists()
    q = query_raise(record=ae, field="grade", text="grade 3 per source?", by=users["datamanager"])
    answered = query_raise(record=ae, field="", text="onset?", by=users["datamanager"])
    query_answer(query=answered, text="onset as recorded", by=users["nurse"])
    summary = ae_summary(user=users["investigator"], trial=safety.registration.trial)
    assert summary["patients"] == 1

    voided = adverse_event_void(ae=ae, version=1, reason="entered twice", by=users["nurse"])
    assert voided.voided
    assert AdverseEvent.objects.filter(pk=ae.pk).exists()
    for query in (q, answered):
        query.refresh_from_db()
        assert query.status == "closed"
        last = QueryEvent.objects.filter(query=query).last()
        assert last.by is None
        assert "voided (entered twice)" in last.text
    assert not DltCase.objects.exists()  # the proposal is withdrawn
    assert dlt_status_for(safety.registration).outcome == "pending"  # day 9, nothing to judge
    assert ae_summary(user=users["investigator"], trial=safety.registration.trial)["patients"] == 0
    (row,) = dlt_table(user=users["investigator"], trial=safety.registration.trial)
    assert row["pending"] == 1
    audit = AuditEvent.objects.get(object_type="safety.adverseevent", action="void")
    assert audit.reason == "entered twice"
    # still listed, struck through, with its reason
    page = client_for("investigator").get(
        f"/patients/{safety.registration.patient_id}/adverse-events/"
    )
    assert "<del>" in page.content.decode()
    assert "entered twice" in page.content.decode()
    # no new query on a voided record; a closed query is never stuck
    with pytest.raises(ConflictError, match="voided"):
        query_raise(record=voided, field="", text="?", by=users["datamanager"])
    with pytest.raises(ConflictError, match="already closed"):
        query_close(query=q, by=users["datamanager"])


def test_a_confirmed_dlt_cannot_be_voided_before_its_adjudication_is_revised(
    safety, rules, plan, complete_ae
):
    investigator = safety.users["investigator"]
    ae = _ae(safety, complete_ae)
    case = dlt_case_adjudicate(
        case=DltCase.objects.get(),
        decision="confirm",
        reason="colitis",
        password=PASSWORD,
        meaning="I confirm",
        version=1,
        by=investigator,
    )
    with pytest.raises(ConflictError, match="revise that adjudication"):
        adverse_event_void(ae=ae, version=1, reason="wrong patient", by=investigator)
    dlt_case_adjudicate(
        case=case,
        decision="reject",
        reason="wrong patient",
        password=PASSWORD,
        meaning="I reject",
        version=2,
        by=investigator,
    )
    adverse_event_void(ae=ae, version=1, reason="wrong patient", by=investigator)
    assert DltCase.objects.get().status == "rejected"  # the signed history stays
    with pytest.raises(ConflictError, match="voided"):
        dlt_case_adjudicate(
            case=case,
            decision="confirm",
            reason="x",
            password=PASSWORD,
            meaning="x",
            version=3,
            by=investigator,
        )
    (state,) = escalation_state(plan=plan)
    assert state.dlts == 0


def test_voiding_needs_the_right_to_record_aes_and_a_current_version(safety, complete_ae):
    ae = _ae(safety, complete_ae)
    with pytest.raises(PermissionDeniedError):
        adverse_event_void(ae=ae, version=1, reason="x", by=safety.users["monitor"])
    with pytest.raises(ConflictError, match="now version 1"):
        adverse_event_void(ae=ae, version=3, reason="x", by=safety.users["nurse"])
    assert not AdverseEvent.objects.get(pk=ae.pk).voided


def test_the_void_page_voids_and_the_ae_page_shows_it(safety, complete_ae, client_for):
    ae = _ae(safety, complete_ae)
    c = client_for("nurse")
    assert "Void this adverse event" in c.get(f"/safety/adverse-events/{ae.pk}/").content.decode()
    r = c.post(f"/safety/adverse-events/{ae.pk}/void/", {"version": "1", "reason": "duplicate"})
    assert r.status_code == 302
    page = c.get(f"/safety/adverse-events/{ae.pk}/").content.decode()
    assert 'data-testid="ae-voided"' in page
    assert "duplicate" in page
    assert "Void this adverse event" not in page


def test_a_query_on_a_record_deleted_before_voiding_existed_can_still_be_closed(
    safety, complete_ae
):
    users = safety.users
    ae = adverse_event_create(
        registration=safety.registration, data={"term": "Nausea"}, by=users["nurse"]
    )
    q = query_raise(record=ae, field="", text="duplicate?", by=users["datamanager"])
    AdverseEvent.objects.filter(pk=ae.pk).delete()  # as an old delete path did
    with pytest.raises(NotFoundError, match="no longer exists"):
        query_answer(query=DataQuery.objects.get(pk=q.pk), text="x", by=users["nurse"])
    closed = query_close(
        query=DataQuery.objects.get(pk=q.pk), text="record removed", by=users["datamanager"]
    )
    assert closed.status == "closed"
