"""Anisimov–Fedorov Poisson–gamma model of multi-centre recruitment.

Centre i, active for τ_i, recruits k_i ~ Poisson(λ_i τ_i) with λ_i ~ Gamma(α, β) i.i.d.; so
k_i ~ NegBin(size α, prob β/(β + τ_i)). (α, β) are estimated by maximum likelihood over the
centres' counts and exposures; the posterior rate of centre i is Gamma(α + k_i, β + τ_i), and a
centre not yet open recruits, from its planned opening, at a rate drawn from the prior
Gamma(α, β).

Predictions:

- closed form (Anisimov 2011): the total rate of a set of centres, a sum of gammas, is
  moment-matched by one Gamma(A, B) with A = E²/V, B = E/V. The count in a future period is then
  NegBin(A, B/(B + 1)) over the centres' exposures in it, and the time to R more patients,
  with the centres open now, is B_t · BetaPrime(R, A) where Gamma(A, B_t) matches the total
  rate (the same beta-prime form as Gajewski's);
- Monte Carlo (``pg_simulate``), vectorised over draws: each draw samples every centre's rate,
  builds the piecewise-linear cumulative intensity from the (planned) opening dates, and inverts
  it at a Gamma(R, 1) draw (the R-th arrival of a unit Poisson process in transformed time), so
  planned openings change the predicted end date, which the closed form cannot express.

References
----------
Anisimov VV, Fedorov VV. Modelling, prediction and adaptive adjustment of recruitment in
multicentre trials. Stat Med 2007;26(27):4958-4975. doi:10.1002/sim.2956.
Anisimov VV. Statistical modeling of clinical trials (recruitment and randomization). Commun
Stat Theory Methods 2011;40(19-20):3684-3699.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from oncotrials.core.errors import ValidationError

from .poisson import Interval, _tails


@dataclass(frozen=True, slots=True)
class PoissonGammaFit:
    """The maximum-likelihood (α, β) of the centre rates' gamma distribution."""

    alpha: float
    beta: float
    loglik: float
    centres: int
    converged: bool

    @property
    def mean_rate(self) -> float:
        """E[λ] = α/β, patients per centre per time unit."""
        return self.alpha / self.beta


