"""The trial's DLT rules propose cases; an investigator's signed adjudication drives the dosing state."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from oncotrials.apps.dosing.services import escalation_state, plan_create
from oncotrials.apps.safety.dlt_review import (
    dlt_case_adjudicate,
    dlt_evaluate,
    dlt_rules_save,
    dlt_status_for,
)
from oncotrials.apps.safety.models import DltCase, DltRuleSet
from oncotrials.apps.safety.selectors import dlt_table
from oncotrials.apps.safety.services import adverse_event_create, astct_assessment_record
from oncotrials.apps.trials.models import Trial
from oncotrials.core.errors import PermissionDeniedError, ValidationError

PASSWORD = "a-long-test-password-42"  # tests/conftest.py


def _ae(safety, complete_ae, **overrides):
    return adverse_event_create(
        registration=safety.registration,
        data=complete_ae(**overrides),
        by=safety.users["nurse"],
        complete=True,
    )


def test_a_rule_file_the_core_loader_refuses_is_not_saved(safety, dlt_rules_doc):
    bad = dlt_rules_doc
    bad["dlt"]["rules"][0]["terms"] = ["Neutropenia count decreased"]
    with pytest.raises(ValidationError, match="Neutropenia count decreased"):
        dlt_rules_save(trial=safety.registration.trial, document=bad, by=safety.users["admin"])
    with pytest.raises(ValidationError, match="min_grade"):
        dlt_rules_save(
            trial=safety.registration.trial,
            document="dlt: {window: {anchor: first_dose, days: 21}, rules: [{id: X, min_grade: 7}]}",
            by=safety.users["admin"],
        )
    assert not DltRuleSet.objects.exists()


def test_rules_are_edited_by_investigators_not_nurses_and_changes_need_a_reason(
    safety, rules, dlt_rules_doc
):
    trial = safety.registration.trial
    with pytest.raises(PermissionDeniedError):
        dlt_rules_save(trial=trial, document=dlt_rules_doc, by=safety.users["nurse"])
    with pytest.raises(ValidationError, match="reason"):
        dlt_rules_save(
            trial=trial, document=dlt_rules_doc, version=1, by=safety.users["investigator"]
        )
    updated = dlt_rules_save(
        trial=trial,
        document=dlt_rules_doc,
        version=1,
        reason="amendment 2",
        by=safety.users["investigator"],
    )
    assert updated.version == 2


def test_grade_3_colitis_probably_related_in_the_window_is_proposed_with_its_rule(
    safety, rules, complete_ae
):
    ae = _ae(safety, complete_ae)  # completing the AE runs the rules
    case = DltCase.objects.get()
    assert case.adverse_event == ae
    assert (case.proposed_outcome, case.rule_id, case.status) == ("dlt", "NONHEME_G3", "proposed")
    assert case.onset_day == 3  # first dose 2026-11-12 is day 1; onset 2026-11-14
    # proposing is no DLT: the patient waits for the adjudication
    assert dlt_status_for(safety.registration).outcome == "pending"


def test_each_correction_of_an_ae_is_weighed_again_by_the_next_review(safety, rules, complete_ae):
    """A save re-reads the patient's AEs and reuses what it derived from the unchanged ones;
    a corrected AE (attribution, grade, dates) is a changed row and is weighed afresh."""
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.safety.services import adverse_event_update

    nurse = safety.users["nurse"]
    ae = _ae(safety, complete_ae)
    _ae(safety, complete_ae, term="Nausea", grade=1)  # a second save re-reads the first AE
    case = DltCase.objects.get()
    assert (case.adverse_event_id, case.onset_day, case.status) == (ae.pk, 3, "proposed")

    def correct(**changes):
        nonlocal ae
        ae = adverse_event_update(
            ae=ae,
            data=complete_ae(**changes),
            version=ae.version,
            by=nurse,
            complete=True,
            reason="source",
        )

    correct(onset_date="2026-11-15")  # the proposal follows its AE: onset day 4
    case = DltCase.objects.get()
    assert (case.onset_day, case.version) == (4, 2)
    assert AuditEvent.objects.filter(
        object_type="safety.dltcase", object_id=str(case.pk), action="update"
    ).get().changes["onset_day"] == [3, 4]
    correct(onset_date="2026-11-15", attribution={"Drug B": "unlikely"})
    assert not DltCase.objects.exists()  # withdrawn
    correct(onset_date="2026-11-15")
    assert DltCase.objects.get().proposed_outcome == "dlt"
    correct(onset_date="2026-11-15", grade=2)
    assert not DltCase.objects.exists()


def test_unlikely_attribution_or_a_controlled_nausea_is_not_proposed(safety, rules, complete_ae):
    _ae(safety, complete_ae, attribution={"Drug B": "unlikely"})
    _ae(
        safety,
        complete_ae,
        term="Nausea",
        onset_date="2026-11-15",
        resolution_date="2026-11-16",
        outcome="recovered",
        supportive_care=True,
        immune_related=False,
    )
    decision, cases = dlt_evaluate(
        registration=safety.registration, by=safety.users["investigator"]
    )
    assert cases == []
    assert decision.outcome.value == "pending"  # window still open on 2026-11-20
    assert {e.rule_id for e in decision.events} == {"NONHEME_G3"}


def test_confirmed_dlt_drives_the_dosing_state_and_the_dlt_table(
    safety, rules, complete_ae, client_for, send
):
    _ae(safety, complete_ae)
    case = DltCase.objects.get()
    url = f"/api/v1/safety/dlt-cases/{case.pk}/adjudicate"
    body = {
        "decision": "confirm",
        "reason": "grade 3 colitis needing steroids",
        "meaning": "I confirm this DLT",
        "password": PASSWORD,
        "version": 1,
    }
    r = send(client_for("nurse"), url, body)
    assert r.status_code == 403
    assert dlt_status_for(safety.registration).outcome == "pending"
    r = send(client_for("investigator"), url, body)
    assert r.status_code == 200
    got = r.json()
    assert got["status"] == "confirmed"
    assert got["signed_name"] == "investigator"
    assert got["signature_meaning"] == "I confirm this DLT"
    assert dlt_status_for(safety.registration).outcome == "dlt"
    plan = plan_create(
        cohort=safety.journey.cohort,
        design="3+3",
        start_level=safety.journey.dose_level,
        by=safety.users["investigator"],
    )
    (state,) = escalation_state(plan=plan)
    assert (state.treated, state.evaluable, state.dlts) == (1, 1, 1)
    (row,) = dlt_table(user=safety.users["investigator"], trial=safety.registration.trial)
    assert (row["treated"], row["dlts"], row["dlt_terms"]) == (1, 1, ["Colitis G3"])
    r = send(client_for("investigator"), url, body)
    assert r.status_code == 409  # version 1 is stale once signed


def test_rejected_case_leaves_the_patient_pending_until_the_window_closes(
    safety, rules, complete_ae, monkeypatch
):
    investigator = safety.users["investigator"]
    _ae(safety, complete_ae)
    case = DltCase.objects.get()
    dlt_case_adjudicate(
        case=case,
        decision="reject",
        reason="colitis from C. difficile, not the drug",
        password=PASSWORD,
        meaning="I reject this DLT",
        version=1,
        by=investigator,
    )
    assert dlt_status_for(safety.registration).outcome == "pending"  # still in the window
    # Day 21 of a window starting 2026-11-12 is 2026-12-02; the next day the window is closed.
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 12, 3))
    decision, _ = dlt_evaluate(registration=safety.registration, by=investigator)
    assert decision.outcome.value == "dlt"  # the rules still say DLT; the signed rejection rules
    assert dlt_status_for(safety.registration).outcome == "no_dlt"
    assert DltCase.objects.get().status == "rejected"  # the adjudication is kept


def test_adjudication_needs_a_reason_and_a_signature_meaning(safety, rules, complete_ae):
    _ae(safety, complete_ae)
    case = DltCase.objects.get()
    for reason, meaning in (("", "I confirm"), ("because", "")):
        with pytest.raises(ValidationError):
            dlt_case_adjudicate(
                case=case,
                decision="confirm",
                reason=reason,
                password=PASSWORD,
                meaning=meaning,
                version=1,
                by=safety.users["investigator"],
            )
    case.refresh_from_db()
    assert case.status == "proposed"


def test_crs_is_graded_with_astct_and_reviewed_by_its_own_rule(safety, rules):
    Trial.objects.filter(pk=safety.registration.trial_id).update(modality="cell_therapy")
    safety.registration.trial.refresh_from_db()
    at = timezone.now().replace(year=2026, month=11, day=14, hour=8)
    record = astct_assessment_record(
        registration=safety.registration,
        scale="ASTCT_CRS",
        assessed_at=at,
        parameters={"temperature_c": 39.2, "hypotension": True, "vasopressors": ["norepinephrine"]},
        attribution="probable",
        by=safety.users["nurse"],
    )
    # Lee et al. 2019 (ASTCT CRS table): fever with hypotension needing one vasopressor is grade 3.
    assert record.grade == 3
    assert record.rule.startswith("Grade 3")
    _, cases = dlt_evaluate(registration=safety.registration, by=safety.users["investigator"])
    assert [(c.event_key, c.rule_id, c.proposed_outcome) for c in cases] == [
        ("ASTCT_CRS", "CRS_G3", "dlt")
    ]


def test_crs_records_are_for_cell_therapy_trials(safety):
    with pytest.raises(ValidationError, match="cell therapies"):
        astct_assessment_record(
            registration=safety.registration,
            scale="ASTCT_CRS",
            assessed_at=timezone.now(),
            parameters={"temperature_c": 39},
            by=safety.users["nurse"],
        )


def test_icans_grade_comes_from_the_ice_score(safety, client_for, send):
    Trial.objects.filter(pk=safety.registration.trial_id).update(modality="cell_therapy")
    r = send(
        client_for("nurse"),
        f"/api/v1/safety/registrations/{safety.registration.pk}/astct",
        {
            "scale": "ASTCT_ICANS",
            "assessed_at": "2026-11-15T10:00:00Z",
            "parameters": {
                "ice": {
                    "orientation": 2,
                    "naming": 2,
                    "following_commands": 1,
                    "writing": 0,
                    "attention": 0,
                }
            },
        },
    )
    assert r.status_code == 201
    got = r.json()
    # Lee et al. 2019 ICE table: 2 + 2 + 1 + 0 + 0 = 5; ICE 3-6 is ICANS grade 2.
    assert (got["ice_score"], got["grade"]) == (5, 2)
    bad = send(
        client_for("nurse"),
        f"/api/v1/safety/registrations/{safety.registration.pk}/astct",
        {"scale": "ASTCT_ICANS", "assessed_at": "2026-11-15T10:00:00Z", "parameters": {"x": 1}},
    )
    assert bad.status_code == 422
    assert "unknown field" in bad.json()["message"]


def test_dlt_review_page_lists_cases_and_signs(safety, rules, complete_ae, client_for):
    _ae(safety, complete_ae)
    case = DltCase.objects.get()
    page = client_for("investigator").get("/safety/dlt/").content.decode()
    assert "NONHEME_G3" in page
    r = client_for("investigator").post(
        f"/safety/dlt/{case.pk}/adjudicate/",
        {
            "decision": "confirm",
            "reason": "r",
            "meaning": "I confirm",
            "password": PASSWORD,
            "version": "1",
        },
    )
    assert r.status_code == 302
    assert dlt_status_for(safety.registration).outcome == "dlt"


def test_a_confirmed_dlt_rejected_on_review_returns_the_patient_to_pending(
    safety, rules, complete_ae
):
    investigator = safety.users["investigator"]
    _ae(safety, complete_ae)
    case = dlt_case_adjudicate(
        case=DltCase.objects.get(),
        decision="confirm",
        reason="colitis",
        password=PASSWORD,
        meaning="I confirm this DLT",
        version=1,
        by=investigator,
    )
    assert dlt_status_for(safety.registration).outcome == "dlt"
    dlt_case_adjudicate(
        case=case,
        decision="reject",
        reason="stool culture: C. difficile",
        password=PASSWORD,
        meaning="I reject this DLT",
        version=2,
        by=investigator,
    )
    status = dlt_status_for(safety.registration)
    assert status.outcome == "pending"  # the window (to 2026-12-02) is still open
    assert (status.day, status.window_days) == (9, 21)


def test_the_dosing_state_follows_the_cases_and_the_window_whoever_runs_the_rules(
    safety, rules, complete_ae, monkeypatch
):
    _ae(safety, complete_ae, attribution={"Drug B": "unlikely"})
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 12, 3))
    decision, cases = dlt_evaluate(registration=safety.registration, by=safety.users["nurse"])
    assert decision.outcome.value == "not_dlt"
    assert cases == []
    # no case to adjudicate and the window closed: no DLT, derived, not written by anyone
    assert dlt_status_for(safety.registration).outcome == "no_dlt"


def test_deferred_review_proposes_once_at_the_end_what_each_save_would_have(
    safety, rules, complete_ae
):
    """Inside ``dlt_review_deferred`` the AEs are saved without their review; when the block
    ends each patient is reviewed once, and the cases are those reviewing after each save
    leaves, proposed in the name of the first user whose record called for the review."""
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.safety.dlt_review import dlt_review_deferred

    with dlt_review_deferred():
        colitis = _ae(safety, complete_ae)
        _ae(safety, complete_ae, attribution={"Drug B": "unlikely"}, onset_date="2026-11-15")
        assert not DltCase.objects.exists()
    case = DltCase.objects.get()
    assert case.adverse_event == colitis
    assert (case.proposed_outcome, case.rule_id, case.status) == ("dlt", "NONHEME_G3", "proposed")
    created = AuditEvent.objects.get(object_type="safety.dltcase", action="create")
    assert created.actor == safety.users["nurse"]
    assert dlt_status_for(safety.registration).outcome == "pending"


def test_icans_of_a_child_under_12_is_refused_not_graded_with_the_ice_score(safety):
    # ASTCT (Lee 2019): children under 12 are graded with the CAPD, not the ICE score
    Trial.objects.filter(pk=safety.registration.trial_id).update(modality="cell_therapy")
    safety.registration.trial.refresh_from_db()
    at = timezone.now().replace(year=2026, month=11, day=14, hour=8)
    patient = safety.registration.patient
    patient.year_of_birth = 2017
    patient.save(update_fields=["year_of_birth"])
    with pytest.raises(ValidationError, match="Cornell Assessment of Pediatric Delirium"):
        astct_assessment_record(
            registration=safety.registration,
            scale="ASTCT_ICANS",
            assessed_at=at,
            parameters={"ice_score": 8},
            by=safety.users["nurse"],
        )
    # the same child graded with the CAPD score (ASTCT paediatric table): CAPD >= 9 is grade 3
    record = astct_assessment_record(
        registration=safety.registration,
        scale="ASTCT_ICANS",
        assessed_at=at,
        parameters={"capd_score": 9},
        by=safety.users["nurse"],
    )
    assert record.grade == 3


def test_an_adjudication_asks_for_the_password_again_and_audits_a_wrong_one(
    safety, rules, complete_ae, client_for, send
):
    """21 CFR 11.200(a)(1): the signer re-enters the password; a wrong one signs nothing, is
    audited and counts towards the signing lock; the API refuses a body without one."""
    from oncotrials.apps.audit.models import AuditEvent

    _ae(safety, complete_ae)
    case = DltCase.objects.get()
    inv = safety.users["investigator"]
    with pytest.raises(PermissionDeniedError, match="password does not match"):
        dlt_case_adjudicate(
            case=case,
            decision="confirm",
            reason="grade 3 colitis",
            meaning="I confirm this DLT",
            password="not-my-password",
            version=1,
            by=inv,
        )
    case.refresh_from_db()
    assert (case.status, case.signed_by_id) == ("proposed", None)
    failed = AuditEvent.objects.filter(
        action="signature_password_failed", object_type="accounts.user", object_id=str(inv.pk)
    )
    assert failed.count() == 1
    url = f"/api/v1/safety/dlt-cases/{case.pk}/adjudicate"
    body = {"decision": "confirm", "reason": "r", "meaning": "I confirm", "version": 1}
    assert send(client_for("investigator"), url, body).status_code == 422
    r = send(client_for("investigator"), url, {**body, "password": "wrong-again"})
    assert r.status_code == 403
    assert failed.count() == 2
    assert DltCase.objects.get().status == "proposed"
