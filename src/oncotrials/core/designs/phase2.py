"""Phase II single-arm designs: Simon two-stage, single-stage exact, predictive-probability monitoring.

* :func:`simon_two_stage`: Simon (1989) optimal and minimax designs and the admissible designs of
  Jung et al. (2004), by exhaustive exact search exactly as ``clinfun::ph2simon`` (strict
  ``P(reject | p0) < alpha`` and ``P(accept | p1) < beta``; stop after stage 1 when
  ``X1 <= r1``; declare the drug promising when ``X > r``). Branch and bound as clinfun's
  Fortran, vectorised over every maximum sample size at once (see :func:`_search`).
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

from oncotrials.core.errors import ValidationError, inner_refusal
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
        raise ValidationError(
            f"{name} must lie in (0, 1); got {value!r}.",
            code="design_probability",
            name=name,
            value=repr(value),
        )
    return v


def _rates(p0: float, p1: float, alpha: float, beta: float) -> tuple[float, float, float, float]:
    p0 = _rate("p0", p0)
    p1 = _rate("p1", p1)
    if not p0 < p1:
        raise ValidationError(
            f"p1 (the desirable response rate) must exceed p0 (the uninteresting rate); "
            f"got p0={p0!r} and p1={p1!r}.",
            code="design_simon_rates",
            p0=repr(p0),
            p1=repr(p1),
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
            raise ValidationError(
                f"{name} must be an integer; got {v!r}.",
                code="design_integer",
                name=name,
                v=repr(v),
            )
    if not (0 < n1 < n and -1 <= r1 < n1 and r1 <= r < n):
        raise ValidationError(
            f"Need 0 < n1 < n, -1 <= r1 < n1 and r1 <= r < n; got r1={r1}, n1={n1}, r={r}, n={n}.",
            code="design_simon_bounds",
            r1=r1,
            n1=n1,
            r=r,
            n=n,
        )
    n2 = n - n1
    x1 = np.arange(r1 + 1, n1 + 1)
    reject = float(np.sum(stats.binom.pmf(x1, n1, p) * stats.binom.sf(r - x1, n2, p)))
    pet = float(stats.binom.cdf(r1, n1, p))
    return reject, pet, n1 + (1.0 - pet) * n2


def _reject_rows(grid: NDArray[np.int64], p: float, pmf: FloatArray) -> FloatArray:
    """P(reject H0) at ``p`` of each design ``(r1, n1, r, n)`` of ``grid``, in one call.

    The same terms as :func:`oc_two_stage` (x1 = r1 + 1 .. n1; ``pmf[m, x]`` holds
    ``binom.pmf(x, m, p)``), each row summed over exactly those terms, so the figures are
    identical to one call per design.
    """
    r1, n1, r, n = grid.T
    width = int((n1 - r1).max())
    x1 = (r1 + 1)[:, None] + np.arange(width)[None, :]
    inside = x1 <= n1[:, None]
    x1 = np.where(inside, x1, n1[:, None])
    terms = pmf[n1[:, None], x1] * stats.binom.sf(r[:, None] - x1, (n - n1)[:, None], p)
    counts = (n1 - r1).tolist()
    return np.array([np.sum(row[:k]) for row, k in zip(terms, counts, strict=True)])


def _check_nmax(nmax: int) -> int:
    if isinstance(nmax, bool) or int(nmax) != nmax or not (2 <= nmax <= 1000):
        raise ValidationError(
            f"nmax must be an integer in 2..1000 (as clinfun); got {nmax!r}.",
            code="design_simon_nmax",
            nmax=repr(nmax),
        )
    return int(nmax)


@dataclass(frozen=True)
class _SearchTables:
    """Binomial tables of one search, built once for every n.

    pmf[m, x] = P(Bin(m) = x); rmax[n] = the largest final boundary r <= n - 1 with
    P(X > r | p1) > 1 - beta (-1: none; a larger r cannot give the power), P(X > r | p1) taken
    as 1 minus the running sum of the pmf; tail[m, k] = P(Bin(m) >= k) computed as
    1 - cdf(k - 1) (clinfun's cp0/cp1), for k <= max(rmax) + 1 (no larger k is read);
    pet[n1, r1] = P(X1 <= r1 | p0) as 1 minus the running sum from the top, the Fortran's order;
    stage1_power[n1, r1] = P(X1 > r1 | p1).
    """

    pmf0: FloatArray
    pmf1: FloatArray
    rmax: NDArray[np.intp]
    tail0: FloatArray
    tail1: FloatArray
    pet: FloatArray
    stage1_power: FloatArray
    wide0: FloatArray  # tail0 followed by as many columns of zeros
    wide1: FloatArray
    mirror0: FloatArray  # mirror[m, K - c] = tail[m, c] (K = columns - 1), then as many ones
    mirror1: FloatArray

    @classmethod
    def build(cls, p0: float, p1: float, nmax: int, beta: float) -> _SearchTables:
        m = np.arange(nmax + 1)
        x = np.arange(nmax + 2)
        pmf0 = stats.binom.pmf(x[None, :], m[:, None], p0)
        pmf1 = stats.binom.pmf(x[None, :], m[:, None], p1)
        sf1 = 1.0 - np.cumsum(pmf1, axis=1)
        ok_r = (sf1[:, : nmax + 1] > 1.0 - beta - 1e-9) & (m[None, :] <= m[:, None])
        rmax = np.minimum(np.where(ok_r, m[None, :], -1).max(axis=1), m - 1)
        # tail[m, k] = 1 - pbinom(k - 1, m, p), as clinfun's cp0/cp1, for k <= max(rmax) + 1
        k = np.arange(max(int(rmax.max()) + 2, 2))
        tail0 = 1.0 - stats.binom.cdf(k[None, :] - 1, m[:, None], p0)
        tail1 = 1.0 - stats.binom.cdf(k[None, :] - 1, m[:, None], p1)
        top = np.concatenate([np.ones((m.size, 1)), -pmf0[:, ::-1]], axis=1)
        run = np.add.accumulate(top, axis=1)[:, 1:][:, ::-1]  # run[m, x] = 1 - sum_{x1>=x}
        return cls(
            pmf0=pmf0,
            pmf1=pmf1,
            rmax=rmax,
            tail0=tail0,
            tail1=tail1,
            pet=run[:, 1:],
            stage1_power=tail1[:, 1:],
            wide0=np.concatenate([tail0, np.zeros_like(tail0)], axis=1),
            wide1=np.concatenate([tail1, np.zeros_like(tail1)], axis=1),
            mirror0=np.concatenate([tail0[:, ::-1], np.ones_like(tail0)], axis=1),
            mirror1=np.concatenate([tail1[:, ::-1], np.ones_like(tail1)], axis=1),
        )


def _search(
    t: _SearchTables, nmax: int, alpha: float, beta: float
) -> list[tuple[int, int, int, int, float, float]]:
    """Minimal-EN design ``(r1, n1, r, n, EN, PET)`` of every n = 2..nmax that has one, in
    clinfun's search order on ties (EN, then n1 ascending, then r1 descending).

    Branch and bound as clinfun's Fortran, for all n at once. A final boundary r can qualify only
    if P(X > r | p1) > 1 - beta (this bounds the power), so r <= rmax(n); a stage 1 (n1, r1) is a
    candidate only if P(X1 > r1 | p1) > 1 - beta, its P(reject | p0) at r = rmax(n) (a lower
    bound over r <= rmax) is below alpha, and EN < n. These bounds carry a slack of 1e-9 so that
    rounding never drops a feasible design. For one (n, n1) both EN and the alpha bound decrease
    as r1 grows, so each such row is read from its largest r1 down (a row whose largest r1
    fails the alpha bound is skipped whole), and each n's candidates in EN order are a merge of
    its rows. For a couple of rounds the best remaining candidate of every n is checked at once
    (most n are settled by their first or second candidate); the n left open then have their
    remaining candidates ordered and checked in chunks that grow fourfold, all open n together,
    each chunk screened first by :func:`_may_be_feasible`. A candidate that fails a bound is
    infeasible, so checking it instead of skipping it changes nothing; the checks use exactly
    the sums of the per-n search: P(reject) = P(X > r) - sum over x1 <= r1 ascending of
    P(X1 = x1) P(X2 > r - x1).
    """
    ns = np.arange(nmax + 1)
    rmax = t.rmax
    # stage 1 alone must reach the power: s1ok[n1, r1], r1 <= n1 - 1 (and r1 <= max(rmax));
    # upto[n1, r1]: the largest such r1' <= r1 (-1: none)
    r1s = np.arange(t.stage1_power.shape[1])
    s1ok = (t.stage1_power > 1.0 - beta - 1e-9) & (r1s[None, :] < ns[:, None])
    upto = np.maximum.accumulate(np.where(s1ok, r1s[None, :], -1), axis=1)
    # rows (n, n1): stage-1 boundaries r1 = 0 .. size - 1, size = min(rmax(n), cap(n1)) + 1
    size = np.minimum(rmax[:, None], upto[None, :, -1]) + 1
    size[:2] = 0
    size[ns[:, None] <= ns[None, :]] = 0  # n1 < n
    found: dict[int, tuple[int, int, int, int, float, float]] = {}
    # the n whose rows fit the budget together (every n when nmax is about 150 or less)
    per_n = (size > 0).sum(axis=1) * size.max(axis=1)
    lo = 2
    while lo <= nmax:
        hi = lo + 1
        spent = per_n[lo]
        while hi <= nmax and spent + per_n[hi] <= _BLOCK_TERMS:
            spent += per_n[hi]
            hi += 1
        _search_block(t, size[lo:hi], lo, rmax, s1ok, upto, alpha, beta, found)
        lo = hi
    return [found[n] for n in sorted(found)]


def _search_block(
    t: _SearchTables,
    size: NDArray[np.intp],
    n_lo: int,
    rmax: NDArray[np.intp],
    s1ok: NDArray[np.bool_],
    upto: NDArray[np.intp],
    alpha: float,
    beta: float,
    found: dict[int, tuple[int, int, int, int, float, float]],
) -> None:
    """:func:`_search` for n = n_lo .. n_lo + len(size) - 1 (``size`` as there)."""
    gi, gj = np.nonzero(size > 0)  # rows in order of n, then n1
    if gi.size == 0:
        return
    gn = gi + n_lo
    g2 = gn - gj
    last = size[gi, gj] - 1
    width = int(last.max()) + 2
    # P(reject | p0) at r = rmax(n) of each (n1, r1): P(X > rmax) - sum over x1 <= r1 of
    # P(X1 = x1) P(X2 > rmax - x1), a lower bound over r <= rmax that decreases as r1 grows.
    # terms[g, x1]: tail0[n2, rmax + 1 - x1] is a window of the mirrored table (terms past the
    # row's size are never summed).
    k = t.mirror0.shape[1] // 2 - 1
    windows = np.lib.stride_tricks.sliding_window_view(t.mirror0, width, axis=1)
    rm = rmax[gn]
    total = t.tail0[gn, rm + 1]

    def terms(rows: slice | NDArray[np.intp]) -> FloatArray:
        out: FloatArray = windows[g2[rows], k - 1 - rm[rows]]
        out *= t.pmf0[gj[rows], :width]
        return out

    # a row whose largest r1 fails the bound has no candidate (rows in parts: small temporaries)
    summed = np.empty(gi.size)
    step = max(1, _ROW_PART // width)
    for s0 in range(0, gi.size, step):
        part = slice(s0, s0 + step)
        bounds = np.empty(2 * (min(s0 + step, gi.size) - s0), dtype=np.intp)
        bounds[0::2] = np.arange(bounds.size // 2) * width
        bounds[1::2] = bounds[0::2] + last[part] + 1
        summed[part] = np.add.reduceat(terms(part).ravel(), bounds)[0::2]
    alive = total - summed < alpha + 1e-9
    # each row's candidates, from its largest r1 down: r1 <= last with s1ok, while EN < n (and
    # the bound holds: checked exactly with the design, or below for the n still open)
    cur = upto[gj, last]
    head_en = gj + (1.0 - t.pet[gj, np.maximum(cur, 0)]) * g2
    head_en[~alive | (cur < 0) | (head_en >= gn)] = np.inf
    # n-segments of the rows
    starts = np.flatnonzero(np.r_[True, gn[1:] != gn[:-1]])
    ends = np.r_[starts[1:], gi.size]
    seg_of_row = np.repeat(np.arange(starts.size), ends - starts)
    open_seg = np.minimum.reduceat(head_en, starts) < np.inf
    for _ in range(_ROUNDS):
        best_en = np.minimum.reduceat(head_en, starts)
        open_seg &= best_en < np.inf
        if np.count_nonzero(open_seg) < _MIN_OPEN:
            break
        # first row of each open n with the smallest EN (ties: smallest n1, the row order)
        hit = np.flatnonzero(head_en == best_en[seg_of_row])
        hit = hit[open_seg[seg_of_row[hit]]]
        hit = hit[np.r_[True, seg_of_row[hit[1:]] != seg_of_row[hit[:-1]]]]
        a = cur[hit]
        r = _largest_feasible_r(a, gj[hit], gn[hit], rmax[gn[hit]], t, alpha, beta)
        done = r >= 0
        for i in np.flatnonzero(done).tolist():
            row, r1 = int(hit[i]), int(a[i])
            n = int(gn[row])
            found[n] = (
                r1,
                int(gj[row]),
                int(r[i]),
                n,
                float(head_en[row]),
                float(t.pet[gj[row], r1]),
            )
        open_seg[seg_of_row[hit[done]]] = False
        # the rows just checked move to their next candidate
        nxt = np.where(a > 0, upto[gj[hit], np.maximum(a - 1, 0)], -1)
        en = gj[hit] + (1.0 - t.pet[gj[hit], np.maximum(nxt, 0)]) * g2[hit]
        en[(nxt < 0) | (en >= gn[hit])] = np.inf
        cur[hit] = nxt
        head_en[hit] = en
        head_en[~open_seg[seg_of_row]] = np.inf
    # the n still open: their remaining candidates in order, checked in chunks that grow
    # fourfold, one chunk of every open n at a time
    rows = np.flatnonzero(open_seg[seg_of_row] & (head_en < np.inf))
    if rows.size == 0:
        return
    # the bound holds from r1 = low on (the running sum never decreases)
    rej0_low = total[rows][:, None] - np.cumsum(terms(rows), axis=1)
    low = width - np.count_nonzero(rej0_low < alpha + 1e-9, axis=1)
    x = np.arange(int(cur[rows].max()) + 1)
    left = (x[None, :] >= low[:, None]) & (x[None, :] <= cur[rows][:, None])
    left &= s1ok[gj[rows], : x.size]
    jr, r1c = np.nonzero(left)
    g = rows[jr]
    enc = gj[g] + (1.0 - t.pet[gj[g], r1c]) * g2[g]
    keep = enc < gn[g]
    g, r1c, enc = g[keep], r1c[keep], enc[keep]
    if g.size == 0:
        return
    order = np.lexsort((-r1c, gj[g], enc, gn[g]))
    g, r1c, enc = g[order], r1c[order], enc[order]
    n1c, nc = gj[g], gn[g]
    pos = np.flatnonzero(np.r_[True, nc[1:] != nc[:-1]])
    end = np.r_[pos[1:], nc.size]
    step = _FIRST_CHUNK
    while pos.size:
        stop = np.minimum(pos + step, end)
        counts = stop - pos
        owner = np.repeat(np.arange(pos.size), counts)
        idx = np.arange(owner.size) + np.repeat(pos - (np.cumsum(counts) - counts), counts)
        a, n1, n = r1c[idx], n1c[idx], nc[idx]
        r = np.full(idx.size, -1)
        maybe = np.flatnonzero(_may_be_feasible(a, n1, n, rmax[n], t, alpha, beta))
        if maybe.size:
            sel = idx[maybe]
            r[maybe] = _largest_feasible_r(
                r1c[sel], n1c[sel], nc[sel], rmax[nc[sel]], t, alpha, beta
            )
        hits = np.flatnonzero(r >= 0)
        if hits.size:
            hits = hits[np.r_[True, owner[hits[1:]] != owner[hits[:-1]]]]
        for h in hits.tolist():
            i = int(idx[h])
            n = int(nc[i])
            found[n] = (
                int(r1c[i]),
                int(n1c[i]),
                int(r[h]),
                n,
                float(enc[i]),
                float(t.pet[n1c[i], r1c[i]]),
            )
        still = np.ones(pos.size, dtype=bool)
        still[owner[hits]] = False
        still &= stop < end
        pos, end = stop[still], end[still]
        step *= 4


#: Rounds of :func:`_search_block` that check the best remaining candidate of every open n,
#: while at least ``_MIN_OPEN`` n are open.
_ROUNDS = 2
_MIN_OPEN = 3
#: Candidates of each n checked together after the rounds, growing fourfold.
_FIRST_CHUNK = 8
#: Elements of the stage-1 terms formed at a time in :func:`_search_block`.
_ROW_PART = 16_384
#: Largest arrays (elements) of one check; larger batches are checked in parts.
_CHECK_TERMS = 1_000_000
#: Elements of the stage-1 tables of the n searched together (:func:`_search`).
_BLOCK_TERMS = 1_000_000


def _may_be_feasible(
    a: NDArray[np.intp],
    n1: NDArray[np.intp],
    n: NDArray[np.intp],
    rmax: NDArray[np.intp],
    t: _SearchTables,
    alpha: float,
    beta: float,
) -> NDArray[np.bool_]:
    """False for candidates (r1 = a, n1, n) that have no feasible final boundary, by a few
    sums each: P(reject) decreases with r at both rates, so with r' the smallest r <= rmax whose
    P(reject | p0) is below alpha (found by bisection), a feasible design needs
    P(reject | p1) > 1 - beta at r'. A slack of 1e-9 on both keeps every feasible candidate
    (it is checked exactly by :func:`_largest_feasible_r`)."""
    if a.size > 1 and a.size * (int(a.max()) + 1) > _CHECK_TERMS:  # memory: in halves
        h = a.size // 2
        return np.concatenate(
            [
                _may_be_feasible(a[:h], n1[:h], n[:h], rmax[:h], t, alpha, beta),
                _may_be_feasible(a[h:], n1[h:], n[h:], rmax[h:], t, alpha, beta),
            ]
        )
    n2 = n - n1
    top = np.minimum(rmax, a + n2)
    x = np.arange(int(a.max()) + 1)
    within = x[None, :] <= a[:, None]
    pm0 = np.where(within, t.pmf0[n1, : x.size], 0.0)
    k = t.mirror0.shape[1] // 2 - 1

    def reject(
        pm: FloatArray, tail: FloatArray, mirror: FloatArray, r: NDArray[np.intp]
    ) -> FloatArray:
        # P(X > r) - sum over x1 <= r1 of P(X1 = x1) P(X2 > r - x1); mirror[m, k - c] = tail[m, c]
        win = np.lib.stride_tricks.sliding_window_view(mirror, x.size, axis=1)
        out: FloatArray = tail[n, r + 1] - np.einsum("ij,ij->i", pm, win[n2, k - 1 - r])
        return out

    ok = reject(pm0, t.tail0, t.mirror0, top) < alpha + 1e-9
    lo, hi = a.copy(), top.copy()
    while True:
        active = ok & (lo < hi)
        if not active.any():
            break
        mid = (lo + hi) // 2
        below = reject(pm0, t.tail0, t.mirror0, mid) < alpha + 1e-9
        hi = np.where(active & below, mid, hi)
        lo = np.where(active & ~below, mid + 1, lo)
    pm1 = np.where(within, t.pmf1[n1, : x.size], 0.0)
    return ok & (reject(pm1, t.tail1, t.mirror1, hi) > 1.0 - beta - 1e-9)


def _largest_feasible_r(
    a: NDArray[np.intp],
    n1: NDArray[np.intp],
    n: NDArray[np.intp],
    rmax: NDArray[np.intp],
    t: _SearchTables,
    alpha: float,
    beta: float,
) -> NDArray[np.intp]:
    """For each candidate (r1 = a, n1, n): the largest final boundary r in [r1, rmax] with
    P(reject | p0) < alpha and P(accept | p1) < beta, or -1. Each P(reject) is
    P(X > r) - sum over x1 <= r1 ascending of P(X1 = x1) P(X2 > r - x1)."""
    n2 = n - n1
    top = np.minimum(rmax, a + n2)  # r <= r1 + n2 (larger r cannot be reached)
    nw = int((top - a).max()) + 1
    if a.size > 1 and a.size * (int(a.max()) + 1) * nw > _CHECK_TERMS:  # memory: in halves
        h = a.size // 2
        return np.concatenate(
            [
                _largest_feasible_r(a[:h], n1[:h], n[:h], rmax[:h], t, alpha, beta),
                _largest_feasible_r(a[h:], n1[h:], n[h:], rmax[h:], t, alpha, beta),
            ]
        )
    x = np.arange(int(a.max()) + 1)
    # r = a + w, w = 0 .. nw - 1: P(X2 > r - x1) = tail[n2, a - x1 + 1 + w] is a window of the
    # tail table (x1 > r1 only past the row's r1: clipped, never summed; columns past the
    # table are zeros, past the row's top only)
    start = np.maximum(a[:, None] - x[None, :] + 1, 0)  # (K, X)
    rows = np.arange(a.size)
    feas = np.arange(nw)[None, :] <= (top - a)[:, None]
    for pmf, tail, p1_side in ((t.pmf0, t.wide0, False), (t.pmf1, t.wide1, True)):
        win = np.lib.stride_tricks.sliding_window_view(tail, nw, axis=1)
        terms = win[n2[:, None], start]  # (K, X, W)
        terms *= pmf[n1, : x.size][:, :, None]
        acc = np.cumsum(terms, axis=1)[rows, a, :]  # sum over x1 <= r1: (K, W)
        rej = win[n, a + 1] - acc  # P(X > r) - ...
        feas &= (1.0 - rej) < beta if p1_side else rej < alpha
    last = feas.shape[1] - 1 - np.argmax(feas[:, ::-1], axis=1)
    return np.where(feas.any(axis=1), a + last, -1)


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
    tables = _SearchTables.build(p0, p1, nmax, beta)
    rows: list[SimonDesign] = []
    found_all = _search(tables, nmax, alpha, beta)
    if found_all:
        grid = np.array([f[:4] for f in found_all], dtype=np.int64)
        rej0s = _reject_rows(grid, p0, tables.pmf0)
        rej1s = _reject_rows(grid, p1, tables.pmf1)
        for (r1, n1, r, n, en, pet), rej0, rej1 in zip(found_all, rej0s, rej1s, strict=True):
            rows.append(SimonDesign("", r1, n1, r, n, en, pet, float(rej0), float(rej1)))
    if not rows:
        raise ValidationError(
            f"No two-stage design with n <= {nmax} meets alpha < {alpha:g} and beta < {beta:g} "
            f"for p0={p0:g}, p1={p1:g}; increase nmax (at most 1000).",
            code="design_simon_none",
            nmax=nmax,
            alpha=f"{alpha:g}",
            beta=f"{beta:g}",
            p0=f"{p0:g}",
            p1=f"{p1:g}",
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
        raise ValidationError(
            f"tolerance must lie in [0, 0.5); got {tolerance!r}.",
            code="design_single_stage_tolerance",
            tolerance=repr(tolerance),
        )
    if isinstance(n_solutions, bool) or int(n_solutions) != n_solutions or n_solutions < 1:
        raise ValidationError(
            f"n_solutions must be a positive integer; got {n_solutions!r}.",
            code="design_single_stage_solutions",
            n_solutions=repr(n_solutions),
        )
    ns = np.arange(1, nmax + 1)
    if tolerance > 0:
        rq = stats.binom.ppf(1.0 - (alpha + tolerance), ns, p0)
        err2 = stats.binom.cdf(rq, ns, p1)
        ok = np.nonzero(err2 <= beta + tolerance)[0]
        if ok.size == 0:
            raise ValidationError(
                f"No single-stage design with n <= {nmax}; increase nmax.",
                code="design_single_stage_none",
                nmax=nmax,
            )
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
        raise ValidationError(
            f"No single-stage design with n <= {nmax}; increase nmax.",
            code="design_single_stage_none",
            nmax=nmax,
        )
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
            f"The beta prior needs positive finite parameters; got a={a!r}, b={b!r}.",
            code="design_beta_parameters",
            a=repr(a),
            b=repr(b),
        )


def _check_counts(x: int, n: int, nmax: int) -> None:
    for name, v in (("x", x), ("n", n), ("nmax", nmax)):
        if isinstance(v, bool) or int(v) != v or v < 0:
            raise ValidationError(
                f"{name} must be a non-negative integer; got {v!r}.",
                code="design_non_negative_integer",
                name=name,
                v=repr(v),
            )
    if nmax < 1:
        raise ValidationError(
            f"nmax must be at least 1; got {nmax!r}.",
            code="design_monitor_nmax",
            nmax=repr(nmax),
        )
    if n > nmax:
        raise ValidationError(
            f"n={n} patients exceed the maximum sample size nmax={nmax}.",
            code="design_monitor_n",
            n=n,
            nmax=nmax,
        )
    if x > n:
        raise ValidationError(
            f"x={x} responses exceed the n={n} patients observed.",
            code="design_monitor_x",
            x=x,
            n=n,
        )


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
            f"looks must be increasing sample sizes in 1..{nmax}; got {list(looks)!r}.",
            code="design_monitor_looks",
            nmax=nmax,
            looks=repr(list(looks)),
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
        raise ValidationError(
            f"theta_l must lie in [0, 1); got {theta_l!r}.",
            code="design_monitor_theta_l",
            theta_l=repr(theta_l),
        )
    if not (theta_l < theta_u <= 1.0):
        raise ValidationError(
            f"theta_u must lie in (theta_l, 1]; got {theta_u!r}.",
            code="design_monitor_theta_u",
            theta_u=repr(theta_u),
        )
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
        raise ValidationError(
            f"p1 must exceed p0; got p0={p0!r} and p1={p1!r}.",
            code="design_monitor_rates",
            p0=repr(p0),
            p1=repr(p1),
        )
    alpha = _rate("alpha", alpha)
    power = _rate("power", power)
    _check_prior(a, b)
    sizes = [nmax] if isinstance(nmax, int) else list(nmax)
    if not sizes or any(isinstance(v, bool) or int(v) != v or v < 2 for v in sizes):
        raise ValidationError(
            f"nmax must be integers >= 2; got {nmax!r}.",
            code="design_monitor_nmax_values",
            nmax=repr(nmax),
        )
    tts = [_rate("theta_t", t) for t in theta_t]
    tls = [float(t) for t in theta_l]
    if any(not (0.0 <= t < 1.0) for t in tls):
        raise ValidationError(
            f"theta_l values must lie in [0, 1); got {list(theta_l)!r}.",
            code="design_monitor_theta_l_values",
            values=repr(list(theta_l)),
        )
    out: list[PPDesign] = []
    for nm in sorted(int(v) for v in sizes):
        if not (1 <= first_look <= nm):
            raise ValidationError(
                f"first_look must lie in 1..{nm}; got {first_look!r}.",
                code="design_monitor_first_look",
                nm=nm,
                first_look=repr(first_look),
            )
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
        raise ValidationError(
            "data must hold at least one cohort: {name: (responses, treated)}.",
            code="design_monitor_no_cohort",
        )
    p0 = _rate("p0", p0)
    theta_t = _rate("theta_t", theta_t)
    if not (0.0 <= theta_l < theta_u <= 1.0):
        raise ValidationError(
            f"Need 0 <= theta_l < theta_u <= 1; got theta_l={theta_l!r}, theta_u={theta_u!r}.",
            code="design_monitor_thetas",
            theta_l=repr(theta_l),
            theta_u=repr(theta_u),
        )
    _check_prior(a, b)
    out = []
    for name, pair in data.items():
        try:
            x, n = pair
        except (TypeError, ValueError):
            raise ValidationError(
                f"Cohort {name!r}: expected (responses, treated); got {pair!r}.",
                code="design_monitor_cohort_pair",
                name=repr(name),
                pair=repr(pair),
            ) from None
        try:
            _check_counts(x, n, nmax)
        except ValidationError as exc:
            raise ValidationError(
                f"Cohort {name!r}: {exc.message}",
                code="design_monitor_cohort",
                name=repr(name),
                detail=exc.message,
                **inner_refusal(exc),
            ) from None
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
        raise ValidationError(
            "rates must give at least one cohort: {name: true response rate}.",
            code="design_monitor_no_rate",
        )
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
