"""Rules that a higher app sets on inclusion, asked by the registration service.

Subjects sits below dosing: it cannot ask the escalation which dose the next patient may
receive. Dosing registers a *dose gate* here in ``DosingConfig.ready``; ``registration_create``
and the registration form ask ``dose_gate(cohort)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from oncotrials.apps.trials.models import Cohort


@dataclass(frozen=True)
class DoseGate:
    """The answer to "which dose levels may the next patient of this cohort receive?".

    ``allowed`` holds the primary keys of the dose levels the next patient may receive (several
    when a level has several agents); empty, accrual is closed (stopped, or suspended until a
    decision) and ``reason`` says why. ``forbidden`` holds levels nobody may choose, not even by
    override (e.g. eliminated as overly toxic). ``reason`` names the rule behind the answer.
    """

    allowed: tuple[int, ...]
    reason: str
    forbidden: tuple[int, ...] = ()

    @property
    def closed(self) -> bool:
        return not self.allowed


DoseGateFn = Callable[[Cohort], "DoseGate | None"]

_dose_gates: list[DoseGateFn] = []


def register_dose_gate(fn: DoseGateFn) -> DoseGateFn:
    """Add a gate; it answers ``None`` for a cohort it has no rule for. Idempotent."""
    if fn not in _dose_gates:
        _dose_gates.append(fn)
    return fn


def dose_gate(cohort: Cohort) -> DoseGate | None:
    """The first registered gate's answer for this cohort, or ``None``: any of its levels."""
    for fn in _dose_gates:
        gate = fn(cohort)
        if gate is not None:
            return gate
    return None
