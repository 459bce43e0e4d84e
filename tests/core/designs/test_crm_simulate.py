"""Vectorised CRM simulation: same paths as a one-trial-at-a-time dfcrm-style loop, MC checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from oncotrials.core.designs import crm as crm_mod
from oncotrials.core.designs.crm import crm, getprior, simulate_crm
from oncotrials.core.errors import ValidationError

TRUTH = [0.05, 0.10, 0.20, 0.30, 0.45, 0.60]  # the standard scenario of issue 4
SKELETON = getprior(0.05, 0.30, 4, 6)


def _one_trial_reference(
    truth: list[float], skeleton: np.ndarray, target: float, u: np.ndarray, model: str
) -> tuple[int, list[int]]:
    """dfcrm::mtrials' loop for one trial (x0 = 1, restrict = TRUE), crm() by quadrature."""
    n_cohorts, size = u.shape
    levels: list[int] = []
    tox: list[int] = []
    cur = 0
    for c in range(n_cohorts):
        ynew = [int(v < truth[cur]) for v in u[c]]
        levels += [cur] * size
        tox += ynew
        if c == n_cohorts - 1:
            break
        rec = crm(skeleton, target, tox, levels, model=model, var_est=False).mtd  # type: ignore[arg-type]
        cap = cur if sum(ynew) / size >= target else cur + 1
        cur = min(rec, cap)
    final = crm(skeleton, target, tox, levels, model=model, var_est=False).mtd  # type: ignore[arg-type]
    return final, levels


@pytest.mark.parametrize("model", ["empiric", "logistic"])
def test_vectorised_simulation_follows_the_dfcrm_loop_trial_by_trial(model: str) -> None:
    n_trials, n_cohorts, size = 25, 8, 3
    u = np.random.default_rng(2024).random((n_trials, n_cohorts, size))
    res = simulate_crm(
        TRUTH, SKELETON, 0.3, n_patients=24, cohort_size=3, n_trials=n_trials, model=model,  # type: ignore[arg-type]
        uniforms=u,
    )  # fmt: skip
    finals = []
    counts = np.zeros(6)
    for t in range(n_trials):
        final, levels = _one_trial_reference(TRUTH, SKELETON, 0.3, u[t], model)
        finals.append(final)
        counts += np.bincount(levels, minlength=6)
    expected_sel = np.bincount(finals, minlength=6) / n_trials
    np.testing.assert_allclose(res.selection, expected_sel, atol=1e-12)
    np.testing.assert_allclose(res.patients, counts / n_trials, atol=1e-12)


@pytest.mark.parametrize("model", ["empiric", "logistic"])
def test_grid_posterior_matches_adaptive_quadrature(model: str) -> None:
    # The fixed grid replaces dfcrm's integrate(); it must agree to far better than 1e-6.
    rng = np.random.default_rng(7)
    grid = crm_mod._make_grid(SKELETON, model, 3.0, math.sqrt(1.34), 401)  # type: ignore[arg-type]
    for _ in range(40):
        n = rng.multinomial(36, rng.dirichlet(np.full(6, 0.4)))
        y = rng.binomial(n, np.sort(rng.uniform(0, 1, 6)))
        levels = np.repeat(np.arange(6), n)
        tox = np.concatenate([[1] * yk + [0] * (nk - yk) for nk, yk in zip(n, y, strict=True)])
        exact = crm(SKELETON, 0.3, tox, levels, model=model, var_est=False).estimate  # type: ignore[arg-type]
        mean, _ = crm_mod._grid_posterior(grid, n[None].astype(float), y[None].astype(float))
        assert mean[0] == pytest.approx(exact, abs=1e-9)


def test_standard_scenario_operating_characteristics() -> None:
    res = simulate_crm(TRUTH, SKELETON, 0.3, n_trials=4000, rng=11)
    assert res.n_trials == 4000
    assert sum(res.selection) == pytest.approx(1.0)
    assert res.no_selection == pytest.approx(0.0, abs=1e-12)
    assert sum(res.patients) == pytest.approx(36.0)
    assert res.mean_n == pytest.approx(36.0)
    # The dose with true rate 0.30 (index 3) is the most selected.
    assert int(np.argmax(res.selection)) == 3
    # Optional stopping: E[DLTs at dose k] = p_k * E[patients at dose k]; per trial the
    # difference has variance p_k (1 - p_k) E[N_k], so 4 SE bounds the Monte Carlo error.
    for p, n_k, d_k in zip(TRUTH, res.patients, res.dlts, strict=True):
        se = math.sqrt(p * (1 - p) * n_k / res.n_trials)
        assert abs(d_k - p * n_k) < 4 * se + 1e-12


def test_same_seed_same_result_and_seed_recorded() -> None:
    a = simulate_crm(TRUTH, SKELETON, 0.3, n_trials=300, rng=5)
    b = simulate_crm(TRUTH, SKELETON, 0.3, n_trials=300, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.selection, b.selection)
    np.testing.assert_array_equal(a.patients, b.patients)
    assert a.seed == 5
    assert b.seed is None
    c = simulate_crm(TRUTH, SKELETON, 0.3, n_trials=300, rng=6)
    assert not np.array_equal(c.patients, a.patients)


