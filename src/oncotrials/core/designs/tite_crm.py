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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from oncotrials.core.designs.base import (
    Action,
    Decision,
    DoseData,
    EscalationSettings,
    Param,
    as_dose_data,
    check_current,
    check_doses,
    check_escalation_params,
    check_truth,
)
from oncotrials.core.designs.crm import (
    DEFAULT_INTERCEPT,
    DEFAULT_SCALE,
    CRMFit,
    CRMSimulation,
    Method,
    Model,
    check_model,
    check_patient_data,
    check_positive,
    check_rate,
    check_rates,
    dose_scaled,
    fit_records,
    recommend,
)
from oncotrials.core.designs.crm import _check_int as check_int
from oncotrials.core.designs.crm import _grid_posterior as grid_posterior
from oncotrials.core.designs.crm import _log_p as log_p
from oncotrials.core.designs.crm import _make_grid as make_grid
from oncotrials.core.designs.reasons import explain, reason, rule_parts, ruled
from oncotrials.core.errors import ValidationError

Scheme = Literal["linear", "adaptive"]
FloatArray = NDArray[np.float64]

__all__ = ["TITECRM", "TITECRMFit", "simulate_tite_crm", "tite_weights", "titecrm"]


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
            f"{y.size} patients.",
            code="design_titecrm_followup_count",
            n_followup=u.size,
            n_patients=y.size,
        )
    if np.any(u < 0) or not np.all(np.isfinite(u)):
        i = int(np.argmax((u < 0) | ~np.isfinite(u)))
        raise ValidationError(
            f"followup must be non-negative times; got {u[i].item()!r} for patient {i}.",
            code="design_titecrm_followup",
            value=repr(u[i].item()),
            i=i,
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
        raise ValidationError(
            f"scheme must be 'linear' or 'adaptive'; got {scheme!r}.",
            code="design_titecrm_scheme",
            scheme=repr(scheme),
        )
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
                "titecrm needs either weights, or followup and obswin to compute them.",
                code="design_titecrm_weights_needed",
            )
        w = tite_weights(y, followup, obswin, scheme)
    else:
        w = np.asarray(weights, dtype=np.float64).reshape(-1)
        if w.size != y.size:
            raise ValidationError(
                f"weights must have one entry per patient; got {w.size} weights for "
                f"{y.size} patients.",
                code="design_titecrm_weights_count",
                n_weights=w.size,
                n_patients=y.size,
            )
        if np.any((w < 0) | (w > 1)):
            i = int(np.argmax((w < 0) | (w > 1)))
            raise ValidationError(
                f"weights must lie in [0, 1]; got {w[i].item()!r} for patient {i}.",
                code="design_titecrm_weights",
                value=repr(w[i].item()),
                i=i,
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

    name: ClassVar[str] = "tite-crm"
    label: ClassVar[str] = "TITE-CRM"
    aliases: ClassVar[tuple[str, ...]] = ("titecrm",)
    uses_follow_up: ClassVar[bool] = True
    escalation_params: ClassVar[Mapping[str, Param]] = {
        "skeleton": Param("per-dose numbers", "prior DLT guesses per dose level", required=True),
        "model": Param("text", "empiric (default) or logistic"),
        "no_skip": Param("boolean", "at most one level up, default true"),
        "dlt_window_days": Param(
            "integer", "DLT window in days, to weigh pending patients by their follow-up"
        ),
    }

    skeleton: tuple[float, ...]
    target: float
    model: Model = "empiric"
    intcpt: float = DEFAULT_INTERCEPT
    scale: float = DEFAULT_SCALE
    no_skip: bool = True

    @classmethod
    def for_escalation(cls, settings: EscalationSettings) -> TITECRM:
        """The TITE-CRM a cohort's escalation plan runs (the DLT window weighs pending patients)."""
        params = check_escalation_params(cls.name, cls.escalation_params, settings)
        params.pop("dlt_window_days", None)
        return cls(target=settings.target_for(cls.name), **params)

    def fit(self, data: Sequence[DoseData | tuple[int, int]]) -> CRMFit:
        """Fit to per-dose data (DoseData with pending follow-up, or (treated, dlts) pairs)."""
        skel = check_rates("skeleton", self.skeleton, increasing=True)
        data = as_dose_data(data)
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
                    "patients without a DLT; pending patients are counted in treated.",
                    code="design_titecrm_pending_exceeds",
                    k=k,
                    pending=d.pending,
                    without_dlt=d.treated - d.dlts,
                )
            if len(d.follow_up) != d.pending:
                raise ValidationError(
                    f"Dose {k}: follow_up must give one fraction per pending patient; got "
                    f"{len(d.follow_up)} values for pending={d.pending}.",
                    code="design_titecrm_follow_up_count",
                    k=k,
                    count=len(d.follow_up),
                    pending=d.pending,
                )
            bad = [f for f in d.follow_up if not (0.0 <= f <= 1.0) or math.isnan(f)]
            if bad:
                raise ValidationError(
                    f"Dose {k}: follow_up fractions must lie in [0, 1]; got {bad[0]!r}.",
                    code="design_titecrm_follow_up_fraction",
                    k=k,
                    value=repr(bad[0]),
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

    def simulate(
        self,
        truth: ArrayLike,
        *,
        n_trials: int = 10_000,
        n_patients: int = 24,
        rate: float = 1.0,
        accrual: Literal["fixed", "poisson"] = "fixed",
        start_dose: int = 0,
        rng: np.random.Generator | int | None = None,
    ) -> CRMSimulation:
        """Operating characteristics of this design (see :func:`simulate_tite_crm`)."""
        return simulate_tite_crm(
            truth,
            self.skeleton,
            self.target,
            n_patients=n_patients,
            rate=rate,
            accrual=accrual,
            n_trials=n_trials,
            start_dose=start_dose,
            model=self.model,
            intcpt=self.intcpt,
            scale=self.scale,
            restrict=self.no_skip,
            rng=rng,
        )

    def decide(self, data: Sequence[DoseData | tuple[int, int]], current: int) -> Decision:
        """Dose for the next patient given the data so far (pending patients weighted)."""
        data = as_dose_data(data)
        fit = self.fit(data)
        k = len(self.skeleton)
        current_dose = check_current(current, k)
        if all(d.treated == 0 for d in data):
            return Decision(
                action=Action.STAY,
                current_dose=current_dose,
                next_dose=current_dose,
                **reason("model_untreated_cohort", dose=current_dose + 1),
                **ruled("rule_untreated"),
            )
        nxt = fit.mtd
        rules = [explain("rule_titecrm_model", dose=fit.mtd + 1)]
        if self.no_skip and nxt > current_dose + 1:
            nxt = current_dose + 1
            rules.append(explain("rule_no_skipping"))
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
            **reason(
                "titecrm_posterior",
                beta=f"{fit.estimate:.4f}",
                pending=pend,
                estimates=est,
                target=f"{self.target:g}",
            ),
            **ruled(rule_parts(*rules)),
        )


