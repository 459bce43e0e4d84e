"""Records that other apps hold as evidence that a visit took place, without importing them.

The calendar (``selectors.registration_calendar``) reconciles a visit with what the higher apps
know: adverse events recorded in a cycle, a tumour assessment dated within an imaging visit's
window, form data entered for a visit. Those apps sit above ``subjects``, so they register a
provider here from their ``AppConfig.ready`` (their ``wiring.py``, e.g. safety's
``register_visit_evidence(_adverse_event_dates, per_cycle=("adverse_events",))``), as they do
with ``crfs.records`` for casebook records.

A provider takes a collection of registration ids and returns, per registration id, the dates
of its evidence by kind, in ONE query whatever the number of registrations::

    {12: {"adverse_events": [date(2026, 11, 14)], "recist": [...]}, ...}

A kind named after a form of the schedule (``adverse_events``, ``recist``) is evidence for the
visits listing that form; ``visit:<code>`` attests the visit of that code. ``per_cycle`` names
the kinds kept per cycle (see ``core.schedule.patient_calendar``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping

EvidenceProvider = Callable[[Collection[int]], Mapping[int, Mapping[str, Iterable[dt.date]]]]

PROVIDERS: list[EvidenceProvider] = []
PER_CYCLE: set[str] = set()


def register_visit_evidence(provider: EvidenceProvider, *, per_cycle: Iterable[str] = ()) -> None:
    """Add a provider (idempotent); ``per_cycle`` kinds are kept per cycle, not per visit."""
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)
    PER_CYCLE.update(per_cycle)


def evidence_for(registration_ids: Collection[int]) -> dict[int, dict[str, list[dt.date]]]:
    """Every provider's evidence for these registrations: one query per provider."""
    out: dict[int, dict[str, list[dt.date]]] = defaultdict(lambda: defaultdict(list))
    ids = list(registration_ids)
    if not ids:
        return {}
    for provider in PROVIDERS:
        for reg_id, kinds in provider(ids).items():
            for kind, dates in kinds.items():
                out[reg_id][kind].extend(dates)
    return {reg_id: dict(kinds) for reg_id, kinds in out.items()}


def group_dates(
    rows: Iterable[tuple[int, str, dt.date | None]],
) -> dict[int, dict[str, list[dt.date]]]:
    """``(registration id, kind, date)`` rows (as from ``values_list``) grouped for a provider."""
    out: dict[int, dict[str, list[dt.date]]] = defaultdict(lambda: defaultdict(list))
    for reg_id, kind, date in rows:
        if date is not None:
            out[reg_id][kind].append(date)
    return {reg_id: dict(kinds) for reg_id, kinds in out.items()}
