"""Several visits recorded at once (``visits_record``) write what the same visits recorded one
by one (``visit_record``) write: the same rows and audit events, a visit marked not done that
took place after all included; a refused visit writes nothing and is named by its row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.audit.services import audit_verify
from oncotrials.apps.subjects.models import VisitRecord
from oncotrials.apps.subjects.services import visit_mark, visit_record, visits_record
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError

LATER = dt.date(2027, 3, 1)


@pytest.fixture
def two(enrol, journey, monkeypatch):
    """Two patients on treatment since C1D1 (2026-11-13), C2D1 marked not done on 2026-11-20;
    the clock then at 2027-03-01."""
    from django.utils import timezone

    regs = enrol(2)
    nurse = journey.unit.users["nurse"]
    for reg in regs:
        visit_mark(registration=reg, code="C2D1", outcome="not_done", reason="Holiday", by=nurse)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: LATER)
    return regs, nurse


def _visits() -> list[dict[str, Any]]:
    return [
        {"code": "C1D8", "on": dt.date(2026, 11, 20)},
        {"code": "C1D15", "on": dt.date(2026, 11, 28)},
        {"code": "C2D1", "on": dt.date(2026, 12, 4)},  # marked not done: done after all
        {"code": "IMG1", "on": dt.date(2026, 12, 24)},
        {"code": "C3D1", "on": dt.date(2026, 12, 25)},
    ]


def _written(reg: Any) -> dict[str, Any]:
    visits = VisitRecord.objects.filter(registration=reg).order_by("pk")
    ids = [str(v.pk) for v in visits]
    events = AuditEvent.objects.filter(object_type="subjects.visitrecord", object_id__in=ids)
    return {
        "rows": list(visits.values_list("code", "on", "outcome", "reason", "recorded_by_id")),
        "events": [
            (e.partition, e.action, e.actor_id, e.channel, e.reason, e.changes)
            for e in events.order_by("partition", "seq")
        ],
    }


def test_visits_recorded_at_once_write_what_one_by_one_writes(two):
    (one_by_one, at_once), nurse = two
    for visit in _visits():
        visit_record(registration=one_by_one, by=nurse, **visit)
    recorded = visits_record(registration=at_once, visits=_visits(), by=nurse)

    assert [(v.code, v.on) for v in recorded] == [(v["code"], v["on"]) for v in _visits()]
    single, series = _written(one_by_one), _written(at_once)
    assert len(single["rows"]) == 6  # C1D1 of the enrolment, and the five
    assert [e[1] for e in single["events"]][-5:] == [
        "create",
        "create",
        "update",
        "create",
        "create",
    ]
    assert series == single
    assert audit_verify(rows=True).ok


@pytest.mark.parametrize(
    ("change", "field", "error", "words"),
    [
        ({"code": "C1D9"}, "visits[2].code", ValidationError, "not in the schedule"),
        ({"on": dt.date(2027, 3, 2)}, "visits[2].on", ValidationError, "future"),
        ({"on": dt.date(2026, 11, 1)}, "visits[2].on", ValidationError, "predate"),
        ({"on": "2026-12-04"}, "visits[2].on", ValidationError, "date of the visit"),
        ({"code": None}, "visits[2].code", ValidationError, "visit's code"),
        ({"by": "me"}, "visits[2].by", ValidationError, "Unknown field by"),
        ({"code": "C1D1"}, "visits[2].code", ConflictError, "already recorded"),
        ({"code": "C1D8"}, "visits[2].code", ConflictError, "already recorded"),  # twice
    ],
)
def test_a_refused_visit_writes_nothing_and_is_named(two, change, field, error, words):
    (reg, _), nurse = two
    visits = _visits()
    visits[2] = {**visits[2], **change}
    before = (
        list(VisitRecord.objects.values_list("pk", "outcome", "on")),
        AuditEvent.objects.count(),
    )
    with pytest.raises(error) as err:
        visits_record(registration=reg, visits=visits, by=nurse)
    assert err.value.extra["field"] == field
    assert words in err.value.message
    assert (
        list(VisitRecord.objects.values_list("pk", "outcome", "on")),
        AuditEvent.objects.count(),
    ) == before


def test_a_late_code_is_checked_as_of_its_own_date(two):
    """The calendar lays out ten years of scans from a visit's date: IMG88 (due 2036-12-26) is
    not in it as of 2026-11-20, the earliest visit, but is as of 2027-01-05; IMG89 is not yet.
    Recorded at once or one by one, the same visits pass and fail."""
    (at_once, one_by_one), nurse = two
    early = {"code": "C1D8", "on": dt.date(2026, 11, 20)}
    late = {"code": "IMG88", "on": dt.date(2027, 1, 5)}
    too_late = {"code": "IMG89", "on": dt.date(2027, 1, 5)}
    with pytest.raises(ValidationError) as err:
        visits_record(registration=at_once, visits=[early, late, too_late], by=nurse)
    assert err.value.extra["field"] == "visits[2].code"
    with pytest.raises(ValidationError):
        visit_record(registration=one_by_one, by=nurse, **too_late)
    visits_record(registration=at_once, visits=[early, late], by=nurse)
    for visit in (early, late):
        visit_record(registration=one_by_one, by=nurse, **visit)
    assert _written(at_once) == _written(one_by_one)


def test_visits_need_the_right_to_write_the_journey(two, journey):
    (reg, _), _ = two
    before = VisitRecord.objects.count()
    with pytest.raises(PermissionDeniedError):
        visits_record(
            registration=reg, visits=_visits(), by=journey.unit.users["partner_investigator"]
        )
    assert VisitRecord.objects.count() == before
