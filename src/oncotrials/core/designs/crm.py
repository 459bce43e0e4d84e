"""Continual reassessment method (CRM): skeleton calibration, posterior, live decision, simulation.

The models, priors and estimators follow ``dfcrm`` (Cheung 2011) so that results agree with
``dfcrm::crm`` and ``dfcrm::getprior`` to floating-point precision:

* ``model="empiric"`` (power model): ``p_k = skeleton_k ** exp(beta)``.
* ``model="logistic"`` (one-parameter logistic with a fixed intercept ``a``, default 3):
  ``logit p_k = a + exp(beta) * x_k`` with scaled doses ``x_k = logit(skeleton_k) - a``,
  so that ``beta = 0`` reproduces the skeleton.
* Prior ``beta ~ N(0, scale**2)`` with ``scale = sqrt(1.34)``.
* Bayesian estimate: the posterior mean of ``beta``, with the denominator integrated over the
  real line and the numerators over ``(-10, 10)`` exactly as ``dfcrm``. The toxicity estimates
  are the plug-in ``p_k(E[beta])`` (not the posterior mean of ``p_k``).
* Likelihood estimate: the maximiser of the log-likelihood on ``(-10, 10)``.
* Recommended dose: the dose whose estimate is closest to the target (all estimates below the
  target: the top dose; all above: the lowest).

Dose levels are 0-based indices everywhere in this module except in :func:`getprior`, whose
``nu`` keeps the 1-based meaning of ``dfcrm::getprior``.

References
----------
O'Quigley J, Pepe M, Fisher L. Continual reassessment method: a practical design for phase 1
clinical trials in cancer. Biometrics 1990;46:33-48.
Lee SM, Cheung YK. Model calibration in the continual reassessment method. Clin Trials
2009;6:227-238.
Cheung YK. Dose Finding by the Continual Reassessment Method. Chapman & Hall/CRC, 2011.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
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
from oncotrials.core.designs.reasons import explain, reason, rule_parts, ruled
from oncotrials.core.errors import ValidationError
from oncotrials.core.lazy import integrate, optimize, stats

Model = Literal["empiric", "logistic"]
Method = Literal["bayes", "mle"]

DEFAULT_SCALE = math.sqrt(1.34)
DEFAULT_INTERCEPT = 3.0
_NUM_BOUND = 10.0  # dfcrm integrates the numerators (and maximises the likelihood) on (-10, 10)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = [
    "CRM",
    "CRMFit",
    "CRMPathway",
    "CRMSimulation",
    "crm",
    "crm_pathways",
    "dose_scaled",
    "getprior",
    "ptox_from_beta",
    "simulate_crm",
]


# ---------------------------------------------------------------------------------------------
# Validation helpers (shared with the TITE-CRM and EWOC modules)
# ---------------------------------------------------------------------------------------------


def check_rate(name: str, value: float) -> float:
    """A probability strictly inside (0, 1)."""
    v = float(value)
    if not (0.0 < v < 1.0) or math.isnan(v):
        raise ValidationError(
            f"{name} must lie in (0, 1); got {value!r}.",
            code="design_probability",
            name=name,
            value=repr(value),
        )
    return v


def check_rates(name: str, values: ArrayLike, *, increasing: bool = False) -> FloatArray:
    """A non-empty vector of probabilities in (0, 1), optionally strictly increasing."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValidationError(
            f"{name} must be a non-empty list of probabilities; got {values!r}.",
            code="design_probabilities_empty",
            name=name,
            values=repr(values),
        )
    bad = [i for i, v in enumerate(arr) if not (0.0 < v < 1.0)]
    if bad:
        i = bad[0]
        raise ValidationError(
            f"{name} must hold probabilities in (0, 1); got {arr[i].item()!r} at dose {i} "
            f"(0-based) in {arr.tolist()}.",
            code="design_probabilities_range",
            name=name,
            value=repr(arr[i].item()),
            i=i,
            values=arr.tolist(),
        )
    if increasing and arr.size > 1 and not np.all(np.diff(arr) > 0):
        i = int(np.argmax(np.diff(arr) <= 0))
        raise ValidationError(
            f"{name} must be strictly increasing; got {arr[i].item()!r} at dose {i} then "
            f"{arr[i + 1].item()!r} at dose {i + 1} in {arr.tolist()}.",
            code="design_probabilities_increasing",
            name=name,
            value=repr(arr[i].item()),
            i=i,
            next_value=repr(arr[i + 1].item()),
            next_dose=i + 1,
            values=arr.tolist(),
        )
    return arr


def check_model(model: str) -> None:
    if model not in ("empiric", "logistic"):
        raise ValidationError(
            f"model must be 'empiric' or 'logistic'; got {model!r}.",
            code="design_crm_model",
            model=repr(model),
        )


def check_positive(name: str, value: float) -> float:
    v = float(value)
    if not (v > 0.0) or math.isinf(v):
        raise ValidationError(
            f"{name} must be a positive finite number; got {value!r}.",
            code="design_positive_number",
            name=name,
            value=repr(value),
        )
    return v


# ---------------------------------------------------------------------------------------------
# Dose-toxicity models
# ---------------------------------------------------------------------------------------------


def dose_scaled(skeleton: ArrayLike, model: Model = "empiric", intcpt: float = 3.0) -> FloatArray:
    """The dose labels the model works with (``dfcrm``'s ``dosescaled``).

    Empiric: the skeleton itself. Logistic: ``logit(skeleton) - intcpt``, which must be negative
    for every dose (``dfcrm`` stops with "Intercept parameter in logit model is too small").
    """
    check_model(model)
    skel = np.asarray(skeleton, dtype=np.float64)
    if model == "empiric":
        return skel.copy()
    x = np.log(skel / (1.0 - skel)) - intcpt
    if not np.all(x < 0):
        i = int(np.argmax(x >= 0))
        raise ValidationError(
            f"intcpt={intcpt!r} is too small for the logistic model: the scaled dose "
            f"logit({skel[i]!r}) - intcpt = {x[i]:.4g} at dose {i} must be negative; "
            "raise intcpt above logit of the largest skeleton value.",
            code="design_crm_intercept",
            intcpt=repr(intcpt),
            skeleton=repr(skel[i]),
            scaled=f"{x[i]:.4g}",
            i=i,
        )
    return x


