"""Escalation with overdose control (EWOC; Babb, Rogatko & Zacks 1998), on a 2-D grid posterior.

Parameterisation (as ``ewoc::ewoc_d1classical``): doses are standardised to ``s = (x - x_min) /
(x_max - x_min)`` in [0, 1] and

    P(DLT | s) = expit(logit(rho0) + (logit(theta) - logit(rho0)) * s / gamma),

where ``rho0 = P(DLT at x_min)`` and ``gamma`` is the standardised MTD (the dose with DLT
probability ``theta``). Priors: ``rho0 = theta * Beta(a, b)`` and ``gamma ~ Beta(c, d)``,
uniform by default (Babb et al. 1998 used independent uniforms). The next dose is the
``alpha``-quantile of the posterior of the MTD (the feasibility bound: the posterior probability
of exceeding the MTD is at most ``alpha``), clipped to the dose range, rounded down to the dose
grid, and by default never more than one level above the current dose.

``ewoc`` samples the posterior with JAGS; here the posterior is evaluated exactly on a
``n_grid x n_grid`` midpoint grid over ``(rho0 / theta, gamma)`` in (0, 1)^2, which is cheap and
deterministic. The stopping rule is ``P(P(DLT at the first dose) > theta | data) > 0.95``
(``ewoc``'s ``stop_rule_d1classical`` intends this but averages a single draw). It can only
trigger when ``min_dose`` lies below the first dose: at ``x_min`` the DLT probability is
``rho0 < theta`` by construction.

References
----------
Babb J, Rogatko A, Zacks S. Cancer phase I clinical trials: efficient dose escalation with
overdose control. Stat Med 1998;17:1103-1120.
Tighiouart M, Rogatko A. Dose finding with escalation with overdose control (EWOC) in cancer
clinical trials. Stat Sci 2010;25:217-226.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

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
    check_doses,
    check_escalation_params,
    check_truth,
)
from oncotrials.core.designs.crm import CRMSimulation, check_rate
from oncotrials.core.designs.crm import _check_int as check_int
from oncotrials.core.designs.reasons import explain, reason, rule_parts, ruled
from oncotrials.core.errors import ValidationError
from oncotrials.core.lazy import special, stats

FloatArray = NDArray[np.float64]

__all__ = ["EWOC", "EWOCPosterior"]


@dataclass(frozen=True, slots=True)
class EWOCPosterior:
    """Grid posterior summaries for the data so far."""

    mtd_quantile: float  # alpha-quantile of the MTD (dose units), before clipping and rounding
    mtd_mean: float  # posterior mean of the MTD (dose units)
    pdlt: tuple[float, ...]  # posterior mean DLT probability at each dose
    prob_overdose: tuple[float, ...]  # P(MTD < dose | data) for each dose
    prob_first_too_toxic: float  # P(P(DLT at the first dose) > theta | data)


@dataclass(frozen=True, slots=True)
class EWOC:
    """EWOC design over a discrete dose set.

    Parameters
    ----------
    doses : dose amounts, strictly increasing.
    target : ``theta``, the DLT probability that defines the MTD.
    alpha : feasibility bound in (0, 0.5] (0.25 in Babb et al.; often raised from 0.25 towards
        0.5 as the trial accrues).
    min_dose, max_dose : limits of the standardised dose scale (default: the first and last
        dose); ``gamma`` lives in between.
    rho_prior, mtd_prior : Beta parameters of ``rho0 / theta`` and of ``gamma``.
    no_skip : never more than one level above the current dose.
    rounding : "down" (largest dose not above the quantile; ewoc's default) or "nearest".
    stop_threshold : stop when ``P(P(DLT at the first dose) > theta) > stop_threshold``
        (``None``: never).
    n_grid : grid points per parameter.
    """

    name: ClassVar[str] = "ewoc"
    label: ClassVar[str] = "EWOC"
    aliases: ClassVar[tuple[str, ...]] = ()
    escalation_params: ClassVar[Mapping[str, Param]] = {
        "doses": Param("per-dose numbers", "dose amounts, default the cohort's dose levels"),
        "alpha": Param("number", "feasibility bound in (0, 0.5], default 0.25"),
        "min_dose": Param("number", "lower end of the dose scale"),
        "max_dose": Param("number", "upper end of the dose scale"),
        "no_skip": Param("boolean", "at most one level up, default true"),
        "stop_threshold": Param("number", "stop if P(first dose too toxic) exceeds this"),
    }

    doses: tuple[float, ...]
    target: float = 0.33
    alpha: float = 0.25
    min_dose: float | None = None
    max_dose: float | None = None
    rho_prior: tuple[float, float] = (1.0, 1.0)
    mtd_prior: tuple[float, float] = (1.0, 1.0)
    no_skip: bool = True
    rounding: Literal["down", "nearest"] = "down"
    stop_threshold: float | None = 0.95
    n_grid: int = 400

    @classmethod
    def for_escalation(cls, settings: EscalationSettings) -> EWOC:
        """The EWOC a cohort's escalation plan runs, on the cohort's dose amounts by default."""
        params = check_escalation_params(cls.name, cls.escalation_params, settings)
        doses = params.pop("doses", None) or settings.dose_amounts
        if not doses:
            raise ValidationError(
                "ewoc needs the dose amounts: give parameters.doses, one per dose level.",
                field="parameters.doses",
                code="design_ewoc_doses_needed",
            )
        return cls(tuple(doses), target=settings.target_for(cls.name), **params)

    def get_params(self) -> dict[str, object]:
        """The constructor parameters (estimator contract)."""
        return {f: getattr(self, f) for f in self.__dataclass_fields__}

    def _validate(self) -> tuple[FloatArray, float, float]:
        x = np.asarray(self.doses, dtype=np.float64)
        if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
            raise ValidationError(
                f"doses must be a non-empty list of numbers; got {self.doses!r}.",
                code="design_ewoc_doses",
                doses=repr(self.doses),
            )
        if x.size > 1 and not np.all(np.diff(x) > 0):
            i = int(np.argmax(np.diff(x) <= 0))
            raise ValidationError(
                f"doses must be strictly increasing; got {x[i].item()!r} at dose {i} then "
                f"{x[i + 1].item()!r} at dose {i + 1}.",
                code="design_ewoc_doses_increasing",
                value=repr(x[i].item()),
                i=i,
                next_value=repr(x[i + 1].item()),
                next_dose=i + 1,
            )
        check_rate("target", self.target)
        if not (0.0 < self.alpha <= 0.5):
            raise ValidationError(
                f"alpha (the feasibility bound) must lie in (0, 0.5]; got {self.alpha!r}.",
                code="design_ewoc_alpha",
                alpha=repr(self.alpha),
            )
        lo = float(x[0]) if self.min_dose is None else float(self.min_dose)
        hi = float(x[-1]) if self.max_dose is None else float(self.max_dose)
        if not (lo <= x[0] and x[-1] <= hi and lo < hi):
            raise ValidationError(
                f"min_dose and max_dose must bracket the doses with min_dose < max_dose; got "
                f"min_dose={lo!r}, max_dose={hi!r} for doses {x.tolist()}.",
                code="design_ewoc_bounds",
                lo=repr(lo),
                hi=repr(hi),
                doses=x.tolist(),
            )
        for name, (pa, pb) in (("rho_prior", self.rho_prior), ("mtd_prior", self.mtd_prior)):
            if not (pa > 0 and pb > 0 and math.isfinite(pa) and math.isfinite(pb)):
                raise ValidationError(
                    f"{name} must hold two positive Beta parameters; got {(pa, pb)!r}.",
                    code="design_beta_prior",
                    name=name,
                    value=repr((pa, pb)),
                )
        if self.rounding not in ("down", "nearest"):
            raise ValidationError(
                f"rounding must be 'down' or 'nearest'; got {self.rounding!r}.",
                code="design_ewoc_rounding",
                rounding=repr(self.rounding),
            )
        if self.stop_threshold is not None:
            check_rate("stop_threshold", self.stop_threshold)
        if isinstance(self.n_grid, bool) or int(self.n_grid) != self.n_grid or self.n_grid < 20:
            raise ValidationError(
                f"n_grid must be an integer >= 20; got {self.n_grid!r}.",
                code="design_ewoc_grid",
                n_grid=repr(self.n_grid),
            )
        return x, lo, hi

    def posterior(self, data: Sequence[DoseData | tuple[int, int]]) -> EWOCPosterior:
        """Posterior summaries on the grid for per-dose counts (lowest dose first)."""
        x, lo, hi = self._validate()
        doses = as_dose_data(data)
        check_doses(doses, n_doses=x.size)
        n = np.asarray([d.treated for d in doses], dtype=np.float64)
        y = np.asarray([d.dlts for d in doses], dtype=np.float64)
        g = int(self.n_grid)
        mid = (np.arange(g) + 0.5) / g
        v1 = mid[:, None]  # rho0 / theta
        gam = mid[None, :]  # standardised MTD
        theta = float(self.target)
        rho = theta * v1
        lt = special.logit(theta)
        lr = special.logit(rho)
        s = (x - lo) / (hi - lo)  # (K,)
        eta = lr[..., None] + (lt - lr)[..., None] * s / gam[..., None]  # (G, G, K)
        logp = -np.logaddexp(0.0, -eta)
        log1mp = -np.logaddexp(0.0, eta)
        loglik = logp @ y + log1mp @ (n - y)  # (G, G)
        logprior = stats.beta.logpdf(v1, *self.rho_prior) + stats.beta.logpdf(gam, *self.mtd_prior)
        lw = loglik + logprior
        w = np.exp(lw - lw.max())
        w /= w.sum()
        mtd_grid = lo + mid * (hi - lo)
        marg = w.sum(axis=0)  # over rho0: marginal of gamma by cell
        # alpha-quantile: mass spread uniformly within each gamma cell
        edges = np.concatenate([[0.0], np.cumsum(marg)])
        i = int(np.searchsorted(edges, self.alpha, side="left")) - 1
        i = min(max(i, 0), g - 1)
        frac = (self.alpha - edges[i]) / marg[i] if marg[i] > 0 else 0.0
        q_std = (i + min(max(frac, 0.0), 1.0)) / g
        mtd_q = lo + q_std * (hi - lo)
        p = np.exp(logp)
        pdlt = np.tensordot(w, p, axes=([0, 1], [0, 1]))
        # P(MTD < dose): gamma cells entirely below s_k plus the partial cell
        prob_over = []
        for sk in s:
            pos = sk * g
            full = math.floor(float(pos))
            part = pos - full
            mass = float(marg[:full].sum()) + (float(marg[full]) * part if full < g else 0.0)
            prob_over.append(float(min(mass, 1.0)))
        first_tox = float(w[p[..., 0] > theta].sum())
        return EWOCPosterior(
            mtd_quantile=float(mtd_q),
            mtd_mean=float(np.sum(marg * mtd_grid)),
            pdlt=tuple(float(v) for v in pdlt),
            prob_overdose=tuple(prob_over),
            prob_first_too_toxic=first_tox,
        )

    def _tables(
        self, x: FloatArray, lo: float, hi: float, g: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """log p and log(1 - p) per dose over the flattened (rho0/theta, gamma) grid, the log
        prior and the indicator of P(DLT at the first dose) > theta."""
        mid = (np.arange(g) + 0.5) / g
        v1 = np.repeat(mid, g)  # rho0 / theta, slow axis
        gam = np.tile(mid, g)  # standardised MTD, fast axis
        theta = float(self.target)
        lr = special.logit(theta * v1)
        lt = special.logit(theta)
        s = (x - lo) / (hi - lo)
        eta = lr[None, :] + (lt - lr)[None, :] * s[:, None] / gam[None, :]  # (K, G*G)
        logp = -np.logaddexp(0.0, -eta)
        log1mp = -np.logaddexp(0.0, eta)
        logprior = stats.beta.logpdf(v1, *self.rho_prior) + stats.beta.logpdf(gam, *self.mtd_prior)
        first = (np.exp(logp[0]) > theta).astype(np.float64)
        return logp, log1mp, logprior, first

    def _batch(
        self,
        tables: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
        g: int,
        n: FloatArray,
        y: FloatArray,
        alpha: float,
    ) -> tuple[FloatArray, FloatArray]:
        """Standardised ``alpha``-quantile of the MTD and P(first dose too toxic), per row."""
        logp, log1mp, logprior, first = tables
        lw = y @ logp + (n - y) @ log1mp + logprior
        lw -= lw.max(axis=1, keepdims=True)
        w = np.exp(lw)
        w /= w.sum(axis=1, keepdims=True)
        marg = w.reshape(-1, g, g).sum(axis=1)  # (U, gamma cells)
        cdf = np.cumsum(marg, axis=1)
        i = np.minimum(np.sum(cdf < alpha, axis=1), g - 1)
        rows = np.arange(marg.shape[0])
        mi = marg[rows, i]
        before = cdf[rows, i] - mi
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(mi > 0, (alpha - before) / mi, 0.0)
        q_std = (i + np.clip(frac, 0.0, 1.0)) / g
        p_first: FloatArray = w @ first
        return q_std, p_first

    def simulate(
        self,
        truth: Sequence[float],
        *,
        n_patients: int = 30,
        cohort_size: int = 1,
        n_trials: int = 10_000,
        start_dose: int = 0,
        n_grid: int = 120,
        select_quantile: float = 0.5,
        rng: np.random.Generator | int | None = None,
    ) -> CRMSimulation:
        """Operating characteristics over many trials at once.

        Cohorts of ``cohort_size`` start at ``start_dose`` (0-based); after each cohort the next
        dose follows :meth:`decide` (feasibility-bound quantile, rounding, no skipping) and the
        stopping rule ends a trial with no dose selected. At the end the selected dose is the
        ``select_quantile`` quantile of the MTD posterior (default the posterior median, the
        usual final estimate; ``select_quantile=alpha`` gives the next dose the rule would
        assign), clipped and rounded like the dose assignments. Posteriors are computed on an
        ``n_grid x n_grid`` grid, once per distinct count state.
        """
        x, lo, hi = self._validate()
        k = x.size
        tr = check_truth(np.asarray(truth, dtype=np.float64).tolist())
        if tr.size != k:
            raise ValidationError(
                f"truth has {tr.size} dose levels but the design has {k} doses; give one true "
                "rate per dose.",
                code="design_truth_doses",
                size=tr.size,
                k=k,
            )
        n_patients = check_int("n_patients", n_patients, 1)
        cohort_size = check_int("cohort_size", cohort_size, 1)
        n_trials = check_int("n_trials", n_trials, 1)
        g = check_int("n_grid", n_grid, 20)
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
        seed = rng if isinstance(rng, int) and not isinstance(rng, bool) else None
        gen = np.random.default_rng(rng)
        n_cohorts = n_patients // cohort_size
        u = gen.random((n_trials, n_cohorts, cohort_size))
        tables = self._tables(x, lo, hi, g)
        rows = np.arange(n_trials)
        n = np.zeros((n_trials, k))
        y = np.zeros((n_trials, k))
        cur = np.full(n_trials, int(start_dose), dtype=np.int64)
        active = np.ones(n_trials, dtype=bool)

        if not (0.0 < select_quantile < 1.0):
            raise ValidationError(
                f"select_quantile must lie in (0, 1); got {select_quantile!r}.",
                code="design_ewoc_quantile",
                select_quantile=repr(select_quantile),
            )

        def rule(
            n_: FloatArray, y_: FloatArray, quantile: float
        ) -> tuple[NDArray[np.int64], FloatArray]:
            state = np.ascontiguousarray(np.hstack([n_, y_]).astype(np.int32))
            keys = state.view(np.dtype((np.void, 4 * 2 * k))).reshape(-1)
            _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            q_std, p_first = self._batch(tables, g, n_[first], y_[first], quantile)
            q = np.clip(lo + q_std * (hi - lo), x[0], x[-1])
            if self.rounding == "down":
                idx = np.sum(x[None, :] <= (q + 1e-12 * np.maximum(1.0, np.abs(q)))[:, None], 1) - 1
            else:
                idx = np.argmin(np.abs(x[None, :] - q[:, None]), axis=1)
            return idx[inverse].astype(np.int64), p_first[inverse]

        for c in range(n_cohorts):
            ynew = np.sum(u[:, c, :] < tr[cur][:, None], axis=1).astype(np.float64)
            n[rows, cur] += np.where(active, cohort_size, 0)
            y[rows, cur] += np.where(active, ynew, 0.0)
            if c == n_cohorts - 1:
                break
            idx, p_first = rule(n, y, self.alpha)
            if self.stop_threshold is not None:
                active &= ~(p_first > self.stop_threshold)
            nxt = np.minimum(idx, cur + 1) if self.no_skip else idx
            cur = np.where(active, nxt, cur)
        final, p_first = rule(n, y, select_quantile)
        if self.stop_threshold is not None:
            active &= ~(p_first > self.stop_threshold)
        selected = np.where(active, final, -1)
        sel = np.bincount(final[active], minlength=k) / n_trials
        return CRMSimulation(
            truth=tuple(float(v) for v in tr),
            skeleton=(),
            target=float(self.target),
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
            selected=selected.astype(np.int64),
            design=self.name,
        )

    def decide(self, data: Sequence[DoseData | tuple[int, int]], current: int) -> Decision:
        """Next dose: the feasibility-bound quantile of the MTD, on the dose grid."""
        x, _, _ = self._validate()
        doses = as_dose_data(data)
        check_doses(doses, n_doses=x.size)
        cur = check_current(current, x.size)
        if all(d.treated == 0 for d in doses):
            return Decision(
                action=Action.STAY,
                current_dose=cur,
                next_dose=cur,
                **reason("model_untreated_patient", dose=cur + 1),
                **ruled("rule_untreated"),
            )
        post = self.posterior(doses)
        if self.stop_threshold is not None and post.prob_first_too_toxic > self.stop_threshold:
            return Decision(
                action=Action.STOP,
                current_dose=cur,
                next_dose=None,
                **reason(
                    "ewoc_stop",
                    target=f"{self.target:g}",
                    p=f"{post.prob_first_too_toxic:.3f}",
                    threshold=f"{self.stop_threshold:g}",
                ),
                **ruled("rule_ewoc_stop"),
                eliminated=tuple(range(x.size)),
            )
        q = min(max(post.mtd_quantile, float(x[0])), float(x[-1]))
        if self.rounding == "down":
            nxt = int(np.nonzero(x <= q + 1e-12 * max(1.0, abs(q)))[0].max())
        else:
            nxt = int(np.argmin(np.abs(x - q)))
        rules = [
            explain(
                "rule_ewoc_quantile",
                alpha=f"{self.alpha:g}",
                quantile=f"{post.mtd_quantile:.4g}",
                dose=nxt + 1,
            )
        ]
        if self.no_skip and nxt > cur + 1:
            nxt = cur + 1
            rules.append(explain("rule_no_skipping"))
        action = Action.ESCALATE if nxt > cur else Action.DE_ESCALATE if nxt < cur else Action.STAY
        return Decision(
            action=action,
            current_dose=cur,
            next_dose=nxt,
            **reason(
                "ewoc_next",
                dose=nxt + 1,
                p=f"{post.prob_overdose[nxt]:.3f}",
                alpha=f"{self.alpha:g}",
                pdlt=f"{post.pdlt[nxt]:.3f}",
            ),
            **ruled(rule_parts(*rules)),
        )
