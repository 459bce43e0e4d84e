"""Decision-table designs: what BOIN, Keyboard, mTPI-2 and i3+3 share.

Each of these designs reduces, for a given target, to a table that maps (patients treated at the
current dose, DLTs among them) to one of four letters: E (escalate), S (stay), D (de-escalate),
DU (de-escalate and eliminate the dose and all higher doses). Live decisions, printable tables,
MTD selection and vectorised simulation all run from that table, so they cannot disagree.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.designs.base import (
    Action,
    Decision,
    DoseData,
    EscalationSettings,
    Param,
    as_dose_data,
    check_current,
    check_escalation_params,
    check_positive_int,
    check_truth,
)
from oncotrials.core.designs.isotonic import (
    beta_estimates,
    elimination_mask,
    isotonic_select,
    pava_rows,
    posterior_exceeds,
)
from oncotrials.core.designs.reasons import Explanation, explain, reason, rule_parts, ruled
from oncotrials.core.designs.simulate import (
    DU,
    D,
    E,
    EarlyStopRule,
    ProgressCallback,
    RngLike,
    S,
    SimulationResult,
    run_interval_trials,
    summarise,
)
from oncotrials.core.errors import ValidationError
from oncotrials.core.lazy import stats

LETTERS = {E: "E", S: "S", D: "D", DU: "DU"}
# Tables are pure functions of the design's parameters; live decisions reuse them.
_TABLE_CACHE: dict[tuple[Any, ...], DecisionTable] = {}


@dataclass(frozen=True, eq=False)
class DecisionTable:
    """A design's decisions for every (n treated, y DLTs) with ``1 <= n <= max_n``.

    ``letters[n, y]`` holds 0 (E), 1 (S), 2 (D), 3 (DU) and -1 where ``y > n`` or ``n = 0``.
    ``escalate[n]`` is the largest y that escalates (-1 if none), ``deescalate[n]`` the smallest
    y that de-escalates (or eliminates), ``eliminate[n]`` the smallest y that eliminates; the
    last two are None where no count does. Index 0 of these tuples is unused (n = 0).
    """

    design: str
    target: float
    max_n: int
    letters: NDArray[np.int8]
    escalate: tuple[int, ...]
    deescalate: tuple[int | None, ...]
    eliminate: tuple[int | None, ...]
    stop_lowest: tuple[int | None, ...] | None = None

    def letter(self, n: int, y: int) -> str:
        """The decision letter for ``y`` DLTs among ``n`` patients."""
        if not 1 <= n <= self.max_n:
            raise ValidationError(
                f"n must be between 1 and {self.max_n} for this table; got {n}.",
                code="design_table_n",
                max_n=self.max_n,
                n=n,
            )
        if not 0 <= y <= n:
            raise ValidationError(
                f"y must be between 0 and n={n}; got {y}.",
                code="design_table_y",
                n=n,
                y=y,
            )
        return LETTERS[int(self.letters[n, y])]

    def boundaries(self, cohort_size: int = 1) -> list[dict[str, Any]]:
        """Boundary rows (as in ``BOIN::get.boundary``) at n = cohort_size, 2*cohort_size, ..."""
        rows = []
        for n in range(cohort_size, self.max_n + 1, cohort_size):
            row: dict[str, Any] = {
                "n": n,
                "escalate_if_dlts_at_most": self.escalate[n],
                "deescalate_if_dlts_at_least": self.deescalate[n],
                "eliminate_if_dlts_at_least": self.eliminate[n],
            }
            if self.stop_lowest is not None:
                row["stop_if_lowest_dose_dlts_at_least"] = self.stop_lowest[n]
            rows.append(row)
        return rows

    def grid(self, cohort_size: int = 1) -> dict[int, list[str]]:
        """Full letter grid: for each n, the letters for y = 0..n."""
        return {
            n: [LETTERS[int(self.letters[n, y])] for y in range(n + 1)]
            for n in range(cohort_size, self.max_n + 1, cohort_size)
        }

    def to_dict(self, cohort_size: int = 1) -> dict[str, Any]:
        return {
            "design": self.design,
            "target": self.target,
            "boundaries": self.boundaries(cohort_size),
            "table": {str(k): v for k, v in self.grid(cohort_size).items()},
        }


def boundaries_from_letters(
    letters: NDArray[np.int8], max_n: int
) -> tuple[tuple[int, ...], tuple[int | None, ...], tuple[int | None, ...]]:
    """Derive boundary rows from a letter grid as ``Keyboard::get.boundary.kb`` does."""
    esc: list[int] = [-1]
    des: list[int | None] = [None]
    eli: list[int | None] = [None]
    for n in range(1, max_n + 1):
        row = letters[n, : n + 1]
        e_rows = np.flatnonzero(row == E)
        d_rows = np.flatnonzero(row == D)
        du_rows = np.flatnonzero(row == DU)
        esc.append(int(e_rows.max()) if e_rows.size else -1)
        if d_rows.size:
            des.append(int(d_rows.min()))
        elif du_rows.size:
            des.append(int(du_rows.min()))
        else:
            des.append(None)
        eli.append(int(du_rows.min()) if du_rows.size else None)
    return tuple(esc), tuple(des), tuple(eli)


@dataclass(frozen=True, eq=False)
class MTDSelection:
    """The dose selected at the end of a trial, with the isotonic estimates behind it.

    ``dose`` is 0-based, or None when no dose is selected (the lowest dose is too toxic, or no
    patient was treated at an admissible dose). ``estimates``, ``ci_lower``, ``ci_upper`` and
    ``p_overdose`` are per dose (None for untried doses): isotonic posterior means of the DLT
    rate under a Beta(0.05, 0.05) prior, 95% credible bounds and P(p > target), as in
    ``BOIN::select.mtd`` (whose CI columns are misaligned when an untried dose lies between
    tried ones; ours are aligned by dose).
    """

    dose: int | None
    eliminated: tuple[int, ...]
    estimates: tuple[float | None, ...]
    ci_lower: tuple[float | None, ...]
    ci_upper: tuple[float | None, ...]
    p_overdose: tuple[float | None, ...]
    reason: str
    #: the reason by its code and values (``reasons.REASONS``), for an application to word
    explained: Explanation | None = None


class IntervalDesign(abc.ABC):
    """Base of the decision-table designs.

    Subclasses set ``name``, implement :meth:`_letters` (and may override the boundary rows) and
    store their own parameters in ``__init__`` without validating them (validation runs on use).
    """

    name: ClassVar[str] = "interval"
    label: ClassVar[str] = "Interval design"
    aliases: ClassVar[tuple[str, ...]] = ()
    #: design-specific parameters of a cohort's escalation plan (see :meth:`for_escalation`)
    escalation_params: ClassVar[Mapping[str, Param]] = {
        "n_earlystop": Param("integer", "stop when this many patients are at one dose"),
        "cutoff_eli": Param("number", "posterior cutoff of the elimination rule, default 0.95"),
        "extrasafe": Param("boolean", "stricter stopping rule for the lowest dose"),
    }
    earlystop_rule: ClassVar[EarlyStopRule] = "stay"
    #: the smallest n at which the elimination rule applies in simulated trials
    elimination_min_n: ClassVar[int] = 3
    #: ... and in live decisions and :meth:`select_mtd` (the printed table)
    live_elimination_min_n: ClassVar[int] = 3

    def __init__(
        self,
        target: float = 0.3,
        *,
        cohort_size: int = 3,
        n_cohorts: int = 12,
        n_earlystop: int = 100,
        cutoff_eli: float = 0.95,
        extrasafe: bool = False,
        offset: float = 0.05,
    ) -> None:
        self.target = target
        self.cohort_size = cohort_size
        self.n_cohorts = n_cohorts
        self.n_earlystop = n_earlystop
        self.cutoff_eli = cutoff_eli
        self.extrasafe = extrasafe
        self.offset = offset

    @classmethod
    def for_escalation(cls, settings: EscalationSettings) -> IntervalDesign:
        """The design a cohort's escalation plan runs: its target, cohort size, sample size."""
        params = check_escalation_params(cls.name, cls.escalation_params, settings)
        return cls(
            settings.target_for(cls.name),
            cohort_size=settings.cohort_size,
            n_cohorts=settings.n_cohorts,
            **params,
        )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def get_params(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.endswith("_")}

    # --- validation --------------------------------------------------------------------------

    def _validate(self) -> None:
        name = type(self).__name__
        t = self.target
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0.05 <= t <= 0.6:
            raise ValidationError(
                f"The target DLT rate of {name} must lie in [0.05, 0.6]; got {t!r}.",
                code="design_interval_target",
                field="target",
                name=name,
                t=repr(t),
            )
        check_positive_int(f"{name} cohort_size", self.cohort_size)
        check_positive_int(f"{name} n_cohorts", self.n_cohorts)
        check_positive_int(f"{name} n_earlystop", self.n_earlystop)
        if not 0.5 < self.cutoff_eli < 1:
            raise ValidationError(
                f"{name} cutoff_eli must lie in (0.5, 1); got {self.cutoff_eli!r}.",
                code="design_interval_cutoff",
                name=name,
                cutoff_eli=repr(self.cutoff_eli),
            )
        if not 0 <= self.offset < 0.5:
            raise ValidationError(
                f"{name} offset must lie in [0, 0.5); got {self.offset!r}.",
                code="design_interval_offset",
                name=name,
                offset=repr(self.offset),
            )

    @property
    def sample_size(self) -> int:
        return int(self.cohort_size * self.n_cohorts)

    # --- the table ---------------------------------------------------------------------------

    @abc.abstractmethod
    def _letters(self, max_n: int) -> NDArray[np.int8]:
        """Letter grid of shape (max_n + 1, max_n + 1), indexed [n, y]."""

    def _boundary_rows(
        self, letters: NDArray[np.int8], max_n: int
    ) -> tuple[tuple[int, ...], tuple[int | None, ...], tuple[int | None, ...]]:
        return boundaries_from_letters(letters, max_n)

    def _stop_lowest(self, max_n: int) -> tuple[int | None, ...] | None:
        if not self.extrasafe:
            return None
        return _posterior_boundary(self.target, self.cutoff_eli - self.offset, max_n, min_n=3)

    def decision_table(self, max_n: int | None = None) -> DecisionTable:
        """The full decision table up to ``max_n`` patients per dose (default: sample size)."""
        self._validate()
        m = self.sample_size if max_n is None else check_positive_int("max_n", max_n)
        key = (type(self), tuple(sorted(self.get_params().items())), m)
        cached = _TABLE_CACHE.get(key)
        if cached is not None:
            return cached
        table = self._build_table(m)
        if len(_TABLE_CACHE) > 256:
            _TABLE_CACHE.clear()
        _TABLE_CACHE[key] = table
        return table

    def _build_table(self, m: int) -> DecisionTable:
        letters = self._letters(m)
        letters.flags.writeable = False
        esc, des, eli = self._boundary_rows(letters, m)
        return DecisionTable(
            design=self.name,
            target=float(self.target),
            max_n=m,
            letters=letters,
            escalate=esc,
            deescalate=des,
            eliminate=eli,
            stop_lowest=self._stop_lowest(m),
        )

    # --- live decision -----------------------------------------------------------------------

    def eliminated_doses(self, data: Sequence[DoseData | tuple[int, int]]) -> tuple[int, ...]:
        """Doses removed by the safety rule given the cumulative data."""
        self._validate()
        doses = as_dose_data(data)
        n = np.array([[d.treated for d in doses]], dtype=np.int64)
        y = np.array([[d.dlts for d in doses]], dtype=np.int64)
        return tuple(int(i) for i in np.flatnonzero(self._elimination(n, y, live=True)[0]))

    def _elimination(
        self, n: NDArray[np.int64], y: NDArray[np.int64], *, live: bool
    ) -> NDArray[np.bool_]:
        extra = self.cutoff_eli - self.offset if self.extrasafe else None
        return elimination_mask(
            n,
            y,
            target=float(self.target),
            cutoff=self.cutoff_eli,
            min_n=self.live_elimination_min_n if live else self.elimination_min_n,
            extrasafe_cutoff=extra,
        )

    def decide(self, data: Sequence[DoseData | tuple[int, int]], current: int) -> Decision:
        """The next action given per-dose data (lowest dose first) and the current dose."""
        self._validate()
        doses = as_dose_data(data)
        k = len(doses)
        if k == 0:
            raise ValidationError(
                "data must hold one entry per dose level; got none.",
                code="design_no_data",
            )
        cur = check_current(current, k)
        elim = self.eliminated_doses(doses)
        n = doses[cur].treated
        y = doses[cur].dlts
        max_n = max(self.sample_size, n)
        table = self.decision_table(max_n)
        total = sum(d.treated for d in doses)
        if 0 in elim:
            return Decision(
                action=Action.STOP,
                current_dose=cur,
                next_dose=None,
                **reason("lowest_overly_toxic", dlts=doses[0].dlts, treated=doses[0].treated),
                **ruled(self._elim_rule(table, doses[0].treated)),
                eliminated=elim,
            )
        if n == 0:
            return Decision(
                action=Action.STAY,
                current_dose=cur,
                next_dose=cur,
                **reason("untreated_next_cohort", dose=cur + 1),
                **ruled("rule_untreated"),
                eliminated=elim,
            )
        letter = table.letter(n, y)
        rule = ruled(self._rule_text(table, n, y))
        if total >= self.sample_size:
            sel = self.select_mtd(doses)
            return Decision(
                action=Action.STOP,
                current_dose=cur,
                next_dose=None,
                **(
                    reason("max_sample_select", size=self.sample_size, mtd=sel.dose + 1)
                    if sel.dose is not None
                    else reason("max_sample_none", size=self.sample_size)
                ),
                **rule,
                eliminated=elim,
                mtd=sel.dose,
            )
        if cur in elim:
            first = min(elim)
            nxt = first - 1
            if first == cur:
                why = reason(
                    "eliminate_current",
                    y=y,
                    n=n,
                    dose=cur + 1,
                    target=self.target,
                    cutoff=self.cutoff_eli,
                    next=nxt + 1,
                )
            else:
                why = reason(
                    "eliminate_above",
                    first=first + 1,
                    dlts=doses[first].dlts,
                    treated=doses[first].treated,
                    dose=cur + 1,
                    next=nxt + 1,
                )
            return Decision(
                action=Action.ELIMINATE,
                current_dose=cur,
                next_dose=nxt,
                **why,
                **rule,
                eliminated=elim,
            )
        top = cur == k - 1
        blocked = top or (cur + 1) in elim
        if letter == "E" and not blocked:
            action, nxt, act = Action.ESCALATE, cur + 1, explain("escalate_to", dose=cur + 2)
        elif letter in ("D", "DU") and cur > 0:
            action, nxt, act = Action.DE_ESCALATE, cur - 1, explain("deescalate_to", dose=cur)
        else:
            action, nxt = Action.STAY, cur
            if letter == "E":
                act = explain("stay_highest" if top else "stay_next_eliminated")
            elif letter in ("D", "DU"):
                act = explain("stay_lowest")
            else:
                act = explain("stay_at", dose=cur + 1)
        # n_earlystop, as each reference simulates it: BOIN stops when the current dose has
        # n_earlystop patients and the decision is to stay; Keyboard as soon as it has them;
        # FIND (i3+3, mTPI-2) when the dose chosen next already has them.
        rule_es = self.earlystop_rule
        hits = (
            (rule_es == "stay" and action is Action.STAY and n >= self.n_earlystop)
            or (rule_es == "reached" and n >= self.n_earlystop)
            or (rule_es == "next" and doses[nxt].treated >= self.n_earlystop)
        )
        if hits:
            sel = self.select_mtd(doses)
            at = nxt if rule_es == "next" else cur
            stop = {"count": doses[at].treated, "dose": at + 1, "n_earlystop": self.n_earlystop}
            return Decision(
                action=Action.STOP,
                current_dose=cur,
                next_dose=None,
                **(
                    reason("earlystop_select", **stop, mtd=sel.dose + 1)
                    if sel.dose is not None
                    else reason("earlystop_none", **stop)
                ),
                **rule,
                eliminated=elim,
                mtd=sel.dose,
            )
        return Decision(
            action=action,
            current_dose=cur,
            next_dose=nxt,
            **reason("observed", y=y, n=n, dose=cur + 1, action=act),
            **rule,
            eliminated=elim,
        )

    def _elim_rule(self, table: DecisionTable, n: int) -> Explanation:
        e = table.eliminate[n] if n <= table.max_n else None
        return (
            explain("rule_eliminate_if", n=n, dlts=e) if e is not None else explain("rule_n", n=n)
        )

    def _rule_text(self, table: DecisionTable, n: int, y: int) -> Explanation:
        parts = [explain("rule_n", n=n), explain("rule_escalate_if", dlts=table.escalate[n])]
        if table.deescalate[n] is not None:
            parts.append(explain("rule_deescalate_if", dlts=table.deescalate[n]))
        if table.eliminate[n] is not None:
            parts.append(explain("rule_eliminate_if_part", dlts=table.eliminate[n]))
        parts.append(explain("rule_observed_letter", y=y, letter=table.letter(n, y)))
        return rule_parts(*parts)

    # --- MTD selection -----------------------------------------------------------------------

    def _selection_bound(self) -> float | None:
        return None

    def select_mtd(self, data: Sequence[DoseData | tuple[int, int]]) -> MTDSelection:
        """Select the MTD from the data of a finished trial (isotonic regression)."""
        self._validate()
        doses = as_dose_data(data)
        if not doses:
            raise ValidationError(
                "data must hold one entry per dose level; got none.",
                code="design_no_data",
            )
        n = np.array([[d.treated for d in doses]], dtype=np.int64)
        y = np.array([[d.dlts for d in doses]], dtype=np.int64)
        elim = self._elimination(n, y, live=True)
        pick = int(
            isotonic_select(
                n, y, elim, target=float(self.target), upper_bound=self._selection_bound()
            )[0]
        )
        est, lo, hi, po = _estimates(n[0], y[0], float(self.target))
        el = tuple(int(i) for i in np.flatnonzero(elim[0]))
        if pick >= 0:
            why = explain("mtd_isotonic", dose=pick + 1, target=self.target)
        elif elim[0, 0]:
            why = explain("mtd_none_lowest_toxic")
        elif not (n[0] > 0).any():
            why = explain("mtd_none_untreated")
        else:
            why = explain("mtd_none_inadmissible")
        return MTDSelection(
            dose=pick if pick >= 0 else None,
            eliminated=el,
            estimates=est,
            ci_lower=lo,
            ci_upper=hi,
            p_overdose=po,
            reason=str(why),
            explained=why,
        )

    # --- simulation --------------------------------------------------------------------------

    def _titration(self) -> bool:
        return False

    def simulate(
        self,
        truth: Sequence[float],
        *,
        n_trials: int = 10_000,
        rng: RngLike = None,
        start_dose: int = 0,
        progress: ProgressCallback | None = None,
    ) -> SimulationResult:
        """Operating characteristics over ``n_trials`` simulated trials (vectorised).

        Parameters
        ----------
        truth : true DLT probability at each dose, non-decreasing.
        n_trials : number of replicate trials.
        rng : seed or ``np.random.Generator``; the same seed gives the same result.
        start_dose : 0-based starting dose.
        progress : optional ``progress(done, total)`` callback (one call per cohort step).
        """
        self._validate()
        p = check_truth(truth)
        check_positive_int("n_trials", n_trials)
        check_current(start_dose, p.size)
        gen = np.random.default_rng(rng)
        table = self.decision_table()
        m = table.max_n
        sentinel = m + 1
        elim_bound = np.array(
            [
                sentinel if (e is None or n < self.elimination_min_n) else e
                for n, e in enumerate(table.eliminate)
            ],
            dtype=np.int64,
        )
        stop_bound = None
        if table.stop_lowest is not None:
            stop_bound = np.array(
                [sentinel if e is None else e for e in table.stop_lowest], dtype=np.int64
            )
        raw = run_interval_trials(
            letters=table.letters,
            elim_bound=elim_bound,
            stop_bound=stop_bound,
            cohort_size=self.cohort_size,
            n_cohorts=self.n_cohorts,
            n_earlystop=self.n_earlystop,
            earlystop_rule=self.earlystop_rule,
            truth=p,
            n_trials=n_trials,
            rng=gen,
            start_dose=start_dose,
            titration=self._titration(),
            progress=progress,
        )
        elim = raw.eliminated | self._elimination(raw.n, raw.y, live=False)
        sel = isotonic_select(
            raw.n, raw.y, elim, target=float(self.target), upper_bound=self._selection_bound()
        )
        sel = np.where(raw.toxic_stop, -1, sel)
        return summarise(
            design=self.name,
            truth=p,
            n=raw.n,
            y=raw.y,
            selected=sel,
            early_stop=raw.toxic_stop,
            settings={
                **self.get_params(),
                "start_dose": start_dose,
            },
        )


