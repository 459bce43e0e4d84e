"""Responses are the engine's reading of the stored measurements, with the rule that decided;
an investigator's override is kept beside the computed response, never instead of it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.tumours.models import ResponseEvaluation, ResponseOverride, TimepointResponse
from oncotrials.apps.tumours.services import (
    assessment_save,
    baseline_save,
    patient_record,
    response_override,
    tumour_settings_save,
)
from oncotrials.core import recist
from oncotrials.core.errors import PermissionDeniedError, ValidationError


def _record_table1_course(c, tm, *, new_lesion_at_third=True):
    """Eisenhauer 2009 Table 1: 50 mm → 35 mm (exactly -30 %, PR, row 4), confirmed 5 weeks
    later (34 mm), then a new lesion (row 9, PD)."""
    nurse = c.journey.unit.users["nurse"]
    baseline_save(registration=c.reg, date=tm.BASELINE, method="CT", lesions=tm.lesions(), by=nurse)
    dates = [dt.date(2027, 1, 8), dt.date(2027, 2, 12), dt.date(2027, 3, 19)]
    saved = [
        assessment_save(
            registration=c.reg, date=dates[0], measurements=tm.visit("20", "15"), by=nurse
        ),
        assessment_save(
            registration=c.reg, date=dates[1], measurements=tm.visit("19", "15"), by=nurse
        ),
        assessment_save(
            registration=c.reg,
            date=dates[2],
            measurements=tm.visit("19", "15"),
            new_lesions=[{"lesion_id": "N1", "organ": "liver"}] if new_lesion_at_third else [],
            by=nurse,
        ),
    ]
    return saved


def _engine_reading(tm):
    """The same course given straight to the engine, without the app."""
    lesions = (
        recist.BaselineLesion("T1", "liver", Decimal(30), role=recist.LesionRole.TARGET),
        recist.BaselineLesion("T2", "lung", Decimal(20), role=recist.LesionRole.TARGET),
        recist.BaselineLesion(
            "NT1", "bone", role=recist.LesionRole.NON_TARGET, kind=recist.LesionKind.BLASTIC_BONE
        ),
    )

    def obs(t1, t2):
        return (
            recist.LesionObservation("T1", Decimal(t1)),
            recist.LesionObservation("T2", Decimal(t2)),
            recist.LesionObservation("NT1", status=recist.LesionStatus.PRESENT),
        )

    record = recist.PatientRecord(
        patient_id="x",
        start_date=tm.START,
        baseline=recist.Baseline(tm.BASELINE, lesions),
        assessments=(
            recist.Assessment(dt.date(2027, 1, 8), obs(20, 15)),
            recist.Assessment(dt.date(2027, 2, 12), obs(19, 15)),
            recist.Assessment(
                dt.date(2027, 3, 19), obs(19, 15), new_lesions=(recist.NewLesion("N1", "liver"),)
            ),
        ),
    )
    return recist.evaluate_recist(record, recist.RecistOptions(confirmation=False))


def test_timepoint_responses_are_the_engines_with_the_table_row_that_decided(registered, tm):
    c = registered(1)
    _record_table1_course(c, tm)
    stored = list(TimepointResponse.objects.order_by("date"))
    expected = _engine_reading(tm)
    assert [t.overall for t in stored] == [t.overall.value for t in expected.timepoints]
    assert [t.rule for t in stored] == [t.rule for t in expected.timepoints]
    # Eisenhauer 2009 section 4.3.1: 50 → 35 mm is "at least a 30% decrease" → PR, Table 1 row 4.
    assert stored[0].overall == "PR"
    assert stored[0].change_from_baseline_pct == Decimal("-30.00")
    assert "Table 1 row 4" in stored[0].rule
    # Table 1 row 9: any new lesion → PD.
    assert stored[2].overall == "PD"
    assert "Table 1 row 9" in stored[2].rule
    ev = ResponseEvaluation.objects.get()
    assert ev.bor == expected.bor.response.value == "PR"
    assert ev.bor_rule == expected.bor.rule
    assert ev.bor_confirmed == expected.bor_confirmed.response.value
    assert ev.progression_date == dt.date(2027, 3, 19)
    assert ev.baseline_sum_mm == Decimal("50.00")


def test_stored_record_reads_back_as_the_engines_input(registered, tm):
    c = registered(1)
    _record_table1_course(c, tm)
    record = patient_record(c.reg)
    assert record is not None
    first = {o.lesion_id: o for o in record.assessments[0].lesions}
    assert first["T1"].diameter_mm == Decimal("20.00")
    assert first["NT1"].status is recist.LesionStatus.PRESENT
    assert record.start_date == tm.START


def test_confirmation_setting_and_irecist_reread_every_patient(registered, tm):
    c = registered(1)
    _record_table1_course(c, tm)
    admin = c.journey.unit.users["admin"]
    tumour_settings_save(
        trial=c.reg.trial, criteria="irecist", confirmation_required=True, version=0, by=admin
    )
    ev = ResponseEvaluation.objects.get()
    assert ev.criteria == "irecist"
    # Seymour 2017: a new lesion after a response is iUPD (unconfirmed progression), not PD.
    assert list(TimepointResponse.objects.order_by("date").values_list("overall", flat=True)) == [
        "iPR",
        "iPR",
        "iUPD",
    ]
    assert ev.bor == "iPR"  # confirmed 35 days later (≥ 28 days, RECIST 1.1 section 4.4)


def test_a_settings_change_needs_a_reason_and_the_current_version(registered):
    c = registered(1)
    admin = c.journey.unit.users["admin"]
    trial = c.reg.trial
    tumour_settings_save(
        trial=trial, criteria="irecist", confirmation_required=False, version=0, by=admin
    )
    with pytest.raises(ValidationError, match="reason"):
        tumour_settings_save(
            trial=trial, criteria="recist1.1", confirmation_required=False, version=1, by=admin
        )
    from oncotrials.core.errors import ConflictError

    with pytest.raises(ConflictError) as err:
        tumour_settings_save(
            trial=trial,
            criteria="recist1.1",
            confirmation_required=False,
            version=0,
            by=admin,
            reason="x",
        )
    assert err.value.extra["current_version"] == 1


def test_override_keeps_the_computed_response_and_both_are_shown(registered, tm, client_for):
    c = registered(1)
    saved = _record_table1_course(c, tm)
    investigator = c.journey.unit.users["investigator"]
    response_override(
        registration=c.reg,
        assessment=saved[2],
        response="PR",
        reason="N1 is a biopsy-proven haemangioma, not a metastasis",
        by=investigator,
    )
    response_override(registration=c.reg, response="SD", reason="central review", by=investigator)
    tp = TimepointResponse.objects.get(assessment=saved[2])
    assert tp.overall == "PD"  # the computed reading is untouched
    o = ResponseOverride.objects.get(assessment=saved[2])
    assert (o.computed_response, o.response) == ("PD", "PR")
    assert "Table 1 row 9" in o.computed_rule
    event = AuditEvent.objects.filter(action="override").first()
    assert event is not None
    assert event.changes == {"response": ["PD", "PR"]}

    body = (
        client_for("investigator").get(f"/api/v1/registrations/{c.reg.pk}/tumour-responses").json()
    )
    last = body["timepoints"][2]
    assert (last["computed"], last["override"], last["effective"]) == ("PD", "PR", "PR")
    assert (body["bor"]["computed"], body["bor"]["override"], body["bor"]["effective"]) == (
        "PR",
        "SD",
        "SD",
    )
    page = client_for("investigator").get(f"/patients/{c.reg.patient_id}/tumours/").content.decode()
    assert "biopsy-proven haemangioma" in page
    assert "Table 1 row 9" in page
    assert "central review" in page


def test_only_an_investigator_overrides_and_always_with_a_reason(registered, tm, client_for):
    c = registered(1)
    saved = _record_table1_course(c, tm)
    with pytest.raises(PermissionDeniedError):
        response_override(
            registration=c.reg,
            assessment=saved[0],
            response="SD",
            reason="x",
            by=c.journey.unit.users["nurse"],
        )
    with pytest.raises(ValidationError, match="reason"):
        response_override(
            registration=c.reg,
            assessment=saved[0],
            response="SD",
            reason="  ",
            by=c.journey.unit.users["investigator"],
        )
    with pytest.raises(ValidationError, match="iCR"):
        response_override(
            registration=c.reg,
            assessment=saved[0],
            response="iCR",
            reason="x",
            by=c.journey.unit.users["investigator"],
        )
    r = client_for("investigator").post(
        f"/registrations/{c.reg.pk}/tumour-override/",
        {"assessment_id": saved[0].pk, "response": "SD", "reason": "re-read by radiologist"},
    )
    assert r.status_code == 302
    assert ResponseOverride.objects.get().reason == "re-read by radiologist"
    r = client_for("nurse").post(
        f"/registrations/{c.reg.pk}/tumour-override/",
        {"assessment_id": saved[0].pk, "response": "PD", "reason": "x"},
    )
    assert r.status_code == 403
    assert ResponseOverride.objects.count() == 1


def test_deferred_evaluation_stores_what_each_save_would_have(registered, tm):
    """Inside ``evaluations_deferred`` nothing is evaluated until the block ends; then each
    patient is read once, and the stored responses are those of evaluating after every save."""
    from oncotrials.apps.tumours.services import evaluations_deferred

    c = registered(1)
    with evaluations_deferred():
        _record_table1_course(c, tm)
        assert not ResponseEvaluation.objects.exists()
        assert not TimepointResponse.objects.exists()
    expected = _engine_reading(tm)
    stored = list(TimepointResponse.objects.order_by("date"))
    assert [t.overall for t in stored] == [t.overall.value for t in expected.timepoints]
    assert [t.rule for t in stored] == [t.rule for t in expected.timepoints]
    ev = ResponseEvaluation.objects.get()
    assert ev.bor == expected.bor.response.value == "PR"
    assert ev.progression_date == dt.date(2027, 3, 19)


def test_deferred_evaluation_rolls_back_with_its_block(registered, tm):
    from oncotrials.apps.tumours.models import Assessment
    from oncotrials.apps.tumours.services import evaluations_deferred

    c = registered(1)

    def interrupted() -> None:
        with evaluations_deferred():
            _record_table1_course(c, tm)
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        interrupted()
    assert not Assessment.objects.exists()
    assert not ResponseEvaluation.objects.exists()


def _stored_responses():
    """The stored evaluations and timepoints, without ids and computation times."""
    evaluations = [
        {k: v for k, v in e.items() if k not in ("id", "computed_at")}
        for e in ResponseEvaluation.objects.order_by("pk").values()
    ]
    timepoints = [
        {k: v for k, v in t.items() if k not in ("id", "evaluation_id")}
        for t in TimepointResponse.objects.order_by("pk").values()
    ]
    return evaluations, timepoints


def test_deferred_evaluation_of_several_patients_equals_evaluating_each(registered, tm):
    """At the end of ``evaluations_deferred`` the patients are read and stored together: the
    rows (and their order) are those of evaluating each patient on its own, one after the
    other; a patient whose baseline is a draft gets no evaluation either way."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncotrials.apps.tumours.services import (
        _evaluate_and_store,
        _evaluate_and_store_many,
        evaluations_deferred,
    )

    c = registered(4)
    nurse = c.journey.unit.users["nurse"]
    tumour_settings_save(
        trial=c.reg.trial,
        criteria="recist1.1",
        confirmation_required=True,
        version=0,
        by=c.journey.unit.users["investigator"],
    )
    courses = [
        [("20", "15"), ("19", "15"), ("19", "14")],
        [("40", "30"), ("45", "32")],
        [("10", "8")],
        [("31", "20")],
    ]
    with evaluations_deferred():
        for i, (reg, course) in enumerate(zip(c.registrations, courses, strict=True)):
            baseline_save(
                registration=reg,
                date=tm.BASELINE,
                method="CT",
                lesions=tm.lesions(),
                complete=i != 3,
                by=nurse,
            )
            for k, (t1, t2) in enumerate(course):
                assessment_save(
                    registration=reg,
                    date=dt.date(2027, 1, 8) + dt.timedelta(days=35 * k),
                    measurements=tm.visit(t1, t2),
                    new_lesions=[{"lesion_id": "N1", "organ": "liver"}] if i == 1 and k else [],
                    by=nurse,
                )
    together = _stored_responses()
    assert len(together[0]) == 3
    assert len(together[1]) == 6
    assert [e["bor"] for e in together[0]] == ["PR", "PD", "SD"]  # the last: unconfirmed
    for reg in c.registrations:
        _evaluate_and_store(reg)
    assert _stored_responses() == together
    # Read and written together: as many statements for four patients as for one.
    with CaptureQueriesContext(connection) as one:
        _evaluate_and_store_many(c.registrations[:1])
    with CaptureQueriesContext(connection) as four:
        _evaluate_and_store_many(c.registrations)
    assert len(four) == len(one)
    assert _stored_responses()[1] == together[1]
