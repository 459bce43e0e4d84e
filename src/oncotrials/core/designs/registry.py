"""One registry of the dose-finding designs, keyed on each design class's ``name``.

The CLI, the live escalation of a trial cohort and the conformance tests all look designs up
here. A design is *live* when it can run a single-agent cohort's escalation from the DLT data
so far: it builds itself from an escalation plan (``for_escalation``) and ``decide``\\ s on
per-dose :class:`~oncotrials.core.designs.base.DoseData`.

>>> get_design("BOIN").name
'boin'
>>> "crm" in live_designs()
True
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

from oncotrials.core.designs.base import Decision, DoseData, EscalationSettings, Param
from oncotrials.core.designs.boin import BOIN
from oncotrials.core.designs.boin12 import BOIN12
from oncotrials.core.designs.boin_comb import BOINComb
from oncotrials.core.designs.crm import CRM
from oncotrials.core.designs.ewoc import EWOC
from oncotrials.core.designs.i3plus3 import I3Plus3
from oncotrials.core.designs.keyboard import MTPI2, Keyboard
from oncotrials.core.designs.threeplusthree import ThreePlusThree
from oncotrials.core.designs.tite_boin import TITEBOIN
from oncotrials.core.designs.tite_crm import TITECRM
from oncotrials.core.errors import ValidationError


@runtime_checkable
class LiveDesign(Protocol):
    """A design that runs a cohort's escalation: built from the plan, decides from DLT data."""

    name: ClassVar[str]
    label: ClassVar[str]
    escalation_params: ClassVar[Mapping[str, Param]]

    @classmethod
    def for_escalation(cls, settings: EscalationSettings) -> LiveDesign: ...

    def decide(self, data: Sequence[DoseData], current: int) -> Decision: ...


#: Every design class; the registry keys them on their own ``name``.
DESIGN_CLASSES: tuple[type, ...] = (
    ThreePlusThree,
    BOIN,
    Keyboard,
    MTPI2,
    I3Plus3,
    TITEBOIN,
    CRM,
    TITECRM,
    EWOC,
    BOIN12,
    BOINComb,
)


def _build(classes: Sequence[type]) -> Mapping[str, type]:
    out: dict[str, type] = {}
    for cls in classes:
        name = cls.name  # type: ignore[attr-defined]
        if name in out:
            raise RuntimeError(f"Designs {out[name].__name__} and {cls.__name__} share {name!r}.")
        out[name] = cls
    return MappingProxyType(out)


DESIGNS: Mapping[str, type] = _build(DESIGN_CLASSES)

_LOOKUP: Mapping[str, str] = MappingProxyType(
    {
        key.lower(): name
        for name, cls in DESIGNS.items()
        for key in (name, cls.__name__, *getattr(cls, "aliases", ()))
    }
)


def is_live(cls: type) -> bool:
    """True if the class can run a cohort's escalation (implements ``for_escalation``)."""
    return (
        inspect.ismethod(getattr(cls, "for_escalation", None))
        and callable(getattr(cls, "decide", None))
        and not inspect.isabstract(cls)
    )


def design_names(*, live: bool = False) -> tuple[str, ...]:
    """The registered design names (only the live ones with ``live=True``), in registry order."""
    return tuple(name for name, cls in DESIGNS.items() if not live or is_live(cls))


def live_designs() -> Mapping[str, type[LiveDesign]]:
    """The designs selectable for a cohort's escalation plan, by name."""
    return MappingProxyType({n: DESIGNS[n] for n in design_names(live=True)})


def resolve_name(name: str) -> str:
    """The registry name for ``name`` or one of its aliases (case-insensitive)."""
    key = str(name).strip().lower()
    if key not in _LOOKUP:
        raise ValidationError(
            f"Unknown design {name!r}; choose one of {', '.join(DESIGNS)}.",
            field="design",
            code="design_unknown",
            name=repr(name),
            choices=", ".join(DESIGNS),
        )
    return _LOOKUP[key]


def get_design(name: str) -> type:
    """The design class registered under ``name`` (or an alias); an error lists the names."""
    return DESIGNS[resolve_name(name)]


def get_live_design(name: str) -> type[LiveDesign]:
    """The live design under ``name``; an error lists the designs that give live decisions."""
    cls = get_design(name)
    if not is_live(cls):
        named: Any = cls
        raise ValidationError(
            f"Design {named.name!r} gives no live decision for a single-agent cohort from its DLT "
            f"data; choose one of {', '.join(design_names(live=True))}.",
            field="design",
            code="design_not_live",
            name=repr(named.name),
            choices=", ".join(design_names(live=True)),
        )
    return cls


def design_for_escalation(name: str, settings: EscalationSettings) -> LiveDesign:
    """Build the live design ``name`` from a cohort's escalation settings."""
    return get_live_design(name).for_escalation(settings)


def escalation_params(name: str) -> Mapping[str, Param]:
    """The design-specific parameters a cohort's escalation plan may give for ``name``."""
    return get_live_design(name).escalation_params


def uses_follow_up(name: str) -> bool:
    """True for time-to-event designs: pending patients count, weighted by their follow-up."""
    return bool(getattr(get_design(name), "uses_follow_up", False))


def design_label(name: str) -> str:
    cls: Any = get_design(name)
    return str(getattr(cls, "label", cls.name))


__all__ = [
    "DESIGNS",
    "DESIGN_CLASSES",
    "LiveDesign",
    "design_for_escalation",
    "design_label",
    "design_names",
    "escalation_params",
    "get_design",
    "get_live_design",
    "is_live",
    "live_designs",
    "resolve_name",
    "uses_follow_up",
]
