"""Resources, calendar, requests and bookings: what is saved, what is refused (naming the
field, writing nothing), and the week instance built from the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.operations.models import Booking, CareRequest, NurseShift, Resource
from oncotrials.apps.operations.selectors import week_instance
from oncotrials.apps.operations.services import (
    bookings_save,
    care_request_create,
    care_requests_generate,
    nurse_shift_add,
    resource_save,
    unit_calendar_save,
)
from oncotrials.core.errors import PermissionDeniedError, ValidationError

# The Monday of the week the tests plan (as in tests/apps/operations/conftest.py).
MONDAY = dt.date(2026, 11, 16)

pytestmark = pytest.mark.django_db

CHAIR = {
    "label": "P-1 extra infusion",
    "unit": "chair",
    "earliest": MONDAY,
    "latest": MONDAY + dt.timedelta(days=4),
    "target": MONDAY + dt.timedelta(days=1),
    "duration_min": 90,
    "pre_min": 30,
    "prep_min": 30,
    "sample_offsets": [0, 60],
    "weight": 3,
}


def _counts() -> tuple[int, int, int, int, int]:
    return (
        AuditEvent.objects.count(),
        Resource.objects.count(),
        NurseShift.objects.count(),
        CareRequest.objects.count(),
        Booking.objects.count(),
    )


def test_every_write_is_audited(equipped: Any) -> None:
    assert AuditEvent.objects.filter(object_type="operations.resource").count() == 7
    assert AuditEvent.objects.filter(object_type="operations.nurseshift").count() == 2


def test_week_instance_has_the_fixture_format(equipped: Any, manager: Any) -> None:
    req = care_request_create(site=equipped.main, data=CHAIR, by=manager)
    inst = week_instance(site=equipped.main, monday=MONDAY)
    assert (inst["chairs"], inst["beds"], inst["pharmacy_capacity"]) == (4, 2, 1)
    assert inst["chair_open"] == 96
    assert inst["chair_close"] == 228
    assert inst["nurse_profile"] == [[96, 156, 3], [156, 228, 2]]
    assert inst["bed_admit_window"] == [96, 144]
    assert inst["bed_to"] == 4 * 288 + 240  # Friday 20:00
    (v,) = inst["visits"]
    assert v == {
        "id": req.ref,
        "unit": "chair",
        "kind": "standard",
        "days": [0, 1, 3, 4],  # Wednesday is closed
        "target_day": 1,
        "dur": 18,
        "pre": 6,
        "prep": 6,
        "setup": 3,
        "samples": [0, 12],
        "weight": 3,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unit": "sofa"}, "unit"),
        ({"duration_min": 1500}, "duration_min"),  # longer than a day
        ({"duration_min": 640}, "duration_min"),  # does not fit in the unit's opening hours
        ({"pre_min": -5}, "pre_min"),
        ({"target": MONDAY + dt.timedelta(days=9)}, "target"),
        ({"sample_offsets": [0, 200]}, "sample_offsets"),
        ({"label": ""}, "label"),
    ],
)
def test_bad_request_names_the_field_and_writes_nothing(
    equipped: Any, manager: Any, change: dict[str, Any], field: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationError) as err:
        care_request_create(site=equipped.main, data={**CHAIR, **change}, by=manager)
    assert err.value.extra["field"] == field
    assert _counts() == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"starts": "06:00", "ends": "09:00", "nurses": 2}, "starts"),  # before opening
        ({"starts": "18:00", "ends": "21:00", "nurses": 2}, "ends"),  # after closing
        ({"starts": "10:00", "ends": "09:00", "nurses": 2}, "ends"),
        ({"starts": "08:00", "ends": "09:00", "nurses": -1}, "nurses"),  # negative capacity
        ({"starts": "8h", "ends": "09:00", "nurses": 1}, "starts"),
    ],
)
def test_bad_shift_names_the_field_and_writes_nothing(
    unit: Any, manager: Any, kwargs: dict[str, Any], field: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationError) as err:
        nurse_shift_add(site=unit.main, by=manager, **kwargs)
    assert err.value.extra["field"] == field
    assert _counts() == before


def test_negative_ward_capacity_is_refused(unit: Any, manager: Any) -> None:
    with pytest.raises(ValidationError) as err:
        unit_calendar_save(site=unit.main, data={"ward_night_sampling": -1}, version=0, by=manager)
    assert err.value.extra["field"] == "ward_night_sampling"
    with pytest.raises(ValidationError) as err:
        unit_calendar_save(site=unit.main, data={"chair_close": "07:00"}, version=0, by=manager)
    assert err.value.extra["field"] == "chair_close"


def test_only_a_manager_of_the_site_may_edit(unit: Any, manager: Any) -> None:
    for name in ("investigator", "nurse", "partner_investigator", "monitor"):
        with pytest.raises(PermissionDeniedError):
            resource_save(site=unit.main, kind="chair", code="X", by=unit.users[name])
    with pytest.raises(PermissionDeniedError):
        resource_save(site=unit.partner, kind="chair", code="X", by=manager)
    assert not Resource.objects.exists()


def test_bookings_are_saved_and_a_bad_one_saves_none(equipped: Any, manager: Any) -> None:
    a = care_request_create(site=equipped.main, data=CHAIR, by=manager)
    b = care_request_create(site=equipped.main, data={**CHAIR, "label": "P-2"}, by=manager)
    before = _counts()
    bad_cases = [
        (
            {a.ref: [1, 288 + 108, 288 + 102], "C999999": [1, 288 + 110, 288 + 102]},
            "solution.C999999",
        ),  # unknown request
        (
            {a.ref: [1, 288 + 108, 288 + 102], b.ref: [2, 576 + 110, 576 + 102]},
            f"solution.{b.ref}",
        ),  # closed day
        (
            {a.ref: [1, 288 + 108, 288 + 102], b.ref: [1, 288 + 220, 288 + 102]},
            f"solution.{b.ref}",
        ),  # after closing
    ]
    for solution, field in bad_cases:
        with pytest.raises(ValidationError) as err:
            bookings_save(site=equipped.main, monday=MONDAY, solution=solution, by=manager)
        assert err.value.extra["field"] == field
    with pytest.raises(ValidationError) as err:
        bookings_save(
            site=equipped.main,
            monday=MONDAY,
            solution={a.ref: [1, 288 + 108, 288 + 102]},
            resources={a.ref: "BED-1"},  # a bed for a chair visit: unknown chair
            by=manager,
        )
    assert err.value.extra["field"] == f"resources.{a.ref}"
    assert _counts() == before
    saved = bookings_save(
        site=equipped.main,
        monday=MONDAY,
        solution={a.ref: [1, 288 + 108, 288 + 102], b.ref: [3, 864 + 120, 864 + 110]},
        resources={a.ref: "CH-01"},
        by=manager,
    )
    assert len(saved) == 2
    first = Booking.objects.get(request=a)
    # Tuesday 09:00 in Paris is 08:00 UTC in November.
    assert first.starts_at == dt.datetime(2026, 11, 17, 8, 0, tzinfo=dt.UTC)
    assert first.ends_at - first.starts_at == dt.timedelta(minutes=90)
    assert first.resource is not None
    assert first.resource.code == "CH-01"


def test_requests_come_from_the_visit_calendars(equipped: Any, manager: Any, enrol: Any) -> None:
    enrol(2)  # on treatment since 2026-11-13 (C1D1); C1D8 and C1D15 follow
    made = care_requests_generate(site=equipped.main, monday=MONDAY, by=manager)
    codes = sorted({r.visit_code for r in made})
    assert "C1D8" in codes
    c1d8 = next(r for r in made if r.visit_code == "C1D8")
    assert c1d8.unit == "chair"
    assert c1d8.kind == "short"
    assert c1d8.weight == 3
    # Generating again adds nothing: each visit is requested once.
    assert care_requests_generate(site=equipped.main, monday=MONDAY, by=manager) == []
    inst = week_instance(site=equipped.main, monday=MONDAY)
    assert {v["id"] for v in inst["visits"]} >= {r.ref for r in made}


def test_a_saved_plan_leaves_the_rows_verifiable(equipped: Any, manager: Any) -> None:
    """Saving a plan books its requests (their status changes): the change is audited on each
    request, so ``audit verify --rows`` finds every request as its last event recorded it, after
    a second save of the same week too; an edit of a request outside the platform is found."""
    from oncotrials.apps.audit.services import audit_verify

    a = care_request_create(site=equipped.main, data=CHAIR, by=manager)
    b = care_request_create(site=equipped.main, data={**CHAIR, "label": "P-2"}, by=manager)
    solution = {a.ref: [1, 288 + 108, 288 + 102], b.ref: [3, 864 + 120, 864 + 110]}
    bookings_save(site=equipped.main, monday=MONDAY, solution=solution, by=manager)
    assert set(CareRequest.objects.values_list("status", flat=True)) == {"booked"}
    last = AuditEvent.objects.filter(object_type="operations.carerequest", object_id=str(a.pk))
    assert last.latest("id").changes == {"status": ["open", "booked"]}
    report = audit_verify(rows=True)
    assert report.ok, report
    bookings_save(site=equipped.main, monday=MONDAY, solution=solution, by=manager)
    report = audit_verify(rows=True)
    assert report.ok, report
    CareRequest.objects.filter(pk=a.pk).update(duration_min=30)
    report = audit_verify(rows=True)
    assert not report.ok
    assert f"operations.carerequest {a.pk} was changed outside the platform" in report.problem
