"""Keyboard and mTPI-2: interval designs driven by the posterior mass of equal-width keys.

The unit interval is tiled by keys as wide as the target key ``[target - margin_l,
target + margin_r]``; the decision follows the key holding the largest posterior mass of the DLT
rate (Beta(1 + y, 1 + n - y)): below the target key escalate, on it stay, above it de-escalate.
A dose is eliminated (DU) when P(p > target | data) > ``cutoff_eli``.

* :class:`Keyboard` follows ``Keyboard::get.boundary.kb`` (Keyboard 0.1.3): incomplete end keys
  get the compensation factor (key width / actual width), ties go to the highest key, and the DU
  rule applies at every n in the table (so 2/2 eliminates for target 0.3).
* :class:`MTPI2` follows FIND's ``get_decision_mtpi2`` (Guo et al. 2017): the unit probability
  mass (mass / width) over intervals whose ends are rounded to 3 decimals; the first maximum
  wins; the DU rule applies from n = 3.

For targets 0.25 and 0.30 with margins 0.05 both give the same table up to n = 12 except where
noted in the tests. Simulation and MTD selection are shared with BOIN.

References
----------
Yan F, Mandrekar SJ, Yuan Y (2017). Keyboard: a novel Bayesian toxicity probability interval
design for phase I clinical trials. Clin Cancer Res 23:3994-4003.
Guo W, Wang SJ, Yang S, Lynn H, Ji Y (2017). A Bayesian interval dose-finding design addressing
Ockham's razor: mTPI-2. Contemp Clin Trials 58:23-33.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.designs.base import Param
from oncotrials.core.designs.interval import IntervalDesign
from oncotrials.core.designs.simulate import DU, D, E, EarlyStopRule, S
from oncotrials.core.errors import ValidationError
from oncotrials.core.lazy import stats


def keyboard_keys(a1: float, a2: float) -> list[float]:
    """Key boundaries as ``getkey`` inside ``Keyboard::get.boundary.kb`` builds them."""
    delta = a2 - a1
    lkey: list[float] = []
    i = 0
    cutoff = 0.3
    while cutoff > 0:
        i += 1
        cutoff = a1 - i * delta
        lkey.insert(0, cutoff)
    lkey = [max(v, 0.0) for v in lkey]
    rkey: list[float] = []
    i = 0
    cutoff = 0.3
    while cutoff < 1:
        i += 1
        cutoff = a2 + i * delta
        rkey.append(cutoff)
    rkey = [min(v, 1.0) for v in rkey]
    return [*lkey, a1, a2, *rkey]


class _MarginDesign(IntervalDesign):
    escalation_params: ClassVar[Mapping[str, Param]] = {
        **IntervalDesign.escalation_params,
        "margin_l": Param("number", "distance from the target to the interval's lower end"),
        "margin_r": Param("number", "distance from the target to the interval's upper end"),
    }

    def __init__(
        self,
        target: float = 0.3,
        *,
        cohort_size: int = 3,
        n_cohorts: int = 12,
        n_earlystop: int = 100,
        margin_l: float = 0.05,
        margin_r: float = 0.05,
        cutoff_eli: float = 0.95,
        extrasafe: bool = False,
        offset: float = 0.05,
    ) -> None:
        super().__init__(
            target,
            cohort_size=cohort_size,
            n_cohorts=n_cohorts,
            n_earlystop=n_earlystop,
            cutoff_eli=cutoff_eli,
            extrasafe=extrasafe,
            offset=offset,
        )
        self.margin_l = margin_l
        self.margin_r = margin_r

    def _validate(self) -> None:
        super()._validate()
        name = type(self).__name__
        t = float(self.target)
        if not 0 < self.margin_l < t:
            raise ValidationError(
                f"{name} margin_l must lie in (0, target={t:g}); got {self.margin_l!r}.",
                code="design_keyboard_margin_l",
                name=name,
                t=f"{t:g}",
                margin_l=repr(self.margin_l),
            )
        if not 0 < self.margin_r < 1 - t:
            raise ValidationError(
                f"{name} margin_r must lie in (0, 1 - target={1 - t:g}); got {self.margin_r!r}.",
                code="design_keyboard_margin_r",
                name=name,
                high=f"{1 - t:g}",
                margin_r=repr(self.margin_r),
            )


class Keyboard(_MarginDesign):
    """The Keyboard design (``Keyboard::get.boundary.kb``, ``get.oc.kb``, ``select.mtd.kb``).

    ``n_earlystop`` stops the trial as soon as the current dose has that many patients
    (``get.oc.kb`` semantics). Live decisions and :meth:`select_mtd` follow the printed table,
    whose DU rule applies from n = 1 (2/2 eliminates for target 0.3); simulations reproduce
    ``get.oc.kb`` and ``select.mtd.kb``, which apply it from n = 3. With cohorts of 3 the two
    agree.
    """

    name: ClassVar[str] = "keyboard"
    label: ClassVar[str] = "Keyboard"
    aliases: ClassVar[tuple[str, ...]] = ("kb",)
    earlystop_rule: ClassVar[EarlyStopRule] = "reached"
    elimination_min_n: ClassVar[int] = 3
    live_elimination_min_n: ClassVar[int] = 1

    def _letters(self, max_n: int) -> NDArray[np.int8]:
        t = float(self.target)
        ml, mr = float(self.margin_l), float(self.margin_r)
        keys = np.array(keyboard_keys(t - ml, t + mr))
        nkeys = keys.size - 1
        comp = np.ones(nkeys)
        comp[0] = (ml + mr) / (keys[1] - keys[0])
        comp[-1] = (ml + mr) / (keys[-1] - keys[-2])
        target_key = int(np.flatnonzero(keys == (t - ml))[0])
        letters = np.full((max_n + 1, max_n + 1), -1, dtype=np.int8)
        for n in range(1, max_n + 1):
            ys = np.arange(n + 1)
            a = (ys + 1)[:, None]
            b = (n - ys + 1)[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                mass = (stats.beta.cdf(keys[1:], a, b) - stats.beta.cdf(keys[:-1], a, b)) * comp
            # ties go to the highest key: argmax over the reversed keys
            high = nkeys - 1 - np.argmax(mass[:, ::-1] == mass.max(axis=1, keepdims=True), axis=1)
            row = np.where(high > target_key, D, np.where(high == target_key, S, E))
            du = stats.beta.sf(t, ys + 1, n - ys + 1) > self.cutoff_eli
            if du.any():
                row[int(np.flatnonzero(du)[0]) :] = DU
            letters[n, : n + 1] = row
        return letters


class MTPI2(_MarginDesign):
    """mTPI-2 as FIND's ``get_decision_mtpi2`` / ``run_sim_mtpi2`` (Yuan Ji's group)."""

    name: ClassVar[str] = "mtpi2"
    label: ClassVar[str] = "mTPI-2"
    aliases: ClassVar[tuple[str, ...]] = ("mtpi-2",)
    earlystop_rule: ClassVar[EarlyStopRule] = "next"
    elimination_min_n: ClassVar[int] = 3

    def _intervals(self) -> NDArray[np.float64]:
        t = float(self.target)
        lo, hi = t - float(self.margin_l), t + float(self.margin_r)
        eps = hi - lo
        tol = np.finfo(float).eps ** 0.5
        if abs(np.fmod(lo, eps)) < tol:
            starts = _r_seq(0.0, lo - eps, eps)
            left = np.column_stack([starts, starts + eps]) if starts.size else np.empty((0, 2))
        else:
            first = lo - np.ceil(lo / eps) * eps
            starts = _r_seq(first, lo - eps, eps)
            left = np.column_stack([starts, _r_seq(first + eps, lo, eps)])
        if abs(np.fmod(1 - hi, eps)) < tol:
            starts = _r_seq(hi, 1 - eps, eps)
            right = np.column_stack([starts, _r_seq(hi + eps, 1.0, eps)])
        else:
            last = hi + np.ceil((1 - hi) / eps) * eps
            right = np.column_stack([_r_seq(hi, last - eps, eps), _r_seq(hi + eps, last, eps)])
        iv = np.vstack([left, [[lo, hi]], right])
        iv[0, 0] = 0.0
        iv[-1, 1] = 1.0
        return np.round(iv, 3)

    def _letters(self, max_n: int) -> NDArray[np.int8]:
        t = float(self.target)
        lo, hi = t - float(self.margin_l), t + float(self.margin_r)
        iv = self._intervals()
        width = iv[:, 1] - iv[:, 0]
        mid = (iv[:, 0] + iv[:, 1]) / 2
        letters = np.full((max_n + 1, max_n + 1), -1, dtype=np.int8)
        for n in range(1, max_n + 1):
            ys = np.arange(n + 1)
            a = (ys + 1)[:, None]
            b = (n - ys + 1)[:, None]
            upm = (stats.beta.cdf(iv[:, 1], a, b) - stats.beta.cdf(iv[:, 0], a, b)) / width
            m = mid[np.argmax(upm, axis=1)]
            row = np.where(m < lo, E, np.where(m > hi, D, S)).astype(np.int8)
            if n >= 3:
                row[stats.beta.sf(t, ys + 1, n - ys + 1) > self.cutoff_eli] = DU
            letters[n, : n + 1] = row
        return letters


def _r_seq(start: float, end: float, by: float) -> NDArray[np.float64]:
    """R's ``seq(start, end, by = by)`` (with its 1e-10 fuzz on the last element)."""
    if end < start - 1e-10 * abs(by):
        return np.empty(0)
    count = int(np.floor((end - start) / by + 1e-10))
    return np.asarray(start + np.arange(count + 1) * by, dtype=np.float64)


__all__ = ["MTPI2", "Keyboard", "keyboard_keys"]
