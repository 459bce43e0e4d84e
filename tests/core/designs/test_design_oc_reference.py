"""Simulated operating characteristics agree with the R reference within Monte Carlo error.

Reference values: reference/oc_montecarlo.json, 10,000 trials per call (R's RNG). We simulate
40,000 trials and allow 4 combined standard errors per selection percentage:
4 * sqrt(p(1-p)/10000 + p(1-p)/40000), with p floored at 0.1% so that near-zero cells keep a
non-zero tolerance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oncotrials.core.designs import BOIN, MTPI2, I3Plus3, Keyboard, ThreePlusThree

REF = json.loads((Path(__file__).parent / "reference" / "oc_montecarlo.json").read_text())
N_OURS = 40_000


def make(design: str, params: dict[str, Any]) -> Any:
    params = dict(params)
    target = params.pop("target", 0.3)
    if design == "boin":
        return BOIN(target, **params)
    if design == "keyboard":
        return Keyboard(target, **params)
    if design == "i3+3":
        return I3Plus3(target, **params)
    if design == "mtpi2":
        return MTPI2(target, **params)
    return ThreePlusThree()


@pytest.mark.parametrize("case", REF["cases"], ids=[c["call"][:90] for c in REF["cases"]])
def test_selection_within_monte_carlo_error(case: dict) -> None:
    # Reference: the R call in the case id (reference/oc_montecarlo.json).
    res = make(case["design"], case["params"]).simulate(case["truth"], n_trials=N_OURS, rng=2024)
    ref = np.array([*case["selection_percent"], case["no_selection_percent"]]) / 100
    ours = np.array([*res.selection, res.no_selection])
    p = np.maximum(ref, 0.001)
    tol = 4 * np.sqrt(p * (1 - p) / case["n_trials"] + p * (1 - p) / N_OURS)
    assert np.all(np.abs(ours - ref) <= tol), (ours * 100, ref * 100, tol * 100)
    # Mean total sample size: within 0.5 patient (its SD is at most ~10 patients).
    assert res.total_patients == pytest.approx(case["total_patients"], abs=0.5)
