"""Gajewski's Bayesian Poisson accrual model with an informative prior.

The accrual rate λ (patients per unit of time) has the prior Gamma(shape n·P, rate T·P), where n
is the target sample size, T the planned accrual duration and P ∈ (0, 1] the prior certainty
(how much the plan weighs against the data: P = 1 counts the plan as much as a completed trial).
After m patients in time t_m the posterior is Gamma(n·P + m, T·P + t_m), and

- the number accrued by time T_p > t_m is m + NegBin(size = n·P + m,
  prob = (T·P + t_m) / (T·P + T_p));
- the time to reach n_p > m patients is t_m + (T·P + t_m)·B / (1 − B), B ~ Beta(n_p − m,
  n·P + m) (a scaled beta-prime distribution).

Both predictive distributions are closed forms; quantiles come from scipy's ``nbinom.ppf`` and
``beta.ppf`` (the map B → B/(1 − B) is increasing, so it carries quantiles over).

References
----------
Gajewski BJ, Simon SD, Carlson SE. Predicting accrual in clinical trials with Bayesian posterior
predictive distributions. Stat Med 2008;27:2328-2340. doi:10.1002/sim.3128.
R package ``accrual`` 1.4 (Liu, Jiang, Wu, Simon, Mayo, Raghavan, Gajewski), functions
``accrual.n.inform`` and ``accrual.T.inform``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from oncotrials.core.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Interval:
    """A predictive median with an equal-tailed interval at ``level``, and the mean."""

    median: float
    lower: float
    upper: float
    mean: float
    level: float


@dataclass(frozen=True, slots=True)
class GajewskiPrior:
    """The plan: ``target`` patients in ``duration`` (time units of the data), certainty P."""

    target: int
    duration: float
    certainty: float = 0.5

    def check(self) -> None:
        if self.target <= 0:
            raise ValidationError(
                f"The target sample size must be positive; got {self.target}.",
                field="target",
                code="accrual_target_sample_size_positive",
                target=str(self.target),
            )
        if not self.duration > 0:
            raise ValidationError(
                f"The planned accrual duration must be positive; got {self.duration}.",
                field="duration",
                code="accrual_planned_accrual_duration_positive",
                duration=str(self.duration),
            )
        if not 0 < self.certainty <= 1:
            raise ValidationError(
                f"The prior certainty P must lie in (0, 1]; got {self.certainty}.",
                field="certainty",
                code="accrual_prior_certainty_p_lie",
                certainty=str(self.certainty),
            )

    def posterior(self, accrued: int, elapsed: float) -> tuple[float, float]:
        """(shape, rate) of the posterior Gamma of the accrual rate after ``accrued`` patients
        in ``elapsed`` time."""
        self.check()
        _check_data(accrued, elapsed)
        return self.target * self.certainty + accrued, self.duration * self.certainty + elapsed


def _check_data(accrued: int, elapsed: float) -> None:
    if accrued < 0:
        raise ValidationError(
            f"The number accrued cannot be negative; got {accrued}.",
            field="m",
            code="accrual_number_accrued_negative",
            accrued=str(accrued),
        )
    if elapsed < 0:
        raise ValidationError(
            f"The elapsed time cannot be negative; got {elapsed}.",
            field="tm",
            code="accrual_elapsed_time_negative",
            elapsed=str(elapsed),
        )


def _tails(level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValidationError(
            f"The interval level must lie in (0, 1); got {level}.",
            field="level",
            code="accrual_interval_level_lie",
            level=str(level),
        )
    return (1 - level) / 2, (1 + level) / 2


def gajewski_count(
    prior: GajewskiPrior, *, accrued: int, elapsed: float, at: float, level: float = 0.95
) -> Interval:
    """The predictive number accrued by time ``at`` (≥ ``elapsed``), as ``accrual.n.inform``."""
    shape, rate = prior.posterior(accrued, elapsed)
    if at < elapsed:
        raise ValidationError(
            f"The prediction time ({at}) must not precede the data ({elapsed}).",
            field="at",
            code="accrual_prediction_time_precede_data",
            at=str(at),
            elapsed=str(elapsed),
        )
    lo, hi = _tails(level)
    prob = rate / (rate + (at - elapsed))
    dist = stats.nbinom(shape, prob)
    q = dist.ppf([lo, 0.5, hi])
    return Interval(
        median=float(q[1] + accrued),
        lower=float(q[0] + accrued),
        upper=float(q[2] + accrued),
        mean=float(accrued + shape * (at - elapsed) / rate),
        level=level,
    )


def gajewski_count_band(
    prior: GajewskiPrior,
    *,
    accrued: int,
    elapsed: float,
    times: np.ndarray,
    level: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pointwise (lower, median, upper) predictive counts at each of ``times`` (≥ elapsed)."""
    shape, rate = prior.posterior(accrued, elapsed)
    lo, hi = _tails(level)
    t = np.asarray(times, dtype=float)
    prob = rate / (rate + np.maximum(t - elapsed, 0.0))
    qs = [stats.nbinom.ppf(p, shape, prob) + accrued for p in (lo, 0.5, hi)]
    return qs[0], qs[1], qs[2]


def gajewski_time(
    prior: GajewskiPrior,
    *,
    accrued: int,
    elapsed: float,
    reach: int | None = None,
    level: float = 0.95,
) -> Interval:
    """The predictive time at which ``reach`` patients (default: the target) are accrued, as
    ``accrual.T.inform``: t_m + (T·P + t_m)·B/(1 − B), B ~ Beta(reach − m, n·P + m)."""
    shape, rate = prior.posterior(accrued, elapsed)
    goal = prior.target if reach is None else reach
    if goal <= accrued:
        return Interval(elapsed, elapsed, elapsed, elapsed, level)
    lo, hi = _tails(level)
    q = stats.beta.ppf([lo, 0.5, hi], goal - accrued, shape)
    times = elapsed + rate * q / (1 - q)
    # E[B/(1-B)] = a/(b-1) for the beta-prime(a, b); infinite when b <= 1.
    mean = elapsed + rate * (goal - accrued) / (shape - 1) if shape > 1 else float("inf")
    return Interval(float(times[1]), float(times[0]), float(times[2]), float(mean), level)