def _posterior_boundary(
    target: float, cutoff: float, max_n: int, *, min_n: int
) -> tuple[int | None, ...]:
    """Smallest y (>= 1) with P(p > target | y of n; Beta(1,1)) > cutoff, for each n."""
    out: list[int | None] = [None]
    for n in range(1, max_n + 1):
        if n < min_n:
            out.append(None)
            continue
        ys = np.arange(1, n + 1)
        ok = np.flatnonzero(posterior_exceeds(target, np.full_like(ys, n), ys) > cutoff)
        out.append(int(ys[ok[0]]) if ok.size else None)
    return tuple(out)


def _estimates(
    n: NDArray[np.int64], y: NDArray[np.int64], target: float
) -> tuple[
    tuple[float | None, ...],
    tuple[float | None, ...],
    tuple[float | None, ...],
    tuple[float | None, ...],
]:
    tried = np.flatnonzero(n > 0)
    k = n.size
    blank: list[float | None] = [None] * k
    if tried.size == 0:
        return tuple(blank), tuple(blank), tuple(blank), tuple(blank)
    nt, yt = n[tried], y[tried]
    phat, var = beta_estimates(nt, yt)
    w = (1.0 / var)[None, :]
    length = np.array([tried.size])
    a, b = yt + 0.05, nt - yt + 0.05

    def iso(v: NDArray[np.float64], weights: NDArray[np.float64]) -> list[float]:
        return [float(x) for x in pava_rows(v[None, :], weights, length)[0]]

    cols = [
        iso(phat, w),
        iso(stats.beta.ppf(0.025, a, b), w),
        iso(stats.beta.ppf(0.975, a, b), w),
        iso(stats.beta.sf(target, a, b), np.ones_like(w)),
    ]
    out = []
    for col in cols:
        full = list(blank)
        for j, i in enumerate(tried):
            full[int(i)] = col[j]
        out.append(tuple(full))
    return out[0], out[1], out[2], out[3]
