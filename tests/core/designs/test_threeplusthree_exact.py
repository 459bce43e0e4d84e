"""3+3: exact operating characteristics against bcrm::threep3, and live decisions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from oncotrials.core.designs import Action, ThreePlusThree, escalation_probability
from oncotrials.core.errors import ValidationError

REF = json.loads((Path(__file__).parent / "reference" / "threep3_exact.json").read_text())


@pytest.mark.parametrize("case", REF["cases"], ids=[c["call"] for c in REF["cases"]])
def test_exact_oc_match_threep3(case: dict) -> None:
    # bcrm::threep3 as named in the case id; selection[0] = P(no MTD).
    oc = ThreePlusThree(case["variant"]).exact(case["truth"])
    assert oc.no_selection == pytest.approx(case["selection"][0], abs=1e-12)
    np.testing.assert_allclose(oc.selection, case["selection"][1:], atol=1e-12)
    np.testing.assert_allclose(oc.patients, case["patients"], atol=1e-12)
    if "dlts" in case:
        np.testing.assert_allclose(oc.dlts, case["dlts"], atol=1e-12)
    if "sample_size" in case:
        assert oc.sample_size == pytest.approx(case["sample_size"], abs=1e-12)
    assert oc.no_selection + oc.selection.sum() == pytest.approx(1.0, abs=1e-12)


def test_escalation_probability_as_tabulated() -> None:
    # Storer (1989); Le Tourneau et al. JNCI 2009: 91/71/49/31/17/8/3/1/0.1 % for p = .1...9.
    got = 100 * np.asarray(escalation_probability(np.arange(1, 10) / 10))
    assert list(np.round(got[:8]).astype(int)) == [91, 71, 49, 31, 17, 8, 3, 1]
    assert round(float(got[8]), 1) == 0.1


def test_variants_differ_by_expansion() -> None:
    # threep3 vs threep3(esc.only=TRUE): 2.72% vs 2.66% no MTD, 17.37 vs 14.99 patients.
    de = ThreePlusThree("deescalation").exact(REF["cases"][0]["truth"])
    eo = ThreePlusThree("escalation_only").exact(REF["cases"][0]["truth"])
    assert de.sample_size > eo.sample_size


def test_monte_carlo_agrees_with_exact() -> None:
    truth = REF["cases"][0]["truth"]
    exact = ThreePlusThree().exact(truth)
    sim = ThreePlusThree().simulate(truth, n_trials=40_000, rng=11)
    se = np.sqrt(exact.selection * (1 - exact.selection) / 40_000)
    assert np.all(np.abs(sim.selection - exact.selection) <= 4 * se + 1e-12)


@pytest.mark.parametrize(
    ("data", "current", "action", "next_dose", "mtd"),
    [
        ([(3, 0), (0, 0)], 0, Action.ESCALATE, 1, None),
        ([(3, 1), (0, 0)], 0, Action.STAY, 0, None),
        ([(6, 1), (0, 0)], 0, Action.ESCALATE, 1, None),
        ([(3, 2), (0, 0)], 0, Action.STOP, None, None),
        ([(3, 0), (3, 2), (0, 0)], 1, Action.DE_ESCALATE, 0, None),
        ([(6, 1), (3, 2), (0, 0)], 1, Action.STOP, None, 0),
        ([(6, 1), (3, 2), (0, 0)], 0, Action.STOP, None, 0),
        ([(6, 0), (3, 2), (0, 0)], 0, Action.STOP, None, 0),
        ([(6, 2), (3, 2)], 0, Action.STOP, None, None),
        ([(3, 0), (3, 0)], 1, Action.STOP, None, 1),
        ([(3, 0), (6, 1)], 1, Action.STOP, None, 1),
    ],
)
def test_live_decisions(
    data: list, current: int, action: Action, next_dose: int | None, mtd: int | None
) -> None:
    dec = ThreePlusThree().decide(data, current)
    assert (dec.action, dec.next_dose, dec.mtd) == (action, next_dose, mtd)


def test_escalation_only_stops_at_once() -> None:
    dec = ThreePlusThree("escalation_only").decide([(3, 0), (3, 2), (0, 0)], 1)
    assert dec.action is Action.STOP
    assert dec.mtd == 0


def test_incomplete_cohort_is_an_error() -> None:
    with pytest.raises(ValidationError, match="Dose 1: the 3\\+3 design treats 0, 3 or 6"):
        ThreePlusThree().decide([(4, 0), (0, 0)], 0)


def test_unknown_variant_is_named() -> None:
    with pytest.raises(ValidationError, match="'rolling'"):
        ThreePlusThree("rolling").exact([0.1, 0.2])  # type: ignore[arg-type]
