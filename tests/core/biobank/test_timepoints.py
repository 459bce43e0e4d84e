"""Timepoints relative to the first dose (SDTM study day: day 1 is the first dose, no day 0)."""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrials.core.biobank.timepoints import Context, derive_timepoint, study_day

D1 = dt.date(2026, 1, 5)


def test_study_day_has_no_day_zero() -> None:
    # SDTMIG 3.x, --DY: date - RFSTDTC + 1 on or after the reference date, date - RFSTDTC before.
    assert study_day(D1, D1) == 1
    assert study_day(D1 - dt.timedelta(days=1), D1) == -1
    assert study_day(D1 + dt.timedelta(days=14), D1) == 15


def test_day_15_of_a_21_day_cycle_is_c1d15_and_day_22_is_c2d1() -> None:
    assert derive_timepoint(D1 + dt.timedelta(days=14), first_dose=D1).label == "C1D15"
    assert derive_timepoint(D1 + dt.timedelta(days=21), first_dose=D1).label == "C2D1"
    assert (
        derive_timepoint(D1 + dt.timedelta(days=27), first_dose=D1, cycle_days=28).label == "C1D28"
    )


def test_before_first_dose_is_baseline() -> None:
    tp = derive_timepoint(D1 - dt.timedelta(days=3), first_dose=D1)
    assert tp.context is Context.BASELINE
    assert tp.study_day == -3
    assert tp.genomics_timepoint == "baseline"


def test_progression_window_and_post_progression() -> None:
    pd = D1 + dt.timedelta(days=120)
    assert (
        derive_timepoint(pd + dt.timedelta(days=5), first_dose=D1, progression_on=pd).context
        is Context.AT_PROGRESSION
    )
    assert (
        derive_timepoint(pd - dt.timedelta(days=28), first_dose=D1, progression_on=pd).context
        is Context.AT_PROGRESSION
    )
    assert (
        derive_timepoint(pd - dt.timedelta(days=29), first_dose=D1, progression_on=pd).context
        is Context.ON_TREATMENT
    )
    post = derive_timepoint(pd + dt.timedelta(days=29), first_dose=D1, progression_on=pd)
    assert post.context is Context.POST_PROGRESSION
    assert post.genomics_timepoint == "progression"


def test_unknown_without_first_dose_and_bad_cycle() -> None:
    assert derive_timepoint(D1, first_dose=None).context is Context.UNKNOWN
    with pytest.raises(ValueError, match="cycle_days"):
        derive_timepoint(D1, first_dose=D1, cycle_days=0)


def test_an_unknown_cycle_length_labels_by_study_day_only_never_a_guessed_cycle():
    on = derive_timepoint(D1 + dt.timedelta(days=14), first_dose=D1, cycle_days=None)
    assert (on.context, on.study_day, on.label) == (Context.ON_TREATMENT, 15, "D15")
    before = derive_timepoint(D1 - dt.timedelta(days=3), first_dose=D1, cycle_days=None)
    assert before.label == "Baseline (D-3)"
