"""A patient's calendar: target dates, windows at their edges, cycles, imaging and follow-up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.schedule import (
    CycleDay,
    CycleSpec,
    EndOfTreatmentSpec,
    FollowUpSpec,
    ImagingSpec,
    Reference,
    VisitKind,
    VisitSchedule,
    VisitSpec,
    VisitStatus,
    Window,
    add_months,
    load_schedule,
    patient_calendar,
    read_schedule_file,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"
D = dt.date
C1D1 = D(2026, 1, 5)  # a Monday


def _schedule(**kwargs):
    base = {
        "trial": "T1",
        "cycles": CycleSpec(
            length_days=21,
            count=3,
            days=(
                CycleDay(1, window=Window(3, 3), first_cycle_window=Window(0, 0)),
                CycleDay(8, window=Window(1, 2), only_cycles=(1,)),
                CycleDay(15, window=Window(1, 1), only_cycles=(1,)),
            ),
        ),
    }
    return VisitSchedule(**{**base, **kwargs})


def test_cycle_targets_count_from_c1d1_with_day_1_as_the_first_day():
    cal = patient_calendar(_schedule(), start=C1D1, today=C1D1)
    targets = {v.code: v.target for v in cal.visits}
    assert targets == {
        "C1D1": D(2026, 1, 5),
        "C1D8": D(2026, 1, 12),  # day 8 is 7 days after day 1
        "C1D15": D(2026, 1, 19),
        "C2D1": D(2026, 1, 26),  # 21 days after C1D1
        "C3D1": D(2026, 2, 16),
    }
    assert [v.code for v in cal.visits] == ["C1D1", "C1D8", "C1D15", "C2D1", "C3D1"]
    assert (cal.visit("C2D1").cycle, cal.visit("C2D1").day) == (2, 1)
    assert all(v.kind is VisitKind.CYCLE for v in cal.visits)


def test_first_cycle_window_is_tighter_than_later_cycles():
    cal = patient_calendar(_schedule(), start=C1D1, today=C1D1)
    c1, c2 = cal.visit("C1D1"), cal.visit("C2D1")
    assert (c1.earliest, c1.latest) == (C1D1, C1D1)
    assert (c2.earliest, c2.latest) == (D(2026, 1, 23), D(2026, 1, 29))


@pytest.mark.parametrize(
    ("done_on", "status", "offset"),
    [
        (D(2026, 1, 10), VisitStatus.DONE_OUT_OF_WINDOW, -2),  # one day before the window opens
        (D(2026, 1, 11), VisitStatus.DONE, -1),  # first day of the window (target - 1)
        (D(2026, 1, 12), VisitStatus.DONE, 0),
        (D(2026, 1, 14), VisitStatus.DONE, 2),  # last day of the window (target + 2)
        (D(2026, 1, 15), VisitStatus.DONE_OUT_OF_WINDOW, 3),  # one day after it closed
    ],
)
def test_done_status_at_the_window_edges(done_on, status, offset):
    cal = patient_calendar(
        _schedule(), start=C1D1, today=D(2026, 1, 20), done={"C1D1": C1D1, "C1D8": done_on}
    )
    visit = cal.visit("C1D8")
    assert visit.status is status
    assert visit.done_on == done_on
    assert visit.days_from_target == offset
    assert visit.out_of_window == (status is VisitStatus.DONE_OUT_OF_WINDOW)


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (D(2026, 1, 10), VisitStatus.UPCOMING),  # the window (11th to 14th) has not opened
        (D(2026, 1, 11), VisitStatus.DUE),
        (D(2026, 1, 14), VisitStatus.DUE),
        (D(2026, 1, 15), VisitStatus.OVERDUE),  # the day after the window closed
    ],
)
def test_pending_status_at_the_window_edges(today, status):
    cal = patient_calendar(_schedule(), start=C1D1, today=today, done={"C1D1": C1D1})
    assert cal.visit("C1D8").status is status


def test_status_lists_for_work_lists():
    cal = patient_calendar(
        _schedule(), start=C1D1, today=D(2026, 1, 19), done={"C1D1": C1D1, "C1D8": D(2026, 1, 16)}
    )
    assert [v.code for v in cal.due] == ["C1D15"]
    assert [v.code for v in cal.out_of_window] == ["C1D8"]
    assert cal.overdue == ()
    assert [v.code for v in cal.with_status(VisitStatus.UPCOMING)] == ["C2D1", "C3D1"]


def test_a_delayed_cycle_shifts_the_cycles_after_it():
    # C2D1 given 5 days late (e.g. a toxicity delay): C3D1 is due 21 days after the actual C2D1
    done = {"C1D1": C1D1, "C2D1": D(2026, 1, 31)}
    cal = patient_calendar(_schedule(), start=C1D1, today=D(2026, 1, 31), done=done)
    assert cal.visit("C2D1").status is VisitStatus.DONE_OUT_OF_WINDOW  # window ended on the 29th
    assert cal.visit("C3D1").target == D(2026, 2, 21)
    fixed = _schedule(cycles=CycleSpec(21, (CycleDay(1, Window(3, 3)),), count=3, reanchor=False))
    cal = patient_calendar(fixed, start=C1D1, today=D(2026, 1, 31), done=done)
    assert cal.visit("C3D1").target == D(2026, 2, 16)


def test_days_within_a_cycle_count_from_its_actual_day_1():
    schedule = _schedule(cycles=CycleSpec(21, (CycleDay(1), CycleDay(8, Window(1, 1))), count=2))
    cal = patient_calendar(schedule, start=C1D1, today=D(2026, 1, 8), done={"C1D1": D(2026, 1, 7)})
    assert cal.visit("C1D1").status is VisitStatus.DONE_OUT_OF_WINDOW
    assert cal.visit("C1D8").target == D(2026, 1, 14)
    assert cal.visit("C2D1").target == D(2026, 1, 28)


def test_open_ended_cycles_are_listed_up_to_the_horizon_then_stop_at_end_of_treatment():
    schedule = _schedule(
        cycles=CycleSpec(21, (CycleDay(1, Window(2, 2)),), count=None),
        end_of_treatment=EndOfTreatmentSpec("EOT", offset_days=30, window=Window(7, 7)),
    )
    cal = patient_calendar(schedule, start=C1D1, today=C1D1, horizon_days=63)
    # cycles start on days 0, 21, 42, 63 (within the 63-day horizon), then 84 (beyond)
    assert [v.code for v in cal.visits] == ["C1D1", "C2D1", "C3D1", "C4D1"]
    done = {"C1D1": C1D1, "C2D1": D(2026, 1, 26)}
    cal = patient_calendar(
        schedule, start=C1D1, today=D(2026, 2, 10), done=done, end_of_treatment=D(2026, 2, 10)
    )
    # treatment ended before C3D1 (due 16 February): no more cycles; EOT 30 days after
    assert [v.code for v in cal.visits] == ["C1D1", "C2D1", "EOT"]
    eot = cal.visit("EOT")
    assert (eot.target, eot.earliest, eot.latest) == (D(2026, 3, 12), D(2026, 3, 5), D(2026, 3, 19))
    assert eot.kind is VisitKind.END_OF_TREATMENT


def test_imaging_every_6_weeks_from_the_actual_c1d1():
    schedule = _schedule(imaging=ImagingSpec(every_weeks=6, window=Window(7, 3), count=4))
    cal = patient_calendar(schedule, start=C1D1, today=D(2026, 1, 7), done={"C1D1": D(2026, 1, 7)})
    scans = [v for v in cal.visits if v.kind is VisitKind.IMAGING]
    assert [v.code for v in scans] == ["IMG1", "IMG2", "IMG3", "IMG4"]
    # C1D1 was given on 7 January: scans 42, 84, 126, 168 days later
    assert [v.target for v in scans] == [
        D(2026, 2, 18),
        D(2026, 4, 1),
        D(2026, 5, 13),
        D(2026, 6, 24),
    ]
    assert (scans[0].earliest, scans[0].latest) == (D(2026, 2, 11), D(2026, 2, 21))


def test_open_ended_imaging_follows_the_horizon_and_stops_at_end_of_treatment():
    schedule = _schedule(imaging=ImagingSpec(every_weeks=6))
    cal = patient_calendar(schedule, start=C1D1, today=D(2026, 3, 1), horizon_days=0)
    assert [v.code for v in cal.visits if v.kind is VisitKind.IMAGING] == ["IMG1"]
    cal = patient_calendar(
        schedule, start=C1D1, today=D(2026, 6, 1), end_of_treatment=D(2026, 4, 20)
    )
    assert [v.code for v in cal.visits if v.kind is VisitKind.IMAGING] == ["IMG1", "IMG2"]


def test_follow_up_every_3_calendar_months_from_end_of_treatment():
    schedule = _schedule(
        end_of_treatment=EndOfTreatmentSpec(),
        follow_up=FollowUpSpec(every_months=3, window=Window(14, 14), count=3),
    )
    eot = D(2025, 11, 30)
    cal = patient_calendar(schedule, start=D(2025, 6, 2), today=D(2026, 1, 2), end_of_treatment=eot)
    fu = [v for v in cal.visits if v.kind is VisitKind.FOLLOW_UP]
    # 30 November + 3 months is 28 February (2026 is not a leap year), then 30 May, 30 August
    assert [(v.code, v.target) for v in fu] == [
        ("FU1", D(2026, 2, 28)),
        ("FU2", D(2026, 5, 30)),
        ("FU3", D(2026, 8, 30)),
    ]
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2025, 12, 15), 2) == D(2026, 2, 15)


def test_registration_reference_puts_c1d1_at_its_offset():
    schedule = VisitSchedule(
        trial="T2",
        reference=Reference.REGISTRATION,
        visits=(VisitSpec("SCR", offset_days=-7, window=Window(21, 6)),),
        cycles=CycleSpec(28, (CycleDay(1, Window(0, 2)),), count=2, start_offset_days=7),
        imaging=ImagingSpec(every_weeks=8, count=1),
    )
    registered = D(2026, 3, 2)
    cal = patient_calendar(schedule, start=registered, today=registered)
    targets = {v.code: v.target for v in cal.visits}
    assert targets == {
        "SCR": D(2026, 2, 23),
        "C1D1": D(2026, 3, 9),
        "C2D1": D(2026, 4, 6),
        "IMG1": D(2026, 5, 4),  # 8 weeks from the planned C1D1
    }
    scr = cal.visit("SCR")
    assert (scr.earliest, scr.latest) == (D(2026, 2, 2), D(2026, 3, 1))


def test_unknown_done_codes_are_reported_as_unscheduled():
    done = {"C1D1": C1D1, "UNS1": D(2026, 1, 9), "C9D1": D(2026, 1, 8)}
    cal = patient_calendar(_schedule(), start=C1D1, today=D(2026, 1, 10), done=done)
    assert cal.unscheduled == (("C9D1", D(2026, 1, 8)), ("UNS1", D(2026, 1, 9)))


def test_dates_in_the_future_are_refused_naming_the_field():
    with pytest.raises(
        ValidationError, match=r"done\.C1D8: 2026-01-12 is after today \(2026-01-11\)"
    ):
        patient_calendar(
            _schedule(), start=C1D1, today=D(2026, 1, 11), done={"C1D8": D(2026, 1, 12)}
        )
    with pytest.raises(ValidationError, match="end_of_treatment: 2026-02-01 is after today"):
        patient_calendar(
            _schedule(), start=C1D1, today=D(2026, 1, 11), end_of_treatment=D(2026, 2, 1)
        )
    with pytest.raises(ValidationError, match=r"done\.C1D1: expected a date"):
        patient_calendar(_schedule(), start=C1D1, today=C1D1, done={"C1D1": "2026-01-05"})


def test_documented_example_phase_1_calendar():
    schedule = load_schedule(read_schedule_file(EXAMPLE), source=EXAMPLE.name)
    done = {"SCR": D(2025, 12, 20), "C1D1": C1D1, "C1D8": D(2026, 1, 13), "C2D1": D(2026, 1, 28)}
    cal = patient_calendar(schedule, start=C1D1, today=D(2026, 2, 20), done=done)
    status = {v.code: v.status for v in cal.visits}
    assert status["SCR"] is VisitStatus.DONE  # day -16, inside day -28 to day -1
    assert status["C1D8"] is VisitStatus.DONE  # a day late, inside ±1
    assert status["C1D15"] is VisitStatus.OVERDUE
    assert status["C2D1"] is VisitStatus.DONE  # two days late, inside ±3 after cycle 1
    assert status["IMG1"] is VisitStatus.OVERDUE  # due 16 February, window -7/+3
    assert status["C3D1"] is VisitStatus.DUE  # 21 days after the actual C2D1: 18 February ±3
    assert "C2D8" not in status  # day 8 and day 15 visits are held in cycle 1 only
    pk = [p for v in cal.visits if v.cycle == 1 for p in v.procedures if p.type == "pk"]
    assert len(pk) == 3  # PK on C1D1, C1D8 and C1D15
    assert cal.visit("C1D1").procedures[1].timepoints[0] == "pre-dose"
