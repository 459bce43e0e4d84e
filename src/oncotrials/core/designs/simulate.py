"""Operating characteristics by simulation, vectorised over replicate trials (axis 0 = trial).

Every trial of a run advances in lock-step, one cohort at a time: the per-cohort work is a handful
of array operations over all still-running trials, and no Python loop runs over trials. Random
numbers come from one ``np.random.Generator`` built once with ``np.random.default_rng(rng)``.

Scenario files (JSON or YAML, see ``docs/formats/design-scenarios.md``) list true DLT rates with
an optional name; :func:`load_scenarios` reads and validates them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import yaml
from numpy.typing import NDArray

from oncotrials.core.designs.base import check_positive_int, check_truth
from oncotrials.core.errors import ValidationError, inner_refusal

#: ``progress(done, total)`` is called after every simulated cohort step.
ProgressCallback = Callable[[int, int], None]
RngLike = np.random.Generator | int | None

EarlyStopRule = Literal["stay", "reached", "next"]

# Letter codes of decision tables.
E, S, D, DU = 0, 1, 2, 3


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Operating characteristics of one design under one true dose-toxicity scenario.

    Fractions are in [0, 1]; ``selection_percent`` gives percentages as the R packages print.
    ``selected`` holds the per-trial choice (0-based dose, -1 when no dose was selected).
    """

    design: str
    truth: tuple[float, ...]
    n_trials: int
    selection: NDArray[np.float64]
    no_selection: float
    early_stop: float
    patients: NDArray[np.float64]
    dlts: NDArray[np.float64]
    total_patients: float
    total_dlts: float
    selected: NDArray[np.int64] = field(repr=False)
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def selection_percent(self) -> NDArray[np.float64]:
        return 100.0 * self.selection

    def selection_se(self) -> NDArray[np.float64]:
        """Monte Carlo standard error of each selection fraction."""
        p = self.selection
        return np.sqrt(p * (1.0 - p) / self.n_trials)

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (percentages, means), without per-trial arrays."""
        return {
            "design": self.design,
            "truth": list(self.truth),
            "n_trials": self.n_trials,
            "selection_percent": [round(float(v), 4) for v in self.selection_percent],
            "selection_se_percent": [round(float(v), 4) for v in 100 * self.selection_se()],
            "no_selection_percent": round(100.0 * self.no_selection, 4),
            "early_stop_percent": round(100.0 * self.early_stop, 4),
            "patients_per_dose": [round(float(v), 4) for v in self.patients],
            "dlts_per_dose": [round(float(v), 4) for v in self.dlts],
            "total_patients": round(self.total_patients, 4),
            "total_dlts": round(self.total_dlts, 4),
            "settings": dict(self.settings),
        }


def summarise(
    *,
    design: str,
    truth: NDArray[np.float64],
    n: NDArray[np.int64],
    y: NDArray[np.int64],
    selected: NDArray[np.int64],
    early_stop: NDArray[np.bool_],
    settings: Mapping[str, Any],
) -> SimulationResult:
    """Turn per-trial arrays into a :class:`SimulationResult`."""
    t_count, k = n.shape
    counts = np.bincount(selected[selected >= 0], minlength=k).astype(np.float64)
    return SimulationResult(
        design=design,
        truth=tuple(float(v) for v in truth),
        n_trials=t_count,
        selection=counts / t_count,
        no_selection=float(np.mean(selected < 0)),
        early_stop=float(np.mean(early_stop)),
        patients=n.mean(axis=0),
        dlts=y.mean(axis=0),
        total_patients=float(n.sum(axis=1).mean()),
        total_dlts=float(y.sum(axis=1).mean()),
        selected=selected,
        settings=dict(settings),
    )


@dataclass(frozen=True)
class TrialArrays:
    """Raw per-trial outcome of a lock-step run."""

    n: NDArray[np.int64]
    y: NDArray[np.int64]
    eliminated: NDArray[np.bool_]
    toxic_stop: NDArray[np.bool_]


def run_interval_trials(
    *,
    letters: NDArray[np.int8],
    elim_bound: NDArray[np.int64],
    stop_bound: NDArray[np.int64] | None,
    cohort_size: int,
    n_cohorts: int,
    n_earlystop: int,
    earlystop_rule: EarlyStopRule,
    truth: NDArray[np.float64],
    n_trials: int,
    rng: np.random.Generator,
    start_dose: int = 0,
    titration: bool = False,
    progress: ProgressCallback | None = None,
) -> TrialArrays:
    """Run trials of a decision-table design (BOIN, Keyboard, mTPI-2, i3+3) in lock-step.

    ``letters[n, y]`` is the table decision (E, S, D or DU); ``elim_bound[n]`` the smallest DLT
    count that eliminates a dose with ``n`` patients (a value above ``n`` when none does);
    ``stop_bound`` the extra-safe stopping boundary for the lowest dose. The loop mirrors
    ``BOIN::get.oc``: a cohort is treated; if it completes the sample size the trial ends;
    otherwise the current dose (and all above) is eliminated when its DLT count reaches the
    boundary (the trial stops when that is the lowest dose), the ``n_earlystop`` rule is checked,
    then the table decides: E moves up unless the next dose is eliminated or this is the top
    dose, D and DU move down unless this is the lowest dose, S stays. No dose is skipped.
    """
    k = truth.size
    max_n = n_cohorts * cohort_size
    t_idx = np.arange(n_trials)
    n = np.zeros((n_trials, k), dtype=np.int64)
    y = np.zeros((n_trials, k), dtype=np.int64)
    d = np.full(n_trials, start_dose, dtype=np.int64)
    elim = np.zeros((n_trials, k), dtype=bool)
    active = np.ones(n_trials, dtype=bool)
    toxic = np.zeros(n_trials, dtype=bool)
    dose_pos = np.arange(k)
    first_titration = np.zeros(n_trials, dtype=bool)

    if titration:
        # BOIN::get.oc(titration=TRUE): one patient per dose upward until the first DLT.
        z = rng.random((n_trials, k)) < truth[None, :]
        anyz = z.any(axis=1)
        d = np.where(anyz, z.argmax(axis=1), k - 1)
        n[:] = dose_pos[None, :] <= d[:, None]
        y[t_idx, d] = anyz.astype(np.int64)
        first_titration = n[t_idx, d] < cohort_size

    for step in range(n_cohorts):
        draws = rng.random((n_trials, cohort_size)) < truth[d][:, None]
        total = n.sum(axis=1)
        fill = first_titration & active
        size = np.where(fill, cohort_size - 1, cohort_size)
        finishing = ~fill & (total + cohort_size >= max_n)
        size = np.where(finishing, np.minimum(cohort_size, max_n - total), size)
        size = np.where(active, size, 0)
        take = np.arange(cohort_size)[None, :] < size[:, None]
        n[t_idx, d] += size
        y[t_idx, d] += (draws & take).sum(axis=1)
        first_titration[:] = False
        active &= ~finishing

        nd = n[t_idx, d]
        yd = y[t_idx, d]
        has_elim = elim_bound[nd] <= nd
        hit = active & has_elim & (yd >= elim_bound[nd])
        elim |= hit[:, None] & (dose_pos[None, :] >= d[:, None])
        stop_now = hit & (d == 0)
        if stop_bound is not None:
            stop_now |= active & has_elim & (d == 0) & (nd >= 3) & (yd >= stop_bound[nd])
        toxic |= stop_now
        active &= ~stop_now

        letter = letters[nd, yd]
        top = d == k - 1
        up_blocked = top | elim[t_idx, np.minimum(d + 1, k - 1)]
        go_up = (letter == E) & ~up_blocked
        go_down = ((letter == D) | (letter == DU)) & (d > 0)
        if earlystop_rule == "stay":
            stays = ~go_up & ~go_down
            active &= ~((nd >= n_earlystop) & stays)
        elif earlystop_rule == "reached":
            active &= ~(nd >= n_earlystop)
        d = np.where(active & go_up, d + 1, np.where(active & go_down, d - 1, d))
        if earlystop_rule == "next":
            active &= ~(n[t_idx, d] >= n_earlystop)
        if progress is not None:
            progress(step + 1, n_cohorts)
        if not active.any():
            break
    if progress is not None:
        progress(n_cohorts, n_cohorts)
    return TrialArrays(n=n, y=y, eliminated=elim, toxic_stop=toxic)


class Simulates(Protocol):
    """What :func:`simulate` needs from a design."""

    def simulate(
        self,
        truth: Sequence[float],
        *,
        n_trials: int = ...,
        rng: RngLike = ...,
        start_dose: int = ...,
        progress: ProgressCallback | None = ...,
    ) -> SimulationResult: ...


def simulate(
    design: Simulates,
    truth: Sequence[float],
    *,
    n_trials: int = 10_000,
    rng: RngLike = None,
    start_dose: int = 0,
    progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Simulate ``n_trials`` trials of ``design`` under true DLT rates ``truth``."""
    return design.simulate(
        truth, n_trials=n_trials, rng=rng, start_dose=start_dose, progress=progress
    )


