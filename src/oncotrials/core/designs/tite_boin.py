"""TITE-BOIN: BOIN for late-onset toxicity, with patients still inside the DLT window.

A pending patient counts for the fraction of the assessment window already observed: the
effective sample size at a dose is ``ESS = n - n_pending + STFT`` where STFT is the standardised
total follow-up time of the pending patients, and the DLT rate is estimated by ``y / ESS``
(``y / n`` when nobody is pending), then compared with BOIN's ``lambda_e`` and ``lambda_d``.
Accrual is suspended while more than ``max_pending`` (default 50%) of the patients at the current
dose are pending. The elimination and extra-safe rules use the full ``n`` (not the ESS), from 3
patients. Decisions and MTD selection follow ``next_TITE_QuasiBOIN`` and
``select_mtd_TITE_QuasiBOIN`` of TITEgBOIN 0.2.1 (Beta(0.005, 0.005) prior for the isotonic
estimates).

Data: each dose's :class:`~oncotrials.core.designs.base.DoseData` gives ``treated`` (all
patients, pending included), ``dlts`` (observed), ``pending`` and ``follow_up`` (for each pending
patient, the fraction of the window observed so far, in [0, 1)).

References
----------
Yuan Y, Lin R, Li D, Nie L, Warren KE (2018). Time-to-event Bayesian optimal interval design to
accelerate phase I trials. Clin Cancer Res 24(20):4921-4930.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from oncotrials.core.designs.base import (
    Action,
    Decision,
    DoseData,
    EscalationSettings,
    Param,
    as_dose_data,
    check_current,
    check_escalation_params,
)
from oncotrials.core.designs.boin import BOIN, boin_lambdas
from oncotrials.core.designs.interval import MTDSelection
from oncotrials.core.designs.isotonic import elimination_mask, isotonic_select
from oncotrials.core.designs.reasons import explain, reason, ruled
from oncotrials.core.errors import ValidationError

#: TITEgBOIN's prior for the isotonic estimates at selection (BOIN uses 0.05).
SELECTION_PRIOR = 0.005


class TITEBOIN:
    """Time-to-event BOIN (live decisions and MTD selection).

    Parameters are those of :class:`~oncotrials.core.designs.boin.BOIN` plus ``max_pending``,
    the largest fraction of pending patients at the current dose that still allows a decision.
    """

    name: ClassVar[str] = "tite-boin"
    label: ClassVar[str] = "TITE-BOIN"
    aliases: ClassVar[tuple[str, ...]] = ("titeboin",)
    #: pending patients count in ``treated``, with their follow-up (time-to-event design)
    uses_follow_up: ClassVar[bool] = True
    escalation_params: ClassVar[Mapping[str, Param]] = {
        **BOIN.escalation_params,
        "max_pending": Param("number", "largest pending share at the current dose, default 0.5"),
        "dlt_window_days": Param(
            "integer", "DLT window in days, to weigh pending patients by their follow-up"
        ),
    }

    def __init__(
        self,
        target: float = 0.3,
        *,
        cohort_size: int = 3,
        n_cohorts: int = 12,
        n_earlystop: int = 100,
        p_saf: float | None = None,
        p_tox: float | None = None,
        cutoff_eli: float = 0.95,
        extrasafe: bool = False,
        offset: float = 0.05,
        max_pending: float = 0.5,
    ) -> None:
        self.target = target
        self.cohort_size = cohort_size
        self.n_cohorts = n_cohorts
        self.n_earlystop = n_earlystop
        self.p_saf = p_saf
        self.p_tox = p_tox
        self.cutoff_eli = cutoff_eli
        self.extrasafe = extrasafe
        self.offset = offset
        self.max_pending = max_pending

    @classmethod
    def for_escalation(cls, settings: EscalationSettings) -> TITEBOIN:
        """The design a cohort's escalation plan runs (the DLT window weighs pending patients)."""
        params = check_escalation_params(cls.name, cls.escalation_params, settings)
        params.pop("dlt_window_days", None)
        return cls(
            settings.target_for(cls.name),
            cohort_size=settings.cohort_size,
            n_cohorts=settings.n_cohorts,
            **params,
        )

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"TITEBOIN({params})"

    def get_params(self) -> dict[str, Any]:
        return dict(vars(self))

    def _boin(self) -> BOIN:
        return BOIN(
            self.target,
            cohort_size=self.cohort_size,
            n_cohorts=self.n_cohorts,
            n_earlystop=self.n_earlystop,
            p_saf=self.p_saf,
            p_tox=self.p_tox,
            cutoff_eli=self.cutoff_eli,
            extrasafe=self.extrasafe,
            offset=self.offset,
        )

    def _validate(self) -> BOIN:
        b = self._boin()
        b._validate()
        if not 0 < self.max_pending <= 1:
            raise ValidationError(
                f"TITE-BOIN max_pending must lie in (0, 1]; got {self.max_pending!r}.",
                code="design_tite_boin_max_pending",
                max_pending=repr(self.max_pending),
            )
        return b

    @staticmethod
    def _check_pending(doses: Sequence[DoseData]) -> None:
        for i, d in enumerate(doses):
            if d.pending > d.treated - d.dlts:
                raise ValidationError(
                    f"Dose {i}: {d.pending} pending patients but only {d.treated - d.dlts} "
                    f"treated without a DLT; pending patients are counted in treated.",
                    code="design_pending_exceeds",
                    i=i,
                    pending=d.pending,
                    without_dlt=d.treated - d.dlts,
                )
            if d.follow_up and len(d.follow_up) != d.pending:
                raise ValidationError(
                    f"Dose {i}: follow_up lists {len(d.follow_up)} fractions for {d.pending} "
                    "pending patients; give one fraction per pending patient.",
                    code="design_follow_up_count",
                    i=i,
                    count=len(d.follow_up),
                    pending=d.pending,
                )
            for f in d.follow_up:
                if not 0 <= f < 1:
                    raise ValidationError(
                        f"Dose {i}: follow-up fractions must lie in [0, 1) (the share of the DLT "
                        f"window observed); got {f!r}.",
                        code="design_follow_up_fraction",
                        i=i,
                        f=repr(f),
                    )

    def effective_sample_size(self, dose: DoseData) -> float:
        """``n - n_pending + STFT`` (TITEgBOIN's ``e_n``)."""
        return dose.treated - dose.pending + float(sum(dose.follow_up))

    def decide(self, data: Sequence[DoseData | tuple[int, int]], current: int) -> Decision:
        """The next action (including SUSPEND while too many patients are pending)."""
        boin = self._validate()
        doses = as_dose_data(data)
        k = len(doses)
        if k == 0:
            raise ValidationError(
                "data must hold one entry per dose level; got none.",
                code="design_no_data",
            )
        self._check_pending(doses)
        cur = check_current(current, k)
        t = float(self.target)
        lam_e, lam_d = boin_lambdas(*boin._probs())
        n = np.array([[d.treated for d in doses]], dtype=np.int64)
        y = np.array([[d.dlts for d in doses]], dtype=np.int64)
        extra = self.cutoff_eli - self.offset if self.extrasafe else None
        el_mask = elimination_mask(
            n, y, target=t, cutoff=self.cutoff_eli, min_n=3, extrasafe_cutoff=extra
        )[0]
        elim = tuple(int(i) for i in np.flatnonzero(el_mask))
        here = doses[cur]
        if 0 in elim:
            return Decision(
                Action.STOP,
                cur,
                None,
                **reason("lowest_overly_toxic", dlts=doses[0].dlts, treated=doses[0].treated),
                **ruled("rule_tite_elimination"),
                eliminated=elim,
            )
        if cur in elim:
            nxt = min(elim) - 1
            return Decision(
                Action.ELIMINATE,
                cur,
                nxt,
                **reason("tite_eliminated", first=min(elim) + 1, next=nxt + 1),
                **ruled("rule_tite_elimination"),
                eliminated=elim,
            )
        if here.treated == 0:
            return Decision(
                Action.STAY,
                cur,
                cur,
                **reason("untreated_next_cohort_short", dose=cur + 1),
                **ruled("rule_untreated"),
                eliminated=elim,
            )
        if sum(d.treated for d in doses) >= self.cohort_size * self.n_cohorts and not any(
            d.pending for d in doses
        ):
            sel = self.select_mtd(doses)
            return Decision(
                Action.STOP,
                cur,
                None,
                **(
                    reason("tite_max_sample_select", mtd=sel.dose + 1)
                    if sel.dose is not None
                    else reason("tite_max_sample_none")
                ),
                **ruled("rule_tite_sample_size"),
                eliminated=elim,
                mtd=sel.dose,
            )
        if here.pending > here.treated * self.max_pending:
            return Decision(
                Action.SUSPEND,
                cur,
                cur,
                **reason(
                    "tite_too_many_pending",
                    pending=here.pending,
                    treated=here.treated,
                    dose=cur + 1,
                    share=f"{self.max_pending:.0%}",
                ),
                **ruled("rule_tite_too_many_pending", share=self.max_pending),
                eliminated=elim,
            )
        ess = self.effective_sample_size(here)
        phat = here.dlts / here.treated if here.pending == 0 else here.dlts / ess
        rule = ruled(
            "rule_tite_boundaries",
            ess=f"{ess:.3g}",
            p_hat=f"{phat:.3f}",
            escalate=explain("rule_tite_escalate_if", p_hat=f"{lam_e:.4f}"),
            deescalate=explain("rule_tite_deescalate_if", p_hat=f"{lam_d:.4f}"),
        )
        top = cur == k - 1
        if phat <= lam_e:
            if top or (cur + 1) in elim:
                action, nxt = Action.STAY, cur
                why = explain("stay_highest" if top else "stay_next_eliminated")
            else:
                action, nxt, why = Action.ESCALATE, cur + 1, explain("escalate_to", dose=cur + 2)
        elif phat >= lam_d:
            if cur == 0:
                if here.pending > 0:
                    return Decision(
                        Action.SUSPEND,
                        cur,
                        cur,
                        **reason("tite_lowest_pending", p_hat=f"{phat:.3f}", pending=here.pending),
                        **rule,
                        eliminated=elim,
                    )
                action, nxt, why = Action.STAY, cur, explain("stay_lowest")
            else:
                action, nxt, why = Action.DE_ESCALATE, cur - 1, explain("deescalate_to", dose=cur)
        else:
            action, nxt, why = Action.STAY, cur, explain("stay_at", dose=cur + 1)
        if action is Action.STAY and here.treated >= self.n_earlystop:
            sel = self.select_mtd(doses)
            return Decision(
                Action.STOP,
                cur,
                None,
                **(
                    reason(
                        "tite_earlystop_select", count=here.treated, dose=cur + 1, mtd=sel.dose + 1
                    )
                    if sel.dose is not None
                    else reason("tite_earlystop_none", count=here.treated, dose=cur + 1)
                ),
                **rule,
                eliminated=elim,
                mtd=sel.dose,
            )
        return Decision(
            action,
            cur,
            nxt,
            **reason(
                "tite_observed",
                dlts=here.dlts,
                pending=here.pending,
                treated=here.treated,
                dose=cur + 1,
                action=why,
            ),
            **rule,
            eliminated=elim,
        )

    def select_mtd(self, data: Sequence[DoseData | tuple[int, int]]) -> MTDSelection:
        """Isotonic MTD selection on the evaluated data (``select_mtd_TITE_QuasiBOIN``)."""
        self._validate()
        doses = as_dose_data(data)
        if not doses:
            raise ValidationError(
                "data must hold one entry per dose level; got none.",
                code="design_no_data",
            )
        n = np.array([[d.treated for d in doses]], dtype=np.int64)
        y = np.array([[d.dlts for d in doses]], dtype=np.int64)
        extra = self.cutoff_eli - self.offset if self.extrasafe else None
        elim = elimination_mask(
            n,
            y,
            target=float(self.target),
            cutoff=self.cutoff_eli,
            min_n=3,
            extrasafe_cutoff=extra,
        )
        pick = int(isotonic_select(n, y, elim, target=float(self.target), prior=SELECTION_PRIOR)[0])
        base = self._boin().select_mtd(doses)
        why = (
            explain("mtd_isotonic", dose=pick + 1, target=self.target)
            if pick >= 0
            else explain("mtd_none")
        )
        return MTDSelection(
            dose=pick if pick >= 0 else None,
            eliminated=tuple(int(i) for i in np.flatnonzero(elim[0])),
            estimates=base.estimates,
            ci_lower=base.ci_lower,
            ci_upper=base.ci_upper,
            p_overdose=base.p_overdose,
            reason=str(why),
            explained=why,
        )


__all__ = ["TITEBOIN"]
