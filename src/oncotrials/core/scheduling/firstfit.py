"""Deterministic first-fit: the baseline plan and the hint of every CP-SAT solve.

The rule is the one the ONC-WEEK fixture README states (its port check is 45,118 with 36
requests unscheduled on ``onc-week-s1.json``):

* requests in the order (−weight, fewest allowed days, −duration, id);
* for each, its days with the target day first, then by distance to it (the earlier day first
  on a tie);
* on a day, the earliest start at which the chair (or bed), the nurses (or the ward sampling
  capacity) and a pharmacy preparation all fit;
* the preparation is placed as late as possible before the start (the dose, for a ward stay).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from oncotrials.core.scheduling.model import (
    MONITOR_UNITS,
    TASK_UNITS,
    Instance,
    Solution,
    Visit,
)


def order_key(v: Visit) -> tuple[int, int, int, str]:
    return (-v.weight, len(v.days), -v.dur, v.id)


def day_order(v: Visit) -> list[int]:
    return sorted(v.days, key=lambda d: (abs(d - v.target_day), d))


def nurse_demand(v: Visit) -> list[int]:
    """Quarter-nurse demand of a chair visit for each slot from its start."""
    demand = [MONITOR_UNITS] * v.dur
    for t in range(min(v.setup, v.dur)):
        demand[t] += TASK_UNITS
    for offset in v.samples:
        demand[offset] += TASK_UNITS
    return demand


class Profiles:
    """Resource usage per global slot, with placement tests (first-fit and rescheduling)."""

    def __init__(self, instance: Instance) -> None:
        self.inst = instance
        n = instance.horizon + instance.slots_per_day
        self.chair = [0] * n
        self.nurse = [0] * n
        self.pharmacy = [0] * n
        self.bed = [0] * n
        self.ward = [0] * n
        day_nurses = instance.nurse_capacity()
        self.nurse_cap = [day_nurses[t % instance.slots_per_day] for t in range(n)]
        ward = instance.ward_capacity()
        self.ward_cap = ward + [0] * (n - len(ward))
        self._demand: dict[str, list[int]] = {}

    def demand(self, v: Visit) -> list[int]:
        found = self._demand.get(v.id)
        if found is None:
            found = self._demand[v.id] = nurse_demand(v)
        return found

    def _prep_start(self, v: Visit, day: int, ready: int) -> int | None:
        """Latest pharmacy start on ``day`` whose preparation is done by ``ready``."""
        if v.prep == 0:
            return -1
        earliest, closing = self.inst.prep_range(v, day)
        cap = self.inst.pharmacy_capacity
        use = self.pharmacy
        p = min(ready, closing) - v.prep
        while p >= earliest:
            end = p + v.prep
            blocked = next((t for t in range(end - 1, p - 1, -1) if use[t] >= cap), None)
            if blocked is None:
                return p
            p = blocked - v.prep  # every start covering ``blocked`` fails too
        return None

    def fits(self, v: Visit, day: int, s: int) -> int | None:
        """The pharmacy start if ``v`` fits on ``day`` at ``s`` (``-1``: no preparation)."""
        inst = self.inst
        if v.unit == "chair":
            chairs = inst.chairs
            use = self.chair
            if any(use[t] >= chairs for t in range(s, s + v.dur)):
                return None
            nurse, cap = self.nurse, self.nurse_cap
            for k, need in enumerate(self.demand(v)):
                if nurse[s + k] + need > cap[s + k]:
                    return None
            return self._prep_start(v, day, s)
        beds = inst.beds
        use = self.bed
        if any(use[t] >= beds for t in range(s, s + v.dur)):
            return None
        ward, wcap = self.ward, self.ward_cap
        if any(ward[s + off] + 1 > wcap[s + off] for off in v.samples):
            return None
        return self._prep_start(v, day, s + v.dose_at)

    def prep_fits(self, v: Visit, day: int, s: int, p: int) -> bool:
        """Whether the preparation ``[p, p + prep)`` is allowed and free for ``v`` at ``s``."""
        if v.prep == 0:
            return p == -1
        earliest, closing = self.inst.prep_range(v, day)
        ready = s + self.inst.ready_offset(v)
        if p < earliest or p + v.prep > min(ready, closing):
            return False
        return all(self.pharmacy[t] < self.inst.pharmacy_capacity for t in range(p, p + v.prep))

    def place(self, v: Visit, s: int, p: int, sign: int = 1) -> None:
        if v.unit == "chair":
            for t in range(s, s + v.dur):
                self.chair[t] += sign
            for k, need in enumerate(self.demand(v)):
                self.nurse[s + k] += sign * need
        else:
            for t in range(s, s + v.dur):
                self.bed[t] += sign
            for off in v.samples:
                self.ward[s + off] += sign
        if p >= 0:
            for t in range(p, p + v.prep):
                self.pharmacy[t] += sign

    def earliest(self, v: Visit, day: int) -> tuple[int, int] | None:
        lo, hi = self.inst.start_range(v, day)
        for s in range(lo, hi + 1):
            p = self.fits(v, day, s)
            if p is not None:
                return s, p
        return None


def first_fit(
    instance: Instance,
    *,
    keep: Mapping[str, tuple[int, int, int]] | None = None,
    only: Iterable[str] | None = None,
) -> Solution:
    """The deterministic first-fit plan of ``instance``.

    ``keep`` places these bookings first, at their day and start (and their preparation when it
    still fits); a booking that no longer fits is planned again like the others; ``only`` restricts the plan to these ids.
    """
    profiles = Profiles(instance)
    solution: Solution = {}
    wanted = None if only is None else set(only)
    visits = [v for v in instance.visits if wanted is None or v.id in wanted]
    for v in sorted(visits, key=order_key):
        booked = (keep or {}).get(v.id)
        if booked is None:
            continue
        day, s, given = booked
        lo, hi = instance.start_range(v, day) if day in v.days else (1, 0)
        if lo <= s <= hi:
            p = profiles.fits(v, day, s)
            if p is not None and profiles.prep_fits(v, day, s, given):
                p = given  # keep the booking's own preparation when it still fits
            if p is not None:
                profiles.place(v, s, p)
                solution[v.id] = (day, s, p)
    for v in sorted(visits, key=order_key):
        if v.id in solution:
            continue
        for day in day_order(v):
            found = profiles.earliest(v, day)
            if found is not None:
                s, p = found
                profiles.place(v, s, p)
                solution[v.id] = (day, s, p)
                break
    return solution
