"""One registry of the designs, keyed on each class's ``name``; the live ones run a cohort."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import oncotrials.core.designs as designs_pkg
from oncotrials.core.designs.base import Action, DoseData, EscalationSettings
from oncotrials.core.designs.registry import (
    DESIGNS,
    design_for_escalation,
    design_names,
    get_design,
    get_live_design,
    is_live,
    live_designs,
    resolve_name,
)
from oncotrials.core.errors import ValidationError


def _named_design_classes() -> list[type]:
    """Every concrete class in oncotrials.core.designs whose own ``name`` is a class constant."""
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(designs_pkg.__path__):
        module = importlib.import_module(f"{designs_pkg.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not cls.__module__.startswith(designs_pkg.__name__) or inspect.isabstract(cls):
                continue
            if isinstance(getattr(cls, "name", None), str) and callable(
                getattr(cls, "decide", None)
            ):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return list(found.values())


def test_every_named_design_class_is_registered_under_its_name() -> None:
    classes = _named_design_classes()
    assert len(classes) >= 11
    for cls in classes:
        assert DESIGNS.get(cls.name) is cls, f"{cls.__name__} ({cls.name!r}) is not registered"
    assert set(DESIGNS.values()) == set(classes)


def test_names_and_aliases_are_unique() -> None:
    names = [cls.name for cls in DESIGNS.values()]
    assert len(names) == len(set(names))
    keys = [k.lower() for cls in DESIGNS.values() for k in (cls.name, *cls.aliases)]
    assert len(keys) == len(set(keys))
    assert list(DESIGNS) == list(design_names())


def test_lookup_by_name_alias_or_class_name() -> None:
    assert get_design("BOIN") is DESIGNS["boin"]
    assert resolve_name("kb") == "keyboard"
    assert resolve_name("mTPI-2") == "mtpi2"
    assert resolve_name("ThreePlusThree") == "3+3"


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError) as exc:
        get_design("crm2")
    assert "Unknown design 'crm2'" in exc.value.message
    for name in DESIGNS:
        assert name in exc.value.message


def test_live_designs_are_those_that_build_from_an_escalation_plan() -> None:
    live = live_designs()
    assert set(live) == {
        "3+3", "boin", "keyboard", "mtpi2", "i3+3", "tite-boin", "crm", "tite-crm", "ewoc",
    }  # fmt: skip
    for name, cls in DESIGNS.items():
        assert is_live(cls) == hasattr(cls, "for_escalation")
        assert (name in live) == is_live(cls)
    # BOIN12 needs efficacy outcomes and BOIN-comb a grid of combinations: no DLT-only decision.
    with pytest.raises(ValidationError, match=r"gives no live decision.*choose one of 3\+3"):
        get_live_design("boin12")


def _settings(name: str, **kw: object) -> EscalationSettings:
    params: dict[str, object] = {}
    if name in ("crm", "tite-crm"):
        params["skeleton"] = [0.05, 0.12, 0.25, 0.4]
    if name in ("tite-boin", "tite-crm"):
        params["dlt_window_days"] = 28
    fields: dict[str, object] = {"target": 0.3, **kw}
    return EscalationSettings(
        n_doses=4, dose_amounts=(10.0, 20.0, 40.0, 80.0), params=params, **fields
    )


@pytest.mark.parametrize("name", sorted(live_designs()))
def test_every_live_design_decides_for_a_cohort(name: str) -> None:
    design = design_for_escalation(name, _settings(name))
    empty = design.decide([DoseData(0, 0)] * 4, 0)
    assert empty.action is Action.STAY
    assert empty.next_dose == 0
    dec = design.decide([DoseData(3, 0), DoseData(0, 0), DoseData(0, 0), DoseData(0, 0)], 0)
    assert dec.action in (Action.ESCALATE, Action.STAY)
    toxic = design.decide([DoseData(3, 0), DoseData(3, 3), DoseData(0, 0), DoseData(0, 0)], 1)
    assert toxic.action in (Action.DE_ESCALATE, Action.ELIMINATE, Action.STAY, Action.STOP)
    assert toxic.next_dose is None or toxic.next_dose <= 1


@pytest.mark.parametrize("name", sorted(set(live_designs()) - {"3+3"}))
def test_designs_with_a_target_need_one(name: str) -> None:
    with pytest.raises(ValidationError, match=r"target DLT rate .* must lie in \(0, 1\); got None"):
        design_for_escalation(name, _settings(name, target=None))


def test_parameter_errors_name_the_parameter() -> None:
    with pytest.raises(ValidationError, match=r"crm needs parameters\.skeleton") as exc:
        design_for_escalation("crm", EscalationSettings(n_doses=4, target=0.3))
    assert exc.value.extra["field"] == "parameters.skeleton"
    with pytest.raises(ValidationError, match="gives 3 values but the cohort has 4 dose levels"):
        design_for_escalation(
            "crm", EscalationSettings(n_doses=4, target=0.3, params={"skeleton": [0.1, 0.2, 0.3]})
        )
    with pytest.raises(ValidationError, match="boin has no parameter 'skeleton'; its parameters"):
        design_for_escalation(
            "boin", EscalationSettings(n_doses=4, target=0.3, params={"skeleton": [0.1]})
        )
    with pytest.raises(ValidationError, match=r"parameters\.extrasafe must be true or false"):
        design_for_escalation(
            "boin", EscalationSettings(n_doses=4, target=0.3, params={"extrasafe": "yes"})
        )
    with pytest.raises(ValidationError, match="ewoc needs the dose amounts"):
        design_for_escalation("ewoc", EscalationSettings(n_doses=4, target=0.3))


def test_plan_settings_reach_the_constructor() -> None:
    boin = design_for_escalation(
        "boin",
        EscalationSettings(
            n_doses=4, target=0.25, cohort_size=2, max_sample_size=30, params={"p_saf": 0.1}
        ),
    )
    assert boin.get_params()["target"] == 0.25
    assert boin.get_params()["cohort_size"] == 2
    assert boin.get_params()["n_cohorts"] == 15
    assert boin.get_params()["p_saf"] == 0.1
    crm = design_for_escalation("crm", _settings("crm"))
    assert crm.get_params()["max_n"] == 36
    assert crm.get_params()["skeleton"] == (0.05, 0.12, 0.25, 0.4)
