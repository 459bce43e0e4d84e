"""Isotonic MTD selection against BOIN::select.mtd (BOIN 2.7.2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import isotonic_regression

from oncotrials.core.designs import BOIN
from oncotrials.core.designs.isotonic import pava_rows

REF = json.loads((Path(__file__).parent / "reference" / "boin_select_mtd.json").read_text())


@pytest.mark.parametrize("case", REF["cases"], ids=[c["call"] for c in REF["cases"]])
def test_selected_dose_matches_select_mtd(case: dict) -> None:
    # MTD from the R call named in the case id (99 = no dose selected).
    design = BOIN(
        case["target"],
        bound_mtd=case.get("bound_mtd", False),
        extrasafe=case.get("extrasafe", False),
    )
    sel = design.select_mtd(list(zip(case["n"], case["y"], strict=True)))
    expected = None if case["mtd"] == 99 else case["mtd"] - 1
    assert sel.dose == expected
    if "phat_2dp" in case:
        got = [None if v is None else f"{v:.2f}" for v in sel.estimates]
        assert got == case["phat_2dp"]
    if "p_overdose_2dp" in case:
        got = [None if v is None else f"{v:.2f}" for v in sel.p_overdose]
        assert got == case["p_overdose_2dp"]


def test_ties_go_higher_below_target_and_lower_above() -> None:
    # select.mtd adds k*1e-10: equal pooled estimates below the target pick the higher dose.
    below = BOIN(0.3).select_mtd([(3, 0), (3, 0), (0, 0)])
    assert below.dose == 1
    # ... and above the target the lower one: select.mtd(0.3, c(3,3,0), c(1,1,0)) -> 1
    above = BOIN(0.3).select_mtd([(3, 1), (3, 1), (0, 0)])
    assert above.dose == 0


def test_untried_doses_are_skipped() -> None:
    sel = BOIN(0.3).select_mtd([(3, 0), (0, 0), (6, 2), (0, 0)])
    assert sel.estimates[1] is None
    assert sel.estimates[3] is None
    assert sel.dose in (0, 2)


def test_no_patients_selects_nothing() -> None:
    sel = BOIN(0.3).select_mtd([(0, 0), (0, 0)])
    assert sel.dose is None
    assert "no patient" in sel.reason


def test_weighted_pava_equals_isotonic_regression() -> None:
    # The pooling order of the reference algorithm does not change the isotonic solution.
    rng = np.random.default_rng(3)
    x = rng.random((200, 6))
    w = rng.random((200, 6)) + 0.1
    got = pava_rows(x, w, np.full(200, 6))
    for i in range(200):
        ref = isotonic_regression(x[i], weights=w[i]).x
        np.testing.assert_allclose(got[i], ref, atol=1e-12)
