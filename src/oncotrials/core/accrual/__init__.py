"""Accrual forecasting: Gajewski's Bayesian Poisson model, the Anisimov–Fedorov Poisson–gamma
model across centres (closed forms and a vectorised Monte Carlo for planned openings), a ramp-up
check and a calibration study.

>>> from oncotrials.core.accrual import GajewskiPrior, gajewski_time
>>> round(gajewski_time(GajewskiPrior(300, 36, 0.5), accrued=100, elapsed=10).median, 1)
32.4
"""

from __future__ import annotations

from .calibration import Calibration, gajewski_calibration, poisson_gamma_calibration
from .forecast import DAYS_PER_MONTH, MIN_CENTRES, AccrualForecast, forecast
from .poisson import (
    GajewskiPrior,
    Interval,
    gajewski_count,
    gajewski_count_band,
    gajewski_time,
)
from .poisson_gamma import (
    Centre,
    PoissonGammaFit,
    Simulation,
    pg_count,
    pg_fit,
    pg_loglik,
    pg_simulate,
    pg_time,
)
from .rampup import RampUp, ramp_up

__all__ = [
    "DAYS_PER_MONTH",
    "MIN_CENTRES",
    "AccrualForecast",
    "Calibration",
    "Centre",
    "GajewskiPrior",
    "Interval",
    "PoissonGammaFit",
    "RampUp",
    "Simulation",
    "forecast",
    "gajewski_calibration",
    "gajewski_count",
    "gajewski_count_band",
    "gajewski_time",
    "pg_count",
    "pg_fit",
    "pg_loglik",
    "pg_simulate",
    "pg_time",
    "poisson_gamma_calibration",
    "ramp_up",
]
