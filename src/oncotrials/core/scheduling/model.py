"""The scheduling instance: a week of chair visits and ward stays, and the unit's resources.

Time is counted in slots (5 minutes in the reference week); a *global* slot is
``day * slots_per_day + slot_of_day`` and day 0 is Monday. The semantics are those of the
ONC-WEEK benchmark (``docs/formats/schedule-instance.md``); this module holds the typed form that
the first-fit and the CP-SAT model share. The validator (``validator.py``) does not use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: ``{visit_id: (day, start_slot, pharmacy_prep_start_or_-1)}``; a missing id is unscheduled.
#: ``start_slot`` and the pharmacy start are global slots.
Solution = dict[str, tuple[int, int, int]]

Unit = Literal["chair", "bed"]

#: Quarter-nurse units: one nurse on duty gives 4; a chair visit takes 1 (1:4 monitoring),
#: +3 during its set-up and +3 for one slot at each sample.
NURSE_UNITS = 4
MONITOR_UNITS = 1
TASK_UNITS = 3

#: Objective weights (fixture README): 1000 x weight per unscheduled request, 20 per day away
#: from the target day, plus each day's chair makespan in slots.
UNSCHEDULED_COST = 1000
DAY_SHIFT_COST = 20


@dataclass(frozen=True, slots=True)
class Visit:
    """One request: a chair visit on one day, or a ward stay admitted on one day."""

    id: str
    unit: Unit
    kind: str
    days: tuple[int, ...]
    target_day: int
    dur: int
    pre: int
    prep: int
    setup: int
    samples: tuple[int, ...]
    weight: int
    dose_at: int = 0
    #: Optional slot-of-day bounds: a chair visit starts at or after ``window[0]`` and ends by
    #: ``window[1]``; a ward stay is admitted within ``[window[0], window[1]]``.
    window: tuple[int, int] | None = None
    #: A booking the unit has confirmed: rescheduling never moves it without a reason.
    confirmed: bool = False
    pk: bool = False

    @property
    def fixed_day(self) -> bool:
        return len(self.days) == 1

    @property
    def locked(self) -> bool:
        """Kept in place by rescheduling: confirmed, or a PK visit on a fixed day."""
        return self.confirmed or (self.pk and self.fixed_day)


@dataclass(frozen=True, slots=True)
class Instance:
    """A validated instance (build it with :func:`oncotrials.core.scheduling.load_instance`)."""

    name: str
    slot_minutes: int
    days: int
    chairs: int
    beds: int
    chair_open: int
    chair_close: int
    pharmacy_open: int
    pharmacy_close: int
    pharmacy_capacity: int
    nurse_profile: tuple[tuple[int, int, int], ...]
    ward_sampling_capacity: tuple[tuple[int, int, int], ...]
    bed_admit_window: tuple[int, int]
    bed_from: int
    bed_to: int
    visits: tuple[Visit, ...]
    #: The validated JSON document (the validator reads this, not the typed fields).
    data: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    @property
    def slots_per_day(self) -> int:
        return 1440 // self.slot_minutes

    @property
    def horizon(self) -> int:
        return max(self.days * self.slots_per_day, self.bed_to)

    def visit(self, visit_id: str) -> Visit:
        for v in self.visits:
            if v.id == visit_id:
                return v
        raise KeyError(visit_id)

    # --- bounds shared by the first-fit and the CP-SAT model ----------------------------------

    def start_range(self, v: Visit, day: int) -> tuple[int, int]:
        """Earliest and latest global start of ``v`` on ``day`` (empty when lo > hi)."""
        base = day * self.slots_per_day
        if v.unit == "chair":
            lo = base + self.chair_open + v.pre + v.prep
            hi = base + self.chair_close - v.dur
            if v.window is not None:
                lo = max(lo, base + v.window[0])
                hi = min(hi, base + v.window[1] - v.dur)
            return lo, hi
        lo = max(base + self.bed_admit_window[0], self.bed_from)
        hi = min(base + self.bed_admit_window[1], self.bed_to - v.dur)
        if v.window is not None:
            lo = max(lo, base + v.window[0])
            hi = min(hi, base + v.window[1])
        return lo, hi

    def ready_offset(self, v: Visit) -> int:
        """Slots from the start to the moment the preparation must be ready (dose)."""
        return v.dose_at if v.unit == "bed" else 0

    def prep_range(self, v: Visit, day: int) -> tuple[int, int]:
        """Earliest pharmacy start on ``day`` and the pharmacy closing slot (global)."""
        base = day * self.slots_per_day
        return base + self.pharmacy_open + v.pre, base + self.pharmacy_close

    def nurse_capacity(self) -> list[int]:
        """Quarter-nurse capacity for each slot of a day."""
        cap = [0] * self.slots_per_day
        for start, end, nurses in self.nurse_profile:
            for t in range(start, min(end, self.slots_per_day)):
                cap[t] = NURSE_UNITS * nurses
        return cap

    def ward_capacity(self) -> list[int]:
        """Ward sampling capacity for each global slot of the horizon (days may run overnight)."""
        spd = self.slots_per_day
        cap = [0] * (self.horizon + spd)
        for day in range(self.days):
            for start, end, c in self.ward_sampling_capacity:
                for t in range(day * spd + start, day * spd + end):
                    cap[t] = c
        return cap[: self.horizon]


@dataclass(frozen=True, slots=True)
class SolveResult:
    """What :func:`solve` and :func:`reschedule` return."""

    solution: Solution
    objective: int
    unscheduled: tuple[str, ...]
    #: Lower bound proved by CP-SAT on the full model (``None`` when no bound was proved).
    lower_bound: float | None
    #: ``OPTIMAL``, ``FEASIBLE`` (time limit reached), ``FIRST_FIT`` (no CP-SAT improvement).
    status: str
    wall_seconds: float
    cpu_seconds: float
    first_fit_objective: int
    #: Best objective over time: ``(seconds, objective)`` for every improvement.
    trace: tuple[tuple[float, int], ...] = ()
    #: Rescheduling only: bookings of the previous plan whose day or start changed or that were
    #: dropped, and the reasons given for moving locked bookings.
    moved: tuple[str, ...] = ()
    reasons: Mapping[str, str] = field(default_factory=dict)

    @property
    def gap(self) -> float | None:
        """Relative gap ``(objective - bound) / objective`` (0 when optimal)."""
        if self.lower_bound is None or self.objective <= 0:
            return None
        return max(0.0, (self.objective - self.lower_bound) / self.objective)

    def solution_document(self) -> dict[str, list[int]]:
        """The solution as JSON: ``{id: [day, start, prep_start_or_-1]}``, ids sorted."""
        return {k: list(self.solution[k]) for k in sorted(self.solution)}
