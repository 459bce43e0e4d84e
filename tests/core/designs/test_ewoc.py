"""EWOC (Babb et al. 1998; ewoc::ewoc_d1classical parameterisation) on a grid posterior."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from oncotrials.core.designs.base import Action
from oncotrials.core.designs.ewoc import EWOC
from oncotrials.core.errors import ValidationError

# Babb, Rogatko & Zacks (1998) 5-FU example dose range: 140 to 425 mg/m2.
DOSES = (140.0, 180.0, 210.0, 250.0, 300.0, 350.0, 425.0)
EMPTY = [(0, 0)] * 7


def test_prior_quantile_is_the_feasibility_bound_of_a_uniform_mtd() -> None:
    # With no data and gamma ~ U(0, 1) the alpha-quantile of the MTD is x_min + alpha * range.
    post = EWOC(DOSES, target=0.33, alpha=0.25).posterior(EMPTY)
    assert post.mtd_quantile == pytest.approx(140 + 0.25 * 285, abs=1e-9)
    assert post.mtd_mean == pytest.approx(140 + 0.5 * 285, abs=1e-9)
    s = (np.asarray(DOSES) - 140) / 285
    np.testing.assert_allclose(post.prob_overdose, s, atol=1e-12)


def test_prior_quantile_under_a_beta_mtd_prior() -> None:
    post = EWOC(DOSES, alpha=0.25, mtd_prior=(2.0, 5.0), n_grid=800).posterior(EMPTY)
    assert post.mtd_quantile == pytest.approx(140 + 285 * stats.beta.ppf(0.25, 2, 5), abs=0.05)


def _exact(data: list[tuple[int, int]], theta: float, dose_s: float, gamma_cut: float) -> tuple:
    """P(gamma <= cut | data) and E[p(dose_s) | data] by Gauss-Legendre product quadrature
    (uniform priors), an independent rule from the design's midpoint grid; the gamma integral
    is split at the cut so that both pieces are smooth."""
    n = np.asarray([d[0] for d in data], dtype=float)
    y = np.asarray([d[1] for d in data], dtype=float)
    s = (np.asarray(DOSES) - 140) / 285
    t, wt = np.polynomial.legendre.leggauss(300)
    u, wu = (t + 1) / 2, wt / 2  # nodes and weights on (0, 1)
    v = u[:, None]

    def moments(g_lo: float, g_hi: float) -> tuple[float, float]:
        g = (g_lo + (g_hi - g_lo) * u)[None, :]
        w2 = wu[:, None] * (wu * (g_hi - g_lo))[None, :]
        lr, lt = special.logit(theta * v), special.logit(theta)
        eta = lr[..., None] + (lt - lr)[..., None] * s / g[..., None]
        loglik = -np.logaddexp(0, -eta) @ y - np.logaddexp(0, eta) @ (n - y)
        lik = np.exp(loglik)
        pd = special.expit(lr + (lt - lr) * dose_s / g)
        return float(np.sum(w2 * lik)), float(np.sum(w2 * lik * pd))

    z1, m1 = moments(0.0, gamma_cut)
    z2, m2 = moments(gamma_cut, 1.0)
    return z1 / (z1 + z2), (m1 + m2) / (z1 + z2)


def test_grid_posterior_matches_adaptive_quadrature() -> None:
    data = [(3, 0), (3, 0), (3, 1), (2, 1), (0, 0), (0, 0), (0, 0)]
    post = EWOC(DOSES, target=0.33, alpha=0.25, n_grid=600).posterior(data)
    s = (np.asarray(DOSES) - 140) / 285
    below, mean_p = _exact(data, 0.33, s[2], s[3])
    assert post.prob_overdose[3] == pytest.approx(below, abs=2e-4)
    assert post.pdlt[2] == pytest.approx(mean_p, abs=2e-4)


def test_recommended_dose_respects_overdose_control() -> None:
    design = EWOC(DOSES, target=0.33, alpha=0.25, no_skip=False)
    data = [(3, 0), (3, 0), (3, 0), (3, 1), (0, 0), (0, 0), (0, 0)]
    d = design.decide(data, current=3)
    post = design.posterior(data)
    assert post.prob_overdose[d.next_dose] <= 0.25
    if d.next_dose + 1 < len(DOSES):
        # the next dose up would exceed the feasibility bound (rounding down)
        assert DOSES[d.next_dose + 1] > post.mtd_quantile


def test_first_decision_and_no_skip() -> None:
    design = EWOC(DOSES, target=0.33, alpha=0.25)
    # before anyone is treated, the first patient gets the current (starting) dose
    start = design.decide(EMPTY, current=0)
    assert (start.action, start.next_dose) == (Action.STAY, 0)
    # data at x_min only inform rho0, so the MTD quantile stays at the prior's 211.25, which
    # rounds down to 210 (index 2); no skipping caps it at index 1
    one = [(1, 0)] + [(0, 0)] * 6
    d = design.decide(one, current=0)
    assert design.posterior(one).mtd_quantile == pytest.approx(211.25, abs=1e-6)
    assert d.next_dose == 1
    assert d.action is Action.ESCALATE
    assert "no skipping" in d.rule
    free = EWOC(DOSES, target=0.33, alpha=0.25, no_skip=False, rounding="nearest")
    assert free.decide(one, current=0).next_dose == 2


def test_toxic_outcomes_lower_the_next_dose() -> None:
    design = EWOC(DOSES, target=0.33, alpha=0.25)
    d = design.decide([(3, 0), (3, 0), (3, 2), (0, 0), (0, 0), (0, 0), (0, 0)], current=2)
    assert d.next_dose < 2
    assert d.action is Action.DE_ESCALATE


def test_stopping_rule_needs_room_below_the_first_dose() -> None:
    data = [(6, 6), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0), (0, 0)]
    # min_dose = first dose: P(DLT at the first dose) = rho0 < theta, the rule cannot trigger
    assert EWOC(DOSES).posterior(data).prob_first_too_toxic == 0.0
    wide = EWOC(DOSES, min_dose=50.0)
    post = wide.posterior(data)
    assert post.prob_first_too_toxic > 0.95
    d = wide.decide(data, current=0)
    assert d.action is Action.STOP
    assert d.next_dose is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"doses": (100.0, 90.0)}, r"doses must be strictly increasing; got 100\.0 at dose 0"),
        ({"alpha": 0.7}, r"alpha \(the feasibility bound\) must lie in \(0, 0\.5\]; got 0\.7"),
        ({"target": 1.5}, r"target must lie in \(0, 1\); got 1\.5"),
        ({"min_dose": 200.0}, "min_dose and max_dose must bracket the doses"),
        ({"mtd_prior": (0.0, 1.0)}, "mtd_prior must hold two positive Beta parameters"),
    ],
)
def test_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"doses": DOSES}
    args.update(kwargs)
    design = EWOC(**args)  # type: ignore[arg-type]
    n = len(design.doses)
    with pytest.raises(ValidationError, match=match):
        design.decide([(0, 0)] * n, current=0)


def test_data_for_unknown_doses() -> None:
    with pytest.raises(ValidationError, match="Got data for 8 dose levels but the design has 7"):
        EWOC(DOSES).decide([(0, 0)] * 8, current=0)
    with pytest.raises(
        ValidationError, match=r"current dose 7 \(0-based\) is not one of the 7 dose levels"
    ):
        EWOC(DOSES).decide(EMPTY, current=7)


def test_constructor_only_stores() -> None:
    design = EWOC((1.0, 1.0))  # invalid, but constructing does not validate
    assert design.get_params()["doses"] == (1.0, 1.0)
    assert math.isclose(design.get_params()["alpha"], 0.25)  # type: ignore[arg-type]


def test_batch_posterior_equals_the_single_posterior() -> None:
    design = EWOC(DOSES, target=0.33, alpha=0.25, n_grid=150, min_dose=100.0)
    x, lo, hi = np.asarray(DOSES), 100.0, 425.0
    tables = design._tables(x, lo, hi, 150)
    rng = np.random.default_rng(3)
    n = rng.integers(0, 7, (20, 7)).astype(float)
    y = rng.binomial(n.astype(int), 0.3).astype(float)
    q_std, p_first = design._batch(tables, 150, n, y, 0.25)
    for i in range(20):
        post = design.posterior(list(zip(n[i].astype(int), y[i].astype(int), strict=True)))
        assert lo + q_std[i] * (hi - lo) == pytest.approx(post.mtd_quantile, rel=1e-10)
        assert p_first[i] == pytest.approx(post.prob_first_too_toxic, abs=1e-12)


def test_simulation_follows_decide_trial_by_trial() -> None:
    import dataclasses

    truth = [0.05, 0.10, 0.20, 0.30, 0.45, 0.60, 0.70]
    design = EWOC(DOSES, target=0.33, alpha=0.25, n_grid=60, min_dose=100.0)
    n_trials, n_cohorts, size, seed = 15, 6, 2, 9
    res = design.simulate(
        truth, n_patients=12, cohort_size=2, n_trials=n_trials, n_grid=60, rng=seed
    )
    u = np.random.default_rng(seed).random((n_trials, n_cohorts, size))
    final_rule = dataclasses.replace(design, alpha=0.5, no_skip=False)
    expected = []
    for t in range(n_trials):
        n = [0] * 7
        y = [0] * 7
        cur = 0
        stopped = False
        for c in range(n_cohorts):
            n[cur] += size
            y[cur] += int(np.sum(u[t, c] < truth[cur]))
            if c == n_cohorts - 1:
                break
            d = design.decide(list(zip(n, y, strict=True)), cur)
            if d.next_dose is None:
                stopped = True
                break
            cur = d.next_dose
        if stopped:
            expected.append(-1)
            continue
        d = final_rule.decide(list(zip(n, y, strict=True)), cur)
        expected.append(-1 if d.next_dose is None else d.next_dose)
    np.testing.assert_array_equal(res.selected, expected)


def test_simulation_stops_in_a_toxic_scenario() -> None:
    design = EWOC(DOSES, target=0.33, alpha=0.25, min_dose=50.0)
    toxic = [0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    res = design.simulate(toxic, n_patients=24, cohort_size=3, n_trials=1000, rng=2)
    assert res.early_stop > 0.3
    assert res.no_selection == pytest.approx(res.early_stop)
    assert res.mean_n < 24
    assert res.summary()["design"] == "ewoc"
    with pytest.raises(ValidationError, match="truth has 3 dose levels but the design has 7"):
        design.simulate([0.1, 0.2, 0.3], n_trials=10)
