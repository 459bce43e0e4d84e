"""The records of several registrations created at once (``tumour_records_create``) write what a
first ``baseline_save`` and then ``assessments_record`` of each write: the same rows, history
rows, audit events and responses; what those refuse is refused too, nothing is written and the
error names the record and its field."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_verify
from oncotrials.apps.tumours.models import (
    Assessment,
    Lesion,
    LesionMeasurement,
    NewLesion,
    ResponseEvaluation,
    TimepointResponse,
)
from oncotrials.apps.tumours.services import (
    assessments_record,
    baseline_save,
    evaluations_deferred,
    tumour_records_create,
)
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError


def _record(tm: Any, reg: Any, scale: int = 0) -> dict[str, Any]:
    """A baseline (lesions in an order other than that of their ids) and three scans: a
    partial response, a new lesion, then a draft."""
    lesions = tm.lesions()
    lesions = [lesions[2], lesions[1], lesions[0]]
    lesions[1]["diameter_mm"] = str(20 + scale)
    return {
        "registration": reg,
        "baseline": {"date": tm.BASELINE, "method": "CT", "lesions": lesions},
        "follow_ups": [
            {"date": dt.date(2027, 1, 8), "measurements": tm.visit("20", "14.5")},
            {
                "date": dt.date(2027, 2, 19),
                "measurements": tm.visit("12.5", "9"),
                "method": "MRI",
                "new_lesions": [{"lesion_id": "N1", "organ": "liver", "diameter_mm": "11"}],
                "tumour_markers_normal": True,
            },
            {"date": dt.date(2027, 4, 2), "measurements": tm.visit("14", "0"), "complete": False},
        ],
    }


def _one_by_one(record: dict[str, Any], by: Any) -> None:
    baseline_save(registration=record["registration"], by=by, **record["baseline"])
    assessments_record(registration=record["registration"], follow_ups=record["follow_ups"], by=by)


def _written(reg: Any) -> dict[str, Any]:
    """Everything written for ``reg``, without ids, times and the registration itself."""
    assessments = Assessment.objects.filter(registration=reg).order_by("pk")
    ids = list(assessments.values_list("pk", flat=True))
    lesions = Lesion.objects.filter(registration=reg).order_by("pk")
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
    lesion_fields = [
        "lesion_id",
        "organ",
        "role",
        "nodal",
        "method",
        "kind",
        "slice_thickness_mm",
        "baseline_diameter_mm",
    ]
    events = AuditEvent.objects.filter(
        object_type="tumours.assessment", object_id__in=[str(i) for i in ids]
    ).order_by("partition", "seq")
    evaluation = ResponseEvaluation.objects.get(registration=reg)
    return {
        "assessments": [
            (*row, a.completed_at is not None)
            for row, a in zip(assessments.values_list(*fields), assessments, strict=True)
        ],
        "history": list(
            Assessment.history.filter(id__in=ids)
            .order_by("history_id")
            .values_list(*fields, "history_type", "history_user_id")
        ),
        "lesions": list(lesions.values_list(*lesion_fields)),
        "lesion history": list(
            Lesion.history.filter(registration=reg)
            .order_by("history_id")
            .values_list(*lesion_fields, "history_type", "history_user_id")
        ),
        "measurements": list(
            LesionMeasurement.objects.filter(assessment_id__in=ids)
            .order_by("pk")
            .values_list("assessment__date", "lesion__lesion_id", "diameter_mm", "status")
        ),
        "new lesions": list(
            NewLesion.objects.filter(assessment_id__in=ids)
            .order_by("pk")
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
def four(registered):
    return registered(4)


@pytest.mark.parametrize("deferred", [False, True])
def test_records_write_what_single_saves_write(four, tm, deferred):
    nurse = four.journey.unit.users["nurse"]
    single, batch = four.registrations[:2], four.registrations[2:]
    for i, reg in enumerate(single):
        _one_by_one(_record(tm, reg, i), nurse)
    events_before = AuditEvent.objects.count()
    records = [_record(tm, reg, i) for i, reg in enumerate(batch)]
    if deferred:
        with evaluations_deferred():
            created = tumour_records_create(records=records, by=nurse)
    else:
        created = tumour_records_create(records=records, by=nurse)

    assert [(a.registration_id, a.kind, a.date) for a in created] == [
        (reg.pk, kind, date)
        for reg in batch
        for kind, date in [
            ("baseline", tm.BASELINE),
            ("follow_up", dt.date(2027, 1, 8)),
            ("follow_up", dt.date(2027, 2, 19)),
            ("follow_up", dt.date(2027, 4, 2)),
        ]
    ]
    # each registration's baseline, then its follow-ups: in the order of the ids
    assert [a.pk for a in created] == sorted(a.pk for a in created)
    assert AuditEvent.objects.count() == events_before + 8  # one event per assessment
    for one, many in zip(single, batch, strict=True):
        expected, written = _written(one), _written(many)
        assert len(expected["assessments"]) == 4
        assert len(expected["events"]) == 4
        assert len(expected["timepoints"]) == 2  # the draft is not evaluated
        for part in expected:
            assert written[part] == expected[part], part
    assert audit_verify(rows=True).ok


def _counts() -> tuple[int, ...]:
    return (
        Assessment.objects.count(),
        Assessment.history.count(),
        Lesion.objects.count(),
        Lesion.history.count(),
        LesionMeasurement.objects.count(),
        NewLesion.objects.count(),
        ResponseEvaluation.objects.count(),
        TimepointResponse.objects.count(),
        AuditEvent.objects.count(),
    )


def _baseline(**change: Any) -> Any:
    return lambda record: {**record, "baseline": {**record["baseline"], **change}}


def _lesion(i: int, **change: Any) -> Any:
    def make(record: dict[str, Any]) -> dict[str, Any]:
        lesions = [dict(row) for row in record["baseline"]["lesions"]]
        lesions[i].update(change)
        return _baseline(lesions=lesions)(record)

    return make


def _follow_up(i: int, **change: Any) -> Any:
    def make(record: dict[str, Any]) -> dict[str, Any]:
        follow_ups = [dict(f) for f in record["follow_ups"]]
        follow_ups[i].update(change)
        return {**record, "follow_ups": follow_ups}

    return make


@pytest.mark.parametrize(
    ("make", "field", "words"),
    [
        (_baseline(date=dt.date(2028, 6, 1)), "baseline.date", "future"),
        (_baseline(method="XRAY"), "baseline.method", "'XRAY' is not one of"),
        (_baseline(lesions=[]), "baseline.lesions", "at least one lesion"),
        (_lesion(1, diameter_mm="-4"), "baseline.lesions[1].diameter_mm", "-4 is negative"),
        (_lesion(0, lesion_id="T1"), "baseline.lesions[2].lesion_id", "T1 is given twice"),
        # the engine's refusal of the baseline (a target under 10 mm), at its row
        (_lesion(1, diameter_mm="6"), "baseline.lesions[1].role", "cannot be a target"),
        (_follow_up(0, date=dt.date(2026, 11, 5)), "follow_ups[0].date", "on or before"),
        (_follow_up(2, date=dt.date(2027, 1, 8)), "follow_ups[2].date", "already has"),
        (
            _follow_up(1, measurements=[{"lesion_id": "T1", "diameter_mm": "x"}]),
            "follow_ups[1].measurements[0].diameter_mm",
            "'x' is not a number",
        ),
        # the engine's refusal of a follow-up (a diameter with the status absent), at its row
        (
            _follow_up(
                1,
                measurements=[
                    {"lesion_id": "T1", "diameter_mm": "4", "status": "absent"},
                    {"lesion_id": "T2", "diameter_mm": "2"},
                    {"lesion_id": "NT1", "status": "present"},
                ],
            ),
            "follow_ups[1].measurements[0].status",
            "disagree",
        ),
    ],
)
def test_what_single_saves_refuse_is_refused_and_writes_nothing(four, tm, make, field, words):
    nurse = four.journey.unit.users["nurse"]
    alone, first, second = four.registrations[:3]
    with pytest.raises(ValidationError) as single:
        _one_by_one(make(_record(tm, alone)), nurse)
    assert single.value.extra["field"] == field.removeprefix("baseline.")
    before = _counts()
    with pytest.raises(ValidationError) as batch:
        tumour_records_create(records=[_record(tm, first), make(_record(tm, second))], by=nurse)
    assert batch.value.extra["field"] == f"records[1].{field}"
    assert words in batch.value.message
    assert batch.value.message == single.value.message
    assert _counts() == before


@pytest.mark.parametrize(
    ("records", "field", "words"),
    [
        (lambda r: [r[0], {**r[1], "reason": "typo"}], "records[1].reason", "Unknown field"),
        (
            lambda r: [r[0], _baseline(complete=True, version=2)(r[1])],
            "records[1].baseline.version",
            "Unknown field version",
        ),
        (
            lambda r: [r[0], {**r[1], "registration": r[1]["registration"].pk}],
            "records[1].registration",
            "Give the registration",
        ),
        (lambda r: [r[0], r[1], r[0]], "records[2].registration", "given twice"),
    ],
)
def test_bad_records_are_refused_and_write_nothing(four, tm, records, field, words):
    nurse = four.journey.unit.users["nurse"]
    before = _counts()
    with pytest.raises(ValidationError) as err:
        tumour_records_create(
            records=records([_record(tm, reg) for reg in four.registrations[:2]]), by=nurse
        )
    assert err.value.extra["field"] == field
    assert words in err.value.message
    assert _counts() == before


def test_a_registration_with_a_baseline_is_a_conflict_as_a_first_save(four, tm):
    nurse = four.journey.unit.users["nurse"]
    reg, other = four.registrations[:2]
    tumour_records_create(records=[_record(tm, reg)], by=nurse)
    with pytest.raises(ConflictError):
        baseline_save(registration=reg, by=nurse, **_record(tm, reg)["baseline"])
    before = _counts()
    with pytest.raises(ConflictError):
        tumour_records_create(records=[_record(tm, other), _record(tm, reg)], by=nurse)
    assert _counts() == before


def test_records_need_the_right_to_edit(four, tm):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    unit = four.journey.unit
    monitor = unit.users["monitor"]
    reg = four.reg
    membership_grant(user=monitor, role=Role.SPONSOR_MONITOR, site=unit.main, trial=reg.trial)
    with pytest.raises(PermissionDeniedError):
        baseline_save(registration=reg, by=monitor, **_record(tm, reg)["baseline"])
    before = _counts()
    with pytest.raises(PermissionDeniedError):
        tumour_records_create(records=[_record(tm, reg)], by=monitor)
    assert _counts() == before
