"""A series of follow-ups recorded at once (``assessments_record``) writes what the same
follow-ups saved one by one (``assessment_save``) write: the same rows, history rows, audit
events and response; bad input writes nothing and names the follow-up and its field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_verify
from oncotrials.apps.tumours.models import (
    Assessment,
    LesionMeasurement,
    NewLesion,
    ResponseEvaluation,
    TimepointResponse,
)
from oncotrials.apps.tumours.services import assessment_save, assessments_record, baseline_save
from oncotrials.core.errors import PermissionDeniedError, ValidationError


def _series(tm: Any) -> list[dict[str, Any]]:
    """Three complete scans (a partial response, then a new lesion) and a draft."""
    return [
        {"date": dt.date(2027, 1, 8), "measurements": tm.visit("20", "14")},
        {
            "date": dt.date(2027, 2, 19),
            "measurements": tm.visit("12.5", "9"),
            "method": "MRI",
            "tumour_markers_normal": True,
        },
        {
            "date": dt.date(2027, 4, 2),
            "measurements": tm.visit("13", "9.25", "increased"),
            "new_lesions": [
                {"lesion_id": "N1", "organ": "liver", "diameter_mm": "11"},
                {"lesion_id": "N2", "organ": "brain", "equivocal": True},
            ],
            "clinical_symptoms": True,
        },
        {"date": dt.date(2027, 5, 14), "measurements": tm.visit("14", "10"), "complete": False},
    ]


def _written(reg: Any) -> dict[str, Any]:
    """Everything the follow-ups of ``reg`` wrote, without ids and times."""
    follow_ups = Assessment.objects.filter(registration=reg, kind="follow_up").order_by("date")
    ids = list(follow_ups.values_list("pk", flat=True))
    fields = [
        "kind",
        "date",
        "method",
        "tumour_markers_normal",
        "clinical_symptoms",
        "status",
        "version",
        "created_by_id",
    ]
    history = Assessment.history.filter(id__in=ids).order_by("date", "history_id")
    events = AuditEvent.objects.filter(
        object_type="tumours.assessment", object_id__in=[str(i) for i in ids]
    ).order_by("partition", "seq")
    evaluation = ResponseEvaluation.objects.get(registration=reg)
    return {
        "assessments": [
            (*row, a.completed_at is not None)
            for row, a in zip(follow_ups.values_list(*fields), follow_ups, strict=True)
        ],
        "history": list(history.values_list(*fields, "history_type", "history_user_id")),
        "measurements": list(
            LesionMeasurement.objects.filter(assessment_id__in=ids)
            .order_by("assessment__date", "pk")
            .values_list("assessment__date", "lesion__lesion_id", "diameter_mm", "status")
        ),
        "new_lesions": list(
            NewLesion.objects.filter(assessment_id__in=ids)
            .order_by("assessment__date", "pk")
            .values_list(
                "assessment__date", "lesion_id", "organ", "diameter_mm", "status", "equivocal"
            )
        ),
        "events": [
            (
                e.partition,
                e.action,
                e.actor_id,
                e.channel,
                e.reason,
                e.changes,
                e.object_repr.split(" of registration")[0],
            )
            for e in events
        ],
        "evaluation": {
            k: v
            for k, v in ResponseEvaluation.objects.filter(pk=evaluation.pk).values().get().items()
            if k not in ("id", "registration_id", "computed_at")
        },
        "timepoints": list(
            TimepointResponse.objects.filter(evaluation=evaluation)
            .order_by("date")
            .values_list(
                "assessment__date",
                "date",
                "overall",
                "rule",
                "target",
                "non_target",
                "new_lesions",
                "sum_mm",
                "nadir_mm",
                "change_from_baseline_pct",
                "change_from_nadir_pct",
            )
        ),
    }


@pytest.fixture
def two(registered, tm):
    """Two registrations of the trial, each with the same baseline."""
    c = registered(2)
    nurse = c.journey.unit.users["nurse"]
    for reg in c.registrations:
        baseline_save(
            registration=reg, date=tm.BASELINE, method="CT", lesions=tm.lesions(), by=nurse
        )
    return c


def test_series_writes_what_single_saves_write(two, tm):
    one_by_one, at_once = two.registrations
    nurse = two.journey.unit.users["nurse"]
    for follow_up in _series(tm):
        assessment_save(registration=one_by_one, by=nurse, **follow_up)
    events_before = AuditEvent.objects.count()
    created = assessments_record(registration=at_once, follow_ups=_series(tm), by=nurse)

    assert [a.date for a in created] == [f["date"] for f in _series(tm)]
    assert AuditEvent.objects.count() == events_before + 4  # one event per assessment
    single, series = _written(one_by_one), _written(at_once)
    assert len(single["assessments"]) == 4
    assert len(single["new_lesions"]) == 2
    assert single["evaluation"]["bor"] == "PR"  # a real response, computed from the scans
    assert len(single["timepoints"]) == 3  # the draft is not evaluated
    for part in single:
        assert series[part] == single[part], part
    assert audit_verify(rows=True).ok


def test_series_then_single_save_continue_one_record(two, tm):
    """A follow-up saved alone after a series sees the series (date taken, response over all)."""
    reg = two.reg
    nurse = two.journey.unit.users["nurse"]
    assessments_record(registration=reg, follow_ups=_series(tm)[:2], by=nurse)
    with pytest.raises(ValidationError) as err:
        assessment_save(registration=reg, by=nurse, **_series(tm)[1])
    assert err.value.extra["field"] == "date"
    assessment_save(registration=reg, by=nurse, **_series(tm)[2])
    assert ResponseEvaluation.objects.get(registration=reg).timepoints.count() == 3


def _counts() -> tuple[int, ...]:
    return (
        Assessment.objects.count(),
        Assessment.history.count(),
        LesionMeasurement.objects.count(),
        NewLesion.objects.count(),
        ResponseEvaluation.objects.count(),
        TimepointResponse.objects.count(),
        AuditEvent.objects.count(),
    )


def _with(tm: Any, i: int, **change: Any) -> list[dict[str, Any]]:
    series = _series(tm)
    series[i] = {**series[i], **change}
    return series


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (
            lambda tm: _with(
                tm,
                1,
                measurements=[{"lesion_id": "T1", "diameter_mm": "-4"}, *tm.visit("1", "2")[1:]],
            ),
            "follow_ups[1].measurements[0].diameter_mm",
            "-4 is negative",
        ),
        (
            lambda tm: _with(tm, 2, measurements=tm.visit("13", "9")[:2]),
            "follow_ups[2].measurements",
            "non-target lesion NT1: missing",
        ),
        (lambda tm: _with(tm, 3, date=dt.date(2027, 1, 8)), "follow_ups[3].date", "already has"),
        (
            lambda tm: _with(tm, 0, date=tm.BASELINE),
            "follow_ups[0].date",
            "on or before the baseline",
        ),
        (lambda tm: _with(tm, 1, date="2027-02-19"), "follow_ups[1].date", "Give the date"),
        (lambda tm: _with(tm, 1, date=dt.date(2028, 6, 1)), "follow_ups[1].date", "future"),
        (lambda tm: _with(tm, 2, method="XRAY"), "follow_ups[2].method", "'XRAY' is not one of"),
        (lambda tm: _with(tm, 0, reason="typo"), "follow_ups[0].reason", "Unknown field reason"),
        (
            lambda tm: _with(
                tm,
                1,
                measurements=[
                    {"lesion_id": "T1", "diameter_mm": "4", "status": "too_small"},
                    *tm.visit("1", "2")[1:],
                ],
            ),
            "follow_ups[1].measurements[0].status",
            "disagree",
        ),
    ],
)
def test_bad_series_writes_nothing_and_names_the_field(two, tm, make, field, words):
    nurse = two.journey.unit.users["nurse"]
    assessments_record(registration=two.reg, follow_ups=_series(tm)[:1], by=nurse)
    before = _counts()
    with pytest.raises(ValidationError) as err:
        assessments_record(registration=two.registrations[1], follow_ups=make(tm), by=nurse)
    assert err.value.extra["field"] == field
    assert words in err.value.message
    assert _counts() == before


def test_series_needs_the_right_to_edit(two, tm):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    unit = two.journey.unit
    monitor = unit.users["monitor"]
    membership_grant(user=monitor, role=Role.SPONSOR_MONITOR, site=unit.main, trial=two.reg.trial)
    before = _counts()
    with pytest.raises(PermissionDeniedError):
        assessments_record(registration=two.reg, follow_ups=_series(tm), by=monitor)
    assert _counts() == before
