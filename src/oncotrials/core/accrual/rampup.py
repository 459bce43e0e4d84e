"""Does the observed accrual speed up? A homogeneous Poisson model assumes it does not.

The observation period [0, t] is split at its middle; under a constant rate, given m patients,
the number in the second half is Binomial(m, ½) (the conditional test of two Poisson rates,
Przyborowski & Wilenski 1940). A one-sided p-value below ``alpha`` with a rate ratio above
``min_ratio`` is reported as a ramp-up the model ignores: its predictions will be too slow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True, slots=True)
class RampUp:
    first_rate: float  # patients per time unit in the first half
    second_rate: float
    ratio: float
    p_value: float

    def message(self, unit: str = "month") -> str:
        return (
            f"Accrual sped up: {self.second_rate:.2f} patients/{unit} in the second half of the "
            f"observed period against {self.first_rate:.2f} in the first (ratio "
            f"{self.ratio:.1f}, one-sided p = {self.p_value:.3g}). The constant-rate models "
            f"ignore this ramp-up, so the predicted end date is likely too late; read the "
            f"forecast from recent data."
        )


def ramp_up(
    times: Sequence[float] | np.ndarray,
    *,
    elapsed: float,
    alpha: float = 0.05,
    min_ratio: float = 1.5,
) -> RampUp | None:
    """A ``RampUp`` when the second half of [0, elapsed] accrued significantly faster."""
    t = np.asarray(times, dtype=float)
    if elapsed <= 0 or t.size < 6:
        return None
    half = elapsed / 2
    second = int(np.sum(t > half))
    first = int(t.size - second)
    p = float(stats.binom.sf(second - 1, t.size, 0.5))
    r1, r2 = first / half, second / half
    ratio = r2 / r1 if r1 > 0 else float("inf")
    if p < alpha and ratio > min_ratio:
        return RampUp(r1, r2, ratio, p)
    return None
