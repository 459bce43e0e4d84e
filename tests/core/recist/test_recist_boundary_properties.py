"""RECIST 1.1 thresholds are inclusive and do not depend on how a number is written (hypothesis).

RECIST 1.1 section 4.3.1: PR is a decrease of *at least* 30 % of the sum of diameters from
baseline; PD an increase of *at least* 20 % from the nadir together with an absolute increase of
*at least* 5 mm. The boundary itself therefore qualifies, and 0.01 mm short of it does not.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrials.core.recist import (
    Assessment,
    Baseline,
    BaselineLesion,
    LesionObservation,
    LesionRole,
    PatientRecord,
    Response,
    evaluate_recist,
)

START = dt.date(2024, 1, 1)
STEP = Decimal("0.01")


def _one_target(baseline: Decimal, *follow_up: Decimal) -> PatientRecord:
    visits = tuple(
        Assessment(START + dt.timedelta(days=42 * (i + 1)), (LesionObservation("T1", value),))
        for i, value in enumerate(follow_up)
    )
    lesion = BaselineLesion("T1", "liver", baseline, role=LesionRole.TARGET)
    return PatientRecord("P", START, Baseline(START - dt.timedelta(days=7), (lesion,)), visits)


def _target(record: PatientRecord) -> list[Response]:
    return [tp.target for tp in evaluate_recist(record).timepoints]


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 60).map(lambda n: Decimal(n * 5)))
def test_a_30_percent_decrease_is_pr_and_just_less_is_sd(baseline):
    exactly = baseline * Decimal("0.7")
    assert _target(_one_target(baseline, exactly)) == [Response.PR]
    assert _target(_one_target(baseline, exactly + STEP)) == [Response.SD]


@settings(max_examples=200, deadline=None)
@given(st.integers(5, 60).map(lambda n: Decimal(n * 5)))
def test_a_20_percent_and_5_mm_increase_is_pd_and_just_less_is_not(nadir):
    # nadir >= 25 mm, so that 20 % is at least 5 mm and the relative rule decides
    exactly = nadir * Decimal("1.2")
    assert _target(_one_target(nadir, exactly)) == [Response.PD]
    assert _target(_one_target(nadir, exactly - STEP)) == [Response.SD]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 24).map(lambda n: Decimal(n)))
def test_below_25_mm_the_5_mm_floor_decides_inclusively(nadir):
    # 20 % of a nadir under 25 mm is under 5 mm: PD needs the absolute 5 mm, inclusive
    assert _target(_one_target(Decimal(30), nadir, nadir + 5))[1] is Response.PD
    assert _target(_one_target(Decimal(30), nadir, nadir + 5 - STEP))[1] is not Response.PD