def simulate_tite_crm(
    truth: ArrayLike,
    skeleton: ArrayLike,
    target: float,
    *,
    n_patients: int = 24,
    obswin: float = 1.0,
    rate: float = 1.0,
    accrual: Literal["fixed", "poisson"] = "fixed",
    n_trials: int = 10_000,
    start_dose: int = 0,
    model: Model = "empiric",
    intcpt: float = DEFAULT_INTERCEPT,
    scale: float = DEFAULT_SCALE,
    restrict: bool = True,
    n_grid: int = 201,
    rng: np.random.Generator | int | None = None,
) -> CRMSimulation:
    """Simulate the TITE-CRM over many trials at once (``dfcrm::titesim`` semantics, one stage).

    Patients arrive one at a time, every ``obswin / rate`` (``accrual="fixed"``) or after
    exponential gaps with mean ``obswin / rate`` (``"poisson"``); a patient with a DLT has it at
    a uniform time within the window. At each arrival the TITE-CRM (linear weights) is fitted to
    what is known then, and the new patient gets the recommended dose, with ``restrict=True``
    at most one level above the previous patient's dose. The selected dose is the CRM
    recommendation once every patient has completed follow-up. ``mean_duration`` is the mean
    time from the start to the end of the last patient's window.

    All trials advance together on a fixed grid posterior (see :func:`simulate_crm`);
    completed patients enter as per-dose counts and pending ones as weighted terms.
    """
    skel = check_rates("skeleton", skeleton, increasing=True)
    check_rate("target", target)
    check_model(model)
    check_positive("scale", scale)
    dose_scaled(skel, model, intcpt)
    k = skel.size
    tr = check_truth(np.asarray(truth, dtype=np.float64).tolist())
    if tr.size != k:
        raise ValidationError(
            f"truth has {tr.size} dose levels but the skeleton has {k}; give one true rate per "
            "dose.",
            code="design_truth_skeleton",
            size=tr.size,
            k=k,
        )
    n_patients = check_int("n_patients", n_patients, 2)
    n_trials = check_int("n_trials", n_trials, 1)
    n_grid = check_int("n_grid", n_grid, 51)
    obswin = check_positive("obswin", obswin)
    rate = check_positive("rate", rate)
    if accrual not in ("fixed", "poisson"):
        raise ValidationError(
            f"accrual must be 'fixed' or 'poisson'; got {accrual!r}.",
            code="design_titecrm_accrual",
            accrual=repr(accrual),
        )
    if isinstance(start_dose, bool) or not (0 <= int(start_dose) < k):
        raise ValidationError(
            f"start_dose must be a 0-based dose index in 0..{k - 1}; got {start_dose!r}.",
            code="design_start_dose",
            last=k - 1,
            start_dose=repr(start_dose),
        )
    seed = rng if isinstance(rng, int) and not isinstance(rng, bool) else None
    gen = np.random.default_rng(rng)
    u_tox = gen.random((n_trials, n_patients))
    u_time = gen.random((n_trials, n_patients))
    gap = obswin / rate
    if accrual == "fixed":
        arrival = np.broadcast_to(gap * np.arange(1, n_patients + 1), (n_trials, n_patients))
    else:
        arrival = np.cumsum(gen.exponential(gap, (n_trials, n_patients)), axis=1)

    grid = make_grid(skel, model, intcpt, scale, n_grid)
    p_grid = np.exp(grid.log_p)  # (K, G)
    x_scaled = dose_scaled(skel, model, intcpt)
    rows = np.arange(n_trials)
    dose = np.zeros((n_trials, n_patients), dtype=np.int64)
    dlt = np.zeros((n_trials, n_patients), dtype=bool)
    utox = np.full((n_trials, n_patients), np.inf)
    cur = np.full(n_trials, int(start_dose), dtype=np.int64)
    onehot = np.eye(k)
    for i in range(n_patients):
        dose[:, i] = cur
        dlt[:, i] = u_tox[:, i] < tr[cur]
        utox[:, i] = np.where(dlt[:, i], arrival[:, i] + u_time[:, i] * obswin, np.inf)
        if i == n_patients - 1:
            break
        t = arrival[:, i + 1][:, None]  # the next patient's arrival
        seen = slice(0, i + 1)
        observed = utox[:, seen] <= t
        w = np.minimum((t - arrival[:, seen]) / obswin, 1.0)
        complete = ~observed & (w >= 1.0)
        oh = onehot[dose[:, seen]]  # (T, i+1, K)
        n_dlt = np.einsum("tj,tjk->tk", observed.astype(np.float64), oh)
        n_ok = np.einsum("tj,tjk->tk", complete.astype(np.float64), oh)
        pending = ~observed & (w < 1.0)
        cols = np.nonzero(pending.any(axis=0))[0]
        if accrual == "fixed":
            # Pending weights are shared by all trials: a trial's posterior depends only on its
            # counts and on the doses of its pending patients, so compute each state once.
            pend_dose = np.where(pending[:, cols], dose[:, cols] + 1, 0)
            state = np.ascontiguousarray(np.hstack([n_dlt, n_ok, pend_dose]).astype(np.int32))
            keys = state.view(np.dtype((np.void, 4 * state.shape[1]))).reshape(-1)
            _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        else:
            first = rows
            inverse = rows
        logpost = n_dlt[first] @ grid.log_p + n_ok[first] @ grid.log_1mp + grid.log_prior_w
        for j in cols:
            pj = np.nonzero(pending[first, j])[0]
            dj = dose[first[pj], j]
            if accrual == "fixed":
                table = np.log1p(-w[0, j] * p_grid)  # (K, G), the same weight in every trial
                logpost[pj] += table[dj]
            else:
                logpost[pj] += np.log1p(-w[first[pj], j, None] * p_grid[dj])
        logpost -= logpost.max(axis=1, keepdims=True)
        np.exp(logpost, out=logpost)
        mean = ((logpost @ grid.beta) / logpost.sum(axis=1))[inverse]
        rec = recommend(np.exp(log_p(mean, x_scaled, model, intcpt)), target)
        cur = np.minimum(rec, cur + 1) if restrict else rec

    n = np.zeros((n_trials, k))
    y = np.zeros((n_trials, k))
    np.add.at(n, (np.repeat(rows, n_patients), dose.ravel()), 1.0)
    np.add.at(y, (np.repeat(rows, n_patients), dose.ravel()), dlt.ravel().astype(np.float64))
    mean, _ = grid_posterior(grid, n, y)
    final = recommend(np.exp(log_p(mean, x_scaled, model, intcpt)), target)
    sel = np.bincount(final, minlength=k) / n_trials
    duration = arrival[:, -1] + obswin
    return CRMSimulation(
        truth=tuple(float(v) for v in tr),
        skeleton=tuple(float(v) for v in skel),
        target=float(target),
        n_trials=n_trials,
        n_patients=n_patients,
        cohort_size=1,
        selection=np.asarray(sel, dtype=np.float64),
        no_selection=float(1.0 - np.sum(sel)),
        patients=n.mean(axis=0),
        dlts=y.mean(axis=0),
        early_stop=0.0,
        mean_n=float(n.sum(axis=1).mean()),
        mean_dlts=float(y.sum(axis=1).mean()),
        seed=seed,
        selected=final.astype(np.int64),
        mean_duration=float(duration.mean()),
        design=TITECRM.name,
    )