# --- scenarios ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One true dose-toxicity scenario."""

    name: str
    truth: tuple[float, ...]


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file: optional shared settings and one or more scenarios."""

    scenarios: tuple[Scenario, ...]
    target: float | None = None
    cohort_size: int | None = None
    n_cohorts: int | None = None
    n_trials: int | None = None
    seed: int | None = None
    start_dose: int | None = None


def _opt_int(raw: Mapping[str, Any], key: str, where: str) -> int | None:
    if key not in raw or raw[key] is None:
        return None
    return check_positive_int(f"{where}: {key}", raw[key], minimum=0 if key == "start_dose" else 1)


def parse_scenarios(raw: Any, *, source: str = "scenario file") -> ScenarioFile:
    """Validate a decoded scenario document (see ``docs/formats/design-scenarios.md``)."""
    if not isinstance(raw, Mapping):
        raise ValidationError(
            f"{source}: the top level must be a mapping; got {type(raw).__name__}.",
            code="design_scenarios_top",
            source=source,
            kind=type(raw).__name__,
        )
    items = raw.get("scenarios")
    if not isinstance(items, list) or not items:
        raise ValidationError(
            f"{source}: 'scenarios' must be a non-empty list of {{name, truth}} entries; "
            f"got {items!r}.",
            code="design_scenarios_list",
            source=source,
            items=repr(items),
        )
    scenarios: list[Scenario] = []
    n_doses: int | None = None
    for i, item in enumerate(items):
        where = f"{source}: scenarios[{i}]"
        if not isinstance(item, Mapping) or "truth" not in item:
            raise ValidationError(
                f"{where} must be a mapping with a 'truth' list; got {item!r}.",
                code="design_scenario_mapping",
                where=where,
                item=repr(item),
            )
        try:
            truth = check_truth(item["truth"])
        except ValidationError as exc:
            raise ValidationError(
                f"{where}: {exc.message}",
                code="design_scenario_truth",
                where=where,
                detail=exc.message,
                **inner_refusal(exc),
            ) from None
        if n_doses is not None and truth.size != n_doses:
            raise ValidationError(
                f"{where}: truth has {truth.size} doses but scenarios[0] has {n_doses}; "
                "every scenario must cover the same dose levels.",
                code="design_scenario_doses",
                where=where,
                size=truth.size,
                n_doses=n_doses,
            )
        n_doses = truth.size
        name = str(item.get("name", f"scenario {i + 1}"))
        scenarios.append(Scenario(name=name, truth=tuple(float(v) for v in truth)))
    target = raw.get("target")
    if target is not None:
        try:
            target = float(target)
        except (TypeError, ValueError):
            raise ValidationError(
                f"{source}: target must be a number; got {target!r}.",
                code="design_scenarios_target",
                source=source,
                target=repr(target),
            ) from None
        if not 0 < target < 1:
            raise ValidationError(
                f"{source}: target must lie in (0, 1); got {target!r}.",
                code="design_scenarios_target_range",
                source=source,
                target=repr(target),
            )
    seed = raw.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValidationError(
            f"{source}: seed must be a non-negative integer; got {seed!r}.",
            code="design_scenarios_seed",
            source=source,
            seed=repr(seed),
        )
    return ScenarioFile(
        scenarios=tuple(scenarios),
        target=target,
        cohort_size=_opt_int(raw, "cohort_size", source),
        n_cohorts=_opt_int(raw, "n_cohorts", source),
        n_trials=_opt_int(raw, "n_trials", source),
        seed=seed,
        start_dose=_opt_int(raw, "start_dose", source),
    )


def load_scenarios(path: str | Path) -> ScenarioFile:
    """Read a JSON (``.json``) or YAML (anything else) scenario file."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    try:
        raw = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(
            f"{p.name}: not valid JSON/YAML ({exc}).",
            code="design_scenarios_syntax",
            name=p.name,
            detail=exc,
        ) from None
    return parse_scenarios(raw, source=p.name)


def mc_se(p: float, n_trials: int) -> float:
    """Monte Carlo standard error of a proportion."""
    return math.sqrt(p * (1.0 - p) / n_trials)
