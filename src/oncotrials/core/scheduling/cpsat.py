"""CP-SAT model of the week: time-indexed on slots, optional intervals and cumulatives.

For each request ``v`` and each allowed day ``d`` there is a presence literal ``b[v,d]``
(at most one per request), a start ``s[v,d]`` and, with a preparation, a pharmacy start
``p[v,d]`` with ``p + prep <= ready``. The intervals feed:

* per day: the chair cumulative (capacity ``chairs``), the nurse cumulative in quarter-nurse units
  (chair interval 1, set-up interval 3, one slot per sample 3; the staffing profile is the maximum
  minus fixed blocking intervals) and the pharmacy cumulative (isolators);
* over the horizon: the bed cumulative and the ward sampling cumulative (2 by day, 1 by night,
  again as a maximum minus blocking intervals).

The objective is the fixture's: ``1000 w (1 - x_v) + 20 |d - target| b[v,d]`` plus each day's
chair makespan. Reference: the CP-SAT sketch of the operations notes §1.3 (verified on the same
week), itself after the time-indexed models of Hahn-Goldberg et al. (J Appl Oper Res 2014).
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from oncotrials.core.scheduling.model import (
    DAY_SHIFT_COST,
    MONITOR_UNITS,
    TASK_UNITS,
    UNSCHEDULED_COST,
    Instance,
    Solution,
    Visit,
)

SEED = 20260107

Progress = Callable[[float, int, float], None]


@dataclass
class _Option:
    v: Visit
    day: int
    b: Any
    s: Any
    p: Any | None
    s_lo: int = 0
    p_lo: int = 0


@dataclass
class WeekModel:
    """The CP-SAT model of (a subset of) an instance."""

    instance: Instance
    visits: list[Visit]
    model: Any = field(default_factory=cp_model.CpModel)
    options: dict[str, list[_Option]] = field(default_factory=dict)
    makespan: dict[int, Any] = field(default_factory=dict)
    constant: int = 0
    moved: dict[str, Any] = field(default_factory=dict)
    #: Groups of interchangeable requests (same fields but the id), in id order.
    groups: list[list[str]] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        instance: Instance,
        visits: Iterable[Visit],
        *,
        pharmacy_blocks: Iterable[tuple[int, int]] = (),
        locked: Mapping[str, tuple[int, int]] | None = None,
        previous: Mapping[str, tuple[int, int]] | None = None,
        move_penalty: int = 0,
        only_days: Iterable[int] | None = None,
    ) -> WeekModel:
        """Build the model; ``pharmacy_blocks`` are fixed ``(start, length)`` preparations of
        requests planned elsewhere; ``locked`` fixes ``{id: (day, start)}``; ``previous`` with
        ``move_penalty`` charges each booking that leaves its ``(day, start)``; ``only_days``
        keeps only the options on those days (the sub-problems of the large neighbourhood
        search)."""
        self = cls(instance, sorted(visits, key=lambda v: v.id))
        kept_days = None if only_days is None else set(only_days)
        m = self.model
        spd = instance.slots_per_day
        chair_ivs: dict[int, list[Any]] = {d: [] for d in range(instance.days)}
        nurse_ivs: dict[int, list[tuple[Any, int]]] = {d: [] for d in range(instance.days)}
        pharm_ivs: list[Any] = []
        bed_ivs: list[Any] = []
        ward_ivs: list[Any] = []
        terms: list[Any] = []
        for v in self.visits:
            opts: list[_Option] = []
            for day in v.days:
                if kept_days is not None and day not in kept_days:
                    continue
                lo, hi = instance.start_range(v, day)
                if v.prep:
                    p_lo, closing = instance.prep_range(v, day)
                    ready_hi = hi + instance.ready_offset(v)
                    p_hi = min(ready_hi, closing) - v.prep
                    if p_hi < p_lo:
                        continue
                    # the start must leave room for the preparation
                    lo = max(lo, p_lo + v.prep - instance.ready_offset(v))
                if locked is not None and v.id in locked:
                    ld, ls = locked[v.id]
                    if ld != day:
                        continue
                    lo = hi = ls
                if lo > hi:
                    continue
                tag = f"{v.id}@{day}"
                b = m.NewBoolVar(f"b[{tag}]")
                s = m.NewIntVar(lo, hi, f"s[{tag}]")
                m.Add(s == lo).OnlyEnforceIf(b.Not())
                p = None
                if v.prep:
                    p = m.NewIntVar(p_lo, p_hi, f"p[{tag}]")
                    m.Add(p + v.prep <= s + instance.ready_offset(v)).OnlyEnforceIf(b)
                    m.Add(p == p_lo).OnlyEnforceIf(b.Not())
                    pharm_ivs.append(m.NewOptionalFixedSizeIntervalVar(p, v.prep, b, f"ph[{tag}]"))
                if v.unit == "chair":
                    iv = m.NewOptionalFixedSizeIntervalVar(s, v.dur, b, f"ch[{tag}]")
                    chair_ivs[day].append(iv)
                    nurse_ivs[day].append((iv, MONITOR_UNITS))
                    if v.setup:
                        setup = m.NewOptionalFixedSizeIntervalVar(
                            s, min(v.setup, v.dur), b, f"su[{tag}]"
                        )
                        nurse_ivs[day].append((setup, TASK_UNITS))
                    for k, off in enumerate(v.samples):
                        pk = m.NewOptionalFixedSizeIntervalVar(s + off, 1, b, f"pk{k}[{tag}]")
                        nurse_ivs[day].append((pk, TASK_UNITS))
                else:
                    bed_ivs.append(m.NewOptionalFixedSizeIntervalVar(s, v.dur, b, f"bd[{tag}]"))
                    for k, off in enumerate(v.samples):
                        ward_ivs.append(
                            m.NewOptionalFixedSizeIntervalVar(s + off, 1, b, f"wd{k}[{tag}]")
                        )
                shift = DAY_SHIFT_COST * abs(day - v.target_day)
                if shift:
                    terms.append(shift * b)
                opts.append(_Option(v, day, b, s, p, lo, p_lo if v.prep else 0))
            self.options[v.id] = opts
            presence = [o.b for o in opts]
            cost = UNSCHEDULED_COST * v.weight
            self.constant += cost
            if presence:
                m.AddAtMostOne(presence)
                if locked is not None and v.id in locked:
                    m.AddExactlyOne(presence)
                terms.extend(-cost * b for b in presence)
            if previous is not None and move_penalty and v.id in previous:
                pd, ps = previous[v.id]
                stay = [o for o in opts if o.day == pd]
                moved = m.NewBoolVar(f"moved[{v.id}]")
                if stay:
                    same = m.NewBoolVar(f"same[{v.id}]")
                    m.AddImplication(same, stay[0].b)
                    m.Add(stay[0].s == ps).OnlyEnforceIf(same)
                    m.Add(moved == 1 - same)
                else:
                    m.Add(moved == 1)
                self.moved[v.id] = moved
                terms.append(move_penalty * moved)
        # chairs and nurses, per day
        day_nurses = instance.nurse_capacity()
        full = max(day_nurses[instance.chair_open : instance.chair_close], default=0)
        for day in range(instance.days):
            base = day * spd
            if chair_ivs[day]:
                m.AddCumulative(chair_ivs[day], [1] * len(chair_ivs[day]), instance.chairs)
                blocks = [
                    (base + a, length, full - cap)
                    for a, length, cap in _runs(
                        day_nurses, instance.chair_open, instance.chair_close
                    )
                    if cap < full
                ]
                ivs = [iv for iv, _ in nurse_ivs[day]]
                demands = [dem for _, dem in nurse_ivs[day]]
                for a, length, dem in blocks:
                    ivs.append(m.NewFixedSizeIntervalVar(a, length, f"nb[{a}]"))
                    demands.append(dem)
                m.AddCumulative(ivs, demands, full)
                ends = [
                    (o.s, o.b, o.v.dur)
                    for opts in self.options.values()
                    for o in opts
                    if o.day == day and o.v.unit == "chair"
                ]
                mk = m.NewIntVar(0, instance.chair_close - instance.chair_open, f"mk[{day}]")
                for s, b, dur in ends:
                    m.Add(mk >= s + dur - base - instance.chair_open).OnlyEnforceIf(b)
                self.makespan[day] = mk
                terms.append(mk)
        # pharmacy: one cumulative over the horizon (its slots never cross days)
        for start, length in pharmacy_blocks:
            pharm_ivs.append(m.NewFixedSizeIntervalVar(start, length, f"pb[{start}]"))
        if pharm_ivs:
            m.AddCumulative(pharm_ivs, [1] * len(pharm_ivs), instance.pharmacy_capacity)
        if bed_ivs:
            m.AddCumulative(bed_ivs, [1] * len(bed_ivs), instance.beds)
        if ward_ivs:
            ward = instance.ward_capacity()
            top = max(ward, default=0)
            demands = [1] * len(ward_ivs)
            for a, length, cap in _runs(ward, 0, len(ward)):
                if cap < top:  # the profile is the maximum minus fixed blocking intervals
                    ward_ivs.append(m.NewFixedSizeIntervalVar(a, length, f"wb[{a}]"))
                    demands.append(top - cap)
            m.AddCumulative(ward_ivs, demands, top)
        if locked is None and previous is None:
            self._break_symmetry()
        m.Minimize(sum(terms) + self.constant)
        return self

    def _break_symmetry(self) -> None:
        """Interchangeable requests (same fields but the id) are planned in id order: the
        earlier is planned whenever the later is, and on a single allowed day starts no later.
        Any plan maps onto one that obeys this by swapping identical requests, so no plan
        value is lost; :meth:`hint` applies the same swap to the hint."""
        m = self.model
        by_signature: dict[tuple[Any, ...], list[str]] = {}
        for v in self.visits:
            by_signature.setdefault(_signature(v), []).append(v.id)
        self.groups = [ids for ids in by_signature.values() if len(ids) > 1]
        for ids in self.groups:
            for a, b in itertools.pairwise(ids):
                first, second = self.options[a], self.options[b]
                m.Add(sum(o.b for o in first) >= sum(o.b for o in second))
                if len(first) == 1 and len(second) == 1 and first[0].day == second[0].day:
                    m.Add(first[0].s <= second[0].s).OnlyEnforceIf(second[0].b)

    def canonical(self, solution: Mapping[str, tuple[int, int, int]]) -> Solution:
        """``solution`` with the bookings of interchangeable requests given out in id order."""
        out: Solution = dict(solution)
        for ids in self.groups:
            bookings = sorted(solution[k] for k in ids if k in solution)
            for k in ids:
                out.pop(k, None)
            for k, booking in zip(ids, bookings, strict=False):
                out[k] = booking
        return out

    def hint(self, solution: Mapping[str, tuple[int, int, int]]) -> None:
        """Hint every variable with a (partial) solution; absent options at their lower bound."""
        m = self.model
        m.ClearHints()
        solution = self.canonical(solution)
        spd = self.instance.slots_per_day
        last: dict[int, int] = {}
        for vid, opts in self.options.items():
            booked = solution.get(vid)
            for o in opts:
                on = booked is not None and booked[0] == o.day
                m.AddHint(o.b, on)
                m.AddHint(o.s, booked[1] if on and booked is not None else o.s_lo)
                if o.p is not None:
                    p_on = booked is not None and on and booked[2] >= 0
                    m.AddHint(o.p, booked[2] if p_on and booked is not None else o.p_lo)
                if on and booked is not None and o.v.unit == "chair":
                    end = booked[1] + o.v.dur - o.day * spd - self.instance.chair_open
                    last[o.day] = max(last.get(o.day, 0), end)
        for day, mk in self.makespan.items():
            m.AddHint(mk, last.get(day, 0))

    def read(self, solver: Any) -> Solution:
        out: Solution = {}
        for vid, opts in self.options.items():
            for o in opts:
                if solver.BooleanValue(o.b):
                    p = solver.Value(o.p) if o.p is not None else -1
                    out[vid] = (o.day, solver.Value(o.s), p)
        return out


def _signature(v: Visit) -> tuple[Any, ...]:
    return (
        v.unit,
        v.days,
        v.target_day,
        v.dur,
        v.pre,
        v.prep,
        v.setup,
        v.samples,
        v.weight,
        v.dose_at,
        v.window,
        v.confirmed,
    )


def _runs(profile: list[int], start: int, end: int) -> list[tuple[int, int, int]]:
    """Maximal runs ``(first_slot, length, value)`` of ``profile[start:end]``."""
    runs: list[tuple[int, int, int]] = []
    t = start
    while t < end:
        u = t
        while u + 1 < end and profile[u + 1] == profile[t]:
            u += 1
        runs.append((t, u - t + 1, profile[t]))
        t = u + 1
    return runs


@dataclass
class Run:
    """Outcome of one CP-SAT solve."""

    solution: Solution | None
    objective: int | None
    bound: float
    status: str
    wall: float
    trace: list[tuple[float, int]]


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(
        self, started: float, offset: int, progress: Progress | None, trace: list[tuple[float, int]]
    ) -> None:
        super().__init__()
        self.started = started
        self.offset = offset
        self.progress = progress
        self.trace = trace

    def on_solution_callback(self) -> None:
        now = time.perf_counter() - self.started
        value = round(self.ObjectiveValue()) + self.offset
        self.trace.append((now, value))
        if self.progress is not None:
            self.progress(now, value, self.BestObjectiveBound() + self.offset)


def run(
    week: WeekModel,
    *,
    time_limit: float,
    deterministic: bool,
    workers: int | None,
    hint: Mapping[str, tuple[int, int, int]] | None,
    started: float,
    progress: Progress | None = None,
    offset: int = 0,
) -> Run:
    """Solve ``week`` for at most ``time_limit`` seconds (deterministic time units in
    deterministic mode, so that a test gives the same answer on a loaded machine)."""
    if hint is not None:
        week.hint(hint)
    solver = cp_model.CpSolver()
    params = solver.parameters
    if deterministic:
        params.num_workers = 1
        params.random_seed = SEED
        params.max_deterministic_time = max(0.01, time_limit)
    else:
        params.num_workers = workers or max(1, min(8, os.cpu_count() or 1))
        params.random_seed = SEED
        params.max_time_in_seconds = max(0.01, time_limit)
    trace: list[tuple[float, int]] = []
    callback = _Callback(started, offset, progress, trace)
    t0 = time.perf_counter()
    status = solver.Solve(week.model, callback)
    wall = time.perf_counter() - t0
    name = solver.StatusName(status)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Run(
            week.read(solver),
            round(solver.ObjectiveValue()),
            solver.BestObjectiveBound(),
            name,
            wall,
            trace,
        )
    return Run(None, None, solver.BestObjectiveBound(), name, wall, trace)
