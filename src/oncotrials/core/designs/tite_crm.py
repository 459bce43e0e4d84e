"""TITE-CRM: the CRM with partial follow-up weights for late-onset toxicity (Cheung & Chappell 2000).

A patient still in follow-up without a DLT contributes ``log(1 - w * p)`` to the likelihood,
where ``w`` is the fraction of the observation window already observed (linear weights) or the
adaptive weight of Cheung & Chappell (2000); DLTs and completed patients have ``w = 1``. This is
``dfcrm::titecrm`` (weights capped at 1; ``w = 1`` for every DLT); models, priors and the
recommendation rule are those of :mod:`oncotrials.core.designs.crm`.

References
----------
Cheung YK, Chappell R. Sequential designs for phase I clinical trials with late-onset
toxicities. Biometrics 2000;56:1177-1182.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from oncotrials.core.designs.base import Action, Decision, DoseData, check_doses
from oncotrials.core.designs.crm import (
    DEFAULT_INTERCEPT,
    DEFAULT_SCALE,
    CRMFit,
    Method,
    Model,
    check_model,
    check_patient_data,
    check_positive,
    check_rate,
    check_rates,
    dose_scaled,
    fit_records,
)
from oncotrials.core.errors import ValidationError

Scheme = Literal["linear", "adaptive"]
FloatArray = NDArray[np.float64]

__all__ = ["TITECRM", "TITECRMFit", "tite_weights", "titecrm"]


def tite_weights(
    tox: ArrayLike, followup: ArrayLike, obswin: float, scheme: Scheme = "linear"
) -> FloatArray:
    """Per-patient likelihood weights as ``dfcrm::titecrm``.

    ``linear``: ``followup / obswin``. ``adaptive`` (Cheung & Chappell 2000): piecewise linear
    through the observed DLT times (``followup`` of DLT patients is their time to DLT). Weights
    are capped at 1 and every DLT gets weight 1.
    """
    y = np.asarray(tox, dtype=np.float64).reshape(-1)
    u = np.asarray(followup, dtype=np.float64).reshape(-1)
    obswin = check_positive("obswin", obswin)
    if u.size != y.size:
        raise ValidationError(
            f"followup must have one entry per patient; got {u.size} follow-up times for "
            f"{y.size} patients."
        )
    if np.any(u < 0) or not np.all(np.isfinite(u)):
        i = int(np.argmax((u < 0) | ~np.isfinite(u)))
        raise ValidationError(
            f"followup must be non-negative times; got {u[i].item()!r} for patient {i}."
        )
    if scheme == "linear":
        w = u / obswin
    elif scheme == "adaptive":
        support = np.sort(u[y == 1])
        z = support.size
        if z == 0:
            w = u / obswin
        else:
            w = np.empty_like(u)
            for i, fi in enumerate(u):
                m = int(np.sum(support <= fi))
                if m == 0:
                    w[i] = fi / support[0] / (z + 1)
                elif m == z:
                    w[i] = (z + (fi - support[z - 1]) / (obswin - support[z - 1])) / (z + 1)
                else:
                    w[i] = (m + (fi - support[m - 1]) / (support[m] - support[m - 1])) / (z + 1)
    else:
        raise ValidationError(f"scheme must be 'linear' or 'adaptive'; got {scheme!r}.")
    w = np.minimum(w, 1.0)
    w[y == 1] = 1.0
    return np.asarray(w, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class TITECRMFit:
    """A TITE-CRM fit: the CRM fit and the weights used."""

    fit: CRMFit
    weights: tuple[float, ...]

    @property
    def mtd(self) -> int:
        return self.fit.mtd

    @property
    def estimate(self) -> float:
        return self.fit.estimate


def titecrm(
    skeleton: ArrayLike,
    target: float,
    tox: ArrayLike,
    level: ArrayLike,
    *,
    followup: ArrayLike | None = None,
    obswin: float | None = None,
    weights: ArrayLike | None = None,
    scheme: Scheme = "linear",
    method: Method = "bayes",
    model: Model = "empiric",
    intcpt: float = DEFAULT_INTERCEPT,
    scale: float = DEFAULT_SCALE,
    conf_level: float = 0.90,
    var_est: bool = True,
) -> TITECRMFit:
    """Fit the TITE-CRM to per-patient data, as ``dfcrm::titecrm``.

    Give either ``weights`` directly, or ``followup`` (time observed, or time to DLT) and
    ``obswin`` (the DLT observation window) with ``scheme``. ``level`` holds **0-based** doses.

    References
    ----------
    Cheung YK, Chappell R. Biometrics 2000;56:1177-1182.
    """
    skel = check_rates("skeleton", skeleton, increasing=True)
    check_rate("target", target)
    check_model(model)
    check_positive("scale", scale)
    check_rate("conf_level", conf_level)
    dose_scaled(skel, model, intcpt)
    y, lv = check_patient_data(skel.size, tox, level)
    if weights is None:
        if followup is None or obswin is None:
            raise ValidationError(
                "titecrm needs either weights, or followup and obswin to compute them."
            )
        w = tite_weights(y, followup, obswin, scheme)
    else:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.size != y.size:
            raise ValidationError(
                f"weights must have one entry per patient; got {w.size} weights for "
                f"{y.size} patients."
            )
        if np.any((w < 0) | (w > 1)):
            i = int(np.argmax((w < 0) | (w > 1)))
            raise ValidationError(
                f"weights must lie in [0, 1]; got {w[i].item()!r} for patient {i}."
            )
        w = w.copy()
        w[y == 1] = 1.0
    fit = fit_records(
        skel,
        float(target),
        lv,
        y,
        1.0 - y,
        w,
        method=method,
        model=model,
        intcpt=intcpt,
        scale=scale,
        conf_level=conf_level,
        var_est=var_est,
        mle_num_bound=10.0,  # titecrm integrates E[beta^2] on (-10, 10), crm on (-100, 100)
    )
    return TITECRMFit(fit=fit, weights=tuple(float(v) for v in w))


@dataclass(frozen=True, slots=True)
class TITECRM:
    """TITE-CRM as a design over per-dose data with pending patients.

    Each :class:`DoseData` counts ``treated`` patients (including the ``pending`` ones still in
    their DLT window), ``dlts`` observed DLTs, and ``follow_up`` gives, per pending patient,
    the fraction of the window observed (its linear weight). Completed patients without a DLT
    weigh 1. ``no_skip`` limits escalation to one level above the current dose (dfcrm's
    ``titesim`` restriction); ``safety_threshold`` is not offered here (use :class:`CRM`).
    """

    skeleton: tuple[float, ...]
    target: float
    model: Model = "empiric"
    intcpt: float = DEFAULT_INTERCEPT
    scale: float = DEFAULT_SCALE
    no_skip: bool = True

    def fit(self, data: Sequence[DoseData]) -> CRMFit:
        skel = check_rates("skeleton", self.skeleton, increasing=True)
        check_rate("target", self.target)
        check_model(self.model)
        check_doses(data, n_doses=skel.size)
        dose: list[int] = []
        dlt: list[float] = []
        nontox: list[float] = []
        w: list[float] = []
        for k, d in enumerate(data):
            if d.pending > d.treated - d.dlts:
                raise ValidationError(
                    f"Dose {k}: pending={d.pending} exceeds the {d.treated - d.dlts} treated "
                    "patients without a DLT; pending patients are counted in treated."
                )
            if len(d.follow_up) != d.pending:
                raise ValidationError(
                    f"Dose {k}: follow_up must give one fraction per pending patient; got "
                    f"{len(d.follow_up)} values for pending={d.pending}."
                )
            bad = [f for f in d.follow_up if not (0.0 <= f <= 1.0) or math.isnan(f)]
            if bad:
                raise ValidationError(
                    f"Dose {k}: follow_up fractions must lie in [0, 1]; got {bad[0]!r}."
                )
            complete = d.treated - d.dlts - d.pending
            dose += [k, k]
            dlt += [float(d.dlts), 0.0]
            nontox += [0.0, float(complete)]
            w += [1.0, 1.0]
            for f in d.follow_up:
                dose.append(k)
                dlt.append(0.0)
                nontox.append(1.0)
                w.append(float(f))
        return fit_records(
            skel,
            float(self.target),
            np.asarray(dose, dtype=np.int64),
            np.asarray(dlt),
            np.asarray(nontox),
            np.asarray(w),
            method="bayes",
            model=self.model,
            intcpt=self.intcpt,
            scale=self.scale,
            conf_level=0.9,
        )

    def get_params(self) -> dict[str, object]:
        """The constructor parameters (estimator contract)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    def decide(self, data: Sequence[DoseData], current: int) -> Decision:
        """Dose for the next patient given the data so far (pending patients weighted)."""
        fit = self.fit(data)
        k = len(self.skeleton)
        if isinstance(current, bool) or not (0 <= int(current) < k):
            raise ValidationError(
                f"current dose must be a 0-based dose index in 0..{k - 1}; got {current!r}."
            )
        current_dose = int(current)
        nxt = fit.mtd
        rule = f"model recommends dose {fit.mtd}"
        if self.no_skip and nxt > current_dose + 1:
            nxt = current_dose + 1
            rule += "; no skipping: at most one level up"
        action = (
            Action.ESCALATE
            if nxt > current_dose
            else Action.DE_ESCALATE
            if nxt < current_dose
            else Action.STAY
        )
        pend = sum(d.pending for d in data)
        est = ", ".join(f"{p:.3f}" for p in fit.ptox)
        return Decision(
            action=action,
            current_dose=current_dose,
            next_dose=nxt,
            reason=(
                f"TITE-CRM posterior mean of beta {fit.estimate:.4f} with {pend} pending "
                f"patient(s) weighted by follow-up; DLT estimates [{est}] for target "
                f"{self.target:g}."
            ),
            rule=rule,
        )
