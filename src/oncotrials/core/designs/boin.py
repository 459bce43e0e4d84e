"""BOIN: the Bayesian optimal interval design (single agent).

Escalate when the observed DLT rate at the current dose is at most ``lambda_e``, de-escalate
when it exceeds ``lambda_d``, otherwise stay; eliminate a dose (and all higher doses) when
P(p > target | data) > ``cutoff_eli`` with at least 3 patients; select the MTD by isotonic
regression at the end. Boundaries, elimination, extra-safe stopping, ``n_earlystop`` and the MTD
selection follow ``BOIN::get.boundary``, ``BOIN::get.oc`` and ``BOIN::select.mtd`` (BOIN 2.7.2).

References
----------
Liu S, Yuan Y (2015). Bayesian optimal interval designs for phase I clinical trials. JRSS-C 64.
Yuan Y, Hess KR, Hilsenbeck SG, Gilbert MR (2016). Clin Cancer Res 22:4291-4301.
Yan F, Zhang L, Zhou Y, Pan H, Liu S, Yuan Y (2020). J Stat Softw 94(13).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.designs.base import Param
from oncotrials.core.designs.interval import (
    DecisionTable,
    IntervalDesign,
    _posterior_boundary,
)
from oncotrials.core.designs.simulate import DU, D, E, EarlyStopRule, S
from oncotrials.core.errors import ValidationError

#: ``BOIN::get.boundary`` treats ``lambda_d * n`` within this of an integer as that integer.
INTEGER_TOLERANCE = 1e-12


def boin_lambdas(target: float, p_saf: float, p_tox: float) -> tuple[float, float]:
    """Escalation and de-escalation boundaries ``(lambda_e, lambda_d)`` of Liu & Yuan (2015)."""
    lam_e = math.log((1 - p_saf) / (1 - target)) / math.log(
        target * (1 - p_saf) / (p_saf * (1 - target))
    )
    lam_d = math.log((1 - target) / (1 - p_tox)) / math.log(
        p_tox * (1 - target) / (target * (1 - p_tox))
    )
    return lam_e, lam_d


def _r_round(x: float) -> float:
    # R's round() rounds half to even, like Python's round().
    return float(round(x))


@dataclass(frozen=True)
class BOINBoundaries:
    """``lambda_e``, ``lambda_d`` and per-n count boundaries, as ``BOIN::get.boundary``."""

    lambda_e: float
    lambda_d: float
    table: DecisionTable


class BOIN(IntervalDesign):
    """Bayesian optimal interval design.

    Parameters
    ----------
    target : target DLT rate, in [0.05, 0.6].
    cohort_size, n_cohorts : the sample size is their product.
    n_earlystop : stop when this many patients are at the current dose and the decision is stay.
    p_saf, p_tox : highest rate deemed sub-therapeutic and lowest deemed overly toxic
        (default 0.6 and 1.4 times the target).
    cutoff_eli : posterior probability cutoff of the elimination rule (0.95).
    extrasafe, offset : stricter stopping for the lowest dose at ``cutoff_eli - offset``.
    bound_mtd : only select an MTD whose isotonic estimate is at most ``lambda_d``.
    titration : accelerated titration at the start (one patient per dose until the first DLT),
        as ``BOIN::get.oc(titration=TRUE)``; simulation only.
    """

    name: ClassVar[str] = "boin"
    label: ClassVar[str] = "BOIN"
    escalation_params: ClassVar[Mapping[str, Param]] = {
        **IntervalDesign.escalation_params,
        "p_saf": Param("number", "highest sub-therapeutic DLT rate, default 0.6 x target"),
        "p_tox": Param("number", "lowest overly toxic DLT rate, default 1.4 x target"),
    }
    earlystop_rule: ClassVar[EarlyStopRule] = "stay"
    elimination_min_n: ClassVar[int] = 3

    def __init__(
        self,
        target: float = 0.3,
        *,
        cohort_size: int = 3,
        n_cohorts: int = 12,
        n_earlystop: int = 100,
        p_saf: float | None = None,
        p_tox: float | None = None,
        cutoff_eli: float = 0.95,
        extrasafe: bool = False,
        offset: float = 0.05,
        bound_mtd: bool = False,
        titration: bool = False,
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
        self.p_saf = p_saf
        self.p_tox = p_tox
        self.bound_mtd = bound_mtd
        self.titration = titration

    def _probs(self) -> tuple[float, float, float]:
        t = float(self.target)
        p_saf = 0.6 * t if self.p_saf is None else float(self.p_saf)
        p_tox = 1.4 * t if self.p_tox is None else float(self.p_tox)
        return t, p_saf, p_tox

    def _validate(self) -> None:
        super()._validate()
        t, p_saf, p_tox = self._probs()
        if not 0 < p_saf < t or (t - p_saf) < 0.1 * t:
            raise ValidationError(
                f"BOIN p_saf must lie in (0, target) and at least 10% of the target below it "
                f"(at most {0.9 * t:g} for target {t:g}); got {p_saf!r}.",
                code="design_boin_p_saf",
                at_most=f"{0.9 * t:g}",
                t=f"{t:g}",
                p_saf=repr(p_saf),
            )
        if not t < p_tox < 1 or (p_tox - t) < 0.1 * t:
            raise ValidationError(
                f"BOIN p_tox must lie in (target, 1) and at least 10% of the target above it "
                f"(at least {1.1 * t:g} for target {t:g}); got {p_tox!r}.",
                code="design_boin_p_tox",
                at_least=f"{1.1 * t:g}",
                t=f"{t:g}",
                p_tox=repr(p_tox),
            )

    @property
    def lambdas(self) -> tuple[float, float]:
        """``(lambda_e, lambda_d)``."""
        self._validate()
        return boin_lambdas(*self._probs())

    def _count_boundaries(self, max_n: int) -> tuple[list[int], list[int], list[int | None]]:
        lam_e, lam_d = boin_lambdas(*self._probs())
        elim = _posterior_boundary(float(self.target), self.cutoff_eli, max_n, min_n=3)
        b_e = [-1]
        b_d = [0]
        for n in range(1, max_n + 1):
            b_e.append(math.floor(lam_e * n))
            x = lam_d * n
            # BOIN::get.boundary: an exact integer k means "de-escalate if y >= k + 1", so that
            # de-escalation is strictly "observed rate > lambda_d".
            exact = abs(_r_round(x) - x) < INTEGER_TOLERANCE
            bd = int(_r_round(x)) + 1 if exact else math.ceil(x)
            e = elim[n]
            b_d.append(min(bd, e) if e is not None else bd)
        return b_e, b_d, list(elim)

    def _letters(self, max_n: int) -> NDArray[np.int8]:
        b_e, b_d, elim = self._count_boundaries(max_n)
        letters = np.full((max_n + 1, max_n + 1), -1, dtype=np.int8)
        for n in range(1, max_n + 1):
            ys = np.arange(n + 1)
            row = np.full(n + 1, S, dtype=np.int8)
            row[ys >= b_d[n]] = D
            e = elim[n]
            if e is not None:
                row[ys >= e] = DU
            row[ys <= b_e[n]] = E
            letters[n, : n + 1] = row
        return letters

    def _boundary_rows(
        self, letters: NDArray[np.int8], max_n: int
    ) -> tuple[tuple[int, ...], tuple[int | None, ...], tuple[int | None, ...]]:
        b_e, b_d, elim = self._count_boundaries(max_n)
        return tuple(b_e), (None, *b_d[1:]), tuple(elim)

    def boundaries(self, max_n: int | None = None) -> BOINBoundaries:
        """``lambda_e``, ``lambda_d`` and the boundary table (``BOIN::get.boundary``)."""
        table = self.decision_table(max_n)
        lam_e, lam_d = boin_lambdas(*self._probs())
        return BOINBoundaries(lambda_e=lam_e, lambda_d=lam_d, table=table)

    def _selection_bound(self) -> float | None:
        return boin_lambdas(*self._probs())[1] if self.bound_mtd else None

    def _titration(self) -> bool:
        return bool(self.titration) and self.cohort_size > 1


__all__ = ["BOIN", "BOINBoundaries", "boin_lambdas"]
