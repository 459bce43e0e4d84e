"""The 3+3 design: live decisions, exact operating characteristics and simulation.

Rules at the current dose (cohorts of 3): 0/3 escalate; 1/3 treat 3 more; >= 2/3 the dose is
exceeded; at 6 patients, <= 1/6 escalate (or, once a higher dose was exceeded, this dose is the
MTD), >= 2/6 the dose is exceeded. The top dose with 0/3 or <= 1/6 is the MTD (no 6-patient
confirmation, as in the reference code). Exceeding dose 1 stops the trial with no MTD.

Two variants differ only in what happens when dose ``d`` is exceeded:

``"deescalation"`` (default; ``bcrm::threep3``, FIND ``run_sim_3plus3``)
    if dose ``d - 1`` has 6 patients it is the MTD; otherwise treat 3 more at ``d - 1``, which is
    the MTD if it ends with <= 1/6, else go down again.
``"escalation_only"`` (``bcrm::threep3(threep3.esc.only = TRUE)``;
``escalation::three_plus_three(allow_deescalate = FALSE)``)
    stop at once: the MTD is ``d - 1`` even if it had only 3 patients.

The same vectorised transition drives the exact enumeration of every trial path
(:meth:`ThreePlusThree.exact`, as ``bcrm::threep3``) and the Monte Carlo simulation, so the two
cannot disagree.

References
----------
Storer BE (1989). Design and analysis of phase I clinical trials. Biometrics 45:925-937.
Le Tourneau C, Lee JJ, Siu LL (2009). Dose escalation methods in phase I cancer clinical trials.
J Natl Cancer Inst 101:708-720.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

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
from oncotrials.core.designs.reasons import reason, ruled
from oncotrials.core.designs.simulate import (
    ProgressCallback,
    RngLike,
    SimulationResult,
    summarise,
)
from oncotrials.core.errors import ValidationError
from oncotrials.core.lazy import stats

Variant = Literal["deescalation", "escalation_only"]
VARIANTS: tuple[str, ...] = ("deescalation", "escalation_only")


@dataclass(frozen=True, eq=False)
class ExactOC:
    """Exact operating characteristics of the 3+3 design (sum over every possible trial).

    ``selection[j]`` is P(MTD = dose j) and ``no_selection`` P(no MTD); ``patients`` and
    ``dlts`` are expected counts per dose; ``sample_size`` the expected total.
    """

    truth: tuple[float, ...]
    variant: str
    selection: NDArray[np.float64]
    no_selection: float
    patients: NDArray[np.float64]
    dlts: NDArray[np.float64]
    sample_size: float
    n_paths: int

    def summary(self) -> dict[str, Any]:
        return {
            "design": ThreePlusThree.name,
            "variant": self.variant,
            "truth": list(self.truth),
            "selection_percent": [float(100 * v) for v in self.selection],
            "no_selection_percent": 100 * self.no_selection,
            "patients_per_dose": [float(v) for v in self.patients],
            "dlts_per_dose": [float(v) for v in self.dlts],
            "expected_sample_size": self.sample_size,
            "n_paths": self.n_paths,
        }


def escalation_probability(p: float | NDArray[np.float64]) -> float | NDArray[np.float64]:
    """P(escalating past a dose with DLT rate p) = (1-p)^3 + 3p(1-p)^2 (1-p)^3.

    Storer (1989); Le Tourneau et al. (2009) tabulate 91/71/49/31/17/8/3/1/0.1 % for
    p = 0.1..0.9.
    """
    q = 1.0 - np.asarray(p, dtype=np.float64)
    out = q**3 + 3 * (1 - q) * q**2 * q**3
    return float(out) if out.ndim == 0 else out


@dataclass
class _States:
    n: NDArray[np.int64]
    y: NDArray[np.int64]
    d: NDArray[np.int64]
    mtd: NDArray[np.int64]  # -2 running, -1 stopped without MTD, >= 0 the MTD


def _transition(st: _States, tox: NDArray[np.int64], k: int, variant: str) -> None:
    """Treat 3 patients at each running state's dose with ``tox`` DLTs and apply the rules."""
    idx = np.arange(st.d.size)
    run = st.mtd == -2
    d = st.d
    st.n[idx, d] += np.where(run, 3, 0)
    st.y[idx, d] += np.where(run, tox, 0)
    nd = st.n[idx, d]
    yd = st.y[idx, d]
    above = np.arange(k)[None, :] > d[:, None]
    exceeded_above = ((st.y >= 2) & above).any(axis=1)
    over = yd >= 2
    top = d == k - 1
    low_ok = (nd >= 6) & (yd <= 1)
    escalate = ((nd == 3) & (yd == 0)) | (low_ok & ~exceeded_above)
    mtd_here = (escalate & top) | (low_ok & exceeded_above)
    go_up = escalate & ~top
    # the dose is exceeded
    none = over & (d == 0)
    below = np.maximum(d - 1, 0)
    if variant == "deescalation":
        below_full = st.n[idx, below] >= 6
        mtd_below = over & (d > 0) & below_full
        go_down = over & (d > 0) & ~below_full
    else:
        mtd_below = over & (d > 0)
        go_down = np.zeros_like(over)
    new_mtd = np.where(mtd_here, d, np.where(mtd_below, d - 1, np.where(none, -1, -2)))
    st.mtd = np.where(run, new_mtd, st.mtd)
    st.d = np.where(run & go_up, d + 1, np.where(run & go_down, d - 1, d))


