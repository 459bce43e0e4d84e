"""Lee & Liu (2008) predictive-probability monitoring and independent basket monitoring."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import special, stats

from oncotrials.core.designs.phase2 import (
    basket_monitoring,
    pp_boundaries,
    pp_operating_characteristics,
    predictive_probability,
)
from oncotrials.core.errors import ValidationError


def test_lee_liu_2008_worked_example() -> None:
    # Lee & Liu (2008) Clin Trials 5:93-106, p. 97: 16 responses in 23 patients, Nmax = 40,
    # p0 = 0.6, prior Beta(0.6, 0.4), theta_T = 0.9 -> PP = 0.5656;
    # ph2bayes::predprob(16, 23, 40, 0.6, 0.4, 0.6, 0.9) prints 0.5655589.
    pp = predictive_probability(16, 23, 40, p0=0.6, theta_t=0.9, a=0.6, b=0.4)
    assert pp == pytest.approx(0.5655589, abs=5e-8)


def test_pp_is_the_beta_binomial_sum() -> None:
    # Direct evaluation of the definition with scipy's beta-binomial and beta distributions.
    x, n, nmax, p0, tt, a, b = 5, 14, 30, 0.25, 0.85, 0.5, 0.5
    m = nmax - n
    expected = sum(
        stats.betabinom.pmf(i, m, a + x, b + n - x)
        for i in range(m + 1)
        if stats.beta.sf(p0, a + x + i, b + nmax - x - i) > tt
    )
    assert predictive_probability(x, n, nmax, p0, tt, a, b) == pytest.approx(expected, abs=1e-14)


def test_pp_at_the_end_is_the_final_test() -> None:
    for x in range(21):
        post = special.betaincc(1 + x, 1 + 20 - x, 0.3)
        assert predictive_probability(x, 20, 20, 0.3, 0.9) == float(post > 0.9)


def test_boundaries_are_the_largest_futile_counts() -> None:
    design = pp_boundaries(nmax=40, p0=0.2, theta_t=0.9, theta_l=0.05, a=1, b=1)
    assert design.looks == tuple(range(1, 41))
    prev = -1
    for n, f, e in zip(design.looks, design.futility, design.efficacy, strict=True):
        assert e is None  # theta_u = 1: no efficacy stopping
        if f >= 0:
            assert predictive_probability(f, n, 40, 0.2, 0.9) < 0.05
        if f + 1 <= n:
            assert predictive_probability(f + 1, n, 40, 0.2, 0.9) >= 0.05
        assert f >= prev  # boundaries never decrease as patients accrue
        prev = f


def test_efficacy_boundary() -> None:
    design = pp_boundaries(
        nmax=30, p0=0.2, theta_t=0.9, theta_l=0.01, theta_u=0.99, looks=[10, 20, 30]
    )
    for n, e in zip(design.looks[:-1], design.efficacy[:-1], strict=True):
        assert e is not None
        assert predictive_probability(e, n, 30, 0.2, 0.9) > 0.99
        assert predictive_probability(e - 1, n, 30, 0.2, 0.9) <= 0.99


def _enumerate_oc(design_nmax: int, looks: list[int], fut: list[int], eff: list, success, p: float):
    """All 2^nmax response sequences: P(reject), P(futility stop), E[N]."""
    rej = fstop = en = 0.0
    for seq in itertools.product((0, 1), repeat=design_nmax):
        prob = float(np.prod([p if s else 1 - p for s in seq]))
        stopped = False
        for n, f, e in zip(looks, fut, eff, strict=True):
            x = sum(seq[:n])
            if n == design_nmax:
                en += prob * n
                rej += prob * bool(success[x])
                stopped = True
                break
            if x <= f:
                fstop += prob
                en += prob * n
                stopped = True
                break
            if e is not None and x >= e:
                rej += prob
                en += prob * n
                stopped = True
                break
        assert stopped
    return rej, fstop, en


@pytest.mark.parametrize("p", [0.2, 0.45])
def test_exact_operating_characteristics_by_enumeration(p: float) -> None:
    nmax = 12
    design = pp_boundaries(
        nmax=nmax, p0=0.2, theta_t=0.85, theta_l=0.1, theta_u=0.95, looks=[4, 8, 12]
    )
    oc = pp_operating_characteristics(design, p)
    success = [special.betaincc(1 + s, 1 + nmax - s, 0.2) > 0.85 for s in range(nmax + 1)]
    rej, fstop, en = _enumerate_oc(
        nmax, list(design.looks), list(design.futility), list(design.efficacy), success, p
    )
    assert oc.reject == pytest.approx(rej, abs=1e-12)
    assert oc.early_futility == pytest.approx(fstop, abs=1e-12)
    assert oc.expected_n == pytest.approx(en, abs=1e-12)


def test_operating_characteristics_are_probabilities() -> None:
    design = pp_boundaries(nmax=40, p0=0.2, theta_t=0.9, theta_l=0.05)
    null = pp_operating_characteristics(design, 0.2)
    alt = pp_operating_characteristics(design, 0.4)
    assert 0 < null.reject < 0.15 < 0.8 < alt.reject < 1
    assert null.early_futility > alt.early_futility
    assert alt.expected_n > null.expected_n
    assert null.early_efficacy == 0.0


def test_basket_monitoring_statuses() -> None:
    status = basket_monitoring(
        {"NSCLC": (0, 12), "CRC": (6, 15), "thyroid": (9, 20)},
        nmax=20, p0=0.15, theta_t=0.9, theta_l=0.05, theta_u=0.99,
    )  # fmt: skip
    by = {s.cohort: s for s in status}
    assert by["NSCLC"].action == "stop for futility"
    assert by["NSCLC"].predictive_probability < 0.05
    assert by["CRC"].action in {"continue", "stop for efficacy"}
    assert by["CRC"].predictive_probability == pytest.approx(
        predictive_probability(6, 15, 20, 0.15, 0.9)
    )
    assert by["thyroid"].action == "complete: promising"
    assert by["thyroid"].posterior_prob_above_p0 == pytest.approx(
        stats.beta.sf(0.15, 10, 12), abs=1e-14
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: predictive_probability(5, 4, 10, 0.2, 0.9), "x=5 responses exceed the n=4"),
        (lambda: predictive_probability(1, 12, 10, 0.2, 0.9), "n=12 patients exceed"),
        (lambda: predictive_probability(1, 4, 10, 1.2, 0.9), r"p0 must lie in \(0, 1\); got 1\.2"),
        (lambda: predictive_probability(1, 4, 10, 0.2, 0.9, a=0), "positive finite parameters"),
        (lambda: pp_boundaries(10, 0.2, 0.9, 0.05, looks=[5, 3]), "looks must be increasing"),
        (lambda: pp_boundaries(10, 0.2, 0.9, 0.5, theta_u=0.4), "theta_u must lie in"),
        (
            lambda: basket_monitoring({"A": (3, 30)}, nmax=20, p0=0.2, theta_t=0.9, theta_l=0.05),
            "Cohort 'A': n=30 patients exceed",
        ),
        (lambda: basket_monitoring({}, nmax=20, p0=0.2, theta_t=0.9, theta_l=0.05), "at least one"),
    ],
)
def test_monitoring_bad_input(call, match: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=match):
        call()


def test_design_search_returns_calibrated_exact_designs() -> None:
    # Lee & Liu (2008) design search: thresholds (theta_T, theta_L) and Nmax meeting
    # P(promising | p0) <= alpha and P(promising | p1) >= power; every figure is re-derived
    # here by the independent boundary and OC functions.
    from oncotrials.core.designs.phase2 import pp_design_search

    designs = pp_design_search(
        0.2, 0.4, alpha=0.1, power=0.8, nmax=range(20, 31), theta_t=(0.85, 0.9, 0.95),
        theta_l=(0.01, 0.05, 0.1), a=0.2, b=0.8, first_look=5,
    )  # fmt: skip
    assert designs
    sizes = [d.boundaries.nmax for d in designs]
    assert sizes == sorted(sizes)
    for d in designs[:6]:
        bnd = d.boundaries
        assert d.type1 <= 0.1
        assert d.power >= 0.8
        again = pp_boundaries(
            bnd.nmax, 0.2, bnd.theta_t, bnd.theta_l, a=0.2, b=0.8, looks=bnd.looks
        )
        assert again.futility == bnd.futility
        oc0 = pp_operating_characteristics(again, 0.2)
        oc1 = pp_operating_characteristics(again, 0.4)
        assert d.type1 == pytest.approx(oc0.reject, abs=1e-12)
        assert d.power == pytest.approx(oc1.reject, abs=1e-12)
        assert d.pet0 == pytest.approx(oc0.early_futility, abs=1e-12)
        assert d.en0 == pytest.approx(oc0.expected_n, abs=1e-10)
    # within the smallest Nmax, designs come in order of expected size under p0
    first = [d for d in designs if d.boundaries.nmax == sizes[0]]
    assert [d.en0 for d in first] == sorted(d.en0 for d in first)


def test_basket_operating_characteristics_multiply_independent_cohorts() -> None:
    from oncotrials.core.designs.phase2 import basket_operating_characteristics

    design = pp_boundaries(nmax=20, p0=0.15, theta_t=0.9, theta_l=0.05, looks=[10, 15, 20])
    rates = {"A": 0.15, "B": 0.15, "C": 0.35}
    oc = basket_operating_characteristics(design, rates)
    single = {k: pp_operating_characteristics(design, v) for k, v in rates.items()}
    a = single["A"].reject
    # two null baskets: family-wise error 1 - (1 - alpha)^2
    assert oc.prob_false_positive == pytest.approx(1 - (1 - a) ** 2, abs=1e-14)
    assert oc.expected_promising == pytest.approx(2 * a + single["C"].reject, abs=1e-14)
    assert oc.expected_n == pytest.approx(sum(s.expected_n for s in single.values()), abs=1e-12)
    assert oc.prob_any_promising == pytest.approx(
        1 - (1 - a) ** 2 * (1 - single["C"].reject), abs=1e-14
    )
    assert oc.names == ("A", "B", "C")
    with pytest.raises(ValidationError, match="at least one cohort"):
        basket_operating_characteristics(design, {})
