"""i3+3: the interval 3+3 design (Liu, Wang & Ji 2020).

With the equivalence interval ``[target - margin_l, target + margin_r]`` and ``y`` DLTs of ``n``:
DU if P(p > target | y, n; Beta(1, 1)) > 0.95 (from n = 3); else E if y/n is below the interval;
S if y/n is inside it; above it, S if (y - 1)/n is below the interval, else D. Decisions,
simulation (``n_earlystop`` checked at the next dose after the decision) and MTD selection follow
FIND's ``get_decision_i3plus3``, ``run_sim_i3plus3`` and ``select_mtd`` (FIND 0.1.1).

References
----------
Liu M, Wang SJ, Ji Y (2020). The i3+3 design for phase I clinical trials. J Biopharm Stat
30(2):294-304.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.designs.base import Param
from oncotrials.core.designs.keyboard import _MarginDesign
from oncotrials.core.designs.simulate import DU, D, E, EarlyStopRule, S
from oncotrials.core.errors import ValidationError
from oncotrials.core.lazy import stats


class I3Plus3(_MarginDesign):
    """The i3+3 design. ``extrasafe`` is not offered (FIND's variant of it differs)."""

    name: ClassVar[str] = "i3+3"
    label: ClassVar[str] = "i3+3"
    aliases: ClassVar[tuple[str, ...]] = ("i3plus3", "i3p3")
    escalation_params: ClassVar[Mapping[str, Param]] = {
        k: v for k, v in _MarginDesign.escalation_params.items() if k != "extrasafe"
    }
    earlystop_rule: ClassVar[EarlyStopRule] = "next"
    elimination_min_n: ClassVar[int] = 3
    live_elimination_min_n: ClassVar[int] = 3

    def _validate(self) -> None:
        super()._validate()
        if self.extrasafe:
            raise ValidationError(
                "I3Plus3 does not implement extrasafe; got extrasafe=True. Use BOIN or Keyboard "
                "for the extra-safe stopping rule.",
                code="design_i3plus3_extrasafe",
            )
        t = float(self.target)
        if self.margin_l < 0.1 * t or self.margin_r < 0.1 * t:
            raise ValidationError(
                f"I3Plus3 margins must be at least 10% of the target ({0.1 * t:g}); "
                f"got margin_l={self.margin_l!r}, margin_r={self.margin_r!r}.",
                code="design_i3plus3_margins",
                minimum=f"{0.1 * t:g}",
                margin_l=repr(self.margin_l),
                margin_r=repr(self.margin_r),
            )

    def _letters(self, max_n: int) -> NDArray[np.int8]:
        t = float(self.target)
        lo, hi = t - float(self.margin_l), t + float(self.margin_r)
        letters = np.full((max_n + 1, max_n + 1), -1, dtype=np.int8)
        for n in range(1, max_n + 1):
            ys = np.arange(n + 1)
            p = ys / n
            below_prev = (ys - 1) / n < lo
            row = np.where(p < lo, E, np.where(p <= hi, S, np.where(below_prev, S, D))).astype(
                np.int8
            )
            if n >= 3:
                row[stats.beta.sf(t, ys + 1, n - ys + 1) > self.cutoff_eli] = DU
            letters[n, : n + 1] = row
        return letters


__all__ = ["I3Plus3"]