def test_safety_stop_in_a_too_toxic_scenario() -> None:
    toxic = [0.55, 0.65, 0.75, 0.85, 0.90, 0.95]
    res = simulate_crm(toxic, SKELETON, 0.3, n_trials=2000, rng=3, safety_threshold=0.9)
    assert res.early_stop > 0.8
    assert res.no_selection == pytest.approx(res.early_stop)
    assert res.mean_n < 36
    assert np.mean(res.selected == -1) == pytest.approx(res.early_stop)
    assert res.summary()["early_stop_percent"] == pytest.approx(100 * res.early_stop, abs=1e-4)
    off = simulate_crm(toxic, SKELETON, 0.3, n_trials=500, rng=3)
    assert off.early_stop == 0.0
    assert off.selection[0] > 0.95


def test_selection_standard_errors() -> None:
    res = simulate_crm(TRUTH, SKELETON, 0.3, n_trials=400, rng=1)
    for s, se in zip(res.selection, res.selection_se(), strict=True):
        assert se == pytest.approx(math.sqrt(s * (1 - s) / 400))
    assert res.selection_percent[3] == pytest.approx(100 * res.selection[3])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"truth": [0.1, 0.2]}, "truth has 2 dose levels but the skeleton has 6"),
        (
            {"truth": [0.05, 0.1, 0.2, 0.3, 1.45, 0.6]},
            r"truth\[4\] \(dose 5\) must be a probability in \[0, 1\]; got 1\.45",
        ),
        ({"n_patients": 35}, "n_patients must be a multiple of cohort_size"),
        ({"start_dose": 6}, r"start_dose must be a 0-based dose index in 0\.\.5; got 6"),
        ({"n_trials": 0}, "n_trials must be an integer >= 1; got 0"),
        ({"skeleton": [0.1, 0.3, 0.2, 0.4, 0.5, 0.6]}, "skeleton must be strictly increasing"),
        ({"truth": [0.05, 0.3, 0.2, 0.3, 0.45, 0.6]}, "truth must be non-decreasing in dose"),
    ],
)
def test_simulation_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"truth": TRUTH, "skeleton": SKELETON, "target": 0.3}
    args.update(kwargs)
    with pytest.raises(ValidationError, match=match):
        simulate_crm(**args)  # type: ignore[arg-type]


def test_standard_scenario_agrees_with_dfcrm_crmsim_within_monte_carlo_error() -> None:
    # reference/crm_dfcrm_crmsim.csv: dfcrm::crmsim(truth, getprior(0.05, 0.3, 4, 6), 0.3, 36, 1,
    # nsim=4000, mcohort=3, count=FALSE, seed=1009), i.e. dose 1 start, restrict=TRUE.
    import csv
    from pathlib import Path

    path = Path(__file__).parent / "reference" / "crm_dfcrm_crmsim.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    skel = [float(r["skeleton"]) for r in rows]
    np.testing.assert_allclose(skel, SKELETON, rtol=1e-15)
    n_ref, n_ours = 4000, 10_000
    res = simulate_crm(TRUTH, SKELETON, 0.3, n_trials=n_ours, rng=20240)
    for r, sel, pts in zip(rows, res.selection, res.patients, strict=True):
        p = float(r["selection"])
        se = math.sqrt(p * (1 - p) * (1 / n_ref + 1 / n_ours))
        assert abs(sel - p) <= 4 * se + 1e-12, (r["dose"], sel, p)
        # patients per dose: per-trial SD is below 7 here, so 4 combined SE < 0.55 patients
        assert abs(pts - float(r["patients"])) < 0.55


def test_design_object_simulates_with_its_own_settings() -> None:
    from oncotrials.core.designs.crm import CRM

    design = CRM(skeleton=tuple(SKELETON), target=0.3)
    a = design.simulate(TRUTH, n_trials=400, rng=8)
    b = simulate_crm(TRUTH, SKELETON, 0.3, n_trials=400, rng=8)
    np.testing.assert_array_equal(a.selected, b.selected)
    assert a.summary() == b.summary()
    free = CRM(skeleton=tuple(SKELETON), target=0.3, no_skip=False, coherent=False)
    c = free.simulate(TRUTH, n_trials=400, rng=8)
    d = simulate_crm(TRUTH, SKELETON, 0.3, n_trials=400, rng=8, restrict=False)
    np.testing.assert_array_equal(c.selected, d.selected)
    # no skipping alone: escalation at most one level, even after a toxic cohort
    e = simulate_crm(TRUTH, SKELETON, 0.3, n_trials=400, rng=8, no_skip=True, coherent=False)
    assert e.n_trials == 400
    assert CRM(skeleton=tuple(SKELETON), target=0.3, max_n=12).simulate(
        TRUTH, n_trials=50, rng=1
    ).mean_n == pytest.approx(12.0)
