"""Typed declaration of a trial's visit schedule.

Days are counted from a reference date (registration, or C1D1) which is day 0. Cycle visits
are numbered the oncology way: ``C2D8`` is day 8 of cycle 2, and day 1 of cycle 1 falls
``start_offset_days`` after the reference (0 when the reference is C1D1).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Reference(str, enum.Enum):
    """The date every offset counts from."""

    C1D1 = "C1D1"
    REGISTRATION = "registration"


class VisitKind(str, enum.Enum):
    VISIT = "visit"
    CYCLE = "cycle"
    IMAGING = "imaging"
    END_OF_TREATMENT = "end_of_treatment"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True, slots=True)
class Window:
    """Days allowed before and after the target date (both ≥ 0; 0/0 is the target day only)."""

    before: int = 0
    after: int = 0


@dataclass(frozen=True, slots=True)
class Procedure:
    """Something done at a visit: ``pk`` (with its timepoints), ``biopsy``, ``imaging``..."""

    type: str
    name: str = ""
    timepoints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class VisitSpec:
    """A visit that happens once, ``offset_days`` after the reference date (screening...)."""

    code: str
    offset_days: int
    window: Window = Window()
    name: str = ""
    forms: tuple[str, ...] = ()
    procedures: tuple[Procedure, ...] = ()


@dataclass(frozen=True, slots=True)
class CycleDay:
    """A visit on ``day`` of each cycle (or of the cycles in ``only_cycles``).

    ``first_cycle_window`` overrides ``window`` in cycle 1 (the DLT period is usually tighter).
    """

    day: int
    window: Window = Window()
    first_cycle_window: Window | None = None
    only_cycles: tuple[int, ...] | None = None
    name: str = ""
    forms: tuple[str, ...] = ()
    procedures: tuple[Procedure, ...] = ()

    def in_cycle(self, cycle: int) -> bool:
        return self.only_cycles is None or cycle in self.only_cycles

    def window_in(self, cycle: int) -> Window:
        return self.first_cycle_window if cycle == 1 and self.first_cycle_window else self.window

    @property
    def label(self) -> str:
        """``C1D8`` for a day held in one cycle only, ``CnD8`` for a day of every cycle."""
        if self.only_cycles is not None and len(self.only_cycles) == 1:
            return f"C{self.only_cycles[0]}D{self.day}"
        return f"CnD{self.day}"


@dataclass(frozen=True, slots=True)
class CycleSpec:
    """Repeating treatment cycles: ``count`` cycles, or (``count=None``) until end of treatment.

    With ``reanchor`` each cycle's day 1 is due ``length_days`` after the previous cycle's
    actual day 1, and the other days count from the cycle's actual day 1, so a delayed cycle
    shifts the ones after it, as protocols say. ``max_cycles`` bounds an open-ended schedule.
    """

    length_days: int
    days: tuple[CycleDay, ...]
    count: int | None = None
    start_offset_days: int = 0
    reanchor: bool = True
    max_cycles: int = 100

    @property
    def last_cycle(self) -> int:
        return self.count if self.count is not None else self.max_cycles


@dataclass(frozen=True, slots=True)
class ImagingSpec:
    """Tumour assessments every ``every_weeks`` weeks from C1D1: codes ``IMG1``, ``IMG2``..."""

    every_weeks: int
    window: Window = Window()
    code: str = "IMG"
    count: int | None = None
    forms: tuple[str, ...] = ()
    procedures: tuple[Procedure, ...] = ()


@dataclass(frozen=True, slots=True)
class EndOfTreatmentSpec:
    """The end-of-treatment visit, ``offset_days`` after the end-of-treatment date."""

    code: str = "EOT"
    offset_days: int = 0
    window: Window = Window()
    forms: tuple[str, ...] = ()
    procedures: tuple[Procedure, ...] = ()


@dataclass(frozen=True, slots=True)
class FollowUpSpec:
    """Follow-up every ``every_months`` calendar months after end of treatment: ``FU1``..."""

    every_months: int
    window: Window = Window()
    code: str = "FU"
    count: int | None = None
    forms: tuple[str, ...] = ()
    procedures: tuple[Procedure, ...] = ()


@dataclass(frozen=True, slots=True)
class VisitSchedule:
    """A trial's whole schedule."""

    trial: str
    reference: Reference = Reference.C1D1
    version: str = ""
    visits: tuple[VisitSpec, ...] = ()
    cycles: CycleSpec | None = None
    imaging: ImagingSpec | None = None
    end_of_treatment: EndOfTreatmentSpec | None = None
    follow_up: FollowUpSpec | None = None
