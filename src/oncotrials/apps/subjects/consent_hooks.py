"""Apps above ``subjects`` that must act when a patient withdraws a consent tier.

The biobank puts specimens pending disposal, flags open shipments and genomic data when a
translational tier (an optional consent of the ICF, e.g. ``genetic_analysis``) is withdrawn. It
sits above ``subjects``, so it registers a listener here from its ``AppConfig.ready``; the
listener runs inside the withdrawal's transaction, so a failure rolls the withdrawal back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

# listener(consent, tiers withdrawn, on, by)
TierListener = Callable[[Any, tuple[str, ...], dt.date, Any], None]

LISTENERS: list[TierListener] = []


def register_tier_withdrawal_listener(listener: TierListener) -> None:
    """Add a listener (idempotent)."""
    if listener not in LISTENERS:
        LISTENERS.append(listener)


def tiers_withdrawn(consent: Any, tiers: tuple[str, ...], on: dt.date, by: Any) -> None:
    for listener in LISTENERS:
        listener(consent, tiers, on, by)
