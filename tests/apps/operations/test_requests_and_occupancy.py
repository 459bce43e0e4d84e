"""What a visit needs (from its procedures), and the occupancy of a booked week."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.apps.operations.occupancy import week_occupancy
from oncotrials.apps.operations.requests import need_of, timepoint_minutes
from oncotrials.apps.operations.services import bookings_save, care_request_create
from oncotrials.core.schedule.model import Procedure

# The Monday of the week the tests plan (as in tests/apps/operations/conftest.py).
MONDAY = dt.date(2026, 11, 16)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("pre-dose", 0), ("1h", 60), ("30min", 30), ("2.5 h", 150), ("1d", 1440), ("soon", None)],
)
def test_timepoints(text: str, minutes: int | None) -> None:
    assert timepoint_minutes(text) == minutes


def test_needs_follow_the_procedures() -> None:
    day = 11 * 60
    dosing = Procedure("dosing")
    profile = Procedure("pk", timepoints=("pre-dose", "1h", "4h"))
    overnight = Procedure("pk", timepoints=("pre-dose", "1h", "8h", "24h"))
    assert need_of([Procedure("imaging")], cycle=1, day_minutes=day) is None
    standard = need_of([dosing], cycle=3, day_minutes=day)
    assert standard is not None
    assert (standard.unit, standard.kind, standard.weight) == ("chair", "standard", 1)
    pk = need_of([dosing, profile], cycle=1, day_minutes=day)
    assert pk is not None
    assert (pk.unit, pk.kind, pk.weight, pk.sample_offsets) == ("chair", "pk_full", 3, (0, 60, 240))
    stay = need_of([dosing, overnight], cycle=1, day_minutes=day)
    assert stay is not None
    assert (stay.unit, stay.kind) == ("bed", "pk24")
    assert stay.sample_offsets == (60, 120, 540, 1500)  # from admission: dose at 60 min
    trough = need_of([Procedure("pk", timepoints=("pre-dose",))], cycle=2, day_minutes=day)
    assert trough is not None
    assert (trough.kind, trough.weight) == ("short", 1)


@pytest.mark.django_db
def test_occupancy_of_a_booked_week(equipped: Any, manager: Any, client_for: Any) -> None:
    base = {
        "unit": "chair",
        "earliest": MONDAY + dt.timedelta(days=1),
        "latest": MONDAY + dt.timedelta(days=1),
        "target": MONDAY + dt.timedelta(days=1),
        "duration_min": 120,
    }
    reqs = [
        care_request_create(site=equipped.main, data={**base, "label": f"P-{i}"}, by=manager)
        for i in range(5)
    ]
    # Four chairs, four patients at 09:00 on Tuesday; the fifth is left out.
    bookings_save(
        site=equipped.main,
        monday=MONDAY,
        solution={r.ref: [1, 288 + 108, -1] for r in reqs[:4]},
        resources={r.ref: f"CH-{i + 1:02d}" for i, r in enumerate(reqs[:4])},
        by=manager,
    )
    occ = week_occupancy(user=equipped.users["admin"], site=equipped.main, monday=MONDAY)
    tuesday = occ.days[1]
    assert tuesday.chair_hours == pytest.approx(8.0)
    assert tuesday.chair_available == pytest.approx(4 * 11)
    assert occ.days[2].chair_available == 0  # Wednesday is closed
    assert max(occ.chair) == 4
    # nurse units at 09:00: four chair visits in set-up (1 + 3 each)
    assert occ.nurse[288 + 108] == 16
    (left, why), *_ = occ.unscheduled
    assert left.pk == reqs[4].pk
    assert why == "none: a start is free (not yet planned)"  # later that day a chair is free
    lanes = occ.lanes(1)
    assert [name for name, _bars in lanes] == ["CH-01", "CH-02", "CH-03", "CH-04"]
    export = client_for("manager").get(
        f"/operations/occupancy/?site={equipped.main.pk}&week={MONDAY}&format=csv"
    )
    rows = b"".join(export.streaming_content).decode().splitlines()
    assert len(rows) == 5
    # Four bookings at the same time: their order follows their ids, which follow the string
    # order of the request refs (C9 after C10), so the row of P-0 is looked for, not assumed.
    assert any(r.startswith("P-0,chair,standard,CH-01,2026-11-17T09:00:00+01:00") for r in rows)
    page = client_for("manager").get(
        f"/operations/occupancy/?site={equipped.main.pk}&week={MONDAY}&day=1"
    )
    assert page.status_code == 200
    assert "P-4" in page.content.decode()


@pytest.mark.django_db
def test_a_request_behind_full_chairs_names_the_chairs(equipped: Any, manager: Any) -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    day = {"unit": "chair", "earliest": tuesday, "latest": tuesday, "target": tuesday}
    long = [
        care_request_create(
            site=equipped.main, data={**day, "label": f"L-{i}", "duration_min": 660}, by=manager
        )
        for i in range(4)
    ]
    bookings_save(
        site=equipped.main,
        monday=MONDAY,
        solution={r.ref: [1, 288 + 96, -1] for r in long},
        by=manager,
    )
    care_request_create(
        site=equipped.main, data={**day, "label": "X", "duration_min": 60}, by=manager
    )
    occ = week_occupancy(user=equipped.users["admin"], site=equipped.main, monday=MONDAY)
    assert [(r.label, why) for r, why in occ.unscheduled] == [("X", "chairs")]
