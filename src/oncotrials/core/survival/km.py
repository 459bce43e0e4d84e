"""Kaplan-Meier estimates via lifelines: median, survival at given times, confidence intervals.

Confidence intervals are lifelines' exponential Greenwood intervals (log(-log) transform), the
same as R ``survfit(..., conf.type = "log-log")``; R's default ``conf.type = "log"`` gives
slightly different bounds (point estimates agree). The survival function is right-continuous:
S(t) includes the events at ``t``.

References
----------
Kaplan EL, Meier P. Nonparametric estimation from incomplete observations. J Am Stat Assoc
1958;53:457-481. Davidson-Pilon C. lifelines: survival analysis in Python. JOSS 2019;4(40):1317.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

from oncotrials.core.errors import ValidationError

CI_METHOD = "exponential Greenwood (log(-log)), lifelines KaplanMeierFitter"


@dataclass(frozen=True, slots=True)
class SurvivalAt:
    """Kaplan-Meier survival at one time, with its pointwise confidence interval.

    ``survival`` and its bounds are ``None`` beyond the last follow-up time when the longest
    time is censored: the curve is not estimated there (as R ``summary.survfit(extend=FALSE)``).
    """

    time: float
    survival: float | None
    lower: float | None
    upper: float | None
    at_risk: int


@dataclass(frozen=True, slots=True)
class KaplanMeierResult:
    """Kaplan-Meier summary. ``median`` and its bounds are ``inf`` when not reached."""

    label: str
    n: int
    events: int
    censored: int
    median: float
    median_lower: float
    median_upper: float
    alpha: float
    at: tuple[SurvivalAt, ...]
    ci_method: str = CI_METHOD


def kaplan_meier(
    durations: Sequence[float],
    events: Sequence[bool | int],
    *,
    times: Sequence[float] = (),
    alpha: float = 0.05,
    label: str = "",
) -> KaplanMeierResult:
    """Fit a Kaplan-Meier curve and summarise it.

    Parameters
    ----------
    durations
        Time to event or censoring for each subject, in any unit (non-negative, finite).
    events
        ``True``/``1`` for an observed event, ``False``/``0`` for censoring.
    times
        Times at which to report survival (e.g. 12 for 1-year PFS in months).
    alpha
        The intervals are ``1 - alpha`` confidence intervals.

    Raises
    ------
    ValidationError
        For empty or mismatched inputs, or a negative, infinite or missing duration; the
        message names the subject's position.
    """
    if not 0 < alpha < 1:
        raise ValidationError(f"alpha must lie in (0, 1); got {alpha}.")
    if len(durations) != len(events):
        raise ValidationError(
            f"durations and events differ in length ({len(durations)} and {len(events)}); "
            "give one event flag per duration."
        )
    if len(durations) == 0:
        raise ValidationError("No subject to estimate from; give at least one duration.")
    for i, value in enumerate(durations):
        if not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
            raise ValidationError(
                f"Subject {i + 1}: duration {value!r} is not a finite non-negative number."
            )
    for i, flag in enumerate(events):
        if not isinstance(flag, bool | numbers.Integral | np.bool_) or flag not in (0, 1):
            raise ValidationError(
                f"Subject {i + 1}: event {flag!r} must be true/1 (event) or false/0 (censored)."
            )
    for t in times:
        if not math.isfinite(t) or t < 0:
            raise ValidationError(f"Survival time {t!r} must be a finite non-negative number.")
    t_arr = np.asarray(durations, dtype=float)
    e_arr = np.asarray(events, dtype=bool)
    fitter = KaplanMeierFitter(alpha=alpha)
    fitter.fit(t_arr, event_observed=e_arr, label=label or "KM")
    median = float(fitter.median_survival_time_)
    bounds = median_survival_times(fitter.confidence_interval_)
    lower, upper = (float(x) for x in bounds.iloc[0])
    ci = fitter.confidence_interval_survival_function_
    index = ci.index.to_numpy(dtype=float)
    at = []
    longest = float(t_arr.max())
    open_ended = not bool(e_arr[t_arr == longest].any())
    for t in times:
        if t > longest and open_ended:
            at.append(SurvivalAt(float(t), None, None, None, 0))
            continue
        survival = float(fitter.survival_function_at_times([t]).iloc[0])
        row = int(np.searchsorted(index, t, side="right")) - 1
        low, high = (float(x) for x in ci.iloc[max(row, 0)])
        at_risk = int(np.sum(t_arr >= t))
        at.append(SurvivalAt(float(t), survival, low, high, at_risk))
    n_events = int(e_arr.sum())
    return KaplanMeierResult(
        label,
        len(durations),
        n_events,
        len(durations) - n_events,
        median,
        lower,
        upper,
        alpha,
        tuple(at),
    )
