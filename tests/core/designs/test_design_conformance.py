"""Every design passes the same contract checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from oncotrials.core.designs import (
    BOIN,
    MTPI2,
    Action,
    I3Plus3,
    Keyboard,
    ThreePlusThree,
)
from oncotrials.core.designs.base import EscalationSettings
from oncotrials.core.designs.crm import CRM
from oncotrials.core.designs.ewoc import EWOC
from oncotrials.core.designs.registry import design_for_escalation, live_designs
from oncotrials.core.designs.tite_boin import TITEBOIN
from oncotrials.core.designs.tite_crm import TITECRM
from oncotrials.core.errors import ValidationError

TRUTH = [0.05, 0.10, 0.20, 0.30, 0.45, 0.60]
TOXIC = [0.45, 0.55, 0.65, 0.75]

DESIGNS: dict[str, Any] = {
    "boin": lambda: BOIN(0.3),
    "boin-extrasafe": lambda: BOIN(0.3, extrasafe=True, n_earlystop=12),
    "boin-titration": lambda: BOIN(0.3, titration=True),
    "keyboard": lambda: Keyboard(0.3),
    "mtpi2": lambda: MTPI2(0.3),
    "i3+3": lambda: I3Plus3(0.3),
    "3+3": lambda: ThreePlusThree(),
    "3+3-escalation-only": lambda: ThreePlusThree("escalation_only"),
}
IDS = list(DESIGNS)
# The model-based designs are fixed to their skeleton or dose amounts; their own suite
# (test_crm_conformance.py) runs the same checks on them.
MODEL_BASED = {CRM.name, TITECRM.name, EWOC.name}


def _from_registry(name: str) -> Any:
    # As a cohort's escalation plan builds it (any number of dose levels).
    return design_for_escalation(name, EscalationSettings(n_doses=0, target=0.3))


# Designs with live decisions only (no simulation yet), and every live design of the registry
# built the way a cohort's escalation plan builds it.
DECIDERS: dict[str, Any] = {
    **DESIGNS,
    "tite-boin": lambda: TITEBOIN(0.3),
    **{
        f"registry:{name}": (lambda name=name: _from_registry(name))
        for name in live_designs()
        if name not in MODEL_BASED
    },
}


def test_every_live_design_of_the_registry_has_a_conformance_suite() -> None:
    here = {type(make()).name for make in DECIDERS.values()}
    assert here.isdisjoint(MODEL_BASED)
    assert here | MODEL_BASED == set(live_designs())


@pytest.fixture(params=IDS)
def design(request: pytest.FixtureRequest) -> Any:
    return DESIGNS[request.param]()


@pytest.fixture(params=list(DECIDERS))
def decider(request: pytest.FixtureRequest) -> Any:
    return DECIDERS[request.param]()


def test_constructor_only_stores(decider: Any) -> None:
    # Constructors store parameters; they never validate or compute.
    assert decider.get_params()
    assert repr(decider).startswith(type(decider).__name__)


def test_same_seed_same_output(design: Any) -> None:
    a = design.simulate(TRUTH, n_trials=500, rng=42)
    b = design.simulate(TRUTH, n_trials=500, rng=42)
    np.testing.assert_array_equal(a.selected, b.selected)
    assert a.summary() == b.summary()
    c = design.simulate(TRUTH, n_trials=500, rng=43)
    assert not np.array_equal(a.selected, c.selected)


def test_generator_is_accepted(design: Any) -> None:
    a = design.simulate(TRUTH, n_trials=200, rng=np.random.default_rng(5))
    b = design.simulate(TRUTH, n_trials=200, rng=5)
    np.testing.assert_array_equal(a.selected, b.selected)


def test_simulation_accounts_for_every_trial(design: Any) -> None:
    res = design.simulate(TOXIC, n_trials=2000, rng=1)
    assert res.selection.sum() + res.no_selection == pytest.approx(1.0)
    assert res.selected.shape == (2000,)
    assert res.total_patients == pytest.approx(res.patients.sum())
    assert np.all(res.dlts <= res.patients + 1e-12)
    assert res.no_selection > 0.05  # a toxic scenario stops some trials


def test_never_recommends_an_eliminated_dose(decider: Any) -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        k = 4
        n = rng.choice([0, 3, 6], size=k)
        y = np.minimum(rng.binomial(n, 0.4), n)
        data = [(int(a), int(b)) for a, b in zip(n, y, strict=True)]
        tried = [i for i in range(k) if n[i] > 0]
        current = int(rng.choice(tried)) if tried else 0
        try:
            dec = decider.decide(data, current)
        except ValidationError:
            continue
        if dec.next_dose is not None:
            assert dec.next_dose not in dec.eliminated
            if dec.action is not Action.ELIMINATE:
                assert abs(dec.next_dose - current) <= 1  # no dose skipping
        if dec.mtd is not None:
            assert dec.mtd not in dec.eliminated
        if hasattr(decider, "select_mtd"):
            sel = decider.select_mtd(data)
            assert sel.dose is None or sel.dose not in sel.eliminated


def test_empty_data_treats_at_current_dose(decider: Any) -> None:
    dec = decider.decide([(0, 0), (0, 0), (0, 0)], 0)
    assert dec.action is Action.STAY
    assert dec.next_dose == 0


@pytest.mark.parametrize(
    ("truth", "fragment"),
    [
        ([0.1, 1.3], "got 1.3"),
        ([0.1, -0.2], "got -0.2"),
        ([0.3, 0.1, 0.5], "non-decreasing"),
        ([], "non-empty"),
    ],
)
def test_bad_truth_is_named(design: Any, truth: list[float], fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        design.simulate(truth, n_trials=10, rng=1)
    assert "truth" in exc.value.message
    assert fragment in exc.value.message


def test_data_for_unknown_dose_is_an_error(decider: Any) -> None:
    with pytest.raises(ValidationError, match="not one of the 2 dose levels"):
        decider.decide([(3, 0), (0, 0)], 2)


def test_dlts_above_treated_is_an_error(decider: Any) -> None:
    with pytest.raises(ValidationError, match="Dose 0: 4 DLTs among 3"):
        decider.decide([(3, 4), (0, 0)], 0)


def test_bad_trial_count_is_named(design: Any) -> None:
    with pytest.raises(ValidationError, match="n_trials"):
        design.simulate(TRUTH, n_trials=0)
