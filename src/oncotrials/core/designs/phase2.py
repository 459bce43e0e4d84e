"""Phase II single-arm designs: Simon two-stage, single-stage exact, predictive-probability monitoring.

* :func:`simon_two_stage`: Simon (1989) optimal and minimax designs and the admissible designs of
  Jung et al. (2004), by exhaustive exact search exactly as ``clinfun::ph2simon`` (strict
  ``P(reject | p0) < alpha`` and ``P(accept | p1) < beta``; stop after stage 1 when
  ``X1 <= r1``; declare the drug promising when ``X > r``). The binomial tail sums are
  vectorised over the stage-1 sample size, the stage-1 boundary and the final boundary.
* :func:`single_stage`: exact single-stage designs as ``clinfun::ph2single`` (non-strict
  inequalities), or with the tolerance of ``PhIIdesign::fleming1stage`` (A'Hern 2001).
* :func:`predictive_probability`, :func:`pp_boundaries`, :func:`pp_operating_characteristics`:
  Lee & Liu (2008) Bayesian predictive-probability monitoring, computed exactly (beta-binomial
  sums, not Monte Carlo).
* :func:`pp_design_search`: Lee & Liu's calibration of ``theta_T``, ``theta_L`` and ``Nmax``
  for given error rates, with exact operating characteristics.
* :func:`basket_monitoring`: several cohorts (baskets) each monitored by its own Lee & Liu rule,
  without borrowing; a documented, conservative default for multi-cohort trials.

References
----------
Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin Trials
1989;10:1-10.
Jung SH, Lee T, Kim K, George SL. Admissible two-stage designs for phase II cancer clinical
trials. Stat Med 2004;23:561-569.
A'Hern RP. Sample size tables for exact single-stage phase II designs. Stat Med
2001;20:859-866.
Lee JJ, Liu DD. A predictive probability design for phase II cancer clinical trials. Clin
Trials 2008;5:93-106.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.errors import ValidationError
from oncotrials.core.lazy import special, stats

FloatArray = NDArray[np.float64]

__all__ = [
    "BasketCohortStatus",
    "BasketOperatingCharacteristics",
    "PPBoundaries",
    "PPDesign",
    "PPOperatingCharacteristics",
    "SimonDesign",
    "SimonResult",
    "SingleStageDesign",
    "basket_monitoring",
    "basket_operating_characteristics",
    "oc_two_stage",
    "pp_boundaries",
    "pp_design_search",
    "pp_operating_characteristics",
    "predictive_probability",
    "simon_two_stage",
    "single_stage",
]


def _rate(name: str, value: float) -> float:
    v = float(value)
    if not (0.0 < v < 1.0) or math.isnan(v):
        raise ValidationError(f"{name} must lie in (0, 1); got {value!r}.")
    return v


def _rates(p0: float, p1: float, alpha: float, beta: float) -> tuple[float, float, float, float]:
    p0 = _rate("p0", p0)
    p1 = _rate("p1", p1)
    if not p0 < p1:
        raise ValidationError(
            f"p1 (the desirable response rate) must exceed p0 (the uninteresting rate); "
            f"got p0={p0!r} and p1={p1!r}."
        )
    return p0, p1, _rate("alpha", alpha), _rate("beta (1 - power)", beta)


# ---------------------------------------------------------------------------------------------
# Simon two-stage
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimonDesign:
    """One two-stage design: stop after ``n1`` patients if at most ``r1`` respond; after ``n``,
    declare the drug promising if more than ``r`` responded.

    ``alpha`` and ``power`` are the exact error rates; ``q_low``/``q_high`` (admissible designs
    only) give the weights ``q`` of ``q * n + (1 - q) * EN(p0)`` for which the design is best.
    """

    kind: str  # "minimax", "admissible", "optimal" or "" (a per-n row)
    r1: int
    n1: int
    r: int
    n: int
    en0: float  # expected sample size under p0
    pet0: float  # probability of early termination under p0
    alpha: float  # P(reject H0 | p0)
    power: float  # P(reject H0 | p1)
    q_low: float | None = None
    q_high: float | None = None


@dataclass(frozen=True, slots=True)
class SimonResult:
    """Result of :func:`simon_two_stage`: the named designs and the per-``n`` search table."""

    p0: float
    p1: float
    alpha: float
    beta: float
    nmax: int
    minimax: SimonDesign
    optimal: SimonDesign
    admissible: tuple[SimonDesign, ...]  # minimax, admissible ..., optimal (clinfun's print)
    table: tuple[SimonDesign, ...]  # minimal-EN design for every feasible n (ph2simon$out)
    warning: str = ""


def oc_two_stage(r1: int, n1: int, r: int, n: int, p: float) -> tuple[float, float, float]:
    """Exact ``(P(reject H0), PET, EN)`` of a two-stage design at response rate ``p``.

    Same quantities as ``clinfun::oc.twostage.bdry``: reject when ``X1 > r1`` and
    ``X1 + X2 > r``; PET = ``P(X1 <= r1)``; EN = ``n1 + (1 - PET)(n - n1)``.
    """
    p = _rate("p", p)
    for name, v in (("r1", r1), ("n1", n1), ("r", r), ("n", n)):
        if isinstance(v, bool) or int(v) != v:
            raise ValidationError(f"{name} must be an integer; got {v!r}.")
    if not (0 < n1 < n and -1 <= r1 < n1 and r1 <= r < n):
        raise ValidationError(
            f"Need 0 < n1 < n, -1 <= r1 < n1 and r1 <= r < n; got r1={r1}, n1={n1}, r={r}, n={n}."
        )
    n2 = n - n1
    x1 = np.arange(r1 + 1, n1 + 1)
    reject = float(np.sum(stats.binom.pmf(x1, n1, p) * stats.binom.sf(r - x1, n2, p)))
    pet = float(stats.binom.cdf(r1, n1, p))
    return reject, pet, n1 + (1.0 - pet) * n2


def _reject_rows(grid: NDArray[np.int64], p: float) -> FloatArray:
    """P(reject H0) at ``p`` of each design ``(r1, n1, r, n)`` of ``grid``, in one call.

    The same terms as :func:`oc_two_stage` (x1 = r1 + 1 .. n1), each row summed over exactly
    those terms, so the figures are identical to one call per design.
    """
    r1, n1, r, n = grid.T
    width = int((n1 - r1).max())
    x1 = (r1 + 1)[:, None] + np.arange(width)[None, :]
    inside = x1 <= n1[:, None]
    x1 = np.where(inside, x1, n1[:, None])
    terms = stats.binom.pmf(x1, n1[:, None], p) * stats.binom.sf(
        r[:, None] - x1, (n - n1)[:, None], p
    )
    counts = (n1 - r1).tolist()
    return np.array([np.sum(row[:k]) for row, k in zip(terms, counts, strict=True)])


def _check_nmax(nmax: int) -> int:
    if isinstance(nmax, bool) or int(nmax) != nmax or not (2 <= nmax <= 1000):
        raise ValidationError(f"nmax must be an integer in 2..1000 (as clinfun); got {nmax!r}.")
    return int(nmax)


@dataclass(frozen=True)
class _SearchTables:
    """What :func:`_best_for_n` reads, computed once per search (none of it depends on ``n``).

    pmf[m, x] = P(Bin(m) = x); tail[m, k] = P(Bin(m) >= k) computed as 1 - cdf(k - 1);
    pad[m, k + _PAD_OFFSET] = tail[m, k], or 1 for k <= 0; sf1[m, r] = P(Bin(m, p1) > r) as
    1 minus the running sum of the pmf; pet_t[r1, n1] = P(X1 <= r1 | p0) as 1 minus the running
    sum from the top, the Fortran's order (terms above n1 are exact zeros, so one table serves
    every n).
    """

    pmf0: FloatArray
    pmf1: FloatArray
    tail0: FloatArray
    tail1: FloatArray
    pad0: FloatArray
    pad1: FloatArray
    sf1: FloatArray
    pet_t: FloatArray
    stage1_power_t: FloatArray  # [r1, n1] = P(X1 > r1 | p1)

    @classmethod
    def build(cls, p0: float, p1: float, nmax: int) -> _SearchTables:
        m = np.arange(nmax + 1)
        x = np.arange(nmax + 2)
        pmf0 = stats.binom.pmf(x[None, :], m[:, None], p0)
        pmf1 = stats.binom.pmf(x[None, :], m[:, None], p1)
        # tail[m, k] = 1 - pbinom(k - 1, m, p), as clinfun's cp0/cp1
        tail0 = 1.0 - stats.binom.cdf(x[None, :] - 1, m[:, None], p0)
        tail1 = 1.0 - stats.binom.cdf(x[None, :] - 1, m[:, None], p1)
        top = np.concatenate([np.ones((m.size, 1)), -pmf0[:, ::-1]], axis=1)
        run = np.add.accumulate(top, axis=1)[:, 1:][:, ::-1]  # run[m, x] = 1 - sum_{x1>=x}
        return cls(
            pmf0=pmf0,
            pmf1=pmf1,
            tail0=tail0,
            tail1=tail1,
            pad0=_padded(tail0),
            pad1=_padded(tail1),
            sf1=1.0 - np.cumsum(pmf1, axis=1),
            pet_t=np.ascontiguousarray(run[:, 1:].T),
            stage1_power_t=np.ascontiguousarray(tail1[:, 1:].T),
        )


def _best_for_n(
    n: int, t: _SearchTables, alpha: float, beta: float
) -> tuple[int, int, int, float, float] | None:
    """Minimal-EN design with maximum sample size n, with clinfun's search order on ties.

    Branch and bound, as clinfun's Fortran: EN(p0) depends on (n1, r1) only, so the stage-1
    candidates are ranked by EN (ties in clinfun's order: n1 ascending, r1 descending) and
    checked for a final boundary r in that order, a batch at a time; the first feasible one is
    the answer. Candidates whose stage 1 alone cannot reach the power (P(X1 > r1 | p1) >
    1 - beta bounds the two-stage power) are never checked, nor are final boundaries r with
    P(X > r | p1) <= 1 - beta. Each check sums P(X1 = x1) P(X2 > r - x1) over x1 <= r1 in
    ascending order, the Fortran's order. Stage-1 rows are read as slices of the search tables
    (n1 = 1 .. n - 1, so n2 = n - 1 .. 1), never gathered.
    """
    # P(reject | p1) <= P(X > r | p1), so a feasible r has P(X > r | p1) > 1 - beta: only
    # r <= rmax (and r1 <= r) can qualify. The slack keeps rounding from excluding a boundary.
    ok_r = np.flatnonzero(t.sf1[n, : n + 1] > 1.0 - beta - 1e-9)
    if ok_r.size == 0:
        return None
    rmax = min(int(ok_r[-1]), n - 1)
    nr = rmax + 1
    n1 = np.arange(1, n)  # (J,)
    n2 = n - n1
    # PET(r1) = P(X1 <= r1); r1 = n - 1 is never valid (it would equal n1 at most n - 1).
    pet = t.pet_t[:nr, 1:n]  # (r1 = 0..rmax, J)
    if nr > n - 1:
        pet = pet.copy()
        pet[n - 1 :] = 1.0
    en = n1 + (1.0 - pet) * n2
    # P(reject | p0) decreases with r, so its value at r = rmax bounds it below over every
    # admissible r: a stage 1 that cannot meet alpha even there is never checked.
    # low0[j, x] = P(X1 = x | n1_j) * P(X2 > rmax - x | n2_j)
    low0 = t.pmf0[1:n, :nr] * t.pad0[n - 1 : 0 : -1, rmax + 1 + _PAD_OFFSET : _PAD_OFFSET : -1]
    rej0_low = t.tail0[n, rmax + 1] - np.cumsum(low0, axis=1).T  # (r1, J)
    hopeful = t.stage1_power_t[:nr, 1:n] > 1.0 - beta - 1e-9
    hopeful &= rej0_low < alpha + 1e-9
    hopeful &= en < n
    hopeful &= np.arange(nr)[:, None] <= (n1 - 1)[None, :]
    r1c, jc = np.nonzero(hopeful)
    if r1c.size == 0:
        return None
    enc = en[r1c, jc]
    # Most searches stop at the first or second candidate, so only the smallest EN values are
    # ordered at first (every tie of the cut-off value included, so they are exactly the head
    # of the full order); the rest is ordered only when the head holds no feasible design.
    if enc.size > _HEAD:
        cut = np.partition(enc, _HEAD - 1)[_HEAD - 1]
        parts = [np.flatnonzero(enc <= cut), np.flatnonzero(enc > cut)]
    else:
        parts = [np.arange(enc.size)]
    r = np.arange(nr)
    total0, total1 = t.tail0[n, 1 : nr + 1], t.tail1[n, 1 : nr + 1]  # P(X > r)
    for part in parts:
        order = part[np.lexsort((-r1c[part], jc[part], enc[part]))]
        # A batch of K candidates costs K * (r1 + 1) * (rmax + 1) terms per rate: the head is
        # checked alone, the rest in batches that grow fourfold from what the budget allows.
        start, size = 0, max(_HEAD, _BATCH_TERMS // (nr * nr))
        while start < order.size:
            batch = order[start : start + size]
            a, j = r1c[batch], jc[batch]
            found = _first_feasible(a, n1[j], n2[j], r, t, total0, total1, alpha, beta)
            if found is not None:
                k, b = found
                ak, jk = int(a[k]), int(j[k])
                return ak, int(n1[jk]), b, float(enc[batch[k]]), float(pet[ak, jk])
            start += size
            size *= 4
    return None


#: Stage-1 candidates ordered and checked first (see :func:`_best_for_n`).
_HEAD = 2
#: Terms per rate in the first batch after the head.
_BATCH_TERMS = 20_000


def _first_feasible(
    a: NDArray[np.intp],
    n1: NDArray[np.intp],
    n2: NDArray[np.intp],
    r: NDArray[np.intp],
    t: _SearchTables,
    total0: FloatArray,
    total1: FloatArray,
    alpha: float,
    beta: float,
) -> tuple[int, int] | None:
    """The first candidate (r1 = a[k], n1[k]) with a feasible final boundary, and the largest
    such boundary; each P(reject) sums P(X1 = x1) P(X2 > r - x1) over x1 <= r1 ascending."""
    x = np.arange(int(a.max()) + 1)
    shift = r[None, None, :] - x[None, :, None] + 1 + _PAD_OFFSET  # (1, X, R)
    m2 = n2[:, None, None]
    rows = np.arange(a.size)
    feas = (r[None, :] >= a[:, None]) & (r[None, :] <= (a + n2)[:, None])
    for pmf, pad, total, p1_side in (
        (t.pmf0, t.pad0, total0, False),
        (t.pmf1, t.pad1, total1, True),
    ):
        terms = pmf[n1[:, None], x[None, :]][:, :, None] * pad[m2, shift]  # (K, X, R)
        acc = np.cumsum(terms, axis=1)[rows, a, :]  # sum over x1 <= r1: (K, R)
        rej = total[None, :] - acc
        feas &= (1.0 - rej) < beta if p1_side else rej < alpha
    hit = np.flatnonzero(feas.any(axis=1))
    if hit.size == 0:
        return None
    k = int(hit[0])
    return k, int(np.flatnonzero(feas[k])[-1])


#: Columns of ones to the left of ``tail`` in :func:`_padded` (P(X2 > k) = 1 for k < 0).
_PAD_OFFSET = 1002


def _padded(tail: FloatArray) -> FloatArray:
    """``pad[m, k + _PAD_OFFSET] = tail[m, k]`` for k >= 1 and 1 for k <= 0."""
    out = np.ones((tail.shape[0], tail.shape[1] + _PAD_OFFSET), dtype=np.float64)
    out[:, _PAD_OFFSET + 1 :] = tail[:, 1:]
    return out


def simon_two_stage(
    p0: float, p1: float, alpha: float = 0.05, beta: float = 0.20, nmax: int = 100
) -> SimonResult:
    """Simon two-stage designs by exact search, as ``clinfun::ph2simon(pu, pa, ep1, ep2, nmax)``.

    Parameters
    ----------
    p0 : uninteresting response rate (``pu``).
    p1 : desirable response rate (``pa``).
    alpha : type I error bound, ``P(reject | p0) < alpha`` (strict, as clinfun).
    beta : type II error bound (1 - power), ``P(accept | p1) < beta`` (strict).
    nmax : largest total sample size searched (at most 1000).

    Returns
    -------
    SimonResult
        Minimax (smallest ``n``), optimal (smallest ``EN(p0)``), the admissible designs of
        Jung et al. (2004) with their weight ranges (``twostage.admissible``), and the
        minimal-EN design for every feasible ``n``. ``warning`` repeats clinfun's warning when
        the optimal ``n`` is within 10 of ``nmax``.

    References
    ----------
    Simon R. Control Clin Trials 1989;10:1-10. Jung SH et al. Stat Med 2004;23:561-569.
    """
    p0, p1, alpha, beta = _rates(p0, p1, alpha, beta)
    nmax = _check_nmax(nmax)
    tables = _SearchTables.build(p0, p1, nmax)
    rows: list[SimonDesign] = []
    found_all: list[tuple[int, int, int, int, float, float]] = []
    for n in range(2, nmax + 1):
        found = _best_for_n(n, tables, alpha, beta)
        if found is not None:
            r1, n1, r, en, pet = found
            found_all.append((r1, n1, r, n, en, pet))
    if found_all:
        grid = np.array([f[:4] for f in found_all], dtype=np.int64)
        rej0s = _reject_rows(grid, p0)
        rej1s = _reject_rows(grid, p1)
        for (r1, n1, r, n, en, pet), rej0, rej1 in zip(found_all, rej0s, rej1s, strict=True):
            rows.append(SimonDesign("", r1, n1, r, n, en, pet, float(rej0), float(rej1)))
    if not rows:
        raise ValidationError(
            f"No two-stage design with n <= {nmax} meets alpha < {alpha:g} and beta < {beta:g} "
            f"for p0={p0:g}, p1={p1:g}; increase nmax (at most 1000)."
        )
    ens = [d.en0 for d in rows]
    nopt = ens.index(min(ens))
    minimax = _with_kind(rows[0], "minimax")
    optimal = _with_kind(rows[nopt], "optimal")
    admissible = _admissible(rows[: nopt + 1])
    warning = ""
    if optimal.n > nmax - 10:
        warning = (
            f"Optimal sample size {optimal.n} is too close to nmax={nmax}; increase nmax "
            "(clinfun warns likewise)."
        )
    return SimonResult(
        p0=p0,
        p1=p1,
        alpha=alpha,
        beta=beta,
        nmax=nmax,
        minimax=minimax,
        optimal=optimal,
        admissible=admissible,
        table=tuple(rows),
        warning=warning,
    )


def _with_kind(
    d: SimonDesign, kind: str, qlo: float | None = None, qhi: float | None = None
) -> SimonDesign:
    return SimonDesign(
        kind, d.r1, d.n1, d.r, d.n, d.en0, d.pet0, d.alpha, d.power, q_low=qlo, q_high=qhi
    )


def _round3(v: float) -> float:
    # R's round(x, 3); differences from Python's only at exact binary halves, which do not occur
    # for these ratios in practice.
    return round(v, 3)


def _admissible(rows: Sequence[SimonDesign]) -> tuple[SimonDesign, ...]:
    """``clinfun::twostage.admissible``: lower-left convex hull from minimax to optimal."""
    nopt = len(rows) - 1
    if nopt == 0:
        only = rows[0]
        return (
            _with_kind(only, "minimax", 0.0, 1.0),
            _with_kind(only, "optimal", 0.0, 1.0),
        )
    adm = [False] * (nopt + 1)
    adm[0] = adm[nopt] = True
    mss = [float(d.n) for d in rows]
    ess = [d.en0 for d in rows]
    istart = 0
    while nopt > istart:
        slopes = [
            (ess[j] - ess[istart]) / (mss[j] - mss[istart]) for j in range(istart + 1, nopt + 1)
        ]
        imin = slopes.index(min(slopes)) + 1
        adm[istart + imin] = True
        istart += imin
    kept = [d for d, a in zip(rows, adm, strict=True) if a]
    dmss = np.diff([float(d.n) for d in kept])
    dess = np.diff([d.en0 for d in kept])
    qwt = [_round3(float(v)) for v in dess / (dess - dmss)]
    qlo = [*qwt, 0.0]
    qhi = [1.0, *qwt]
    out = []
    for i, d in enumerate(kept):
        kind = "minimax" if i == 0 else ("optimal" if i == len(kept) - 1 else "admissible")
        out.append(_with_kind(d, kind, qlo[i], qhi[i]))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Single-stage exact designs
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SingleStageDesign:
    """Treat ``n`` patients; declare the drug promising if more than ``r`` respond."""

    n: int
    r: int
    alpha: float  # P(X > r | p0)
    beta: float  # P(X <= r | p1)

    @property
    def power(self) -> float:
        return 1.0 - self.beta


def single_stage(
    p0: float,
    p1: float,
    alpha: float = 0.05,
    beta: float = 0.20,
    *,
    tolerance: float = 0.0,
    n_solutions: int = 1,
    nmax: int = 2000,
) -> tuple[SingleStageDesign, ...]:
    """Exact single-stage designs (A'Hern 2001), as ``clinfun::ph2single``.

    With ``tolerance = 0`` (default): the first ``n_solutions`` pairs ``(n, r)`` in order of
    ``n`` then ``r`` with ``P(X > r | p0) <= alpha`` and ``P(X <= r | p1) <= beta`` (clinfun's
    non-strict inequalities), starting from the smallest feasible ``n``.

    With ``tolerance = eps > 0``: ``PhIIdesign::fleming1stage(p0, pa, alpha, beta, eps)``: the
    smallest ``n`` whose ``r = qbinom(1 - (alpha + eps), n, p0)`` gives
    ``P(X <= r | p1) <= beta + eps`` (one design; PhIIdesign's default eps is 0.005, and
    A'Hern's Table 1 corresponds to eps = 0.0005).
    """
    p0, p1, alpha, beta = _rates(p0, p1, alpha, beta)
    if not (0.0 <= tolerance < 0.5):
        raise ValidationError(f"tolerance must lie in [0, 0.5); got {tolerance!r}.")
    if isinstance(n_solutions, bool) or int(n_solutions) != n_solutions or n_solutions < 1:
        raise ValidationError(f"n_solutions must be a positive integer; got {n_solutions!r}.")
    ns = np.arange(1, nmax + 1)
    if tolerance > 0:
        rq = stats.binom.ppf(1.0 - (alpha + tolerance), ns, p0)
        err2 = stats.binom.cdf(rq, ns, p1)
        ok = np.nonzero(err2 <= beta + tolerance)[0]
        if ok.size == 0:
            raise ValidationError(f"No single-stage design with n <= {nmax}; increase nmax.")
        i = int(ok[0])
        n, rr = int(ns[i]), int(rq[i])
        return (
            SingleStageDesign(
                n, rr, float(stats.binom.sf(rr, n, p0)), float(stats.binom.cdf(rr, n, p1))
            ),
        )
    # clinfun: smallest n0 where qbinom(1 - alpha, n0, p0) gives type II error <= beta
    q = stats.binom.ppf(1.0 - alpha, ns, p0)
    ok = np.nonzero(stats.binom.cdf(q, ns, p1) <= beta)[0]
    if ok.size == 0:
        raise ValidationError(f"No single-stage design with n <= {nmax}; increase nmax.")
    out: list[SingleStageDesign] = []
    n = int(ns[ok[0]])
    while len(out) < n_solutions and n <= nmax:
        rs = np.arange(n)
        err1 = 1.0 - stats.binom.cdf(rs, n, p0)
        err2 = stats.binom.cdf(rs, n, p1)
        for hit in np.nonzero((err1 <= alpha) & (err2 <= beta))[0].tolist():
            if len(out) < n_solutions:
                out.append(SingleStageDesign(n, hit, float(err1[hit]), float(err2[hit])))
        n += 1
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Predictive-probability monitoring (Lee & Liu 2008)
# ---------------------------------------------------------------------------------------------


def _check_prior(a: float, b: float) -> None:
    if not (a > 0 and b > 0) or math.isinf(a) or math.isinf(b):
        raise ValidationError(
            f"The beta prior needs positive finite parameters; got a={a!r}, b={b!r}."
        )


def _check_counts(x: int, n: int, nmax: int) -> None:
    for name, v in (("x", x), ("n", n), ("nmax", nmax)):
        if isinstance(v, bool) or int(v) != v or v < 0:
            raise ValidationError(f"{name} must be a non-negative integer; got {v!r}.")
    if nmax < 1:
        raise ValidationError(f"nmax must be at least 1; got {nmax!r}.")
    if n > nmax:
        raise ValidationError(f"n={n} patients exceed the maximum sample size nmax={nmax}.")
    if x > n:
        raise ValidationError(f"x={x} responses exceed the n={n} patients observed.")


def _success_table(nmax: int, p0: float, a: float, b: float, theta_t: float) -> NDArray[np.bool_]:
    """success[s] = P(p > p0 | s responses of nmax) > theta_t, s = 0..nmax."""
    s = np.arange(nmax + 1)
    post = special.betaincc(a + s, b + nmax - s, p0)  # P(p > p0 | Beta(a+s, b+nmax-s))
    return np.asarray(post > theta_t)


def _pp_vector(
    x: NDArray[np.int64], n: int, nmax: int, success: NDArray[np.bool_], a: float, b: float
) -> FloatArray:
    """PP for every x in the array, at n patients."""
    m = nmax - n
    i = np.arange(m + 1)
    w = stats.betabinom.pmf(i[None, :], m, a + x[:, None], b + n - x[:, None])
    hit = success[np.clip(x[:, None] + i[None, :], 0, nmax)]
    out: FloatArray = np.sum(w * hit, axis=1)
    return out


def predictive_probability(
    x: int, n: int, nmax: int, p0: float, theta_t: float, a: float = 1.0, b: float = 1.0
) -> float:
    """Predictive probability of success at the end (Lee & Liu 2008), computed exactly.

    ``PP = sum_i BetaBin(i; nmax - n, a + x, b + n - x) * 1{P(p > p0 | x + i, nmax) > theta_t}``
    with prior ``Beta(a, b)`` on the response rate.
    """
    _check_counts(x, n, nmax)
    p0 = _rate("p0", p0)
    theta_t = _rate("theta_t", theta_t)
    _check_prior(a, b)
    success = _success_table(nmax, p0, a, b, theta_t)
    return float(_pp_vector(np.asarray([x]), n, nmax, success, a, b)[0])


@dataclass(frozen=True, slots=True)
class PPBoundaries:
    """Decision boundaries of a predictive-probability design, one entry per look.

    At ``looks[i]`` patients, stop for futility if responses ``<= futility[i]`` (``-1``: never),
    and for efficacy if responses ``>= efficacy[i]`` (``None``: never).
    """

    nmax: int
    p0: float
    theta_t: float
    theta_l: float
    theta_u: float
    a: float
    b: float
    looks: tuple[int, ...]
    futility: tuple[int, ...]
    efficacy: tuple[int | None, ...]


def _check_looks(looks: Sequence[int] | None, nmax: int) -> tuple[int, ...]:
    if looks is None:
        return tuple(range(1, nmax + 1))
    lk = tuple(int(v) for v in looks)
    if not lk or any(v < 1 or v > nmax for v in lk) or list(lk) != sorted(set(lk)):
        raise ValidationError(
            f"looks must be increasing sample sizes in 1..{nmax}; got {list(looks)!r}."
        )
    return lk


def pp_boundaries(
    nmax: int,
    p0: float,
    theta_t: float,
    theta_l: float,
    theta_u: float = 1.0,
    a: float = 1.0,
    b: float = 1.0,
    looks: Sequence[int] | None = None,
) -> PPBoundaries:
    """Futility (PP < theta_l) and efficacy (PP > theta_u) boundaries at each look.

    ``looks`` defaults to every patient 1..nmax (continuous monitoring, as Lee & Liu). At the
    final look the PP is 0 or 1, so the rule reduces to the final posterior test.
    """
    _check_counts(0, 0, nmax)
    p0 = _rate("p0", p0)
    theta_t = _rate("theta_t", theta_t)
    if not (0.0 <= theta_l < 1.0):
        raise ValidationError(f"theta_l must lie in [0, 1); got {theta_l!r}.")
    if not (theta_l < theta_u <= 1.0):
        raise ValidationError(f"theta_u must lie in (theta_l, 1]; got {theta_u!r}.")
    _check_prior(a, b)
    lk = _check_looks(looks, nmax)
    success = _success_table(nmax, p0, a, b, theta_t)
    fut: list[int] = []
    eff: list[int | None] = []
    for n in lk:
        xs = np.arange(n + 1)
        pp = _pp_vector(xs, n, nmax, success, a, b)
        stop_f = np.nonzero(pp < theta_l)[0]
        fut.append(int(stop_f.max()) if stop_f.size else -1)
        # theta_u = 1 switches efficacy stopping off (a sum of probabilities can round above 1)
        stop_e = np.nonzero(pp > theta_u)[0] if theta_u < 1.0 else np.zeros(0, dtype=np.int64)
        eff.append(int(stop_e.min()) if stop_e.size else None)
    return PPBoundaries(nmax, p0, theta_t, theta_l, theta_u, a, b, lk, tuple(fut), tuple(eff))


@dataclass(frozen=True, slots=True)
class PPOperatingCharacteristics:
    """Exact operating characteristics of a boundary set at response rate ``p``."""

    p: float
    reject: float  # P(declared promising): efficacy stop, or success at the final analysis
    early_futility: float  # P(stopped for futility before nmax)
    early_efficacy: float  # P(stopped for efficacy before nmax)
    expected_n: float


def pp_operating_characteristics(design: PPBoundaries, p: float) -> PPOperatingCharacteristics:
    """Exact OC by forward recursion over the looks (no simulation).

    At the final look, "reject" means the final posterior test passes:
    ``P(p > p0 | x, nmax) > theta_t``.
    """
    p = _rate("p", p)
    nmax = design.nmax
    success = _success_table(nmax, design.p0, design.a, design.b, design.theta_t)
    dist = np.zeros(nmax + 1)
    dist[0] = 1.0  # responses among patients so far, over trials still running
    n_prev = 0
    fut = eff = 0.0
    en = 0.0
    looks = list(design.looks)
    if looks[-1] != nmax:
        looks.append(nmax)
    f_by = dict(zip(design.looks, design.futility, strict=True))
    e_by = dict(zip(design.looks, design.efficacy, strict=True))
    for n in looks:
        step = stats.binom.pmf(np.arange(n - n_prev + 1), n - n_prev, p)
        dist = np.convolve(dist, step)[: nmax + 1]
        n_prev = n
        xs = np.arange(nmax + 1)
        if n == nmax:
            running = float(dist.sum())
            en += running * n
            final_ok = success & (xs <= n)
            rej = float(dist[final_ok].sum())
            return PPOperatingCharacteristics(p, eff + rej, fut, eff, en)
        f = f_by.get(n, -1)
        e = e_by.get(n)
        stop_f = xs <= f
        stop_e = (xs >= e) & ~stop_f if e is not None else np.zeros_like(stop_f)
        pf = float(dist[stop_f].sum())
        pe = float(dist[stop_e].sum())
        fut += pf
        eff += pe
        en += (pf + pe) * n
        dist = np.where(stop_f | stop_e, 0.0, dist)
    raise AssertionError("unreachable: the final look is nmax")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class PPDesign:
    """A calibrated predictive-probability design and its exact operating characteristics."""

    boundaries: PPBoundaries
    type1: float  # P(declared promising | p0)
    power: float  # P(declared promising | p1)
    pet0: float  # P(early futility stop | p0)
    en0: float  # E[N | p0]
    en1: float  # E[N | p1]


def _pp_weights(nmax: int, a: float, b: float) -> tuple[FloatArray, NDArray[np.int64]]:
    """Beta-binomial weights w[n, x, i] = P(i future responses | x of n) and the final count
    x + i, over the whole (n, x, i) cube (zero outside 0 <= x <= n, 0 <= i <= nmax - n)."""
    n = np.arange(nmax + 1)[:, None, None]
    x = np.arange(nmax + 1)[None, :, None]
    i = np.arange(nmax + 1)[None, None, :]
    m = nmax - n
    valid = (x <= n) & (i <= m)
    mm, xx, ii = np.broadcast_arrays(m, x, i)
    nn = np.broadcast_to(n, xx.shape)
    xx = np.minimum(xx, nn)
    ii = np.where(valid, ii, 0)
    rest = np.maximum(mm - ii, 0)
    aa, bb = a + xx, b + (nn - xx)
    logw = (
        special.gammaln(mm + 1)
        - special.gammaln(ii + 1)
        - special.gammaln(rest + 1)
        + special.betaln(ii + aa, rest + bb)
        - special.betaln(aa, bb)
    )
    w = np.where(valid, np.exp(logw), 0.0)
    return w, np.minimum(xx + ii, nmax)


def _pp_table(
    weights: tuple[FloatArray, NDArray[np.int64]], success: NDArray[np.bool_]
) -> FloatArray:
    """pp[n, x] for 0 <= x <= n <= nmax (NaN above the diagonal)."""
    w, final = weights
    out: FloatArray = np.sum(w * success[final], axis=2)
    k = out.shape[0]
    out[np.triu_indices(k, 1)] = np.nan
    return out


def _fast_oc(
    nmax: int, fut: NDArray[np.int64], success: NDArray[np.bool_], p: float
) -> tuple[float, float, float]:
    """(P(promising), P(early futility), E[N]) for futility bounds fut[n] (n = 1..nmax-1)."""
    dist = np.zeros(nmax + 1)
    dist[0] = 1.0
    stop = 0.0
    en = 0.0
    for n in range(1, nmax + 1):
        new = dist * (1 - p)
        new[1:] += dist[:-1] * p
        dist = new
        if n == nmax:
            en += float(dist.sum()) * n
            return float(dist[success].sum()), stop, en
        f = int(fut[n])
        if f >= 0:
            s_mass = float(dist[: f + 1].sum())
            stop += s_mass
            en += s_mass * n
            dist[: f + 1] = 0.0
    raise AssertionError("unreachable")  # pragma: no cover


def pp_design_search(
    p0: float,
    p1: float,
    alpha: float = 0.10,
    power: float = 0.90,
    *,
    nmax: Sequence[int] | int,
    theta_t: Sequence[float] = tuple(np.round(np.arange(0.80, 0.995, 0.01), 2)),
    theta_l: Sequence[float] = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1),
    a: float = 1.0,
    b: float = 1.0,
    first_look: int = 1,
) -> tuple[PPDesign, ...]:
    """Calibrate Lee & Liu's thresholds: every (nmax, theta_t, theta_l) meeting the error rates.

    Futility monitoring after every patient from ``first_look`` on (no efficacy stopping, as
    Lee & Liu's main design); the final analysis declares the drug promising when
    ``P(p > p0 | data) > theta_t``. Returns the designs with ``P(promising | p0) <= alpha`` and
    ``P(promising | p1) >= power``, ordered by ``nmax``, then ``E[N | p0]`` (smallest first):
    the first is the smallest trial with the lowest expected size under the null. Everything
    is exact (beta-binomial sums and a forward recursion over patients).

    References
    ----------
    Lee JJ, Liu DD. Clin Trials 2008;5:93-106 (section "Design search").
    """
    p0 = _rate("p0", p0)
    p1 = _rate("p1", p1)
    if not p0 < p1:
        raise ValidationError(f"p1 must exceed p0; got p0={p0!r} and p1={p1!r}.")
    alpha = _rate("alpha", alpha)
    power = _rate("power", power)
    _check_prior(a, b)
    sizes = [nmax] if isinstance(nmax, int) else list(nmax)
    if not sizes or any(isinstance(v, bool) or int(v) != v or v < 2 for v in sizes):
        raise ValidationError(f"nmax must be integers >= 2; got {nmax!r}.")
    tts = [_rate("theta_t", t) for t in theta_t]
    tls = [float(t) for t in theta_l]
    if any(not (0.0 <= t < 1.0) for t in tls):
        raise ValidationError(f"theta_l values must lie in [0, 1); got {list(theta_l)!r}.")
    out: list[PPDesign] = []
    for nm in sorted(int(v) for v in sizes):
        if not (1 <= first_look <= nm):
            raise ValidationError(f"first_look must lie in 1..{nm}; got {first_look!r}.")
        weights = _pp_weights(nm, a, b)
        for tt in tts:
            success = _success_table(nm, p0, a, b, tt)
            table = _pp_table(weights, success)
            seen: dict[tuple[int, ...], tuple[float, float, float, float, float]] = {}
            for tl in tls:
                # PP increases with the responses, so the largest futile x counts the futile ones
                with np.errstate(invalid="ignore"):
                    fut = np.sum(table < tl, axis=1).astype(np.int64) - 1
                fut[:first_look] = -1
                fut[nm] = -1
                key = tuple(int(v) for v in fut)
                if key not in seen:
                    rej0, pet0, en0 = _fast_oc(nm, fut, success, p0)
                    rej1, _, en1 = _fast_oc(nm, fut, success, p1)
                    seen[key] = (rej0, rej1, pet0, en0, en1)
                rej0, rej1, pet0, en0, en1 = seen[key]
                if rej0 <= alpha and rej1 >= power:
                    looks = tuple(range(first_look, nm + 1))
                    fut_l = [int(fut[n]) for n in looks[:-1]]
                    # the final look reads as the final test: not promising if x <= f_final
                    final_fail = np.nonzero(~success)[0]
                    fut_l.append(int(final_fail.max()) if final_fail.size else -1)
                    bnd = PPBoundaries(
                        nm, p0, tt, tl, 1.0, a, b, looks, tuple(fut_l), (None,) * len(looks)
                    )
                    out.append(PPDesign(bnd, rej0, rej1, pet0, en0, en1))
    out.sort(key=lambda d: (d.boundaries.nmax, d.en0, -d.boundaries.theta_t))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Multi-cohort (basket) monitoring
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BasketCohortStatus:
    """Monitoring status of one cohort (basket)."""

    cohort: str
    responses: int
    treated: int
    predictive_probability: float
    posterior_prob_above_p0: float
    action: str  # "continue", "stop for futility", "stop for efficacy", "complete: promising",
    # "complete: not promising"


def basket_monitoring(
    data: Mapping[str, tuple[int, int]],
    *,
    nmax: int,
    p0: float,
    theta_t: float,
    theta_l: float,
    theta_u: float = 1.0,
    a: float = 1.0,
    b: float = 1.0,
) -> tuple[BasketCohortStatus, ...]:
    """Monitor several cohorts, each by its own Lee & Liu rule (no information borrowing).

    ``data`` maps each cohort's name to ``(responses, treated)``. Every cohort uses the same
    ``nmax``, null rate ``p0``, thresholds and prior; a cohort stops for futility when its PP
    falls below ``theta_l`` and for efficacy when it exceeds ``theta_u``. Independent monitoring
    keeps each cohort's error rates exactly those of :func:`pp_operating_characteristics`;
    borrowing designs (e.g. BHM, EXNEX) trade that for power in homogeneous baskets.
    """
    if not data:
        raise ValidationError("data must hold at least one cohort: {name: (responses, treated)}.")
    p0 = _rate("p0", p0)
    theta_t = _rate("theta_t", theta_t)
    if not (0.0 <= theta_l < theta_u <= 1.0):
        raise ValidationError(
            f"Need 0 <= theta_l < theta_u <= 1; got theta_l={theta_l!r}, theta_u={theta_u!r}."
        )
    _check_prior(a, b)
    out = []
    for name, pair in data.items():
        try:
            x, n = pair
        except (TypeError, ValueError):
            raise ValidationError(
                f"Cohort {name!r}: expected (responses, treated); got {pair!r}."
            ) from None
        try:
            _check_counts(x, n, nmax)
        except ValidationError as exc:
            raise ValidationError(f"Cohort {name!r}: {exc.message}") from None
        pp = predictive_probability(x, n, nmax, p0, theta_t, a, b)
        post = float(special.betaincc(a + x, b + n - x, p0))
        if n == nmax:
            action = "complete: promising" if post > theta_t else "complete: not promising"
        elif pp < theta_l:
            action = "stop for futility"
        elif theta_u < 1.0 and pp > theta_u:
            action = "stop for efficacy"
        else:
            action = "continue"
        out.append(BasketCohortStatus(str(name), int(x), int(n), pp, post, action))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class BasketOperatingCharacteristics:
    """Exact operating characteristics of independent per-cohort monitoring."""

    cohorts: tuple[PPOperatingCharacteristics, ...]  # one per cohort, in the order given
    names: tuple[str, ...]
    p0: float
    prob_any_promising: float  # P(at least one cohort declared promising)
    prob_false_positive: float  # P(some cohort with true rate <= p0 declared promising)
    expected_promising: float  # expected number of cohorts declared promising
    expected_n: float  # expected total sample size


def basket_operating_characteristics(
    design: PPBoundaries, rates: Mapping[str, float]
) -> BasketOperatingCharacteristics:
    """Exact OC when every cohort runs ``design`` independently at its own true rate.

    Independence makes the trial-level figures products of the per-cohort ones, e.g.
    ``P(any false positive) = 1 - prod(1 - alpha_k)`` over the cohorts whose true rate does not
    exceed ``p0`` (the family-wise error rate under those nulls).
    """
    if not rates:
        raise ValidationError("rates must give at least one cohort: {name: true response rate}.")
    names = tuple(str(k) for k in rates)
    ocs = tuple(pp_operating_characteristics(design, float(v)) for v in rates.values())
    none_promising = float(np.prod([1.0 - oc.reject for oc in ocs]))
    null = [oc for oc in ocs if oc.p <= design.p0]
    no_false = float(np.prod([1.0 - oc.reject for oc in null])) if null else 1.0
    return BasketOperatingCharacteristics(
        cohorts=ocs,
        names=names,
        p0=design.p0,
        prob_any_promising=1.0 - none_promising,
        prob_false_positive=1.0 - no_false,
        expected_promising=float(sum(oc.reject for oc in ocs)),
        expected_n=float(sum(oc.expected_n for oc in ocs)),
    )
