"""The calendar reconciles a visit with what else is known: the screening behind the
registration, the end of treatment and of study, visits marked not done or not applicable, and
the records of other modules (adverse events per cycle, tumour assessments per imaging visit,
form data per visit)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncotrials.core.errors import ValidationError
from oncotrials.core.schedule import (
    VisitStatus,
    load_schedule,
    patient_calendar,
    read_schedule_file,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"
D = dt.date
C1D1 = D(2026, 11, 13)  # SCR window 2026-10-16..11-12; IMG1 target 12-25, window 12-18..12-28


@pytest.fixture(scope="module")
def schedule():
    return load_schedule(read_schedule_file(EXAMPLE))


def _cal(schedule, today, **kwargs):
    kwargs.setdefault("done", {"C1D1": C1D1})
    return patient_calendar(schedule, start=C1D1, today=today, **kwargs)


def test_screening_visit_is_overdue_before_registration_and_done_after(schedule):
    assert _cal(schedule, D(2026, 11, 20)).visit("SCR").status is VisitStatus.OVERDUE
    cal = _cal(
        schedule, D(2026, 11, 20), registered_on=D(2026, 11, 12), screening_on=D(2026, 11, 10)
    )
    scr = cal.visit("SCR")
    assert (scr.status, scr.done_on, scr.source) == (VisitStatus.DONE, D(2026, 11, 10), "screening")
    # Without the screening's date, the registration date stands for it; never out of window.
    late = _cal(schedule, D(2026, 11, 20), registered_on=D(2026, 11, 12)).visit("SCR")
    assert (late.status, late.done_on) == (VisitStatus.DONE, D(2026, 11, 12))


def test_treatment_visits_after_end_of_treatment_are_not_expected(schedule):
    eot = D(2026, 11, 18)  # after C1D1, before C1D8 (11-20) and C1D15
    cal = _cal(schedule, D(2027, 1, 30), end_of_treatment=eot, registered_on=D(2026, 11, 12))
    codes = [v.code for v in cal.visits]
    assert {"C1D8", "C1D15", "IMG1"}.isdisjoint(codes)
    assert cal.overdue == (cal.visit("EOT"),)  # EOT was due 30 days after, 12-18 ± 7
    assert cal.visit("EOT").target == D(2026, 12, 18)


def test_a_treatment_visit_done_after_end_of_treatment_is_kept(schedule):
    cal = _cal(
        schedule,
        D(2026, 12, 1),
        done={"C1D1": C1D1, "C1D8": D(2026, 11, 20)},
        end_of_treatment=D(2026, 11, 18),
    )
    assert cal.visit("C1D8").status is VisitStatus.DONE


def test_nothing_is_expected_after_going_off_study(schedule):
    off = D(2026, 11, 18)
    cal = _cal(schedule, D(2027, 3, 1), end_of_treatment=off, off_study=off)
    assert [v.code for v in cal.visits if v.target > off] == []


def test_an_imaging_visit_is_done_by_a_tumour_assessment_in_its_window(schedule):
    today = D(2027, 1, 10)
    cal = _cal(schedule, today, evidence={"recist": [D(2026, 12, 20)]})
    img = cal.visit("IMG1")
    assert (img.status, img.done_on, img.source) == (VisitStatus.DONE, D(2026, 12, 20), "recist")
    assert img.recorded_forms == ("recist",)
    # An assessment outside the window (12-18..12-28) is not that visit's.
    outside = _cal(schedule, today, evidence={"recist": [D(2026, 12, 1)]}).visit("IMG1")
    assert outside.status is VisitStatus.OVERDUE
    assert outside.recorded_forms == ()


def test_the_adverse_event_log_is_kept_per_cycle(schedule):
    ae_on = D(2026, 11, 24)  # cycle 1 runs 11-13..12-03; not in C1D8's window (11-19..11-21)
    cal = _cal(
        schedule,
        D(2026, 12, 20),
        evidence={"adverse_events": [ae_on]},
        per_cycle={"adverse_events"},
    )
    for code in ("C1D1", "C1D8", "C1D15"):
        assert "adverse_events" in cal.visit(code).recorded_forms
    assert "adverse_events" not in cal.visit("C2D1").recorded_forms
    assert cal.visit("C1D8").status is VisitStatus.OVERDUE  # the AE is no visit on day 8
    # Kept per visit (no per_cycle), the same AE records nothing at C1D8.
    per_visit = _cal(schedule, D(2026, 12, 20), evidence={"adverse_events": [ae_on]})
    assert per_visit.visit("C1D8").recorded_forms == ()


def test_an_adverse_event_in_a_visit_window_attests_the_visit(schedule):
    cal = _cal(schedule, D(2026, 12, 20), evidence={"adverse_events": [D(2026, 11, 27)]})
    c1d15 = cal.visit("C1D15")  # target 11-27 ± 1
    assert (c1d15.status, c1d15.source) == (VisitStatus.DONE, "adverse_events")


def test_form_data_recorded_for_a_visit_attests_it(schedule):
    cal = _cal(schedule, D(2026, 12, 20), evidence={"visit:C1D8": [D(2026, 11, 20)]})
    assert (cal.visit("C1D8").status, cal.visit("C1D8").source) == (VisitStatus.DONE, "forms")


def test_evidence_dated_after_today_is_ignored(schedule):
    cal = _cal(schedule, D(2026, 11, 20), evidence={"visit:C1D8": [D(2026, 11, 21)]})
    assert cal.visit("C1D8").status is VisitStatus.DUE


def test_visits_marked_not_done_or_not_applicable(schedule):
    marked = {
        "C1D8": VisitStatus.NOT_DONE,
        "C1D15": VisitStatus.NOT_APPLICABLE,
        "C1D1": VisitStatus.NOT_DONE,
    }
    cal = _cal(schedule, D(2026, 12, 20), marked=marked)
    assert cal.visit("C1D8").status is VisitStatus.NOT_DONE
    assert cal.visit("C1D15").status is VisitStatus.NOT_APPLICABLE
    assert cal.visit("C1D1").status is VisitStatus.DONE  # a visit done stays done
    assert all(cal.visit(c).closed for c in ("C1D1", "C1D8", "C1D15"))
    assert {v.code for v in cal.overdue}.isdisjoint(marked)


def test_a_mark_must_be_not_done_or_not_applicable(schedule):
    with pytest.raises(ValidationError, match=r"marked\.C1D8"):
        _cal(schedule, D(2026, 11, 20), marked={"C1D8": VisitStatus.DONE})


_DAYS = st.integers(min_value=-40, max_value=200).map(lambda n: C1D1 + dt.timedelta(days=n))
_KINDS = st.sampled_from(["adverse_events", "recist", "labs", "visit:C1D8", "visit:C2D1"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    today=st.integers(min_value=0, max_value=200).map(lambda n: C1D1 + dt.timedelta(days=n)),
    evidence=st.dictionaries(_KINDS, st.lists(_DAYS, max_size=4), max_size=4),
    eot=st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
    marked=st.dictionaries(
        st.sampled_from(["C1D8", "C2D1", "IMG1"]),
        st.sampled_from([VisitStatus.NOT_DONE, VisitStatus.NOT_APPLICABLE]),
        max_size=2,
    ),
)
def test_evidence_only_closes_visits_never_opens_or_moves_one(
    schedule, today, evidence, eot, marked
):
    # What lets a work list read the evidence only of registrations that have an open visit
    # without it (subjects.selectors.calendars_for).
    end = C1D1 + dt.timedelta(days=eot) if eot is not None and eot <= (today - C1D1).days else None
    common = {"registered_on": D(2026, 11, 12), "end_of_treatment": end, "marked": marked}
    bare = _cal(schedule, today, **common)
    told = _cal(schedule, today, evidence=evidence, per_cycle=("adverse_events",), **common)

    def open_visits(cal):
        return {
            (v.code, v.target, v.earliest, v.latest, v.status) for v in cal.visits if not v.closed
        }

    assert open_visits(told) <= open_visits(bare)
