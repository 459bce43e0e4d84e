"""BOIN12 contract: live decisions, OBD selection, vectorised simulation and bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from oncotrials.core.designs.base import Action
from oncotrials.core.designs.boin12 import BOIN12, EffToxData, parse_efftox_outcomes
from oncotrials.core.errors import ValidationError

TOX = [0.05, 0.10, 0.15, 0.25, 0.40]
EFF = [0.10, 0.25, 0.50, 0.50, 0.50]


# --- live decisions ------------------------------------------------------------------------------


def test_constructor_only_stores() -> None:
    design = BOIN12(phi_t=1.3)  # invalid, but nothing is checked until the design is used
    assert design.get_params()["phi_t"] == 1.3
    assert repr(design).startswith("BOIN12(phi_t=1.3")
    with pytest.raises(ValidationError, match=r"phi_t must lie in .*got 1\.3"):
        design.decide([(0, 0, 0)], 0)


def test_empty_data_treats_at_the_current_dose() -> None:
    dec = BOIN12().decide([(0, 0, 0)] * 3, 0)
    assert dec.action is Action.STAY
    assert dec.next_dose == 0


def test_three_dlts_of_three_eliminate_the_dose_and_those_above() -> None:
    # P(p_T > 0.35 | Beta(4, 1)) = 1 - 0.35^4 = 0.985 > 0.95
    dec = BOIN12().decide([(3, 0, 1), (3, 3, 2), (0, 0, 0)], 1)
    assert dec.action is Action.ELIMINATE
    assert dec.next_dose == 0
    assert dec.eliminated == (1, 2)


def test_overly_toxic_lowest_dose_stops_the_trial() -> None:
    dec = BOIN12().decide([(3, 3, 0), (0, 0, 0)], 0)
    assert dec.action is Action.STOP
    assert dec.next_dose is None
    assert dec.mtd is None


def test_futile_dose_is_eliminated_alone_and_exploration_escalates() -> None:
    # 0 responses in 9: P(p_E < 0.25 | Beta(1, 10)) = 1 - 0.75^10 = 0.944 > 0.9 (futile), while
    # 0/9 DLTs with an untried next dose triggers the dose-exploration rule.
    design = BOIN12()
    data = [(9, 0, 0), (0, 0, 0), (0, 0, 0)]
    assert design.eliminated_doses(data) == (0,)
    dec = design.decide(data, 0)
    assert dec.action is Action.ESCALATE
    assert dec.next_dose == 1
    assert "exploration" in dec.reason


def test_escalation_skips_only_eliminated_doses() -> None:
    # Dose 2 is futile (0/9 responses), so the dose "above" dose 1 is dose 3.
    design = BOIN12()
    data = [(3, 0, 1), (9, 0, 0), (0, 0, 0)]
    dec = design.decide(data, 0)
    assert dec.eliminated == (1,)
    assert dec.next_dose == 2
    assert dec.action is Action.ESCALATE


def test_no_escalation_in_the_buffer_zone_with_n_star_patients() -> None:
    # 2/6 DLTs: lambda_e = 0.276 < 0.333 < lambda_d = 0.419 with n = 6 >= N*: choose d-1 or d.
    design = BOIN12()
    dec = design.decide([(3, 0, 0), (6, 2, 4), (0, 0, 0)], 1)
    assert dec.next_dose in (0, 1)
    assert "N*=6" in dec.rule
    # With 3 patients the same rate allows d+1 (n < N*).
    dec3 = design.decide([(3, 0, 0), (3, 1, 0), (0, 0, 0)], 1)
    assert "lower, current, higher" in dec3.rule


def test_n_cap_stops_and_selects() -> None:
    design = BOIN12(n_cap=12)
    dec = design.decide([(3, 0, 1), (12, 1, 6), (3, 2, 0)], 1)
    assert dec.action is Action.STOP
    assert dec.mtd == 1
    assert "n_cap=12" in dec.reason


def test_sample_size_reached_stops_with_the_obd() -> None:
    design = BOIN12(n_cohorts=4)
    dec = design.decide([(3, 0, 0), (3, 0, 2), (6, 1, 4), (0, 0, 0)], 2)
    assert dec.action is Action.STOP
    assert dec.mtd == design.select_obd([(3, 0, 0), (3, 0, 2), (6, 1, 4), (0, 0, 0)]).dose


def test_never_recommends_an_eliminated_dose() -> None:
    rng = np.random.default_rng(0)
    design = BOIN12()
    for _ in range(400):
        k = 4
        n = rng.choice([0, 3, 6, 9], size=k)
        t = rng.binomial(n, 0.35)
        e = rng.binomial(n, 0.3)
        data = [(int(a), int(b), int(c)) for a, b, c in zip(n, t, e, strict=True)]
        tried = [i for i in range(k) if n[i] > 0]
        current = int(rng.choice(tried)) if tried else 0
        dec = design.decide(data, current)
        if dec.next_dose is not None:
            assert dec.next_dose not in dec.eliminated
            lo, hi = sorted((dec.next_dose, current))
            skipped = set(range(lo + 1, hi))
            assert skipped <= set(dec.eliminated)  # only eliminated doses are skipped
        if dec.mtd is not None:
            assert dec.mtd not in dec.eliminated
        sel = design.select_obd(data)
        assert sel.dose is None or sel.dose not in sel.eliminated
        if sel.dose is not None:
            assert sel.mtd is not None
            assert sel.dose <= sel.mtd


# --- OBD selection -------------------------------------------------------------------------------


def test_obd_is_the_best_posterior_utility_at_or_below_the_mtd() -> None:
    # Isotonic (y + 0.05)/(n + 0.1): 0.016, 0.016, 0.172, 0.5 -> closest to 0.35 is dose 4.
    # Posterior mean utility (1 + x)/(2 + n), x = (40 n + 60 e - 40 t)/100:
    # 2.2/5 = 0.44, 3.4/5 = 0.68, 5.4/8 = 0.675, 4/8 = 0.5 -> dose 2.
    sel = BOIN12().select_obd([(3, 0, 0), (3, 0, 2), (6, 1, 4), (6, 3, 3)])
    assert sel.mtd == 3
    assert sel.dose == 1
    assert sel.utility == pytest.approx((44.0, 68.0, 67.5, 50.0), abs=1e-12)
    assert sel.tox_estimates[0] == pytest.approx(0.05 / 3.1, abs=1e-12)


def test_obd_ignores_doses_above_the_mtd() -> None:
    # Dose 3 has the best utility but 3/6 DLTs puts the MTD at dose 2 (0.172 vs 0.5, target 0.2).
    design = BOIN12(0.2, 0.25)
    data = [(3, 0, 0), (6, 1, 2), (6, 3, 6)]
    sel = design.select_obd(data)
    assert sel.mtd == 1
    assert sel.dose == 1


def test_joint_counts_change_the_utility_when_it_is_not_additive() -> None:
    design = BOIN12(0.15, 0.4, u_neither=50, u_both=30)
    with pytest.raises(ValidationError, match="'both'"):
        design.desirability([(3, 1, 1)])
    # 1 DLT and 1 response in the same patient (B) vs in different patients (T, E):
    # x = (30 + 50*2)/100 = 1.3 vs (100 + 50)/100 = 1.5.
    same = design.desirability(parse_efftox_outcomes("1BNN", 1))
    apart = design.desirability(parse_efftox_outcomes("1TEN", 1))
    assert same[0] < apart[0]


# --- simulation ----------------------------------------------------------------------------------


def test_same_seed_same_output() -> None:
    design = BOIN12(n_cap=12)
    a = design.simulate(TOX, EFF, n_trials=500, rng=42)
    b = design.simulate(TOX, EFF, n_trials=500, rng=42)
    np.testing.assert_array_equal(a.selected, b.selected)
    assert a.summary() == b.summary()
    c = design.simulate(TOX, EFF, n_trials=500, rng=43)
    assert not np.array_equal(a.selected, c.selected)
    g = design.simulate(TOX, EFF, n_trials=500, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(a.selected, g.selected)


def _replay(design: BOIN12, tox: list[float], eff: list[float], n_trials: int, seed: int) -> Any:
    """Run trials one by one through ``decide`` with the uniforms ``simulate`` draws."""
    gen = np.random.default_rng(seed)
    cs, nc = design.cohort_size, design.n_cohorts
    draws = [gen.random((n_trials, cs)) for _ in range(nc)]
    p_t, p_e = np.asarray(tox), np.asarray(eff)
    p11 = p_t * p_e
    cum = np.cumsum(np.stack([p11, p_t - p11, p_e - p11], axis=1), axis=1)
    selected, patients = [], []
    for i in range(n_trials):
        counts = [[0, 0, 0, 0] for _ in tox]
        d, sel = 0, None
        for s in range(nc):
            for u in draws[s][i]:
                both = u < cum[d, 0]
                tox_only = not both and u < cum[d, 1]
                eff_only = not both and not tox_only and u < cum[d, 2]
                counts[d][0] += 1
                counts[d][1] += int(both or tox_only)
                counts[d][2] += int(both or eff_only)
                counts[d][3] += int(both)
            data = [EffToxData(*c) for c in counts]
            if s == nc - 1:
                sel = design.select_obd(data).dose
                break
            dec = design.decide(data, d)
            if dec.action is Action.STOP:
                sel = dec.mtd
                break
            assert dec.next_dose is not None
            d = dec.next_dose
        selected.append(-1 if sel is None else sel)
        patients.append([c[0] for c in counts])
    return np.array(selected), np.array(patients)


@pytest.mark.parametrize(
    ("tox", "eff"),
    [
        ([0.10, 0.25, 0.45, 0.60], [0.20, 0.40, 0.50, 0.50]),
        ([0.02, 0.05, 0.10, 0.30], [0.05, 0.08, 0.30, 0.30]),  # futility eliminations
        ([0.40, 0.55, 0.65, 0.75], [0.30, 0.40, 0.50, 0.50]),  # early stopping
    ],
)
def test_vectorised_simulation_equals_live_decisions_trial_by_trial(
    tox: list[float], eff: list[float]
) -> None:
    design = BOIN12(n_cohorts=10, n_cap=12)
    res = design.simulate(tox, eff, n_trials=150, rng=7)
    selected, patients = _replay(design, tox, eff, 150, 7)
    np.testing.assert_array_equal(res.selected, selected)
    np.testing.assert_allclose(res.patients, patients.mean(axis=0))


def test_simulation_accounts_for_every_trial() -> None:
    # seeded: the early-stop share is 0.333 over 40,000 trials (SE 0.011 at 2,000); unseeded,
    # the bound below failed about once in a thousand runs
    res = BOIN12(n_cap=12).simulate(
        [0.45, 0.55, 0.65, 0.75], [0.3, 0.4, 0.5, 0.5], n_trials=2000, rng=2
    )
    assert res.selection.sum() + res.no_selection == pytest.approx(1.0)
    assert res.selected.shape == (2000,)
    assert res.total_patients == pytest.approx(res.patients.sum())
    assert np.all(res.dlts <= res.patients + 1e-12)
    assert np.all(res.responses <= res.patients + 1e-12)
    assert res.true_obd is None
    assert res.early_stop > 0.3  # a third of the trials stop: dose 1 is too toxic
    assert res.correct_selection == res.no_selection


def test_an_obvious_obd_is_found_most_of_the_time() -> None:
    # Dose 3 is safe and as effective as any higher dose: the true OBD (utility 66.8 vs 48.6,
    # 59.9, 60.8 at doses 2, 4, 5). 4000 trials: SE of a selection fraction <= 0.008.
    design = BOIN12(n_cap=12)
    res = design.simulate(
        [0.02, 0.05, 0.10, 0.30, 0.50], [0.05, 0.15, 0.60, 0.60, 0.60], n_trials=4000, rng=3
    )
    assert res.true_obd == 2
    assert res.selection[2] > 0.5
    assert res.selection[2] == res.selection.max()
    assert res.patients[4] < 6  # few patients at the toxic top dose


def test_correlated_outcomes_and_progress() -> None:
    calls: list[tuple[int, int]] = []
    res = BOIN12().simulate(
        TOX, EFF, correlation=0.3, n_trials=300, rng=1, progress=lambda a, b: calls.append((a, b))
    )
    assert calls[-1] == (12, 12)
    assert res.summary()["correlation"] == 0.3
    assert res.selection.sum() + res.no_selection == pytest.approx(1.0)


def test_simulation_is_fast() -> None:
    import time

    start = time.perf_counter()
    BOIN12(n_cap=12).simulate(TOX, EFF, n_trials=10_000, rng=1)
    assert time.perf_counter() - start < 3.0  # about 0.3 s on the 2-core development machine


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"phi_t": 0.0}, "phi_t must lie in (0, 0.714286); got 0.0"),
        ({"phi_e": 1.5}, "phi_e must lie in (0, 1); got 1.5"),
        ({"u_neither": 120}, "u_neither must lie in [0, 100]; got 120"),
        ({"u_both": -1}, "u_both must lie in [0, 100]; got -1"),
        ({"cohort_size": 0}, "cohort_size must be an integer >= 1; got 0"),
        ({"n_star": 2.5}, "n_star must be an integer >= 1; got 2.5"),
        ({"c_t": 1.2}, "c_t must lie in (0.5, 1); got 1.2"),
        ({"n_cap": 0}, "n_cap must be an integer >= 1; got 0"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        BOIN12(**kwargs).boundaries()
    assert fragment in exc.value.message


@pytest.mark.parametrize(
    ("tox", "eff", "kwargs", "fragment"),
    [
        ([0.1, 1.3], [0.2, 0.3], {}, "tox[1] (dose 2) must be a probability in [0, 1]; got 1.3"),
        ([0.3, 0.1], [0.2, 0.3], {}, "tox must be non-decreasing"),
        ([0.1, 0.2], [0.2, -0.1], {}, "eff[1] (dose 2) must be a probability in [0, 1]; got -0.1"),
        ([0.1, 0.2], [0.2], {}, "eff has 1 doses but tox has 2"),
        ([0.1, 0.2], [0.9, 0.9], {"correlation": -0.9}, "correlation -0.9 is not attainable"),
        ([0.1, 0.2], [0.2, 0.3], {"n_trials": 0}, "n_trials must be an integer >= 1; got 0"),
        ([0.1, 0.2], [0.2, 0.3], {"start_dose": 2}, "current dose 2 (0-based) is not one"),
    ],
)
def test_bad_scenarios_are_named(
    tox: list[float], eff: list[float], kwargs: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        BOIN12().simulate(tox, eff, **kwargs)
    assert fragment in exc.value.message


@pytest.mark.parametrize(
    ("data", "current", "fragment"),
    [
        ([(3, 4, 0)], 0, "Dose 0: 4 DLTs among 3"),
        ([(3, 0, 5)], 0, "Dose 0: responses must lie between 0 and treated=3; got responses=5"),
        ([(3, 2, 2, 3)], 0, "both (patients with a DLT and a response) must lie between 1 and 2"),
        ([(3, 0)], 0, "Dose 0: expected (treated, dlts, responses)"),
        ([(3, 0, 0), (0, 0, 0)], 2, "current dose 2 (0-based) is not one of the 2 dose levels"),
        ([], 0, "data must hold one entry per dose level; got none"),
    ],
)
def test_bad_data_is_named(data: list[Any], current: int, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        BOIN12().decide(data, current)
    assert fragment in exc.value.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1NNX", "Cohort 1 of the outcomes, '1NNX'"),
        ("NNN", "Cohort 1 of the outcomes, 'NNN'"),
        ("1NNN 6NNN", "Cohort 2 of the outcomes, '6NNN': dose 6 is not one of the 5 dose levels"),
    ],
)
def test_bad_outcome_strings_are_named(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_efftox_outcomes(text, 5)
    assert fragment in exc.value.message


def test_rds_table_needs_an_additive_utility() -> None:
    with pytest.raises(ValidationError, match="u_neither=50, u_both=30"):
        BOIN12(u_neither=50, u_both=30).rds_table()


def test_true_utility_uses_the_joint_distribution() -> None:
    # u_neither = 50, u_both = 30; tox 0.2, eff 0.5, correlation 0.2:
    # P(both) = 0.1 + 0.2 * sqrt(0.16 * 0.25) = 0.14, P(E only) = 0.36, P(neither) = 0.44,
    # utility = 100 * 0.36 + 50 * 0.44 + 30 * 0.14 = 62.2.
    res = BOIN12(0.3, 0.25, u_neither=50, u_both=30).simulate(
        [0.2], [0.5], correlation=0.2, n_trials=10, rng=1
    )
    assert res.true_utility[0] == pytest.approx(62.2, abs=1e-12)
    # The default utility is additive: the correlation does not change the mean utility.
    a = BOIN12().simulate([0.2], [0.5], correlation=0.3, n_trials=10, rng=1)
    b = BOIN12().simulate([0.2], [0.5], n_trials=10, rng=1)
    assert a.true_utility == pytest.approx(b.true_utility, abs=1e-12)


def test_simulated_outcomes_have_the_true_rates() -> None:
    # One dose, 36 patients per trial, 2000 trials: 72,000 independent patients, so the SE of a
    # pooled rate is at most sqrt(0.25 / 72000) = 0.0019; allow 4 SE.
    res = BOIN12(0.5, 0.05).simulate([0.2], [0.6], n_trials=2000, rng=11)
    assert res.patients[0] == pytest.approx(36.0)
    assert res.dlts[0] / res.patients[0] == pytest.approx(0.2, abs=4 * 0.0019)
    assert res.responses[0] / res.patients[0] == pytest.approx(0.6, abs=4 * 0.0019)
