"""Minimisation (Pocock & Simon 1975): scores, the random element, balance, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.randomisation import (
    MinimisationConfig,
    assign_from_counts,
    imbalance_scores,
    marginal_counts,
    next_assignment,
    simulate_allocation,
)

SCOTT = MinimisationConfig(
    arms={"intervention": 1, "control": 1},
    factors={"baseline": ["high", "moderate", "low"], "covariate": ["high", "moderate", "low"]},
    p=1.0,
)
# Worked example "adapted from Scott et al. 2002" (Scott NW, McPherson GC, Ramsay CR, Campbell MK,
# Control Clin Trials 2002;23:662-674), Table 3 of the open-access review PMC3503622: marginal
# counts after six patients; the seventh has a high baseline rate and a moderate covariate rate.
SCOTT_COUNTS = {
    "baseline": {
        "high": {"intervention": 2, "control": 2},
        "moderate": {"intervention": 2, "control": 3},
        "low": {"intervention": 1, "control": 1},
    },
    "covariate": {
        "high": {"intervention": 2, "control": 3},
        "moderate": {"intervention": 3, "control": 1},
        "low": {"intervention": 1, "control": 1},
    },
}


def test_scott_2002_worked_example_totals_4_and_2_allocate_to_control():
    scores = imbalance_scores(SCOTT_COUNTS, {"baseline": "high", "covariate": "moderate"}, SCOTT)
    # PMC3503622 Table 3: intervention |3-2| + |4-1| = 1 + 3 = 4; control |2-3| + |3-2| = 1 + 1 = 2
    assert scores == {"intervention": 4.0, "control": 2.0}


def _kja_2019_patients():
    # Lim CY, In J. Randomization in clinical studies. Korean J Anesthesiol 2019;72:221-232,
    # Table 4 (PMC6547231): 14 patients, 7 per group, with these marginal counts per group.
    # The pairing of levels within a patient is not given; any pairing has the same margins.
    control = zip(
        ["1", "1", "1", "1", "2", "2", "2"],
        ["M", "M", "M", "M", "F", "F", "F"],
        ["<20", "<20", "20-64", "20-64", ">=65", ">=65", ">=65"],
        strict=True,
    )
    treatment = zip(
        ["1", "1", "2", "2", "2", "2", "2"],
        ["M", "M", "M", "M", "F", "F", "F"],
        ["<20", "<20", "20-64", "20-64", ">=65", ">=65", ">=65"],
        strict=True,
    )
    return [
        ({"site": site, "sex": sex, "age": age}, arm)
        for arm, group in (("control", control), ("treatment", treatment))
        for site, sex, age in group
    ]


KJA = MinimisationConfig(
    arms={"control": 1, "treatment": 1},
    factors={"site": ["1", "2"], "sex": ["M", "F"], "age": ["<20", "20-64", ">=65"]},
    p=1.0,
)


def test_kja_2019_worked_example_totals_3_and_5_allocate_to_control():
    new = {"site": "2", "sex": "F", "age": ">=65"}  # the 15th patient: female, 74 years, site 2
    decision = next_assignment(_kja_2019_patients(), new, KJA, rng=0)
    # Table 4: control (5-4) + (4-3) + (4-3) = 3; treatment (6-3) + (4-3) + (4-3) = 5
    assert decision.scores == {"control": 3.0, "treatment": 5.0}
    assert decision.arm == "control"
    assert decision.preferred == "control"
    assert not decision.random_element_overrode


def test_assignment_from_stored_counts_equals_assignment_from_patients():
    patients = _kja_2019_patients()
    counts = marginal_counts(patients, KJA)
    assert counts["site"]["2"] == {"control": 3, "treatment": 5}
    new = {"site": "1", "sex": "M", "age": "<20"}
    for seed in range(20):
        assert assign_from_counts(counts, new, KJA, rng=seed) == next_assignment(
            patients, new, KJA, rng=seed
        )
    with pytest.raises(ValidationError, match=r"counts\.site\.1\.control: a count must be"):
        assign_from_counts({"site": {"1": {"control": -1}}}, new, KJA)


def _three_arm_history():
    # f1 = x: A 2, B 1, C 1; f2 = u: A 0, B 1, C 1; the patient at (y, v) must not count
    return [
        ({"f1": "x", "f2": "v"}, "A"),
        ({"f1": "x", "f2": "v"}, "A"),
        ({"f1": "x", "f2": "u"}, "B"),
        ({"f1": "x", "f2": "u"}, "C"),
        ({"f1": "y", "f2": "v"}, "B"),
    ]


def test_pocock_simon_variance_and_range_with_factor_weights_three_arms():
    history = _three_arm_history()
    new = {"f1": "x", "f2": "u"}
    factors = {"f1": ["x", "y"], "f2": ["u", "v"]}
    variance = MinimisationConfig(
        arms={"A": 1, "B": 1, "C": 1}, factors=factors, weights={"f2": 2.0}, measure="variance"
    )
    decision = next_assignment(history, new, variance, rng=1)
    # hand computation (population variance): A → var(3,1,1) + 2 var(1,1,1) = 8/9;
    # B → var(2,2,1) + 2 var(0,2,1) = 2/9 + 2·2/3 = 14/9; C is B's mirror image
    assert decision.scores == pytest.approx({"A": 8 / 9, "B": 14 / 9, "C": 14 / 9})
    assert decision.tied == ("A",)
    assert decision.preferred == "A"
    ranged = MinimisationConfig(arms={"A": 1, "B": 1, "C": 1}, factors=factors, weights={"f2": 2.0})
    # range: A → 2 + 2·0 = 2; B → 1 + 2·2 = 5
    assert next_assignment(history, new, ranged, rng=1).scores == {"A": 2.0, "B": 5.0, "C": 5.0}


def test_marginal_counts_from_allocated_patients():
    counts = marginal_counts(
        _three_arm_history(),
        MinimisationConfig(
            arms={"A": 1, "B": 1, "C": 1}, factors={"f1": ["x", "y"], "f2": ["u", "v"]}
        ),
    )
    assert counts["f1"]["x"] == {"A": 2, "B": 1, "C": 1}
    assert counts["f2"]["v"] == {"A": 2, "B": 1, "C": 0}


def test_unequal_ratios_compare_counts_divided_by_the_ratio():
    config = MinimisationConfig(arms={"T": 2, "C": 1}, factors={"sex": ["F", "M"]}, p=1.0)
    history = [({"sex": "F"}, "T"), ({"sex": "F"}, "T"), ({"sex": "F"}, "C")]
    decision = next_assignment(history, {"sex": "F"}, config, rng=0)
    # T → (3/2, 1/1): range 0.5; C → (2/2, 2/1): range 1; raw counts would have chosen C
    assert decision.scores == {"T": 0.5, "C": 1.0}
    assert decision.arm == "T"


def test_audit_details_probabilities_and_override_flag():
    config = MinimisationConfig(arms={"A": 1, "B": 1, "C": 1}, factors={"f1": ["x", "y"]}, p=0.8)
    history = [({"f1": "x"}, "A")]
    decision = next_assignment(history, {"f1": "x"}, config, rng=0)
    assert decision.tied == ("B", "C")
    # a tied arm: 1/2 · 0.8 + 1/2 · 0.1; the untied arm: 0.1 either way
    assert decision.probabilities == pytest.approx({"A": 0.1, "B": 0.45, "C": 0.45})
    assert decision.random_element_overrode == (decision.arm != decision.preferred)
    assert decision.p == 0.8
    assert decision.measure == "range"


def test_first_patient_all_arms_tie_and_the_arm_is_drawn_at_random():
    config = MinimisationConfig(arms={"A": 1, "B": 1, "C": 1}, factors={"sex": ["F", "M"]})
    decisions = [next_assignment([], {"sex": "M"}, config, rng=seed) for seed in range(3000)]
    assert all(d.preferred is None and not d.random_element_overrode for d in decisions)
    assert decisions[0].tied == ("A", "B", "C")
    assert decisions[0].probabilities == pytest.approx({"A": 1 / 3, "B": 1 / 3, "C": 1 / 3})
    share = sum(d.arm == "A" for d in decisions) / len(decisions)
    assert abs(share - 1 / 3) < 4 * np.sqrt(2 / 9 / 3000)


def test_with_unequal_ratios_the_first_patient_already_prefers_the_larger_arm():
    config = MinimisationConfig(arms={"T": 2, "C": 1}, factors={"sex": ["F", "M"]}, p=0.8)
    decision = next_assignment([], {"sex": "M"}, config, rng=0)
    # T → (1/2, 0): range 0.5; C → (0, 1/1): range 1
    assert decision.scores == {"T": 0.5, "C": 1.0}
    assert decision.preferred == "T"
    assert decision.probabilities == pytest.approx({"T": 0.8, "C": 0.2})


def test_same_inputs_and_seed_give_the_same_decision():
    config = MinimisationConfig(arms={"A": 1, "B": 1}, factors={"f1": ["x", "y"]})
    history = [({"f1": "x"}, "A"), ({"f1": "y"}, "B"), ({"f1": "x"}, "A")]
    first = [next_assignment(history, {"f1": "x"}, config, rng=s).arm for s in range(50)]
    again = [next_assignment(history, {"f1": "x"}, config, rng=s).arm for s in range(50)]
    assert first == again
    assert set(first) == {"A", "B"}  # the random element does act


def test_random_element_assigns_the_preferred_arm_with_probability_p():
    config = MinimisationConfig(arms={"A": 1, "B": 1}, factors={"f1": ["x", "y"]}, p=0.8)
    history = [({"f1": "x"}, "A")] * 3
    n = 4000
    arms = [next_assignment(history, {"f1": "x"}, config, rng=s).arm for s in range(n)]
    share = arms.count("B") / n
    # Binomial(4000, 0.8): SE = 0.0063; tolerance 4 SE
    assert abs(share - 0.8) < 4 * np.sqrt(0.8 * 0.2 / n)


def test_ties_between_some_arms_are_broken_at_random():
    config = MinimisationConfig(arms={"A": 1, "B": 1, "C": 1}, factors={"f1": ["x", "y"]}, p=1.0)
    arms = [
        next_assignment([({"f1": "x"}, "A")], {"f1": "x"}, config, rng=s).arm for s in range(2000)
    ]
    assert "A" not in arms
    share = arms.count("B") / len(arms)
    assert abs(share - 0.5) < 4 * np.sqrt(0.25 / 2000)


THREE_FACTORS = MinimisationConfig(
    arms={"A": 1, "B": 1},
    factors={"sex": ["F", "M"], "age": ["<65", ">=65"], "ecog": ["0", "1", "2"]},
    p=0.8,
)


def test_minimisation_balances_margins_far_better_than_simple_randomisation():
    # 500 simulated trials of 200 patients, 3 factors (2, 2 and 3 levels), seed 20261122
    mini = simulate_allocation(THREE_FACTORS, n_patients=200, n_trials=500, rng=20261122)
    simple = simulate_allocation(
        THREE_FACTORS, n_patients=200, n_trials=500, method="simple", rng=20261123
    )
    mini_max = mini.max_marginal_imbalance
    simple_max = simple.max_marginal_imbalance
    # tolerance: the mean largest marginal imbalance under minimisation is under a third of
    # simple randomisation's (observed ≈ 2.8 vs ≈ 14.8), and 95 % of minimised trials stay ≤ 6
    assert mini_max.mean() < simple_max.mean() / 3
    assert np.quantile(mini_max, 0.95) <= 6
    assert np.abs(mini.arm_totals[:, 0] - 100).max() <= 6
    assert mini.arm_totals.sum(axis=1).tolist() == [200] * 500


def test_simulated_allocation_probability_is_p_within_monte_carlo_error():
    sim = simulate_allocation(THREE_FACTORS, n_patients=200, n_trials=500, rng=7)
    n = sim.decided
    assert n > 50_000
    # each decision's random element is an independent Bernoulli(p) draw: tolerance 4 SE
    assert abs(sim.preferred_rate - 0.8) < 4 * np.sqrt(0.8 * 0.2 / n)


def test_simulator_scores_agree_with_next_assignment_patient_by_patient():
    sim = simulate_allocation(THREE_FACTORS, n_patients=60, n_trials=2, rng=3)
    prepared = THREE_FACTORS.validated()
    names = prepared.arm_names
    for t in range(2):
        history: list[tuple[dict[str, str], str]] = []
        for i in range(60):
            levels = {f.name: f.levels[sim.levels[t, i, j]] for j, f in enumerate(prepared.factors)}
            decision = next_assignment(history, levels, THREE_FACTORS, rng=0)
            pref = sim.preferred[t, i]
            if pref < 0:
                assert len(decision.tied) == len(names)
            else:
                assert names[pref] in decision.tied
            history.append((levels, names[sim.arms[t, i]]))


def test_simulation_with_unequal_ratios_keeps_the_ratio():
    config = MinimisationConfig(
        arms={"T": 2, "C": 1}, factors={"sex": ["F", "M"], "age": ["y", "o"]}
    )
    sim = simulate_allocation(config, n_patients=300, n_trials=200, rng=1)
    assert np.abs(sim.arm_totals[:, 0] - 200).max() <= 8
    assert sim.max_marginal_imbalance.mean() < 3
    same = simulate_allocation(config, n_patients=300, n_trials=200, rng=1)
    assert np.array_equal(sim.arms, same.arms)


def test_level_probabilities_shape_the_simulated_population():
    config = MinimisationConfig(arms={"A": 1, "B": 1}, factors={"sex": ["F", "M"]})
    sim = simulate_allocation(
        config, n_patients=100, n_trials=100, level_probabilities={"sex": [0.9, 0.1]}, rng=1
    )
    assert abs((sim.levels == 0).mean() - 0.9) < 0.02
    with pytest.raises(ValidationError, match=r"level_probabilities\.sex: give 2 probabilities"):
        simulate_allocation(config, n_patients=10, level_probabilities={"sex": [0.5]})


CONFIG = MinimisationConfig(arms={"A": 1, "B": 1}, factors={"sex": ["F", "M"], "ecog": ["0", "1"]})


@pytest.mark.parametrize(
    ("existing", "new", "message"),
    [
        ([], {"sex": "F"}, r"new\.ecog: missing; every patient needs a level for factor 'ecog'"),
        (
            [],
            {"sex": "X", "ecog": "0"},
            r"new\.sex: unknown level 'X'; factor 'sex' has levels F, M",
        ),
        ([], {"sex": "F", "ecog": "0", "age": "70"}, r"new\.age: not a minimisation factor"),
        (
            [({"sex": "F", "ecog": "0"}, "A"), ({"sex": "F"}, "B")],
            {"sex": "F", "ecog": "0"},
            r"existing\[1\]\.levels\.ecog: missing",
        ),
        (
            [({"sex": "F", "ecog": "0"}, "Z")],
            {"sex": "F", "ecog": "0"},
            r"existing\[0\]\.arm: unknown arm 'Z'",
        ),
        (["A"], {"sex": "F", "ecog": "0"}, r"existing\[0\]: each allocated patient must be"),
    ],
)
def test_bad_patients_name_the_field(existing, new, message):
    with pytest.raises(ValidationError, match=message):
        next_assignment(existing, new, CONFIG, rng=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"arms": {"A": 1, "B": 0}}, r"arms\.B: the ratio must be > 0; got 0"),
        ({"arms": {"A": -1, "B": 1}}, r"arms\.A: the ratio must be > 0; got -1"),
        ({"p": 0.3}, r"p: the probability of the preferred arm must lie in \[1/2, 1\]"),
        ({"p": 1.2}, r"p: .* got 1.2"),
        ({"measure": "sd"}, "measure: the imbalance measure must be one of range, variance"),
        ({"weights": {"age": 1.0}}, r"weights\.age: not a factor"),
        ({"weights": {"sex": -1.0}}, r"weights\.sex: a factor weight must be a finite number >= 0"),
        ({"factors": {"sex": ["F"]}}, r"factors\.sex: a factor needs at least two levels"),
        ({"factors": {}}, "factors: minimisation needs at least one factor"),
    ],
)
def test_bad_configuration_names_the_field(kwargs, message):
    base = {"arms": {"A": 1, "B": 1}, "factors": {"sex": ["F", "M"]}}
    config = MinimisationConfig(**{**base, **kwargs})
    with pytest.raises(ValidationError, match=message):
        next_assignment([], {"sex": "F"}, config, rng=1)
