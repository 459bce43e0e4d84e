"""Vectorised TITE-CRM simulation: the same trials as a one-at-a-time dfcrm::titesim-style loop."""

from __future__ import annotations

import numpy as np
import pytest

from oncotrials.core.designs.crm import crm, getprior
from oncotrials.core.designs.tite_crm import simulate_tite_crm, titecrm
from oncotrials.core.errors import ValidationError

TRUTH = [0.05, 0.10, 0.20, 0.30, 0.45, 0.60]
SKEL = getprior(0.05, 0.30, 4, 6)


def _reference_trial(u_tox: np.ndarray, u_time: np.ndarray, n: int, rate: float) -> tuple:
    """dfcrm's onetite loop (x0 = 1, restrict = TRUE, fixed accrual, obswin = 1) with titecrm()
    computed by adaptive quadrature."""
    arrival = np.arange(1, n + 1) / rate
    level: list[int] = []
    tox: list[int] = []
    utox: list[float] = []
    cur = 0
    for i in range(n):
        level.append(cur)
        y = int(u_tox[i] < TRUTH[cur])
        tox.append(y)
        utox.append(arrival[i] + u_time[i] if y else np.inf)
        if i == n - 1:
            break
        t = arrival[i + 1]
        b = [int(v <= t) for v in utox]
        follow = [min(min(t, v) - a, 1.0) for v, a in zip(utox, arrival[: i + 1], strict=False)]
        fit = titecrm(SKEL, 0.3, b, level, followup=follow, obswin=1.0)
        cur = min(fit.mtd, cur + 1)
    final = crm(SKEL, 0.3, tox, level, var_est=False).mtd
    return final, level


def test_vectorised_tite_simulation_follows_the_titesim_loop() -> None:
    n_trials, n, rate, seed = 12, 12, 2.0, 31
    res = simulate_tite_crm(
        TRUTH, SKEL, 0.3, n_patients=n, rate=rate, n_trials=n_trials, rng=seed, n_grid=401
    )
    # the simulation draws, in order: DLT uniforms then DLT-time uniforms, (trials, patients)
    gen = np.random.default_rng(seed)
    u_tox = gen.random((n_trials, n))
    u_time = gen.random((n_trials, n))
    counts = np.zeros(6)
    finals = []
    for t in range(n_trials):
        final, level = _reference_trial(u_tox[t], u_time[t], n, rate)
        finals.append(final)
        counts += np.bincount(level, minlength=6)
    np.testing.assert_array_equal(res.selected, finals)
    np.testing.assert_allclose(res.patients, counts / n_trials, atol=1e-12)
    assert res.mean_duration == pytest.approx(n / rate + 1.0)


def test_tite_simulation_operating_characteristics() -> None:
    res = simulate_tite_crm(TRUTH, SKEL, 0.3, n_patients=24, rate=3, n_trials=1500, rng=4)
    assert sum(res.selection) == pytest.approx(1.0)
    assert int(np.argmax(res.selection)) == 3
    assert res.mean_n == pytest.approx(24.0)
    assert res.summary()["design"] == "tite-crm"
    poisson = simulate_tite_crm(
        TRUTH, SKEL, 0.3, n_patients=24, rate=3, accrual="poisson", n_trials=500, rng=4
    )
    assert poisson.mean_duration is not None
    # 24 exponential gaps of mean 1/3 plus the final window: E = 24/3 + 1 = 9
    assert poisson.mean_duration == pytest.approx(9.0, abs=4 * (24**0.5 / 3) / 500**0.5)


def test_tite_simulation_bad_input() -> None:
    with pytest.raises(ValidationError, match="accrual must be 'fixed' or 'poisson'"):
        simulate_tite_crm(TRUTH, SKEL, 0.3, accrual="weekly", n_trials=10)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="rate must be a positive finite number; got 0"):
        simulate_tite_crm(TRUTH, SKEL, 0.3, rate=0, n_trials=10)
    with pytest.raises(ValidationError, match="truth has 3 dose levels but the skeleton has 6"):
        simulate_tite_crm([0.1, 0.2, 0.3], SKEL, 0.3, n_trials=10)


def test_agrees_with_dfcrm_titesim_within_monte_carlo_error() -> None:
    # reference/crm_dfcrm_titesim*.csv: dfcrm::titesim(truth, getprior(0.05, 0.3, 4, 6), 0.3, 24,
    # 1, obswin=1, rate=3, accrual="fixed"), nsim=2000 (seed 1009) and nsim=3000 (seed 2024),
    # pooled: 5000 trials.
    import csv
    import math
    from pathlib import Path

    ref_dir = Path(__file__).parent / "reference"
    pooled = np.zeros(6)
    n_ref = 0
    for name, nsim in (("crm_dfcrm_titesim.csv", 2000), ("crm_dfcrm_titesim_seed2024.csv", 3000)):
        with (ref_dir / name).open(newline="") as fh:
            pooled += nsim * np.asarray([float(r["selection"]) for r in csv.DictReader(fh)])
        n_ref += nsim
    pooled /= n_ref
    n_ours = 10_000
    res = simulate_tite_crm(TRUTH, SKEL, 0.3, n_patients=24, rate=3, n_trials=n_ours, rng=77)
    for p, q in zip(pooled, res.selection, strict=True):
        se = math.sqrt(p * (1 - p) * (1 / n_ref + 1 / n_ours))
        assert abs(q - p) <= 4 * se + 1e-12


def test_tite_design_object_simulates() -> None:
    from oncotrials.core.designs.tite_crm import TITECRM

    design = TITECRM(skeleton=tuple(SKEL), target=0.3)
    a = design.simulate(TRUTH, n_trials=200, n_patients=12, rate=2, rng=6)
    b = simulate_tite_crm(TRUTH, SKEL, 0.3, n_patients=12, rate=2, n_trials=200, rng=6)
    np.testing.assert_array_equal(a.selected, b.selected)
