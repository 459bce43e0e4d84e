"""One accrual forecast of a trial (or a cohort): the models side by side, with a warning when
the data contradict them.

Times are in months since the trial's start (``DAYS_PER_MONTH`` days). Gajewski's model needs only
the plan and the running total; the Poisson–gamma model needs at least ``MIN_CENTRES`` centres
that have been open (otherwise its two parameters are not identifiable) and at least one patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from oncotrials.core.errors import ValidationError

from .poisson import GajewskiPrior, Interval, gajewski_count_band, gajewski_time
from .poisson_gamma import Centre, PoissonGammaFit, pg_fit, pg_simulate, pg_time
from .rampup import RampUp, ramp_up

DAYS_PER_MONTH = 365.25 / 12
MIN_CENTRES = 3


@dataclass(frozen=True)
class AccrualForecast:
    target: int
    now: float
    observed: tuple[float, ...]  # accrual times (months since start), sorted
    gajewski: Interval  # time at which the target is reached
    poisson_gamma: PoissonGammaFit | None = None
    pg_closed_form: Interval | None = None  # centres open now
    pg_simulated: Interval | None = None  # with planned openings
    band_model: str = "gajewski"
    grid: tuple[float, ...] = ()
    lower: tuple[float, ...] = ()
    median: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()
    ramp_up: RampUp | None = None
    accrued: int = 0
    notes: tuple[str, ...] = field(default=())

    @property
    def best(self) -> Interval:
        """The prediction to read first: the multi-centre simulation when there is one."""
        return self.pg_simulated or self.pg_closed_form or self.gajewski


def forecast(
    *,
    times: Sequence[float],
    now: float,
    prior: GajewskiPrior,
    centres: Sequence[Centre] = (),
    level: float = 0.95,
    draws: int = 20_000,
    grid_points: int = 60,
    rng: np.random.Generator | int | None = 0,
) -> AccrualForecast:
    """Forecast when ``prior.target`` patients will be accrued, and the count band until then.

    ``times``: each accrued patient's time since the start (≤ ``now``), where known;
    ``centres``: the centres with their opening times (planned ones after ``now``) and counts,
    which give the total accrued when present (at least ``len(times)``).
    """
    prior.check()
    t = np.sort(np.asarray(times, dtype=float))
    if now < 0:
        raise ValidationError(
            f"Now must not precede the start; got {now}.",
            field="now",
            code="accrual_now_precede_start",
            now=str(now),
        )
    if t.size and (t[0] < 0 or t[-1] > now + 1e-9):
        raise ValidationError(
            "Every accrual time must lie between the start and now.",
            field="times",
            code="accrual_every_accrual_time_lie",
        )
    # Other centres' patients may be known by count only (a sponsor's report): the times are
    # then those of the centres in the database, the total is the centres' sum.
    m = sum(c.recruited for c in centres) if centres else int(t.size)
    if m < t.size:
        raise ValidationError(
            f"The centres' counts add up to {m}, fewer than the {t.size} accrual times given.",
            field="centres",
            code="accrual_centres_counts_add_up",
            m=str(m),
            size=str(t.size),
        )
    notes: list[str] = []
    gaj = gajewski_time(prior, accrued=m, elapsed=now, level=level)
    remaining = max(prior.target - m, 0)
    fit = closed = simulated = None
    open_centres = [c for c in centres if c.opened < now]
    if len(open_centres) >= MIN_CENTRES and m > 0:
        fit = pg_fit([c.recruited for c in open_centres], [now - c.opened for c in open_centres])
        closed = pg_time(fit, centres, now=now, remaining=remaining, level=level)
    elif centres:
        notes.append(
            f"The Poisson–gamma model needs at least {MIN_CENTRES} centres open and one "
            f"patient; only Gajewski's single-rate model is shown."
        )
    end = max(prior.duration, gaj.upper if np.isfinite(gaj.upper) else prior.duration, now)
    if fit is not None:
        sim = pg_simulate(
            fit, centres, now=now, remaining=remaining, draws=draws, level=level, rng=rng
        )
        simulated = sim.time_interval()
        end = max(end, simulated.upper)
    grid = np.linspace(now, end * 1.05 if end > now else now + 1, grid_points)
    if fit is not None:
        # A pointwise band: 5,000 draws give its quantiles to well under a patient.
        sim = pg_simulate(
            fit,
            centres,
            now=now,
            remaining=0,
            grid=grid,
            draws=min(draws, 5000),
            level=level,
            rng=rng,
        )
        lower, median, upper, band_model = sim.lower, sim.median, sim.upper, "poisson_gamma"
    else:
        lower, median, upper = gajewski_count_band(
            prior, accrued=m, elapsed=now, times=grid, level=level
        )
        band_model = "gajewski"
    return AccrualForecast(
        target=prior.target,
        now=now,
        observed=tuple(float(x) for x in t),
        gajewski=gaj,
        poisson_gamma=fit,
        pg_closed_form=closed,
        pg_simulated=simulated,
        band_model=band_model,
        grid=tuple(float(x) for x in grid),
        lower=tuple(float(x) for x in lower),
        median=tuple(float(x) for x in median),
        upper=tuple(float(x) for x in upper),
        ramp_up=ramp_up(t, elapsed=now),
        accrued=m,
        notes=tuple(notes),
    )
