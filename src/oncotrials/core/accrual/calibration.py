"""Calibration of the predictive intervals on trials simulated from the models themselves.

If data are drawn from the model, a correct 95 % predictive interval contains the truth 95 % of
the time. Two studies, vectorised over trials (axis 0):

- ``gajewski_calibration``: λ ~ Gamma(nP, TP) (the prior), m ~ Poisson(λ t_m), and the true time
  to the target, t_m + Gamma(n − m, λ); the interval is ``gajewski_time``'s closed form (exact
  Bayesian: expected coverage is the nominal level).
- ``poisson_gamma_calibration``: J centres with rates Gamma(α, β), staggered openings, counts to
  date, (α, β) fitted by maximum likelihood per trial, and the true count in the next period
  against ``pg_count``'s moment-matched interval (a plug-in: close to, not exactly, nominal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .poisson import _tails
from .poisson_gamma import Centre, pg_count, pg_fit


@dataclass(frozen=True, slots=True)
class Calibration:
    trials: int
    covered: int
    level: float

    @property
    def coverage(self) -> float:
        return self.covered / self.trials

    @property
    def standard_error(self) -> float:
        return float(np.sqrt(self.level * (1 - self.level) / self.trials))


def gajewski_calibration(
    *,
    trials: int = 2000,
    target: int = 60,
    duration: float = 24.0,
    certainty: float = 0.5,
    elapsed: float = 8.0,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> Calibration:
    gen = np.random.default_rng(rng)
    shape0, rate0 = target * certainty, duration * certainty
    lam = gen.gamma(shape0, 1 / rate0, size=trials)
    m = gen.poisson(lam * elapsed)
    m = np.minimum(m, target - 1)  # trials that reached the target are not forecast
    truth = elapsed + gen.gamma(target - m, 1 / lam)
    lo, hi = _tails(level)
    shape, rate = shape0 + m, rate0 + elapsed
    qlo = stats.beta.ppf(lo, target - m, shape)
    qhi = stats.beta.ppf(hi, target - m, shape)
    lower = elapsed + rate * qlo / (1 - qlo)
    upper = elapsed + rate * qhi / (1 - qhi)
    covered = int(np.sum((truth >= lower) & (truth <= upper)))
    return Calibration(trials, covered, level)


def poisson_gamma_calibration(
    *,
    trials: int = 2000,
    centres: int = 40,
    alpha: float = 2.0,
    beta: float = 4.0,
    now: float = 12.0,
    horizon: float = 6.0,
    level: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> Calibration:
    gen = np.random.default_rng(rng)
    opened = gen.uniform(0, now * 0.75, size=(trials, centres))
    lam = gen.gamma(alpha, 1 / beta, size=(trials, centres))
    k = gen.poisson(lam * (now - opened))
    future = gen.poisson(lam * horizon).sum(axis=1)
    covered = 0
    for i in range(trials):  # the MLE is per trial; the draws above are vectorised
        fit = pg_fit(k[i], now - opened[i])
        cs = [Centre(str(j), float(opened[i, j]), int(k[i, j])) for j in range(centres)]
        iv = pg_count(fit, cs, now=now, horizon=horizon, level=level)
        done = int(k[i].sum())
        covered += int(iv.lower <= done + future[i] <= iv.upper)
    return Calibration(trials, covered, level)