def _arrays(counts: Sequence[int], exposures: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(counts, dtype=float)
    tau = np.asarray(exposures, dtype=float)
    if k.shape != tau.shape or k.ndim != 1:
        raise ValidationError(
            f"One count per centre and one exposure per centre; got {k.shape} and {tau.shape}.",
            field="counts",
            code="accrual_one_count_per_centre",
            shape=str(k.shape),
            shape_2=str(tau.shape),
        )
    if np.any(k < 0) or np.any(k != np.round(k)):
        raise ValidationError(
            "Every centre's count must be a whole number ≥ 0.",
            field="counts",
            code="accrual_every_centre_s_count",
        )
    if np.any(tau < 0) or not np.all(np.isfinite(tau)):
        raise ValidationError(
            "Every centre's exposure must be finite and ≥ 0.",
            field="exposures",
            code="accrual_every_centre_s_exposure",
        )
    return k, tau


def pg_loglik(alpha: float, beta: float, counts: np.ndarray, exposures: np.ndarray) -> float:
    """Σ_i [lnΓ(α+k_i) − lnΓ(α) + α ln β − (α+k_i) ln(β+τ_i) + k_i ln τ_i − ln k_i!]."""
    k, tau = counts, exposures
    return float(
        np.sum(
            special.gammaln(alpha + k)
            - special.gammaln(alpha)
            + alpha * np.log(beta)
            - (alpha + k) * np.log(beta + tau)
            + special.xlogy(k, tau)
            - special.gammaln(k + 1)
        )
    )


def pg_fit(counts: Sequence[int], exposures: Sequence[float]) -> PoissonGammaFit:
    """Maximum-likelihood (α, β) from each centre's count and time open.

    Optimised over (ln α, ln β) by Newton's method with the analytic gradient and Hessian and a
    backtracking line search (a step that is not an ascent direction falls back to the
    gradient). Centres with no exposure
    carry no information and are left out. Without over-dispersion the likelihood keeps rising
    with α (the Poisson limit); α is then capped at 10⁴ with β = α/mean rate.
    """
    k, tau = _arrays(counts, exposures)
    keep = tau > 0
    k, tau = k[keep], tau[keep]
    if k.size == 0:
        raise ValidationError(
            "No centre has been open yet: nothing to fit.",
            field="exposures",
            code="accrual_no_centre_open_yet",
        )
    if k.sum() == 0:
        raise ValidationError(
            "No patient has been recruited yet: the rates cannot be estimated; use the "
            "planned rate (Gajewski's informative prior) instead.",
            field="counts",
            code="accrual_no_patient_yet",
        )
    rate = k.sum() / tau.sum()
    r = k / tau
    extra = np.var(r) - rate * np.mean(1 / tau)
    alpha0 = float(np.clip(rate**2 / extra, 0.05, 1e3)) if extra > 0 else 50.0

    a, b, converged = _newton(k, tau, alpha0, alpha0 / rate)
    cap = 1e4
    if a >= cap:
        a, b = cap, cap / rate
    return PoissonGammaFit(
        alpha=float(a),
        beta=float(b),
        loglik=pg_loglik(float(a), float(b), k, tau),
        centres=int(k.size),
        converged=converged,
    )


def _newton(
    k: np.ndarray, tau: np.ndarray, a: float, b: float, *, max_iter: int = 100
) -> tuple[float, float, bool]:
    x = np.log([a, b])
    ll = pg_loglik(a, b, k, tau)
    for _ in range(max_iter):
        a, b = np.exp(x)
        da = np.sum(special.digamma(a + k) - special.digamma(a) + np.log(b / (b + tau)))
        db = np.sum(a / b - (a + k) / (b + tau))
        daa = np.sum(special.polygamma(1, a + k) - special.polygamma(1, a))
        dab = np.sum(1 / b - 1 / (b + tau))
        dbb = np.sum(-a / b**2 + (a + k) / (b + tau) ** 2)
        g = np.array([a * da, b * db])
        h = np.array([[a * a * daa + a * da, a * b * dab], [a * b * dab, b * b * dbb + b * db]])
        if np.max(np.abs(g)) < 1e-8:
            return float(a), float(b), True
        try:
            step = -np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            step = g
        if step @ g <= 0:  # not an ascent direction: follow the gradient
            step = g / max(1.0, float(np.max(np.abs(g))))
        step = np.clip(step, -5, 5)
        t = 1.0
        while t > 1e-10:
            xn = x + t * step
            an, bn = np.exp(xn)
            if an > 1e4:  # the Poisson limit
                return 1e4, float(bn), True
            lln = pg_loglik(float(an), float(bn), k, tau)
            if lln >= ll:
                break
            t /= 2
        else:
            return float(a), float(b), True  # no ascent left: at the maximum
        if abs(lln - ll) < 1e-12 and t * np.max(np.abs(step)) < 1e-10:
            x, ll = xn, lln
            break
        x, ll = xn, lln
    a, b = np.exp(x)
    return float(a), float(b), bool(np.max(np.abs(g)) < 1e-5)


@dataclass(frozen=True, slots=True)
class Centre:
    """A centre of a trial: opened at ``opened`` (time since the trial's start; later than
    ``now`` for a planned opening) with ``recruited`` patients so far."""

    name: str
    opened: float
    recruited: int = 0


def _rates(
    fit: PoissonGammaFit, centres: Sequence[Centre], now: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(shape, rate, opening offset from now) of every centre's rate distribution."""
    shape = np.empty(len(centres))
    rate = np.empty(len(centres))
    start = np.empty(len(centres))
    for i, c in enumerate(centres):
        tau = max(0.0, now - c.opened)
        if c.opened <= now:
            shape[i], rate[i], start[i] = fit.alpha + c.recruited, fit.beta + tau, 0.0
        else:
            if c.recruited:
                raise ValidationError(
                    f"Centre {c.name} opens at {c.opened}, after now ({now}), yet has "
                    f"{c.recruited} patients.",
                    field="recruited",
                    code="accrual_centre_opens_after_now",
                    name=str(c.name),
                    opened=str(c.opened),
                    now=str(now),
                    recruited=str(c.recruited),
                )
            shape[i], rate[i], start[i] = fit.alpha, fit.beta, c.opened - now
    return shape, rate, start


def pg_count(
    fit: PoissonGammaFit,
    centres: Sequence[Centre],
    *,
    now: float,
    horizon: float,
    level: float = 0.95,
) -> Interval:
    """Closed form: the number recruited in the next ``horizon`` (all centres, planned openings
    from their date), plus those already recruited; moment-matched NegBin."""
    shape, rate, start = _rates(fit, centres, now)
    active = np.maximum(horizon - start, 0.0)
    e = float(np.sum(shape * active / rate))
    v = float(np.sum(shape * active**2 / rate**2))
    done = sum(c.recruited for c in centres)
    if e <= 0:
        return Interval(done, done, done, done, level)
    a, b = e * e / v, e / v
    lo, hi = _tails(level)
    q = stats.nbinom.ppf([lo, 0.5, hi], a, b / (b + 1))
    return Interval(float(q[1] + done), float(q[0] + done), float(q[2] + done), done + e, level)


def pg_time(
    fit: PoissonGammaFit,
    centres: Sequence[Centre],
    *,
    now: float,
    remaining: int,
    level: float = 0.95,
) -> Interval:
    """Closed form: the time (since the trial's start) when ``remaining`` more patients are
    recruited by the centres open now (planned openings are ignored: see ``pg_simulate``)."""
    if remaining <= 0:
        return Interval(now, now, now, now, level)
    shape, rate, start = _rates(fit, centres, now)
    open_now = start == 0
    if not open_now.any():
        raise ValidationError(
            "No centre is open: the closed form cannot predict; simulate the planned openings.",
            field="centres",
            code="accrual_no_centre_open",
        )
    e = float(np.sum(shape[open_now] / rate[open_now]))
    v = float(np.sum(shape[open_now] / rate[open_now] ** 2))
    a, b = e * e / v, e / v
    lo, hi = _tails(level)
    q = stats.beta.ppf([lo, 0.5, hi], remaining, a)
    t = now + b * q / (1 - q)
    mean = now + b * remaining / (a - 1) if a > 1 else float("inf")
    return Interval(float(t[1]), float(t[0]), float(t[2]), float(mean), level)


@dataclass(frozen=True, slots=True)
class Simulation:
    """Monte Carlo predictions: the time of the ``remaining``-th next patient per draw, and the
    pointwise count band over ``grid`` (times since the trial's start)."""

    times: np.ndarray  # (draws,) time since the trial's start
    grid: np.ndarray  # (G,)
    lower: np.ndarray  # (G,) counts, total since the start
    median: np.ndarray
    upper: np.ndarray
    level: float

    def time_interval(self) -> Interval:
        lo, hi = _tails(self.level)
        q = np.quantile(self.times, [lo, 0.5, hi])
        return Interval(
            float(q[1]), float(q[0]), float(q[2]), float(np.mean(self.times)), self.level
        )


def pg_simulate(
    fit: PoissonGammaFit,
    centres: Sequence[Centre],
    *,
    now: float,
    remaining: int,
    grid: Sequence[float] | np.ndarray = (),
    draws: int = 100_000,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> Simulation:
    """Vectorised Monte Carlo over ``draws`` (axis 0), with planned openings.

    Per draw: λ_j from each centre's gamma; Φ(t) = Σ_j λ_j·max(0, t − o_j) (o_j: opening offset
    from now), piecewise linear (the centres open now enter through the sum of their rates, drawn
    in single precision: the breakpoints are the planned openings only); the ``remaining``-th arrival is at Φ⁻¹(G), G ~ Gamma(remaining,
    1). Counts at each grid time are Poisson(Φ(t)) draws.
    """
    if draws < 1:
        raise ValidationError(
            f"At least one draw is needed; got {draws}.",
            field="draws",
            code="accrual_least_one_draw_needed",
            draws=str(draws),
        )
    gen = np.random.default_rng(rng)
    shape, rate, start = _rates(fit, centres, now)
    if not len(centres):
        raise ValidationError(
            "No centre to simulate.", field="centres", code="accrual_no_centre_to_simulate"
        )
    open_now = start == 0
    # Centres open now act together from now on: only the sum of their rates matters.
    total_open = np.zeros(draws)
    if open_now.any():
        g_open = gen.standard_gamma(
            shape[open_now], size=(draws, int(open_now.sum())), dtype=np.float32
        )
        total_open = (g_open / rate[open_now].astype(np.float32)).sum(axis=1, dtype=np.float64)
    order = np.argsort(start[~open_now], kind="stable")
    p_shape, p_rate, p_start = (x[~open_now][order] for x in (shape, rate, start))
    lam_p = gen.standard_gamma(p_shape, size=(draws, p_shape.size)) / p_rate
    done = sum(c.recruited for c in centres)
    if remaining > 0:
        breaks = np.concatenate([[0.0], p_start])  # segment k starts at breaks[k]
        slope = np.concatenate([total_open[:, None], lam_p], axis=1).cumsum(axis=1)
        phi_at = np.zeros_like(slope)
        np.cumsum(slope[:, :-1] * np.diff(breaks), axis=1, out=phi_at[:, 1:])
        target = gen.standard_gamma(remaining, size=draws)
        seg = np.sum(phi_at <= target[:, None], axis=1) - 1
        rows = np.arange(draws)
        times = now + breaks[seg] + (target - phi_at[rows, seg]) / slope[rows, seg]
    else:
        times = np.full(draws, now)
    g = np.asarray(grid, dtype=float)
    lo, hi = _tails(level)
    if g.size:
        ahead = np.maximum(g - now, 0.0)
        mean = total_open[:, None] * ahead[None, :]
        if p_start.size:
            mean += lam_p @ np.maximum(ahead[None, :] - p_start[:, None], 0.0)
        counts = gen.poisson(mean) + done
        q = np.quantile(counts, [lo, 0.5, hi], axis=0)
        band = (q[0], q[1], q[2])
    else:
        band = (np.empty(0), np.empty(0), np.empty(0))
    return Simulation(times, g, band[0], band[1], band[2], level)