def _log_p(beta: FloatArray, x: FloatArray, model: Model, intcpt: float) -> FloatArray:
    """log p for every (beta, dose) pair: shape beta.shape + x.shape."""
    with np.errstate(over="ignore"):
        eb = np.exp(beta)[..., None]
    if model == "empiric":
        return eb * np.log(x)
    eta = intcpt + eb * x
    return -np.logaddexp(0.0, -eta)


def _log_1mp(beta: FloatArray, x: FloatArray, model: Model, intcpt: float) -> FloatArray:
    """log(1 - p), computed without cancellation near p = 1."""
    with np.errstate(over="ignore"):
        eb = np.exp(beta)[..., None]
    if model == "empiric":
        with np.errstate(divide="ignore"):
            out: FloatArray = np.log(-np.expm1(eb * np.log(x)))
        return out
    eta = intcpt + eb * x
    return -np.logaddexp(0.0, eta)


def ptox_from_beta(
    beta: ArrayLike, skeleton: ArrayLike, model: Model = "empiric", intcpt: float = 3.0
) -> FloatArray:
    """Toxicity probabilities at every dose for parameter value(s) ``beta``.

    Broadcasts: a scalar ``beta`` gives shape ``(K,)``; an array of shape ``S`` gives ``S + (K,)``.
    """
    x = dose_scaled(skeleton, model, intcpt)
    b = np.asarray(beta, dtype=np.float64)
    return np.exp(_log_p(b, x, model, intcpt))


def recommend(ptox: FloatArray, target: float) -> IntArray:
    """``dfcrm``'s recommendation along the last axis (0-based): closest to target, first on ties.

    All estimates at or below the target: the top dose; all at or above: the lowest dose.
    """
    k = ptox.shape[-1]
    rec = np.argmin(np.abs(ptox - target), axis=-1).astype(np.int64)
    rec = np.where(np.all(ptox >= target, axis=-1), 0, rec)
    rec = np.where(np.all(ptox <= target, axis=-1), k - 1, rec)
    return rec


# ---------------------------------------------------------------------------------------------
# Skeleton calibration
# ---------------------------------------------------------------------------------------------


