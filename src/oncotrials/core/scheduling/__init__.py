"""Day-unit chair and ward bed scheduling: first-fit, CP-SAT, an independent validator.

The stable API that the web application and the command line call:

* :func:`load_instance` — a JSON document (``docs/formats/schedule-instance.md``) to an
  :class:`Instance`; bad input raises :class:`~oncotrials.core.errors.ValidationError` naming the
  field.
* :func:`first_fit` — the deterministic greedy plan (45,118 on the ONC-WEEK fixture).
* :func:`solve` — CP-SAT, hinted by the first-fit, with a time limit, a deterministic mode and a
  progress callback ``progress(seconds, best_objective, bound)``.
* :func:`validate` / :func:`objective` — the independent checker and score.
* :func:`reschedule` — re-plan after cancelled or added requests with a penalty per moved
  booking; confirmed bookings and fixed-day PK visits stay unless a reason is given.

A solution is ``{visit_id: (day, start_slot, pharmacy_prep_start_or_-1)}`` with global slots
(``day * slots_per_day + slot_of_day``); a missing id is unscheduled.

OR-Tools is imported only by :func:`solve` and :func:`reschedule`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from oncotrials.core.errors import ValidationError
from oncotrials.core.scheduling import validator as _validator
from oncotrials.core.scheduling.firstfit import first_fit as _first_fit
from oncotrials.core.scheduling.io import (
    instance_schema,
    parse_solution,
    read_json,
)
from oncotrials.core.scheduling.io import load_instance as _load_instance
from oncotrials.core.scheduling.model import Instance, Solution, SolveResult, Visit
from oncotrials.core.scheduling.validator import Violation

__all__ = [
    "DEFAULT_MOVE_PENALTY",
    "Instance",
    "Progress",
    "Solution",
    "SolveResult",
    "Violation",
    "Visit",
    "apply_changes",
    "first_fit",
    "instance_schema",
    "load_instance",
    "objective",
    "parse_solution",
    "read_json",
    "reschedule",
    "solve",
    "validate",
]

#: ``progress(seconds_since_start, best_objective, best_bound)``; called from the solver thread.
Progress = Callable[[float, int, float], None]

#: Cost of moving one booking when rescheduling: more than a day away from the target (20),
#: much less than leaving a request unplanned (1000 x weight).
DEFAULT_MOVE_PENALTY = 50


def load_instance(data: Any, *, source: str = "instance") -> Instance:
    """Validate an instance document and build the :class:`Instance` (see module doc)."""
    return _load_instance(data, source=source)


def first_fit(instance: Instance) -> Solution:
    """The deterministic first-fit plan (order and rules of the ONC-WEEK fixture README)."""
    return _first_fit(instance)


def validate(instance: Instance, solution: Mapping[str, Any]) -> list[Violation]:
    """Every violation of ``solution``, from profiles rebuilt independently of the solvers."""
    return _validator.check(instance.data, solution)


def objective(instance: Instance, solution: Mapping[str, Any]) -> int:
    """The objective of ``solution`` (computed by the independent validator)."""
    return _validator.score(instance.data, solution)


def _unscheduled(instance: Instance, solution: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(v.id for v in instance.visits if v.id not in solution)


def _cpu() -> float:
    return time.process_time()


def solve(
    instance: Instance,
    *,
    time_limit: float,
    deterministic: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    decompose: bool = True,
) -> SolveResult:
    """Plan the week with CP-SAT within ``time_limit`` seconds, always hinted by the first-fit.

    With ``decompose`` (and both chairs and beds requested) the search runs in three phases:

    1. the ward stays alone (5 % of the time; they are small and usually proved optimal), the
       chair visits then first-fitted around them;
    2. a large neighbourhood search over days (85 % of what is left): for each day (two
       rounds), then each pair of days, in turn, CP-SAT re-plans the chair visits of those days plus every unplanned
       request allowed on them (on those days only, so a visit may change day within the pair),
       around the ward's pharmacy preparations, hinted by the current plan;
    3. the full model, hinted by the merged plan, for the remaining time: it may still improve
       the plan, and it proves the lower bound that is reported.

    ``deterministic`` uses one worker, a fixed seed and CP-SAT's deterministic time in place of
    seconds (so a test gives the same answer on a loaded machine). The result is never worse
    than the first-fit, and every plan kept has passed the independent validator.
    """
    from oncotrials.core.scheduling import cpsat

    if time_limit <= 0:
        raise ValidationError(f"time_limit: {time_limit} must be positive (seconds).")
    started = time.perf_counter()
    cpu0 = _cpu()
    spent = 0.0

    def remaining() -> float:
        if deterministic:
            return time_limit - spent
        return time_limit - (time.perf_counter() - started)

    def charge(run: cpsat.Run, budget: float) -> None:
        nonlocal spent
        spent += budget if deterministic else run.wall

    baseline = _first_fit(instance)
    best = baseline
    best_value = objective(instance, baseline)
    ff_value = best_value
    trace: list[tuple[float, int]] = [(time.perf_counter() - started, best_value)]
    status = "FIRST_FIT"
    if progress is not None:
        progress(trace[0][0], best_value, 0.0)

    def offer(candidate: Solution, lb: float = 0.0) -> bool:
        """Keep ``candidate`` if it is better and valid; report the improvement."""
        nonlocal best, best_value
        value = objective(instance, candidate)
        if value >= best_value or validate(instance, candidate):
            return False
        best, best_value = candidate, value
        note(time.perf_counter() - started, value, lb)
        return True

    def note(seconds: float, value: int, lb: float) -> None:
        if value < trace[-1][1]:
            trace.append((seconds, value))
            if progress is not None:
                progress(seconds, value, lb)

    beds = [v for v in instance.visits if v.unit == "bed"]
    chairs = [v for v in instance.visits if v.unit == "chair"]
    ward_bound = 0.0
    if decompose and beds and chairs:
        bed_ids = {v.id for v in beds}
        budget = min(max(0.5, 0.05 * time_limit), 0.2 * time_limit)
        bed_run = cpsat.run(
            cpsat.WeekModel.build(instance, beds),
            time_limit=budget,
            deterministic=deterministic,
            workers=workers,
            hint={k: v for k, v in baseline.items() if k in bed_ids},
            started=started,
        )
        charge(bed_run, budget)
        if bed_run.status in ("OPTIMAL", "FEASIBLE"):
            # the ward stays alone relax the week: their bound bounds the whole objective
            ward_bound = bed_run.bound
        if bed_run.solution is not None:
            ward = bed_run.solution
            blocks = [(p, instance.visit(k).prep) for k, (_, _, p) in ward.items() if p >= 0]
            current = _first_fit(instance, keep=ward)
            if any(current.get(k) != ward[k] for k in ward):
                current = dict(best)
            offer(current)
            current = dict(best) if best_value <= objective(instance, current) else current
            lns_budget = 0.85 * remaining()
            days = range(instance.days)
            # every single day twice, then pairs of days (so that visits can change day)
            singles = [(d,) for d in days]
            hoods = (
                singles
                + singles
                + [(a, b) for gap in (1, 2, 3, 4) for a in days for b in days if b - a == gap]
            )
            per_hood = min(max(lns_budget / 10, 6.0), 12.0, lns_budget)
            settled: dict[tuple[int, ...], frozenset[Any]] = {}
            lns_end = remaining() - lns_budget
            k = 0
            while remaining() - lns_end >= per_hood and len(settled) < len(set(hoods)):
                hood = hoods[k % len(hoods)]
                k += 1
                sub = [
                    v
                    for v in chairs
                    if (v.id in current and current[v.id][0] in hood)
                    or (v.id not in current and any(d in v.days for d in hood))
                ]
                sub_ids = {v.id for v in sub}
                state = frozenset((k2, current.get(k2)) for k2 in sub_ids)
                if settled.get(hood) == state:
                    continue  # proved optimal for these days and nothing changed since
                settled.pop(hood, None)
                hood_run = cpsat.run(
                    cpsat.WeekModel.build(instance, sub, pharmacy_blocks=blocks, only_days=hood),
                    time_limit=per_hood,
                    deterministic=deterministic,
                    workers=workers,
                    hint={k2: current[k2] for k2 in sub_ids if k2 in current},
                    started=started,
                )
                charge(hood_run, per_hood)
                if hood_run.solution is None:
                    continue
                merged = {k2: v for k2, v in current.items() if k2 not in sub_ids}
                merged.update(hood_run.solution)
                if objective(instance, merged) <= objective(instance, current):
                    current = merged
                    if offer(merged):
                        status = "FEASIBLE"
                if hood_run.status == "OPTIMAL":
                    settled[hood] = frozenset((k2, current.get(k2)) for k2 in sub_ids)
    full = cpsat.WeekModel.build(instance, instance.visits)
    budget = max(0.5 if not deterministic else 0.05, remaining())
    full_run = cpsat.run(
        full,
        time_limit=budget,
        deterministic=deterministic,
        workers=workers,
        hint=best,
        started=started,
        progress=note,
    )
    bound: float | None = ward_bound if ward_bound > 0 else None
    if full_run.status in ("OPTIMAL", "FEASIBLE") and full_run.bound > (bound or 0):
        bound = full_run.bound
    if full_run.solution is not None and offer(full_run.solution, bound or 0.0):
        status = full_run.status
    if bound is not None:
        bound = min(max(bound, 0.0), float(best_value))
        if bound >= best_value:
            status = "OPTIMAL"
    return SolveResult(
        solution=best,
        objective=best_value,
        unscheduled=_unscheduled(instance, best),
        lower_bound=bound,
        status=status,
        wall_seconds=time.perf_counter() - started,
        cpu_seconds=_cpu() - cpu0,
        first_fit_objective=ff_value,
        trace=tuple(trace),
    )


def apply_changes(
    instance: Instance,
    *,
    cancelled: Iterable[str] = (),
    added: Sequence[Mapping[str, Any]] = (),
) -> Instance:
    """The instance without the ``cancelled`` ids and with the ``added`` visit documents."""
    gone = set(cancelled)
    known = {v.id for v in instance.visits}
    for vid in sorted(gone - known):
        raise ValidationError(f"cancelled: {vid!r} is not a visit of the instance.", path=vid)
    doc = dict(instance.data)
    kept = [raw for raw in doc["visits"] if raw["id"] not in gone]
    doc["visits"] = [*kept, *[dict(a) for a in added]]
    try:
        return _load_instance(doc, source="changes")
    except ValidationError as exc:
        prefix = "$.visits["
        path = str(exc.extra.get("path", ""))
        if path.startswith(prefix):
            index = int(path[len(prefix) : path.index("]")])
            if index >= len(kept):
                where = f"added[{index - len(kept)}]{path[path.index(']') + 1 :]}"
                message = exc.message.replace(f"changes: {path}", f"changes: {where}")
                raise ValidationError(message, path=where) from None
        raise


def reschedule(
    instance: Instance,
    previous: Mapping[str, Any],
    *,
    cancelled: Iterable[str] = (),
    added: Sequence[Mapping[str, Any]] = (),
    move_penalty: int = DEFAULT_MOVE_PENALTY,
    time_limit: float = 10.0,
    reasons: Mapping[str, str] | None = None,
    deterministic: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
) -> SolveResult:
    """Re-plan after changes, moving as few bookings of ``previous`` as possible.

    ``previous`` is the plan in force for ``instance``. Cancelled ids leave; ``added`` visit
    documents join. Each kept booking whose day or start changes (or that is dropped) costs
    ``move_penalty`` on top of the objective. Locked bookings (``confirmed``, or PK visits on a
    single allowed day) never move unless ``reasons`` gives a reason for that id; the reasons
    are returned with the result. The returned ``objective`` is the plain objective (without
    the move penalties) of the new instance: use :func:`apply_changes` to validate it.
    """
    from oncotrials.core.scheduling import cpsat

    started = time.perf_counter()
    cpu0 = _cpu()
    reasons = dict(reasons or {})
    gone = set(cancelled)
    new = apply_changes(instance, cancelled=gone, added=added)
    for vid, why in reasons.items():
        if not str(why).strip():
            raise ValidationError(f"reasons: {vid}: a reason cannot be empty.", path=vid)
    prior = parse_solution(
        {k: v for k, v in previous.items() if k not in gone}, new, source="previous"
    )
    locked_ids = {k for k in prior if new.visit(k).locked and k not in reasons}
    locked = {k: prior[k] for k in locked_ids}
    problems = validate(new, locked)
    if problems:
        raise ValidationError(
            f"previous: locked bookings conflict with the new instance: {problems[0].message}",
            path=problems[0].visit,
        )
    hint = _first_fit(new, keep=prior)
    if any(hint.get(k, (None, None))[:2] != locked[k][:2] for k in locked):
        hint = _first_fit(new, keep=locked)
    model = cpsat.WeekModel.build(
        new,
        new.visits,
        locked={k: (d, s) for k, (d, s, _) in locked.items()},
        previous={k: (d, s) for k, (d, s, _) in prior.items()},
        move_penalty=move_penalty,
    )
    run = cpsat.run(
        model,
        time_limit=time_limit,
        deterministic=deterministic,
        workers=workers,
        hint=hint,
        started=started,
        progress=progress,
    )

    def cost(solution: Mapping[str, tuple[int, int, int]]) -> int:
        return objective(new, solution) + move_penalty * len(_moved(prior, solution))

    best = hint
    status = "FIRST_FIT"
    if (
        run.solution is not None
        and cost(run.solution) <= cost(hint)
        and not validate(new, run.solution)
    ):
        best, status = run.solution, run.status
    return SolveResult(
        solution=best,
        objective=objective(new, best),
        unscheduled=_unscheduled(new, best),
        lower_bound=None,  # the solver bounds the penalised cost, not the objective
        status=status,
        wall_seconds=time.perf_counter() - started,
        cpu_seconds=_cpu() - cpu0,
        first_fit_objective=objective(new, hint),
        trace=tuple(run.trace),
        moved=_moved(prior, best),
        reasons={k: v for k, v in reasons.items() if k in _moved(prior, best)},
    )


def _moved(
    prior: Mapping[str, tuple[int, int, int]], solution: Mapping[str, tuple[int, int, int]]
) -> tuple[str, ...]:
    return tuple(
        sorted(
            k
            for k, (d, s, _) in prior.items()
            if tuple(solution.get(k, (-1, -1, -1)))[:2] != (d, s)
        )
    )
