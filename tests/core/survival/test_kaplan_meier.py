"""Kaplan-Meier estimates against published data sets and a hand-computed example."""

from __future__ import annotations

import math

import pytest
from lifelines.datasets import load_leukemia, load_lung

from oncotrials.core.errors import ValidationError
from oncotrials.core.survival import kaplan_meier


def test_hand_computed_five_subjects():
    # Durations 1..5, events at 1, 3, 4 (censored at 2 and 5). Product-limit by hand:
    # S(1) = 4/5 = 0.8; S(3) = 0.8 x 2/3 = 0.5333; S(4) = 0.5333 x 1/2 = 0.2667; the median is
    # the first time S <= 0.5, i.e. 4.
    # Exponential Greenwood at t = 1: var(log(-log S)) = [1/(5x4)] / log(0.8)^2 = 1.00416,
    # bounds exp(-exp(log(-log 0.8) ± 1.96 x 1.00208)) = (0.20381, 0.96918).
    result = kaplan_meier([1, 2, 3, 4, 5], [1, 0, 1, 1, 0], times=[1, 3, 4])
    assert [round(at.survival, 4) for at in result.at] == [0.8, 0.5333, 0.2667]
    assert result.median == 4
    assert result.at[0].lower == pytest.approx(0.20381, abs=5e-5)
    assert result.at[0].upper == pytest.approx(0.96918, abs=5e-5)
    assert (result.n, result.events, result.censored) == (5, 3, 2)


def test_survival_at_exactly_one_year_includes_the_events_at_that_time():
    # Reference file, survival section: PFS months with an event at exactly 12.0; the survival
    # function is right-continuous, so S(12.0) = 0.4286 while S(11.99) = 0.5714 (by hand:
    # 0.9 x 8/9 x 6/7 x 5/6 = 0.5714, then x 3/4 = 0.4286). Median 12.0, CI (2.1, inf).
    months = [2.1, 3.0, 4.5, 6.0, 7.2, 9.8, 12.0, 13.5, 15.0, 18.2]
    events = [1, 1, 0, 1, 1, 0, 1, 0, 1, 0]
    result = kaplan_meier(months, events, times=[11.99, 12.0])
    assert result.at[0].survival == pytest.approx(0.5714, abs=1e-4)
    assert result.at[1].survival == pytest.approx(0.4286, abs=1e-4)
    assert result.at[1].lower == pytest.approx(0.1140, abs=1e-4)
    assert result.at[1].upper == pytest.approx(0.7185, abs=1e-4)
    assert result.median == 12.0
    assert result.median_lower == 2.1
    assert math.isinf(result.median_upper)


@pytest.mark.parametrize(
    ("rx", "median", "lower", "upper", "s10"),
    [
        # Freireich et al. 1963 6-MP vs placebo remission data (Kleinbaum & Klein "anderson"):
        # published medians 23 and 8 weeks. CIs and S(10) as computed by lifelines 0.30.3
        # (reference file, survival section, load_leukemia).
        (0, 23, 13, math.inf, 0.7529),
        (1, 8, 4, 11, 0.3810),
    ],
)
def test_freireich_leukaemia_remission(rx, median, lower, upper, s10):
    data = load_leukemia()
    arm = data[data.Rx == rx]
    result = kaplan_meier(arm.t.tolist(), arm.status.tolist(), times=[10])
    assert result.n == 21
    assert result.median == median
    assert result.median_lower == lower
    assert result.median_upper == upper
    assert result.at[0].survival == pytest.approx(s10, abs=1e-4)


def test_ncctg_lung_cancer():
    # NCCTG advanced lung cancer (Loprinzi 1994), n = 228, 165 deaths: R survfit(Surv(time,
    # status) ~ 1, lung) gives median 310 days and 1-year survival 0.409. The log(-log) CIs
    # (284, 361) and (0.3387, 0.4784) are lifelines 0.30.3 values (reference file).
    data = load_lung()
    result = kaplan_meier(data.time.tolist(), data.status.tolist(), times=[365])
    assert (result.n, result.events) == (228, 165)
    assert result.median == 310
    assert (result.median_lower, result.median_upper) == (284, 361)
    assert result.at[0].survival == pytest.approx(0.409, abs=5e-4)
    assert result.at[0].lower == pytest.approx(0.3387, abs=1e-4)
    assert result.at[0].upper == pytest.approx(0.4784, abs=1e-4)


def test_numpy_arrays_are_accepted():
    data = load_leukemia()
    arm = data[data.Rx == 1]
    result = kaplan_meier(arm.t.to_numpy(), arm.status.to_numpy().astype(bool))
    assert result.median == 8  # Freireich 1963 placebo arm: median remission 8 weeks


def test_median_not_reached_is_infinite():
    result = kaplan_meier([5, 6, 7, 8], [1, 0, 0, 0])
    assert math.isinf(result.median)


@pytest.mark.parametrize(
    ("durations", "events", "message"),
    [
        ([], [], "No subject"),
        ([1, 2], [1], "differ in length"),
        ([1, -2], [1, 1], "Subject 2: duration -2"),
        ([1, float("nan")], [1, 1], "Subject 2: duration nan"),
        ([1, 2], [1, 2], "Subject 2: event 2"),
    ],
)
def test_bad_input(durations, events, message):
    with pytest.raises(ValidationError, match=message):
        kaplan_meier(durations, events)
