"""Bad input is refused with an error naming the record and field, and nothing is saved;
a stale save is a conflict, never a lost update; a completed assessment changes only with a reason."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.tumours.models import (
    Assessment,
    Lesion,
    LesionMeasurement,
    ResponseEvaluation,
    TimepointResponse,
)
from oncotrials.apps.tumours.services import assessment_save, baseline_save
from oncotrials.core.errors import ConflictError, ValidationError

FIRST = dt.date(2027, 1, 8)


def _snapshot():
    return (
        Assessment.objects.count(),
        Lesion.objects.count(),
        LesionMeasurement.objects.count(),
        TimepointResponse.objects.count(),
        list(Assessment.objects.values_list("version", flat=True).order_by("pk")),
        list(LesionMeasurement.objects.values_list("diameter_mm", flat=True).order_by("pk")),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def baseline(registered, tm):
    c = registered(1)
    nurse = c.journey.unit.users["nurse"]
    baseline_save(registration=c.reg, date=tm.BASELINE, method="CT", lesions=tm.lesions(), by=nurse)
    assessment_save(registration=c.reg, date=FIRST, measurements=tm.visit("25", "18"), by=nurse)
    return c


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            lambda m: [*m, {"lesion_id": "T9", "diameter_mm": "12"}],
            "measurements[3].lesion_id",
            "T9' was never recorded at baseline",
        ),
        (
            lambda m: [*m, {"lesion_id": "T1", "diameter_mm": "12"}],
            "measurements[3].lesion_id",
            "T1 is measured twice",
        ),
        (lambda m: m[1:], "measurements", "target lesion T1: missing"),
        (
            lambda m: [{"lesion_id": "T1"}, *m[1:]],
            "measurements[0].diameter_mm",
            "give the diameter, or a status",
        ),
        (
            lambda m: [{"lesion_id": "T1", "diameter_mm": "-4"}, *m[1:]],
            "measurements[0].diameter_mm",
            "-4 is negative",
        ),
        (
            lambda m: [*m[:2], {"lesion_id": "NT1"}],
            "measurements[2].status",
            "non-target), field status: missing",
        ),
    ],
)
def test_bad_follow_up_is_refused_and_changes_nothing(baseline, tm, change, field, words):
    before = _snapshot()
    with pytest.raises(ValidationError) as err:
        assessment_save(
            registration=baseline.reg,
            date=dt.date(2027, 2, 12),
            measurements=change(tm.visit("20", "15")),
            by=baseline.journey.unit.users["nurse"],
        )
    assert err.value.extra["field"] == field
    assert words in err.value.message
    assert "2027-02-12" in err.value.message  # names the assessment
    assert _snapshot() == before


def test_measurement_on_or_before_baseline_is_refused(baseline, tm):
    before = _snapshot()
    with pytest.raises(ValidationError, match="before baseline") as err:
        assessment_save(
            registration=baseline.reg,
            date=tm.BASELINE - dt.timedelta(days=1),
            measurements=tm.visit("20", "15"),
            by=baseline.journey.unit.users["nurse"],
        )
    assert err.value.extra["field"] == "date"
    assert _snapshot() == before


def test_moving_the_baseline_after_a_follow_up_is_refused_by_the_engine(baseline, tm):
    before = _snapshot()
    with pytest.raises(ValidationError, match="on or before the baseline date"):
        baseline_save(
            registration=baseline.reg,
            date=dt.date(2027, 1, 20),
            method="CT",
            lesions=tm.lesions(),
            version=1,
            reason="wrong date",
            by=baseline.journey.unit.users["nurse"],
        )
    assert _snapshot() == before


def test_duplicate_baseline_lesion_ids_are_refused(registered, tm):
    c = registered(1)
    lesions = tm.lesions()
    lesions[1]["lesion_id"] = "T1"
    with pytest.raises(ValidationError, match="T1 is given twice") as err:
        baseline_save(
            registration=c.reg,
            date=tm.BASELINE,
            method="CT",
            lesions=lesions,
            by=c.journey.unit.users["nurse"],
        )
    assert err.value.extra["field"] == "lesions[1].lesion_id"
    assert not Lesion.objects.exists()
    assert not Assessment.objects.exists()


def test_engine_rules_refuse_a_non_measurable_target(registered, tm):
    # RECIST 1.1 section 3.1.1: a measurable lesion is >= 10 mm by CT; a 6 mm target is refused.
    c = registered(1)
    lesions = tm.lesions()
    lesions[0]["diameter_mm"] = "6"
    with pytest.raises(ValidationError, match="T1"):
        baseline_save(
            registration=c.reg,
            date=tm.BASELINE,
            method="CT",
            lesions=lesions,
            by=c.journey.unit.users["nurse"],
        )
    assert not Lesion.objects.exists()


def test_api_answers_422_naming_the_field_and_saves_nothing(baseline, client_for):
    nurse = client_for("nurse")  # logging in is an audit event of its own: before the snapshot
    before = _snapshot()
    r = nurse.post(
        f"/api/v1/registrations/{baseline.reg.pk}/tumour-assessments",
        json.dumps(
            {
                "date": "2027-02-12",
                "measurements": [
                    {"lesion_id": "T1", "diameter_mm": "-1"},
                    {"lesion_id": "T2", "diameter_mm": "15"},
                    {"lesion_id": "NT1", "status": "present"},
                ],
            }
        ),
        content_type="application/json",
    )
    assert r.status_code == 422
    assert r.json()["extra"]["field"] == "measurements[0].diameter_mm"
    assert "lesion T1" in r.json()["message"]
    assert _snapshot() == before


def test_a_completed_assessment_changes_only_with_a_reason_and_the_current_version(
    baseline, tm, client_for
):
    a = Assessment.objects.get(kind="follow_up")
    nurse = baseline.journey.unit.users["nurse"]
    with pytest.raises(ValidationError, match="reason for change"):
        assessment_save(
            registration=baseline.reg,
            assessment=a,
            version=1,
            date=FIRST,
            measurements=tm.visit("24", "18"),
            by=nurse,
        )
    fixed = assessment_save(
        registration=baseline.reg,
        assessment=a,
        version=1,
        date=FIRST,
        measurements=tm.visit("24", "18"),
        by=nurse,
        reason="transcription error",
    )
    assert fixed.version == 2
    assert TimepointResponse.objects.get().sum_mm == 42
    event = AuditEvent.objects.filter(action="update", reason="transcription error").get()
    assert event.changes["lesion T1"] == ["25.00", "24.00"]

    # A second user still holding version 1 is told, and the first user's change stands.
    body = {
        "date": "2027-01-08",
        "measurements": tm.visit("30", "18"),
        "version": 1,
        "reason": "my correction",
    }
    r = client_for("investigator").put(
        f"/api/v1/tumour-assessments/{a.pk}", json.dumps(body), content_type="application/json"
    )
    assert r.status_code == 409
    assert r.json()["extra"]["current_version"] == 2
    assert "version 2" in r.json()["message"]
    assert TimepointResponse.objects.get().sum_mm == 42
    with pytest.raises(ConflictError):
        assessment_save(
            registration=baseline.reg,
            assessment=a,
            version=1,
            date=FIRST,
            measurements=tm.visit("30", "18"),
            by=nurse,
            reason="stale",
        )


def test_drafts_are_not_evaluated_until_complete(baseline, tm):
    nurse = baseline.journey.unit.users["nurse"]
    draft = assessment_save(
        registration=baseline.reg,
        date=dt.date(2027, 2, 12),
        measurements=tm.visit("20", "15"),
        complete=False,
        by=nurse,
    )
    assert TimepointResponse.objects.count() == 1
    assessment_save(
        registration=baseline.reg,
        assessment=draft,
        version=1,
        date=draft.date,
        measurements=tm.visit("20", "15"),
        by=nurse,
    )  # a draft changes without a reason
    assert TimepointResponse.objects.count() == 2
    assert ResponseEvaluation.objects.get().timepoints.count() == 2
