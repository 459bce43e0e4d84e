"""The export formats: one place that maps a format's name to how its data is selected and
written. The web page, the API and the CLI all read it; a new format registers here (from
``formats.py``) and appears in all three.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext

from oncotrials.apps.subjects.models import Registration
from oncotrials.core.errors import ValidationError


@dataclass(frozen=True)
class ExportFormat:
    """``collect(trial, sites)`` returns the format's plain data as canonical JSON text;
    ``write(text, created)`` returns its files (name -> bytes), the same bytes for the same
    text and time."""

    name: str
    label: str
    description: str
    collect: Callable[[Any, Sequence[Any]], str]
    write: Callable[[str, dt.datetime], dict[str, bytes]]
    subjects: Callable[[str], int] = lambda _text: 0


_FORMATS: dict[str, ExportFormat] = {}


def format_register(fmt: ExportFormat) -> None:
    _FORMATS[fmt.name] = fmt


def format_get(name: str) -> ExportFormat:
    try:
        return _FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(_FORMATS)) or "none"
        raise ValidationError(
            gettext("Unknown export format %(name)s; known: %(known)s.")
            % {"name": repr(name), "known": known}
        ) from None


def formats_all() -> list[ExportFormat]:
    return [_FORMATS[k] for k in sorted(_FORMATS)]


def cut_registrations(trial: Any, sites: Sequence[Any]) -> Any:
    """The registrations a cut of ``trial`` at ``sites`` exports, in the order every format
    writes them (by research identifier): the one answer to "whose data leave in this cut"."""
    return (
        Registration.objects.filter(trial=trial, patient__site__in=list(sites))
        .select_related("patient__site", "cohort", "dose_level")
        .order_by("patient__research_id", "pk")
    )
