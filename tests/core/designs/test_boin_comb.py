"""BOIN-COMB against BOIN::next.comb, select.mtd.comb and get.oc.comb (BOIN 2.7.2)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from oncotrials.core.designs import Action
from oncotrials.core.designs.boin_comb import BOINComb, bivariate_isotonic
from oncotrials.core.errors import ValidationError

REF = json.loads((Path(__file__).parent / "reference" / "boin_comb.json").read_text())


@pytest.mark.parametrize("case", REF["next_comb"], ids=[c["call"][:60] for c in REF["next_comb"]])
def test_next_combination_matches_next_comb(case: dict) -> None:
    # next.comb as named in the case; random tie-breaks: compare the set of outcomes and, for
    # ties, their frequencies within 4 binomial SE of 1/2.
    design = BOINComb(0.3)
    cur = (case["current"][0] - 1, case["current"][1] - 1)
    counts: Counter[str] = Counter()
    runs = 400
    for seed in range(runs):
        dec = design.decide(case["n"], case["y"], cur, rng=seed)
        assert dec.next_dose is not None
        counts[f"{dec.next_dose[0] + 1}-{dec.next_dose[1] + 1}"] += 1
    assert set(counts) == set(case["outcomes"])
    if len(counts) == 2:
        share = min(counts.values()) / runs
        assert abs(share - 0.5) <= 4 * np.sqrt(0.25 / runs)


@pytest.mark.parametrize("case", REF["select_mtd_comb"], ids=["3x5", "3x4"])
def test_mtd_matches_select_mtd_comb(case: dict) -> None:
    n, y = np.array(case["n"]), np.array(case["y"])
    assert BOINComb(0.3).select_mtd(n, y) == (case["mtd"][0] - 1, case["mtd"][1] - 1)
    iso = bivariate_isotonic(((y + 0.05) / (n + 0.1))[None], (n + 0.1)[None])[0]
    # Iso::biviso converges to ~1e-8 (see the case note); ours to 1e-10.
    np.testing.assert_allclose(iso, case["biviso"], atol=5e-8)


def test_oc_within_monte_carlo_error() -> None:
    ref = REF["get_oc_comb"]
    res = BOINComb(0.3, n_cohorts=ref["n_cohorts"], n_earlystop=ref["n_earlystop"]).simulate(
        ref["truth"], n_trials=10_000, rng=5
    )
    p = np.maximum(np.array(ref["selection_percent"]) / 100, 0.001)
    tol = 4 * np.sqrt(2 * p * (1 - p) / 10_000)
    assert np.all(np.abs(res.selection - np.array(ref["selection_percent"]) / 100) <= tol)
    assert res.total_patients == pytest.approx(ref["total_patients"], abs=0.5)


def test_same_seed_same_output() -> None:
    truth = REF["get_oc_comb"]["truth"]
    a = BOINComb(0.3, n_cohorts=6).simulate(truth, n_trials=300, rng=9)
    b = BOINComb(0.3, n_cohorts=6).simulate(truth, n_trials=300, rng=9)
    np.testing.assert_array_equal(a.selected, b.selected)


def test_lowest_combination_too_toxic_stops() -> None:
    dec = BOINComb(0.3).decide([[3, 0], [0, 0]], [[3, 0], [0, 0]], (0, 0))
    assert dec.action is Action.STOP
    assert dec.next_dose is None


def test_never_selects_an_eliminated_combination() -> None:
    # (1,2) with 3/3 is eliminated with everything above it in both drugs.
    n = np.array([[3, 3, 0], [3, 0, 0]])
    y = np.array([[0, 3, 0], [0, 0, 0]])
    assert BOINComb(0.3).select_mtd(n, y) in ((0, 0), (1, 0))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"truth": [[0.1, 0.2], [0.05, 0.3]]}, "non-decreasing"),
        ({"truth": [[0.1, 1.2]]}, "got 1.2"),
        ({"truth": [[0.1], [0.2], [0.3]]}, "no more rows than columns"),
    ],
)
def test_bad_truth(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        BOINComb(0.3).simulate(kwargs["truth"], n_trials=10)


def test_bad_current_combination() -> None:
    with pytest.raises(ValidationError, match="outside the 1 x 2 dose grid"):
        BOINComb(0.3).decide([[3, 0]], [[0, 0]], (1, 0))