def getprior(
    halfwidth: float,
    target: float,
    nu: int,
    nlevel: int,
    model: Model = "empiric",
    intcpt: float = 3.0,
) -> FloatArray:
    """Skeleton with indifference intervals ``target ± halfwidth`` (Lee & Cheung 2009).

    Same arguments and result as ``dfcrm::getprior(halfwidth, target, nu, nlevel, model, intcpt)``;
    ``nu`` is the **1-based** prior guess of the MTD, which gets skeleton value ``target``.

    Parameters
    ----------
    halfwidth : half-width ``delta`` of the indifference interval, ``0 < delta < min(target,
        1 - target)``.
    target : target DLT probability in (0, 1).
    nu : prior MTD level, 1-based, in ``1..nlevel``.
    nlevel : number of dose levels.
    model : "empiric" or "logistic".
    intcpt : the logistic model's fixed intercept.

    References
    ----------
    Lee SM, Cheung YK. Clin Trials 2009;6:227-238.
    """
    check_model(model)
    target = check_rate("target", target)
    halfwidth = check_positive("halfwidth", halfwidth)
    if not (target - halfwidth > 0.0 and target + halfwidth < 1.0):
        raise ValidationError(
            f"halfwidth must leave target ± halfwidth inside (0, 1); got halfwidth={halfwidth!r} "
            f"with target={target!r}.",
            code="design_crm_halfwidth",
            halfwidth=repr(halfwidth),
            target=repr(target),
        )
    if isinstance(nlevel, bool) or int(nlevel) != nlevel or nlevel < 1:
        raise ValidationError(
            f"nlevel must be a positive integer; got {nlevel!r}.",
            code="design_crm_nlevel",
            nlevel=repr(nlevel),
        )
    if isinstance(nu, bool) or int(nu) != nu or not (1 <= nu <= nlevel):
        raise ValidationError(
            f"nu is the 1-based prior MTD level and must lie in 1..{nlevel}; got {nu!r}.",
            code="design_crm_nu",
            nlevel=nlevel,
            nu=repr(nu),
        )
    nu, nlevel = int(nu), int(nlevel)
    lo, hi = target - halfwidth, target + halfwidth
    d = np.empty(nlevel, dtype=np.float64)
    j = nu - 1
    if model == "empiric":
        d[j] = target
        for k in range(j, 0, -1):  # going down: p_{k-1}(b_k) = target - delta
            b = math.log(math.log(hi) / math.log(d[k]))
            d[k - 1] = math.exp(math.log(lo) / math.exp(b))
        for k in range(j, nlevel - 1):  # going up: p_{k+1}(b_{k+1}) = target + delta
            b = math.log(math.log(lo) / math.log(d[k]))
            d[k + 1] = math.exp(math.log(hi) / math.exp(b))
        return d
    d[j] = math.log(target / (1 - target)) - intcpt
    llo = math.log(lo / (1 - lo)) - intcpt
    lhi = math.log(hi / (1 - hi)) - intcpt
    for k in range(j, 0, -1):
        b = math.log(lhi / d[k])
        d[k - 1] = llo / math.exp(b)
    for k in range(j, nlevel - 1):
        b = math.log(llo / d[k])
        d[k + 1] = lhi / math.exp(b)
    return np.asarray(1.0 / (1.0 + np.exp(-intcpt - d)), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Posterior for one data set (adaptive quadrature, as dfcrm)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CRMFit:
    """The CRM model fitted to the data so far (the content of ``dfcrm::crm``'s result).

    ``mtd`` is the recommended dose (0-based) before any dose-skipping restriction.
    """

    estimate: float  # posterior mean (bayes) or maximum-likelihood estimate (mle) of beta
    post_var: float  # posterior variance of beta (mle: dfcrm's approximate variance)
    ptox: tuple[float, ...]  # plug-in toxicity estimates p_k(estimate)
    ptox_lower: tuple[float, ...]  # p_k(estimate + z sd): lower limit of the interval
    ptox_upper: tuple[float, ...]  # p_k(estimate - z sd)
    mtd: int
    target: float
    model: Model
    method: Method
    conf_level: float
    prior_var: float


def _loglik(
    beta: FloatArray,
    x_rec: FloatArray,
    dlt: FloatArray,
    nontox: FloatArray,
    w: FloatArray,
    model: Model,
    intcpt: float,
) -> FloatArray:
    """Log-likelihood at each beta: sum_j dlt_j log p_j + nontox_j log(1 - w_j p_j)."""
    lp = _log_p(beta, x_rec, model, intcpt)
    with np.errstate(divide="ignore", invalid="ignore"):
        full = w >= 1.0
        l1 = np.where(full, _log_1mp(beta, x_rec, model, intcpt), 0.0)
        if not np.all(full):
            l1 = np.where(full, l1, np.log1p(-w * np.exp(lp)))
        dl = np.where(dlt > 0, dlt * lp, 0.0)
        nl = np.where(nontox > 0, nontox * l1, 0.0)
    out: FloatArray = np.sum(dl + nl, axis=-1)
    return out


def _log1pexp(t: float) -> float:
    """log(1 + exp(t)) without overflow."""
    return t + math.log1p(math.exp(-t)) if t > 0 else math.log1p(math.exp(t))


def _scalar_loglik(
    x_rec: FloatArray,
    dlt: FloatArray,
    nontox: FloatArray,
    w: FloatArray,
    model: Model,
    intcpt: float,
) -> Callable[[float], float]:
    """The log-likelihood as a plain-float function of beta, for adaptive quadrature.

    Same quantity as :func:`_loglik`; written with ``math`` because quadrature calls it one
    point at a time and NumPy's per-call overhead would dominate.
    """
    recs = [
        (float(x), float(d), float(c), float(wt))
        for x, d, c, wt in zip(x_rec, dlt, nontox, w, strict=True)
        if d > 0 or c > 0
    ]
    empiric = model == "empiric"
    logx = [math.log(r[0]) if empiric else 0.0 for r in recs]

    def ll(a: float) -> float:
        eb = math.exp(a) if a < 700 else math.inf
        total = 0.0
        for (x, d, c, wt), lx in zip(recs, logx, strict=True):
            if empiric:
                lp = eb * lx if eb < math.inf else -math.inf
            else:
                eta = intcpt + eb * x if eb < math.inf else -math.inf
                lp = -_log1pexp(-eta) if eta > -math.inf else -math.inf
            if d > 0:
                if lp == -math.inf:
                    return -math.inf
                total += d * lp
            if c > 0:
                if wt >= 1.0:
                    if empiric or lp == -math.inf:
                        q = -math.expm1(lp) if lp > -math.inf else 1.0
                        if q <= 0.0:
                            return -math.inf
                        l1 = math.log(q)
                    else:
                        l1 = -_log1pexp(eta)
                else:
                    l1 = math.log1p(-wt * math.exp(lp)) if lp > -math.inf else 0.0
                total += c * l1
        return total

    return ll


def fit_records(
    skeleton: FloatArray,
    target: float,
    dose: IntArray,
    dlt: FloatArray,
    nontox: FloatArray,
    weights: FloatArray,
    *,
    method: Method,
    model: Model,
    intcpt: float,
    scale: float,
    conf_level: float,
    var_est: bool = True,
    mle_num_bound: float = 100.0,
) -> CRMFit:
    """Fit the CRM to records (dose index, DLT count, non-DLT count, non-DLT weight).

    For ordinary data one record per dose (counts); for TITE data one record per patient.
    """
    x = dose_scaled(skeleton, model, intcpt)
    x_rec = x[dose]

    ll = _scalar_loglik(x_rec, dlt, nontox, weights, model, intcpt)

    # Rescale the integrand by its maximum on a coarse grid: the ratios dfcrm forms do not
    # change, and adaptive quadrature keeps full relative accuracy when the likelihood is tiny.
    coarse = np.linspace(-_NUM_BOUND, _NUM_BOUND, 401)

    def integrals(
        s: float, num_lo: float, num_hi: float, e2_lo: float, e2_hi: float
    ) -> tuple[float, float, float]:
        lg = _loglik(coarse, x_rec, dlt, nontox, weights, model, intcpt) - coarse**2 / (2 * s * s)
        shift = float(np.max(lg))

        def h(a: float, power: int) -> float:
            if not math.isfinite(a):
                return 0.0
            v = ll(a) - a * a / (2 * s * s) - shift
            return (a**power) * math.exp(v) if v > -745 else 0.0

        den = integrate.quad(
            h, -math.inf, math.inf, args=(0,), epsabs=0.0, epsrel=1e-10, limit=500
        )[0]
        # The first moment can be ~0 (no data): an absolute floor far below any reported digit.
        tiny = 1e-14 * den
        num = integrate.quad(h, num_lo, num_hi, args=(1,), epsabs=tiny, epsrel=1e-10, limit=500)[0]
        e2 = integrate.quad(h, e2_lo, e2_hi, args=(2,), epsabs=tiny, epsrel=1e-10, limit=500)[0]
        return den, num, e2

    if method == "bayes":
        den, num, e2num = integrals(scale, -_NUM_BOUND, _NUM_BOUND, -_NUM_BOUND, _NUM_BOUND)
        est = num / den
        e2 = e2num / den
    elif method == "mle":
        n_dlt = float(np.sum(dlt))
        n_all = float(np.sum(dlt + nontox))
        if n_dlt == 0 or n_dlt == n_all:
            raise ValidationError(
                "The maximum-likelihood estimate does not exist when every patient or no patient "
                f"had a DLT (got {n_dlt:g} DLTs among {n_all:g} patients); use method='bayes'.",
                code="design_crm_mle",
                n_dlt=f"{n_dlt:g}",
                n_all=f"{n_all:g}",
            )
        res = optimize.minimize_scalar(
            lambda a: -ll(a),
            bounds=(-_NUM_BOUND, _NUM_BOUND),
            method="bounded",
            options={"xatol": 1e-10},
        )
        est = float(res.x)
        e2 = math.nan
        if var_est:
            # dfcrm: E[beta^2] under a vague N(0, 500^2) prior, numerator on (-100, 100)
            # (titecrm: (-10, 10)) over a denominator on (-10, 10); variance = E[beta^2] - mle^2.
            lg = _loglik(coarse, x_rec, dlt, nontox, weights, model, intcpt)
            shift = float(np.max(lg))

            def hv(a: float, power: int) -> float:
                v = ll(a) - a * a / (2 * 500.0**2) - shift
                return (a**power) * math.exp(v) if v > -745 else 0.0

            lo, hi = -mle_num_bound, mle_num_bound
            e2n = integrate.quad(hv, lo, hi, args=(2,), epsabs=0.0, epsrel=1e-10, limit=500)[0]
            e2d = integrate.quad(hv, -10.0, 10.0, args=(0,), epsabs=0.0, epsrel=1e-10, limit=500)[0]
            e2 = e2n / e2d
    else:
        raise ValidationError(
            f"method must be 'bayes' or 'mle'; got {method!r}.",
            code="design_crm_method",
            method=repr(method),
        )

    ptox = np.exp(_log_p(np.asarray(est), x, model, intcpt))
    if var_est:
        post_var = e2 - est * est
        crit = float(stats.norm.ppf(0.5 + conf_level / 2))
        sd = math.sqrt(post_var) if post_var > 0 else 0.0
        lower = np.exp(_log_p(np.asarray(est + crit * sd), x, model, intcpt))
        upper = np.exp(_log_p(np.asarray(est - crit * sd), x, model, intcpt))
    else:
        post_var = math.nan
        lower = upper = np.full_like(ptox, math.nan)
    return CRMFit(
        estimate=float(est),
        post_var=float(post_var),
        ptox=tuple(float(v) for v in ptox),
        ptox_lower=tuple(float(v) for v in lower),
        ptox_upper=tuple(float(v) for v in upper),
        mtd=int(recommend(ptox, target)),
        target=target,
        model=model,
        method=method,
        conf_level=conf_level,
        prior_var=scale * scale if method == "bayes" else 500.0**2,
    )


def _check_common(
    skeleton: ArrayLike, target: float, model: str, method: str, scale: float, conf_level: float
) -> FloatArray:
    skel = check_rates("skeleton", skeleton, increasing=True)
    check_rate("target", target)
    check_model(model)
    if method not in ("bayes", "mle"):
        raise ValidationError(
            f"method must be 'bayes' or 'mle'; got {method!r}.",
            code="design_crm_method",
            method=repr(method),
        )
    check_positive("scale", scale)
    check_rate("conf_level", conf_level)
    return skel


def check_patient_data(
    n_doses: int, tox: ArrayLike, level: ArrayLike
) -> tuple[FloatArray, IntArray]:
    """Per-patient DLT indicators (0/1) and 0-based dose levels, same length, known doses."""
    y = np.asarray(tox, dtype=np.float64).reshape(-1)
    lv_raw = np.asarray(level).reshape(-1)
    if y.size != lv_raw.size:
        raise ValidationError(
            f"tox and level must have one entry per patient; got {y.size} DLT indicators and "
            f"{lv_raw.size} dose levels.",
            code="design_crm_patients",
            n_tox=y.size,
            n_level=lv_raw.size,
        )
    bad_y = [i for i, v in enumerate(y) if v not in (0.0, 1.0)]
    if bad_y:
        i = bad_y[0]
        raise ValidationError(
            f"tox must hold 0 or 1 per patient; got {y[i].item()!r} for patient {i}.",
            code="design_crm_tox",
            value=repr(y[i].item()),
            i=i,
        )
    lv = lv_raw.astype(np.int64) if lv_raw.size else np.zeros(0, dtype=np.int64)
    bad_l = [
        i
        for i, v in enumerate(lv_raw)
        if float(v) != int(float(v)) or not (0 <= int(float(v)) < n_doses)
    ]
    if bad_l:
        i = bad_l[0]
        raise ValidationError(
            f"level must hold 0-based dose indices in 0..{n_doses - 1}; got "
            f"{lv_raw[i].item()!r} for patient {i}, a dose the design does not have.",
            code="design_crm_level",
            last=n_doses - 1,
            value=repr(lv_raw[i].item()),
            i=i,
        )
    return y, lv


def crm(
    skeleton: ArrayLike,
    target: float,
    tox: ArrayLike,
    level: ArrayLike,
    *,
    method: Method = "bayes",
    model: Model = "empiric",
    intcpt: float = DEFAULT_INTERCEPT,
    scale: float = DEFAULT_SCALE,
    conf_level: float = 0.90,
    var_est: bool = True,
) -> CRMFit:
    """Fit the CRM to per-patient data, as ``dfcrm::crm(prior, target, tox, level, ...)``.

    Parameters
    ----------
    skeleton : prior guesses of the DLT probability per dose (``dfcrm``'s ``prior``), strictly
        increasing, in (0, 1).
    target : target DLT probability.
    tox : DLT indicator (0/1) per patient.
    level : **0-based** dose index per patient (``dfcrm`` uses 1-based levels).
    method : "bayes" (posterior mean) or "mle".
    model : "empiric" or "logistic".
    intcpt : logistic intercept (default 3).
    scale : prior standard deviation of beta (default ``sqrt(1.34)``).
    conf_level : level of the probability interval for the toxicity estimates.

    Returns
    -------
    CRMFit
        The estimate of beta, its posterior variance, the plug-in DLT estimates with interval, and
        the recommended dose (no dose-skipping restriction, as ``dfcrm::crm``).

    References
    ----------
    Cheung YK. Dose Finding by the Continual Reassessment Method. CRC 2011, chapter 3.
    """
    skel = _check_common(skeleton, target, model, method, scale, conf_level)
    dose_scaled(skel, model, intcpt)
    y, lv = check_patient_data(skel.size, tox, level)
    # Aggregate per dose: the likelihood depends on the data only through these counts.
    n = np.bincount(lv, minlength=skel.size).astype(np.float64)
    d = np.bincount(lv, weights=y, minlength=skel.size).astype(np.float64)
    return fit_records(
        skel,
        float(target),
        np.arange(skel.size),
        d,
        n - d,
        np.ones(skel.size),
        method=method,
        model=model,
        intcpt=intcpt,
        scale=scale,
        conf_level=conf_level,
        var_est=var_est,
    )


# ---------------------------------------------------------------------------------------------
# Fixed-grid posterior for many data sets at once
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Grid:
    beta: FloatArray  # (G,)
    log_prior_w: FloatArray  # (G,) log of prior density times quadrature weight
    log_p: FloatArray  # (K, G)
    log_1mp: FloatArray  # (K, G)


def _make_grid(
    skeleton: FloatArray, model: Model, intcpt: float, scale: float, n_grid: int
) -> _Grid:
    # Trapezoid rule on a uniform grid over (-10, 10), the range of dfcrm's numerators: for the
    # smooth, rapidly decaying integrands here it converges geometrically (checked against
    # adaptive quadrature in the tests).
    beta = np.linspace(-_NUM_BOUND, _NUM_BOUND, n_grid)
    x = dose_scaled(skeleton, model, intcpt)
    lp = _log_p(beta, x, model, intcpt).T
    l1 = _log_1mp(beta, x, model, intcpt).T
    return _Grid(beta=beta, log_prior_w=-(beta**2) / (2 * scale * scale), log_p=lp, log_1mp=l1)


def _grid_posterior(grid: _Grid, n: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Posterior mean of beta and weights (T, G) for count data n, y of shape (T, K)."""
    logpost = y @ grid.log_p + (n - y) @ grid.log_1mp + grid.log_prior_w
    logpost -= logpost.max(axis=1, keepdims=True)
    w = np.exp(logpost)
    w /= w.sum(axis=1, keepdims=True)
    mean: FloatArray = w @ grid.beta
    return mean, w


def _grid_posterior_unique(
    grid: _Grid, n: FloatArray, y: FloatArray, below: FloatArray | None
) -> tuple[FloatArray, FloatArray | None]:
    """Posterior mean (and P(beta < b*) when ``below`` is given) per trial, computed once per
    distinct (n, y) state: trials share few states, most of all in the early cohorts."""
    k = n.shape[1]
    state = np.ascontiguousarray(np.hstack([n, y]).astype(np.int32))
    keys = state.view(np.dtype((np.void, 4 * 2 * k))).reshape(-1)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    mean_u, w_u = _grid_posterior(grid, n[first], y[first])
    prob = None if below is None else (w_u @ below)[inverse]
    return mean_u[inverse], prob


# ---------------------------------------------------------------------------------------------
# Live decision
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CRM:
    """The CRM as a design: stores parameters; :meth:`decide` and :meth:`fit` validate on use.

    Parameters
    ----------
    skeleton : prior DLT guesses per dose, strictly increasing, in (0, 1).
    target : target DLT probability.
    model, method, intcpt, scale : as :func:`crm`.
    no_skip : never escalate more than one level above the current dose (dfcrm ``restrict``).
    coherent : never escalate after a cohort whose DLT rate reached the target (Cheung 2005);
        dfcrm's ``restrict=TRUE`` applies both ``no_skip`` and ``coherent``.
    safety_threshold : stop the trial when ``P(p_lowest > target | data)`` exceeds this value
        (not in dfcrm, which never stops early; ``None`` switches it off). The probability is
        exact: ``p_1 > target`` if and only if ``beta < b*`` for a threshold ``b*``.
    max_n : stop when this many patients have been treated (``None``: no limit).
    stop_n_at_dose : stop when the recommended dose already has this many patients
        (``None``: off).

    Decisions use 0-based dose indexes (``next_dose``, ``mtd``); their ``reason`` and ``rule``
    texts number doses from 1, as printed for a protocol.
    """

    name: ClassVar[str] = "crm"
    label: ClassVar[str] = "CRM"
    aliases: ClassVar[tuple[str, ...]] = ()
    escalation_params: ClassVar[Mapping[str, Param]] = {
        "skeleton": Param("per-dose numbers", "prior DLT guesses per dose level", required=True),
        "model": Param("text", "empiric (default) or logistic"),
        "method": Param("text", "bayes (default) or mle"),
        "no_skip": Param("boolean", "at most one level up, default true"),
        "safety_threshold": Param("number", "stop if P(lowest dose too toxic) exceeds this"),
        "stop_n_at_dose": Param("integer", "stop when the next dose has this many patients"),
    }

    skeleton: tuple[float, ...]
    target: float
    model: Model = "empiric"
    method: Method = "bayes"
    intcpt: float = DEFAULT_INTERCEPT
    scale: float = DEFAULT_SCALE
    no_skip: bool = True
    coherent: bool = True
    safety_threshold: float | None = None
    max_n: int | None = None
    stop_n_at_dose: int | None = None

    @classmethod
    def for_escalation(cls, settings: EscalationSettings) -> CRM:
        """The CRM a cohort's escalation plan runs; it stops at the plan's maximum sample size."""
        params = check_escalation_params(cls.name, cls.escalation_params, settings)
        return cls(target=settings.target_for(cls.name), max_n=settings.max_sample_size, **params)

    def _skel(self) -> FloatArray:
        skel = _check_common(self.skeleton, self.target, self.model, self.method, self.scale, 0.9)
        dose_scaled(skel, self.model, self.intcpt)
        if self.safety_threshold is not None:
            check_rate("safety_threshold", self.safety_threshold)
        return skel

    def fit(self, data: Sequence[DoseData | tuple[int, int]]) -> CRMFit:
        """Fit the model to per-dose counts (one :class:`DoseData` per dose level)."""
        skel = self._skel()
        data = as_dose_data(data)
        check_doses(data, n_doses=skel.size)
        n = np.asarray([d.treated for d in data], dtype=np.float64)
        y = np.asarray([d.dlts for d in data], dtype=np.float64)
        return fit_records(
            skel,
            self.target,
            np.arange(skel.size),
            y,
            n - y,
            np.ones(skel.size),
            method=self.method,
            model=self.model,
            intcpt=self.intcpt,
            scale=self.scale,
            conf_level=0.9,
        )

    def simulate(
        self,
        truth: ArrayLike,
        *,
        n_trials: int = 10_000,
        n_patients: int = 36,
        cohort_size: int = 3,
        start_dose: int = 0,
        rng: np.random.Generator | int | None = None,
    ) -> CRMSimulation:
        """Operating characteristics of this design (see :func:`simulate_crm`).

        Uses the design's model, prior, restrictions and safety stop; ``max_n`` (if set)
        replaces ``n_patients``. The Bayesian estimate is used whatever ``method`` says.
        """
        self._skel()
        return simulate_crm(
            truth,
            self.skeleton,
            self.target,
            n_patients=self.max_n if self.max_n is not None else n_patients,
            cohort_size=cohort_size,
            n_trials=n_trials,
            start_dose=start_dose,
            model=self.model,
            intcpt=self.intcpt,
            scale=self.scale,
            no_skip=self.no_skip,
            coherent=self.coherent,
            safety_threshold=self.safety_threshold,
            rng=rng,
        )

    def prob_lowest_too_toxic(self, data: Sequence[DoseData | tuple[int, int]]) -> float:
        """Posterior probability that the lowest dose's DLT rate exceeds the target."""
        skel = self._skel()
        data = as_dose_data(data)
        check_doses(data, n_doses=skel.size)
        n = np.asarray([d.treated for d in data], dtype=np.float64)
        y = np.asarray([d.dlts for d in data], dtype=np.float64)
        return _prob_beta_below(skel, n, y, self.target, self.model, self.intcpt, self.scale)

    def get_params(self) -> dict[str, object]:
        """The constructor parameters (estimator contract)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    def decide(
        self,
        data: Sequence[DoseData | tuple[int, int]],
        current: int,
        *,
        last_cohort: DoseData | tuple[int, int] | None = None,
    ) -> Decision:
        """Next dose for the data so far (per dose, lowest first: DoseData or (treated, dlts)).

        ``current`` is the 0-based dose of the last cohort; ``last_cohort`` its outcomes
        (for the coherence restriction; default: no coherence check).
        """
        skel = self._skel()
        data = as_dose_data(data)
        check_doses(data, n_doses=skel.size)
        current_dose = check_current(current, skel.size)
        if all(d.treated == 0 for d in data):
            return Decision(
                action=Action.STAY,
                current_dose=current_dose,
                next_dose=current_dose,
                **reason("model_untreated_cohort", dose=current_dose + 1),
                **ruled("rule_untreated"),
            )
        if last_cohort is not None and not isinstance(last_cohort, DoseData):
            last_cohort = as_dose_data([last_cohort])[0]
        total = sum(d.treated for d in data)
        if self.method == "mle":
            y_all = sum(d.dlts for d in data)
            if y_all == 0 or y_all == total:
                raise ValidationError(
                    "The likelihood CRM needs at least one patient with and one without a DLT "
                    f"(got {y_all} DLTs among {total} patients); run a rule-based start first "
                    "or use method='bayes'.",
                    code="design_crm_likelihood",
                    y_all=y_all,
                    total=total,
                )
        fit = self.fit(data)
        if self.safety_threshold is not None:
            p_tox = self.prob_lowest_too_toxic(data)
            if p_tox > self.safety_threshold:
                return Decision(
                    action=Action.STOP,
                    current_dose=current_dose,
                    next_dose=None,
                    **reason(
                        "crm_safety_stop",
                        target=f"{self.target:g}",
                        p=f"{p_tox:.3f}",
                        threshold=f"{self.safety_threshold:g}",
                    ),
                    **ruled("rule_crm_safety_stop"),
                    eliminated=tuple(range(skel.size)),
                )
        rec = fit.mtd
        rules = [explain("rule_crm_model", dose=rec + 1, estimate=f"{fit.ptox[rec]:.3f}")]
        nxt = rec
        if (
            self.coherent
            and last_cohort is not None
            and last_cohort.treated > 0
            and last_cohort.dlts / last_cohort.treated >= self.target
            and nxt > current_dose
        ):
            nxt = current_dose
            rules.append(explain("rule_crm_coherence"))
        if self.no_skip and nxt > current_dose + 1:
            nxt = current_dose + 1
            rules.append(explain("rule_no_skipping"))
        if self.max_n is not None and total >= self.max_n:
            return Decision(
                action=Action.STOP,
                current_dose=current_dose,
                next_dose=None,
                **reason("crm_max_n", total=total, max_n=self.max_n, mtd=fit.mtd + 1),
                **ruled("rule_crm_max_n", max_n=self.max_n, dose=fit.mtd + 1),
                mtd=fit.mtd,
            )
        if self.stop_n_at_dose is not None and data[nxt].treated >= self.stop_n_at_dose:
            return Decision(
                action=Action.STOP,
                current_dose=current_dose,
                next_dose=None,
                **reason(
                    "crm_stop_n",
                    dose=nxt + 1,
                    count=data[nxt].treated,
                    stop_n=self.stop_n_at_dose,
                ),
                **ruled("rule_crm_stop_n", stop_n=self.stop_n_at_dose, dose=nxt + 1),
                mtd=nxt,
            )
        if nxt > current_dose:
            action = Action.ESCALATE
        elif nxt < current_dose:
            action = Action.DE_ESCALATE
        else:
            action = Action.STAY
        est = ", ".join(f"{p:.3f}" for p in fit.ptox)
        return Decision(
            action=action,
            current_dose=current_dose,
            next_dose=nxt,
            **reason(
                "crm_posterior_mean" if self.method == "bayes" else "crm_posterior_mle",
                beta=f"{fit.estimate:.4f}",
                estimates=est,
                target=f"{self.target:g}",
            ),
            **ruled(rule_parts(*rules)),
        )


@dataclass(frozen=True, slots=True)
class CRMPathway:
    """One row of a dose-transition pathway table (Yap et al. 2017).

    ``outcomes`` lists, cohort by cohort, ``(dose, DLTs)`` of the hypothetical future cohorts
    (0-based doses); ``decision`` is the design's answer after the last of them.
    """

    outcomes: tuple[tuple[int, int], ...]
    decision: Decision


def crm_pathways(
    design: CRM,
    data: Sequence[DoseData | tuple[int, int]],
    current: int,
    *,
    cohort_size: int = 3,
    n_cohorts: int = 1,
) -> tuple[CRMPathway, ...]:
    """Dose-transition pathways: the CRM's decision after every outcome of the next cohorts.

    Starting from ``data`` with the last cohort at ``current`` (the next cohort goes to
    ``design.decide(data, current).next_dose``), enumerate 0..``cohort_size`` DLTs in each of
    the next ``n_cohorts`` cohorts (at most 4) and record the decision after each path; paths
    stop early when the design stops. This is the decision table of a model-based design.

    References
    ----------
    Yap C, Billingham LJ, Cheung YK, Craddock C, O'Quigley J. Dose transition pathways: the
    missing link between complex dose-finding designs and simple decision-making. Clin Cancer
    Res 2017;23:7440-7447.
    """
    cohort_size = _check_int("cohort_size", cohort_size, 1)
    n_cohorts = _check_int("n_cohorts", n_cohorts, 1)
    if n_cohorts > 4:
        raise ValidationError(
            f"n_cohorts must be at most 4 (the table grows as (cohort_size + 1) ** n_cohorts); "
            f"got {n_cohorts}.",
            code="design_crm_table_cohorts",
            n_cohorts=n_cohorts,
        )
    start = as_dose_data(data)
    first = design.decide(start, current)
    out: list[CRMPathway] = []

    def walk(doses: tuple[DoseData, ...], dec: Decision, path: tuple[tuple[int, int], ...]) -> None:
        if len(path) == n_cohorts or dec.next_dose is None:
            return
        dose = dec.next_dose
        for y in range(cohort_size + 1):
            new = list(doses)
            old = new[dose]
            new[dose] = DoseData(treated=old.treated + cohort_size, dlts=old.dlts + y)
            cohort = DoseData(treated=cohort_size, dlts=y)
            nxt = design.decide(new, dose, last_cohort=cohort)
            step = (*path, (dose, y))
            out.append(CRMPathway(outcomes=step, decision=nxt))
            walk(tuple(new), nxt, step)

    walk(start, first, ())
    return tuple(out)


def _prob_beta_below(
    skel: FloatArray,
    n: FloatArray,
    y: FloatArray,
    target: float,
    model: Model,
    intcpt: float,
    scale: float,
) -> float:
    """P(p_lowest > target | data) = P(beta < b*) by adaptive quadrature."""
    x = dose_scaled(skel, model, intcpt)
    if model == "empiric":
        bstar = math.log(math.log(target) / math.log(skel[0]))
    else:
        bstar = math.log((math.log(target / (1 - target)) - intcpt) / x[0])
    idx = np.arange(skel.size)
    ones = np.ones(skel.size)

    ll = _scalar_loglik(x[idx], y, n - y, ones, model, intcpt)

    def h(a: float) -> float:
        v = ll(a) - a * a / (2 * scale * scale) - shift
        return math.exp(v) if v > -745 else 0.0

    coarse = np.linspace(-_NUM_BOUND, _NUM_BOUND, 401)
    shift = float(
        np.max(_loglik(coarse, x[idx], y, n - y, ones, model, intcpt) - coarse**2 / (2 * scale**2))
    )
    lower = integrate.quad(h, -math.inf, bstar, epsabs=0.0, epsrel=1e-10, limit=500)[0]
    upper = integrate.quad(h, bstar, math.inf, epsabs=0.0, epsrel=1e-10, limit=500)[0]
    return float(lower / (lower + upper))


# ---------------------------------------------------------------------------------------------
# Operating characteristics, vectorised over trials
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CRMSimulation:
    """Operating characteristics of a model-based design over ``n_trials`` simulated trials.

    ``selection`` holds the fraction of trials selecting each dose (0-based), ``no_selection``
    the fraction stopped without a dose; ``patients`` and ``dlts`` are mean counts per dose;
    ``selected`` the per-trial choice (-1: none). The attribute names follow the shared
    simulation results of the other designs (``total_patients``, ``summary()``).
    """

    truth: tuple[float, ...]
    skeleton: tuple[float, ...]  # empty for EWOC
    target: float
    n_trials: int
    n_patients: int
    cohort_size: int
    selection: FloatArray = field(compare=False)
    no_selection: float
    patients: FloatArray = field(compare=False)
    dlts: FloatArray = field(compare=False)
    early_stop: float
    mean_n: float
    mean_dlts: float
    seed: int | None
    selected: IntArray = field(repr=False, compare=False)  # per trial: 0-based dose, -1 none
    mean_duration: float | None = None  # TITE simulations: mean time to the last follow-up
    design: str = CRM.name

    @property
    def selection_percent(self) -> FloatArray:
        return 100.0 * self.selection

    @property
    def total_patients(self) -> float:
        return self.mean_n

    @property
    def total_dlts(self) -> float:
        return self.mean_dlts

    def selection_se(self) -> FloatArray:
        """Monte Carlo standard error of each selection fraction."""
        p = self.selection
        out: FloatArray = np.sqrt(p * (1.0 - p) / self.n_trials)
        return out

    def summary(self) -> dict[str, object]:
        """A JSON-ready summary (percentages, means), without the per-trial array."""
        doc: dict[str, object] = {
            "design": self.design,
            "truth": list(self.truth),
            "skeleton": list(self.skeleton),
            "target": self.target,
            "n_trials": self.n_trials,
            "n_patients": self.n_patients,
            "cohort_size": self.cohort_size,
            "seed": self.seed,
            "selection_percent": [round(float(v), 4) for v in 100 * self.selection],
            "selection_se_percent": [round(float(v), 4) for v in 100 * self.selection_se()],
            "no_selection_percent": round(100 * self.no_selection, 4),
            "early_stop_percent": round(100 * self.early_stop, 4),
            "patients_per_dose": [round(float(v), 4) for v in self.patients],
            "dlts_per_dose": [round(float(v), 4) for v in self.dlts],
            "total_patients": round(self.mean_n, 4),
            "total_dlts": round(self.mean_dlts, 4),
        }
        if self.mean_duration is not None:
            doc["mean_duration"] = round(self.mean_duration, 4)
        return doc


def _check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValidationError(
            f"{name} must be an integer >= {minimum}; got {value!r}.",
            code="design_value_integer_min",
            name=name,
            minimum=minimum,
            value=repr(value),
        )
    return int(value)


def simulate_crm(
    truth: ArrayLike,
    skeleton: ArrayLike,
    target: float,
    *,
    n_patients: int = 36,
    cohort_size: int = 3,
    n_trials: int = 10_000,
    start_dose: int = 0,
    model: Model = "empiric",
    intcpt: float = DEFAULT_INTERCEPT,
    scale: float = DEFAULT_SCALE,
    restrict: bool = True,
    safety_threshold: float | None = None,
    no_skip: bool | None = None,
    coherent: bool | None = None,
    n_grid: int = 401,
    rng: np.random.Generator | int | None = None,
    uniforms: FloatArray | None = None,
) -> CRMSimulation:
    """Simulate the Bayesian CRM over many trials at once (``dfcrm::crmsim`` semantics).

    Every trial starts at ``start_dose`` (0-based) with one cohort; after each cohort the
    posterior mean of beta is recomputed and the next cohort goes to the recommended dose, with
    ``restrict=True`` applying dfcrm's restrictions (after a cohort whose DLT rate reached the
    target, no escalation; otherwise at most one level up). There is no decision after the last
    cohort; the selected dose is the recommendation on all the data.

    ``no_skip`` and ``coherent`` (default: ``restrict``) switch the two restrictions
    separately, as in :class:`CRM`.

    ``safety_threshold`` adds the early stop of :class:`CRM` (off by default, as dfcrm): a trial
    stops, selecting no dose, when ``P(p_lowest > target | data) > safety_threshold``.

    All trials advance together: the posterior of every trial is computed at once on a fixed
    trapezoid grid of ``n_grid`` points over (-10, 10) (a matrix product of the per-dose counts
    with log-probability tables), so the cost is a loop over cohorts only.

    ``uniforms`` (shape ``(n_trials, n_cohorts, cohort_size)``) replaces the random draws; a
    patient has a DLT when its uniform is below the true rate of its dose.
    """
    skel = _check_common(skeleton, target, model, "bayes", scale, 0.9)
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
    n_patients = _check_int("n_patients", n_patients, 1)
    cohort_size = _check_int("cohort_size", cohort_size, 1)
    n_trials = _check_int("n_trials", n_trials, 1)
    n_grid = _check_int("n_grid", n_grid, 51)
    if n_patients % cohort_size:
        raise ValidationError(
            f"n_patients must be a multiple of cohort_size; got n_patients={n_patients} and "
            f"cohort_size={cohort_size}.",
            code="design_patients_multiple",
            n_patients=n_patients,
            cohort_size=cohort_size,
        )
    if isinstance(start_dose, bool) or not (0 <= int(start_dose) < k):
        raise ValidationError(
            f"start_dose must be a 0-based dose index in 0..{k - 1}; got {start_dose!r}.",
            code="design_start_dose",
            last=k - 1,
            start_dose=repr(start_dose),
        )
    if safety_threshold is not None:
        check_rate("safety_threshold", safety_threshold)
    n_cohorts = n_patients // cohort_size
    seed = rng if isinstance(rng, int) and not isinstance(rng, bool) else None
    if uniforms is None:
        gen = np.random.default_rng(rng)
        u = gen.random((n_trials, n_cohorts, cohort_size))
    else:
        u = np.asarray(uniforms, dtype=np.float64)
        if u.shape != (n_trials, n_cohorts, cohort_size):
            raise ValidationError(
                f"uniforms must have shape {(n_trials, n_cohorts, cohort_size)}; got {u.shape}.",
                code="design_uniforms_shape",
                expected=(n_trials, n_cohorts, cohort_size),
                shape=u.shape,
            )

    use_no_skip = restrict if no_skip is None else no_skip
    use_coherent = restrict if coherent is None else coherent
    grid = _make_grid(skel, model, intcpt, scale, n_grid)
    if safety_threshold is not None:
        if model == "empiric":
            bstar = math.log(math.log(target) / math.log(skel[0]))
        else:
            x0 = math.log(skel[0] / (1 - skel[0])) - intcpt
            bstar = math.log((math.log(target / (1 - target)) - intcpt) / x0)
        below: FloatArray | None = (grid.beta < bstar).astype(np.float64)
    else:
        below = None

    rows = np.arange(n_trials)
    n = np.zeros((n_trials, k))
    y = np.zeros((n_trials, k))
    cur = np.full(n_trials, int(start_dose), dtype=np.int64)
    active = np.ones(n_trials, dtype=bool)
    below_arr = below if safety_threshold is not None else None
    x_scaled = dose_scaled(skel, model, intcpt)
    for c in range(n_cohorts):
        ynew = np.sum(u[:, c, :] < tr[cur][:, None], axis=1).astype(np.float64)
        n[rows, cur] += np.where(active, cohort_size, 0)
        y[rows, cur] += np.where(active, ynew, 0.0)
        if c == n_cohorts - 1:
            break
        mean, p_low = _grid_posterior_unique(grid, n, y, below_arr)
        if p_low is not None and safety_threshold is not None:
            active &= ~(p_low > safety_threshold)
        rec = recommend(np.exp(_log_p(mean, x_scaled, model, intcpt)), target)
        if use_coherent:
            rec = np.where(ynew / cohort_size >= target, np.minimum(rec, cur), rec)
        if use_no_skip:
            rec = np.minimum(rec, cur + 1)
        cur = np.where(active, rec, cur)

    mean, p_low = _grid_posterior_unique(grid, n, y, below_arr)
    final = recommend(np.exp(_log_p(mean, x_scaled, model, intcpt)), target)
    if p_low is not None and safety_threshold is not None:
        active &= ~(p_low > safety_threshold)
    sel = np.bincount(final[active], minlength=k) / n_trials
    return CRMSimulation(
        truth=tuple(float(v) for v in tr),
        skeleton=tuple(float(v) for v in skel),
        target=float(target),
        n_trials=n_trials,
        n_patients=n_patients,
        cohort_size=cohort_size,
        selection=np.asarray(sel, dtype=np.float64),
        no_selection=float(1.0 - np.sum(sel)),
        patients=n.mean(axis=0),
        dlts=y.mean(axis=0),
        early_stop=float(np.mean(~active)),
        mean_n=float(n.sum(axis=1).mean()),
        mean_dlts=float(y.sum(axis=1).mean()),
        seed=seed,
        selected=np.where(active, final, -1).astype(np.int64),
    )