class ThreePlusThree:
    """The 3+3 design.

    Parameters
    ----------
    variant : ``"deescalation"`` (default) or ``"escalation_only"``; see the module docstring.
    """

    name: ClassVar[str] = "3+3"
    label: ClassVar[str] = "3+3"
    aliases: ClassVar[tuple[str, ...]] = ("3plus3", "threeplusthree")
    cohort_size: ClassVar[int] = 3
    escalation_params: ClassVar[Mapping[str, Param]] = {
        "variant": Param("text", "deescalation (default) or escalation_only"),
    }

    def __init__(self, variant: Variant = "deescalation") -> None:
        self.variant = variant

    @classmethod
    def for_escalation(cls, settings: EscalationSettings) -> ThreePlusThree:
        """The 3+3 a cohort's escalation plan runs (cohorts of 3; no target rate)."""
        return cls(**check_escalation_params(cls.name, cls.escalation_params, settings))

    def __repr__(self) -> str:
        return f"ThreePlusThree(variant={self.variant!r})"

    def get_params(self) -> dict[str, Any]:
        return {"variant": self.variant}

    def _validate(self) -> None:
        if self.variant not in VARIANTS:
            raise ValidationError(
                f"3+3 variant must be one of {', '.join(VARIANTS)}; got {self.variant!r}.",
                code="design_3plus3_variant",
                choices=", ".join(VARIANTS),
                variant=repr(self.variant),
            )

    # --- live decision -----------------------------------------------------------------------

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
        for i, dd in enumerate(doses):
            if dd.treated not in (0, 3, 6):
                raise ValidationError(
                    f"Dose {i + 1}: the 3+3 design treats 0, 3 or 6 patients per dose; got "
                    f"{dd.treated}. Record complete cohorts of 3.",
                    code="design_3plus3_cohorts",
                    dose=i + 1,
                    treated=dd.treated,
                )
        n, y = doses[cur].treated, doses[cur].dlts
        if n == 0:
            return Decision(
                Action.STAY,
                cur,
                cur,
                **reason("tpt_untreated", dose=cur + 1),
                **ruled("rule_tpt_untreated"),
            )
        st = _States(
            n=np.array([[dd.treated for dd in doses]], dtype=np.int64),
            y=np.array([[dd.dlts for dd in doses]], dtype=np.int64),
            d=np.array([cur]),
            mtd=np.array([-2]),
        )
        # The rules depend only on the totals: replay the current dose's last cohort of 3.
        last = min(y, 3)
        st.n[0, cur] -= 3
        st.y[0, cur] -= last
        _transition(st, np.array([last]), k, str(self.variant))
        mtd = int(st.mtd[0])
        nxt = int(st.d[0])
        at = {"y": y, "n": n, "dose": cur + 1}
        if mtd == -1:
            return Decision(
                Action.STOP,
                cur,
                None,
                **reason("tpt_lowest_toxic", y=y, n=n),
                **ruled("rule_tpt_lowest_toxic", **at),
            )
        if mtd >= 0:
            return Decision(
                Action.STOP,
                cur,
                None,
                **reason("tpt_mtd", y=y, n=n, dose=cur + 1, mtd=mtd + 1),
                **ruled("rule_tpt_at", **at),
                mtd=mtd,
            )
        if nxt > cur:
            return Decision(
                Action.ESCALATE,
                cur,
                nxt,
                **reason("tpt_escalate", y=y, n=n, dose=cur + 1, next=nxt + 1),
                **ruled("rule_tpt_escalate_3" if n == 3 else "rule_tpt_escalate_6", **at),
            )
        if nxt < cur:
            return Decision(
                Action.DE_ESCALATE,
                cur,
                nxt,
                **reason("tpt_exceed", y=y, n=n, dose=cur + 1, next=nxt + 1),
                **ruled("rule_tpt_exceed", **at),
            )
        return Decision(
            Action.STAY,
            cur,
            cur,
            **reason("tpt_stay", y=y, n=n, dose=cur + 1),
            **ruled("rule_tpt_stay", **at),
        )

    # --- exact operating characteristics -------------------------------------------------------

    def exact(self, truth: Sequence[float], *, start_dose: int = 0) -> ExactOC:
        """Exact OC by enumerating every trial path (``bcrm::threep3``)."""
        self._validate()
        p = check_truth(truth)
        k = p.size
        check_current(start_dose, k)
        pmf = stats.binom.pmf(np.arange(4)[None, :], 3, p[:, None])  # (k, 4)
        st = _States(
            n=np.zeros((1, k), dtype=np.int64),
            y=np.zeros((1, k), dtype=np.int64),
            d=np.array([start_dose]),
            mtd=np.array([-2]),
        )
        w = np.ones(1)
        sel = np.zeros(k)
        none = 0.0
        pats = np.zeros(k)
        dlts = np.zeros(k)
        paths = 0
        for _ in range(2 * k + 1):
            if st.d.size == 0:
                break
            m = st.d.size
            rep = np.repeat(np.arange(m), 4)
            tox = np.tile(np.arange(4), m)
            w = w[rep] * pmf[st.d[rep], tox]
            st = _States(
                n=st.n[rep].copy(), y=st.y[rep].copy(), d=st.d[rep].copy(), mtd=st.mtd[rep].copy()
            )
            keep = w > 0
            w, tox = w[keep], tox[keep]
            st = _States(n=st.n[keep], y=st.y[keep], d=st.d[keep], mtd=st.mtd[keep])
            _transition(st, tox, k, str(self.variant))
            done = st.mtd != -2
            if done.any():
                wd = w[done]
                paths += int(done.sum())
                sel += np.bincount(
                    st.mtd[done][st.mtd[done] >= 0], weights=wd[st.mtd[done] >= 0], minlength=k
                )
                none += float(wd[st.mtd[done] < 0].sum())
                pats += (st.n[done] * wd[:, None]).sum(axis=0)
                dlts += (st.y[done] * wd[:, None]).sum(axis=0)
            run = ~done
            w = w[run]
            st = _States(n=st.n[run], y=st.y[run], d=st.d[run], mtd=st.mtd[run])
        if st.d.size:
            raise RuntimeError("3+3 enumeration did not terminate")  # pragma: no cover
        return ExactOC(
            truth=tuple(float(v) for v in p),
            variant=str(self.variant),
            selection=sel,
            no_selection=none,
            patients=pats,
            dlts=dlts,
            sample_size=float(pats.sum()),
            n_paths=paths,
        )

    # --- simulation ----------------------------------------------------------------------------

    def simulate(
        self,
        truth: Sequence[float],
        *,
        n_trials: int = 10_000,
        rng: RngLike = None,
        start_dose: int = 0,
        progress: ProgressCallback | None = None,
    ) -> SimulationResult:
        """Monte Carlo OC, vectorised over trials (prefer :meth:`exact`, which is exact)."""
        self._validate()
        p = check_truth(truth)
        check_positive_int("n_trials", n_trials)
        k = p.size
        check_current(start_dose, k)
        gen = np.random.default_rng(rng)
        st = _States(
            n=np.zeros((n_trials, k), dtype=np.int64),
            y=np.zeros((n_trials, k), dtype=np.int64),
            d=np.full(n_trials, start_dose, dtype=np.int64),
            mtd=np.full(n_trials, -2, dtype=np.int64),
        )
        steps = 2 * k + 1
        for step in range(steps):
            tox = (gen.random((n_trials, 3)) < p[st.d][:, None]).sum(axis=1)
            _transition(st, tox, k, str(self.variant))
            if progress is not None:
                progress(step + 1, steps)
            if not (st.mtd == -2).any():
                break
        if progress is not None:
            progress(steps, steps)
        sel = np.where(st.mtd >= 0, st.mtd, -1)
        toxic = st.mtd == -1
        return summarise(
            design=self.name,
            truth=p,
            n=st.n,
            y=st.y,
            selected=sel,
            early_stop=toxic,
            settings={
                "variant": self.variant,
                "start_dose": start_dose,
            },
        )


__all__ = ["VARIANTS", "ExactOC", "ThreePlusThree", "escalation_probability"]
