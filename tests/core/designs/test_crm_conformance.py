"""The model-based designs (CRM, TITE-CRM, EWOC) pass the shared design contract checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from oncotrials.core.designs.base import Action
from oncotrials.core.designs.crm import CRM, getprior
from oncotrials.core.designs.ewoc import EWOC
from oncotrials.core.designs.tite_crm import TITECRM
from oncotrials.core.errors import ValidationError

TRUTH = [0.05, 0.10, 0.20, 0.30, 0.45, 0.60]
TOXIC = [0.55, 0.65, 0.75, 0.85, 0.90, 0.95]
SKEL = tuple(float(v) for v in getprior(0.05, 0.3, 4, 6))

DESIGNS: dict[str, Any] = {
    "crm": lambda: CRM(SKEL, 0.3, safety_threshold=0.9),
    "crm-logistic": lambda: CRM(SKEL, 0.3, model="logistic", safety_threshold=0.9),
    "tite-crm": lambda: TITECRM(SKEL, 0.3),
    "ewoc": lambda: EWOC((1.0, 2.0, 3.0, 4.0, 5.0, 6.0), target=0.3, min_dose=0.5),
}


@pytest.fixture(params=list(DESIGNS))
def design(request: pytest.FixtureRequest) -> Any:
    return DESIGNS[request.param]()


def _simulate(design: Any, truth: list[float], n_trials: int, rng: Any) -> Any:
    if isinstance(design, TITECRM):
        return design.simulate(truth, n_trials=n_trials, n_patients=12, rate=2, rng=rng)
    if isinstance(design, EWOC):
        return design.simulate(truth, n_trials=n_trials, n_patients=12, cohort_size=3, rng=rng)
    return design.simulate(truth, n_trials=n_trials, n_patients=18, rng=rng)


def test_constructor_only_stores(design: Any) -> None:
    assert design.get_params()
    assert repr(design).startswith(type(design).__name__)


def test_same_seed_same_output(design: Any) -> None:
    a = _simulate(design, TRUTH, 300, 42)
    b = _simulate(design, TRUTH, 300, 42)
    np.testing.assert_array_equal(a.selected, b.selected)
    assert a.summary() == b.summary()
    c = _simulate(design, TRUTH, 300, 43)
    assert not np.array_equal(a.selected, c.selected)


def test_generator_is_accepted(design: Any) -> None:
    a = _simulate(design, TRUTH, 200, np.random.default_rng(5))
    b = _simulate(design, TRUTH, 200, 5)
    np.testing.assert_array_equal(a.selected, b.selected)


def test_simulation_accounts_for_every_trial(design: Any) -> None:
    res = _simulate(design, TOXIC, 500, 1)
    assert res.selection.sum() + res.no_selection == pytest.approx(1.0)
    assert res.selected.shape == (500,)
    assert res.total_patients == pytest.approx(res.patients.sum())
    assert np.all(res.dlts <= res.patients + 1e-12)
    assert np.mean(res.selected == -1) == pytest.approx(res.no_selection)


def test_empty_data_treats_at_current_dose(design: Any) -> None:
    data = [(0, 0)] * 6
    dec = design.decide(data, 0)
    assert dec.action is Action.STAY
    assert dec.next_dose == 0


def test_bad_truth_is_named(design: Any) -> None:
    for truth, fragment in (
        ([0.05, 0.1, 0.2, 0.3, 0.45, 1.3], "got 1.3"),
        ([0.3, 0.1, 0.2, 0.3, 0.45, 0.6], "non-decreasing"),
    ):
        with pytest.raises(ValidationError) as exc:
            _simulate(design, truth, 10, 1)
        assert "truth" in exc.value.message
        assert fragment in exc.value.message


def test_data_for_unknown_dose_is_an_error(design: Any) -> None:
    with pytest.raises(ValidationError, match="Got data for 2 dose levels but the design has 6"):
        design.decide([(3, 0), (0, 0)], 0)
    with pytest.raises(ValidationError, match="not one of the 6 dose levels"):
        design.decide([(3, 0)] + [(0, 0)] * 5, 6)


def test_dlts_above_treated_is_an_error(design: Any) -> None:
    with pytest.raises(ValidationError, match="Dose 0: 4 DLTs among 3"):
        design.decide([(3, 4)] + [(0, 0)] * 5, 0)


def test_bad_trial_count_is_named(design: Any) -> None:
    with pytest.raises(ValidationError, match="n_trials"):
        _simulate(design, TRUTH, 0, 1)


def test_escalation_never_skips_a_dose(design: Any) -> None:
    rng = np.random.default_rng(0)
    for _ in range(40):
        n = rng.choice([0, 3, 6], size=6)
        y = np.minimum(rng.binomial(n, 0.2), n)
        tried = [i for i in range(6) if n[i] > 0]
        current = int(rng.choice(tried)) if tried else 0
        dec = design.decide([(int(a), int(b)) for a, b in zip(n, y, strict=True)], current)
        if dec.next_dose is not None:
            assert dec.next_dose <= current + 1
