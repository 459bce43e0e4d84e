"""The date of each registration's disease progression, as the app that assesses response knows it.

``tumours`` computes RECIST progression and sits above ``subjects``; apps that need the date
(the biobank's "at progression" timepoints) read it here, without importing ``tumours``, which
registers its provider from its ``AppConfig.ready``. A provider answers in one query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping

ProgressionProvider = Callable[[Collection[int]], Mapping[int, dt.date]]

PROVIDERS: list[ProgressionProvider] = []


def register_progression_provider(provider: ProgressionProvider) -> None:
    """Add a provider (idempotent)."""
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def progression_dates(registration_ids: Collection[int]) -> dict[int, dt.date]:
    """Registration id -> earliest progression date any provider knows."""
    out: dict[int, dt.date] = {}
    ids = list(registration_ids)
    if not ids:
        return out
    for provider in PROVIDERS:
        for reg_id, on in provider(ids).items():
            if reg_id not in out or on < out[reg_id]:
                out[reg_id] = on
    return out
