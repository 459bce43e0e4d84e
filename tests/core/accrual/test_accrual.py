"""Accrual models against their published formulas and against simulation.

Formulas: Gajewski, Simon & Carlson (Stat Med 2008;27:2328-40) as coded in the R package
``accrual`` 1.4 (``accrual.n.inform``: qnbinom(p, n*P + m, (TT*P + tm)/(TT*P + Tp)) + m;
``accrual.T.inform``: (TT*P + tm)*qB/(1 - qB) + tm with qB = qbeta(p, np - m, n*P + m)).
Poisson–gamma: Anisimov & Fedorov (Stat Med 2007;26:4958-75), log-likelihood as written in the
reference notes (Σ lnΓ(α+k) − lnΓ(α) + α ln β − (α+k) ln(β+τ) + k ln τ − ln k!).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from oncotrials.core.accrual import (
    Centre,
    GajewskiPrior,
    forecast,
    gajewski_calibration,
    gajewski_count,
    gajewski_time,
    pg_count,
    pg_fit,
    pg_loglik,
    pg_simulate,
    pg_time,
    poisson_gamma_calibration,
    ramp_up,
)
from oncotrials.core.errors import ValidationError

# The example of accrual.T.inform's help page: n=300, TT=36, P=0.5, m=100, tm=10, np=300.
PRIOR = GajewskiPrior(target=300, duration=36, certainty=0.5)


def test_time_prediction_is_the_scaled_beta_prime_of_accrual_T_inform() -> None:
    iv = gajewski_time(PRIOR, accrued=100, elapsed=10)
    q = stats.beta.ppf([0.025, 0.5, 0.975], 300 - 100, 300 * 0.5 + 100)
    expected = (36 * 0.5 + 10) * q / (1 - q) + 10
    assert [iv.lower, iv.median, iv.upper] == pytest.approx(expected, rel=1e-12)
    # Independent check of the closed form: simulate λ from the posterior, then the waiting time.
    rng = np.random.default_rng(3)
    lam = rng.gamma(250, 1 / 28, size=200_000)
    waits = 10 + rng.gamma(200, 1 / lam)
    assert np.median(waits) == pytest.approx(iv.median, rel=5e-3)
    assert np.quantile(waits, 0.975) == pytest.approx(iv.upper, rel=1e-2)
    assert iv.mean == pytest.approx(10 + 28 * 200 / 249, rel=1e-12)


def test_count_prediction_is_the_negative_binomial_of_accrual_n_inform() -> None:
    iv = gajewski_count(PRIOR, accrued=100, elapsed=10, at=20)
    prob = (36 * 0.5 + 10) / (36 * 0.5 + 20)
    expected = stats.nbinom.ppf([0.025, 0.5, 0.975], 300 * 0.5 + 100, prob) + 100
    assert [iv.lower, iv.median, iv.upper] == pytest.approx(expected)
    assert iv.mean == pytest.approx(100 + 250 * 10 / 28)


def test_certainty_one_with_no_data_predicts_the_plan() -> None:
    iv = gajewski_time(GajewskiPrior(200, 24, 1.0), accrued=0, elapsed=0)
    assert iv.median == pytest.approx(24, rel=0.02)


@pytest.mark.parametrize(
    ("prior", "field"),
    [
        (GajewskiPrior(0, 12, 0.5), "target"),
        (GajewskiPrior(10, 0, 0.5), "duration"),
        (GajewskiPrior(10, 12, 1.5), "certainty"),
    ],
)
def test_bad_plan_names_the_field(prior: GajewskiPrior, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        gajewski_time(prior, accrued=0, elapsed=1)
    assert err.value.extra["field"] == field


def _centres(seed: int, n: int = 40, alpha: float = 2.0, beta: float = 4.0, now: float = 12.0):
    rng = np.random.default_rng(seed)
    opened = rng.uniform(0, 9, n)
    lam = rng.gamma(alpha, 1 / beta, n)
    k = rng.poisson(lam * (now - opened))
    return k, now - opened, opened


def test_pg_mle_matches_a_direct_optimisation_of_the_negative_binomial_likelihood() -> None:
    k, tau, _ = _centres(5)
    fit = pg_fit(k, tau)

    # Independent: k_i ~ NegBin(size α, prob β/(β+τ_i)), maximised by Nelder–Mead.
    def negll(x: np.ndarray) -> float:
        a, b = np.exp(x)
        return -float(np.sum(stats.nbinom.logpmf(k, a, b / (b + tau))))

    ref = optimize.minimize(negll, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-9})
    a, b = np.exp(ref.x)
    assert fit.alpha == pytest.approx(a, rel=1e-3)
    assert fit.beta == pytest.approx(b, rel=1e-3)
    assert fit.loglik == pytest.approx(-ref.fun, abs=1e-6)
    assert fit.loglik == pytest.approx(pg_loglik(fit.alpha, fit.beta, k, tau))
    assert fit.converged


def test_pg_mle_recovers_the_generating_mean_rate_on_many_centres() -> None:
    k, tau, _ = _centres(7, n=400)
    fit = pg_fit(k, tau)
    assert fit.mean_rate == pytest.approx(0.5, rel=0.1)


def test_pg_without_overdispersion_reaches_the_poisson_limit() -> None:
    fit = pg_fit([6, 6, 6, 6], [12, 12, 12, 12])
    assert fit.alpha == pytest.approx(1e4)
    assert fit.mean_rate == pytest.approx(0.5)


def test_pg_refuses_no_patient() -> None:
    with pytest.raises(ValidationError) as err:
        pg_fit([0, 0, 0], [3, 4, 5])
    assert err.value.extra["field"] == "counts"


def test_closed_form_and_simulation_agree_when_every_centre_is_open() -> None:
    k, tau, opened = _centres(11)
    fit = pg_fit(k, tau)
    centres = [
        Centre(str(i), float(o), int(c)) for i, (o, c) in enumerate(zip(opened, k, strict=False))
    ]
    closed = pg_time(fit, centres, now=12, remaining=100)
    sim = pg_simulate(fit, centres, now=12, remaining=100, draws=100_000, rng=1).time_interval()
    # The moment-matched gamma is an approximation of the sum of gammas (Anisimov 2011).
    assert sim.median == pytest.approx(closed.median, rel=0.01)
    assert sim.upper == pytest.approx(closed.upper, rel=0.03)
    count = pg_count(fit, centres, now=12, horizon=6)
    band = pg_simulate(fit, centres, now=12, remaining=0, grid=[18.0], draws=50_000, rng=2)
    assert band.median[0] == pytest.approx(count.median, rel=0.02)


def test_planned_openings_bring_the_end_date_forward() -> None:
    k, tau, opened = _centres(13)
    fit = pg_fit(k, tau)
    centres = [
        Centre(str(i), float(o), int(c)) for i, (o, c) in enumerate(zip(opened, k, strict=False))
    ]
    planned = centres + [Centre(f"new{i}", 12.5 + i, 0) for i in range(10)]
    without = pg_simulate(fit, centres, now=12, remaining=150, draws=20_000, rng=3)
    with_new = pg_simulate(fit, planned, now=12, remaining=150, draws=20_000, rng=3)
    assert np.median(with_new.times) < np.median(without.times)
    # A centre opening later than every draw's end date changes nothing.
    far = [*centres, Centre("far", 1000000.0, 0)]
    same = pg_simulate(fit, far, now=12, remaining=150, draws=20_000, rng=3)
    assert np.median(same.times) == pytest.approx(np.median(without.times), rel=0.02)


def test_simulation_is_reproducible_from_its_seed() -> None:
    k, tau, opened = _centres(17)
    fit = pg_fit(k, tau)
    centres = [
        Centre(str(i), float(o), int(c)) for i, (o, c) in enumerate(zip(opened, k, strict=False))
    ]
    a = pg_simulate(fit, centres, now=12, remaining=30, draws=1000, rng=9)
    b = pg_simulate(fit, centres, now=12, remaining=30, draws=1000, rng=9)
    assert np.array_equal(a.times, b.times)


def test_ramp_up_is_flagged_and_a_steady_rate_is_not() -> None:
    rng = np.random.default_rng(0)
    steady = np.sort(rng.uniform(0, 12, 60))
    assert ramp_up(steady, elapsed=12) is None
    ramp = np.concatenate([rng.uniform(0, 6, 8), rng.uniform(6, 12, 40)])
    found = ramp_up(ramp, elapsed=12)
    assert found is not None
    assert found.ratio == pytest.approx(5.0)
    assert "ramp-up" in found.message()


def test_forecast_uses_the_centres_when_enough_are_open() -> None:
    k, _tau, opened = _centres(19, n=12)
    centres = [
        Centre(str(i), float(o), int(c)) for i, (o, c) in enumerate(zip(opened, k, strict=False))
    ]
    rng = np.random.default_rng(0)
    times = np.concatenate([rng.uniform(o, 12, c) for o, c in zip(opened, k, strict=False)])
    f = forecast(times=times, now=12, prior=GajewskiPrior(int(k.sum()) + 40, 24), centres=centres)
    assert f.poisson_gamma is not None
    assert f.band_model == "poisson_gamma"
    assert f.best is f.pg_simulated
    assert f.lower[0] == f.median[0] == f.accrued  # the band starts at what is observed
    assert all(lo <= me <= up for lo, me, up in zip(f.lower, f.median, f.upper, strict=False))
    few = forecast(times=times[:3], now=12, prior=GajewskiPrior(50, 24), centres=[])
    assert few.poisson_gamma is None
    assert few.band_model == "gajewski"


def test_forecast_refuses_counts_that_do_not_add_up() -> None:
    with pytest.raises(ValidationError) as err:
        forecast(times=[1.0, 2.0], now=3, prior=PRIOR, centres=[Centre("a", 0, 1)])
    assert err.value.extra["field"] == "centres"


def test_gajewski_intervals_are_calibrated() -> None:
    # Trials simulated from the prior: the 95 % interval of the time to target covers the truth
    # 95 % of the time (400 trials here: ± 3.5 standard errors; the bench runs 2,000).
    cal = gajewski_calibration(trials=400, rng=21)
    assert abs(cal.coverage - 0.95) <= 0.035


def test_poisson_gamma_intervals_are_close_to_nominal() -> None:
    cal = poisson_gamma_calibration(trials=150, rng=23)
    assert abs(cal.coverage - 0.95) <= 0.06
