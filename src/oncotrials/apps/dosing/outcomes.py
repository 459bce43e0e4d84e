"""Where the escalation reads each patient's DLT outcome: from the DLT review, never from dosing.

The DLT review (apps/safety: the DLT cases, their signed adjudication and the per-patient DLT
decision) is the one record of DLTs. Safety sits above dosing, so dosing cannot ask it directly:
safety registers its per-patient decision here once (``safety/wiring.py``,
``register_dlt_status_provider(dlt_statuses_for)``, from ``SafetyConfig.ready``), and the escalation state, its plot and every page that counts DLTs read it through
``dlt_statuses``. Without a provider (dosing alone) every patient is pending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .models import DltOutcome


@dataclass(frozen=True)
class DltStatus:
    """One patient's DLT state: the outcome, the DLT window (day ``day`` of ``window_days``, or
    None when the window is unknown) and why (the reason a patient is not evaluable)."""

    outcome: str  # a DltOutcome value
    reason: str
    window_opened: dt.date
    day: int | None = None
    window_days: int | None = None
    window_source: str = ""

    @property
    def evaluable(self) -> bool | None:
        """True for DLT or no DLT, False when not evaluable, None while still pending."""
        if self.outcome == DltOutcome.PENDING:
            return None
        return self.outcome != DltOutcome.NOT_EVALUABLE


DltStatusProvider = Callable[[Sequence[Any]], Mapping[int, DltStatus]]

_PROVIDERS: list[DltStatusProvider] = []


def register_dlt_status_provider(provider: DltStatusProvider) -> None:
    """Read every patient's DLT state from ``provider(registrations) -> {registration id: status}``
    (the last one registered wins; registering twice has no effect)."""
    if provider in _PROVIDERS:
        return
    _PROVIDERS.append(provider)


def _pending(registration: Any) -> DltStatus:
    return DltStatus(
        outcome=DltOutcome.PENDING,
        reason="no DLT review is installed",
        window_opened=registration.treatment_start or registration.registered_on,
    )


def dlt_statuses(registrations: Sequence[Any]) -> dict[int, DltStatus]:
    """The DLT state of each registration, by id, as the DLT review decides it."""
    found: Mapping[int, DltStatus] = _PROVIDERS[-1](registrations) if _PROVIDERS else {}
    return {r.pk: found.get(r.pk) or _pending(r) for r in registrations}
