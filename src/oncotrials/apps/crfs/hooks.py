"""Who hears that a clinical record of the crfs app changed.

The crfs services announce every lab value and drug administration they record or correct;
apps above crfs that must react (the safety DLT review re-evaluates when a value in the DLT
window changes) register a listener once from their ``AppConfig.ready`` (safety's ``wiring.py``:
``register_record_listener(dlt_reevaluate_after_record)``), so that crfs never imports them. Listeners run synchronously, in the order they were
registered, inside the transaction of the service that changed the record: a listener that
raises rolls the change back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from oncotrials.apps.accounts.models import User


@dataclass(frozen=True)
class RecordChange:
    """One recorded or corrected crfs record (a ``LabResult`` or a ``DrugAdministration``).

    ``on``: the record's date (sampled or administered) after the change; ``before``: its date
    before a correction (None for a new record); ``delayed``: the administration is (or was) a
    delay, whose planned date decides."""

    record: models.Model
    registration: Any
    on: dt.date
    by: User
    before: dt.date | None = None
    delayed: bool = False


RecordListener = Callable[[RecordChange], None]

_LISTENERS: list[RecordListener] = []


def register_record_listener(listener: RecordListener) -> None:
    """Call ``listener(change)`` after each record change (registering twice has no effect)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def record_listeners() -> tuple[RecordListener, ...]:
    return tuple(_LISTENERS)


def notify_record_changed(
    record: models.Model,
    *,
    on: dt.date,
    by: User,
    before: dt.date | None = None,
    delayed: bool = False,
) -> None:
    """Tell every listener that ``record`` was saved (in the caller's transaction)."""
    change = RecordChange(
        record=record,
        registration=record.registration,  # type: ignore[attr-defined]
        on=on,
        by=by,
        before=before,
        delayed=delayed,
    )
    for listener in tuple(_LISTENERS):
        listener(change)
