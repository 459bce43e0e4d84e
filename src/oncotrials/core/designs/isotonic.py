"""Isotonic MTD selection shared by BOIN, Keyboard, mTPI-2 and i3+3, vectorised over trials.

The reference packages (``BOIN::select.mtd``, ``Keyboard::select.mtd.kb``, FIND's ``select_mtd``)
all select the MTD the same way: doses with patients and not eliminated by the Bayesian safety
rule are kept; their DLT rates are estimated by ``(y + 0.05) / (n + 0.1)`` (a Beta(0.05, 0.05)
posterior mean), smoothed by a weighted pool-adjacent-violators algorithm (weights = 1 / posterior
variance), nudged by ``k * 1e-10`` to break ties (toward the higher dose below the target, the
lower dose above it) and the dose closest to the target wins. Everything here works on arrays of
shape ``(n_trials, n_doses)`` so that a simulation selects all its trials at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

#: Added to pooled estimates at positions 1..k, exactly as the reference code does.
TIE_OFFSET = 1e-10


_EXCEED_TABLES: dict[float, NDArray[np.float64]] = {}


def _exceed_table(target: float, size: int) -> NDArray[np.float64]:
    """``table[n, y] = P(p > target | y of n)`` for ``n < size`` (and ``y <= n``).

    With a Beta(1, 1) prior the posterior is Beta(y + 1, n - y + 1), whose upper tail at
    ``target`` equals P(Binomial(n + 1, target) <= y). The binomial probabilities are built
    row by row with Pascal's rule (sums of positive terms, no cancellation), so SciPy is not
    needed and the table is read by indexing in the simulations.
    """
    table = _EXCEED_TABLES.get(target)
    if table is not None and table.shape[0] >= size:
        return table
    m = max(size, 64, 0 if table is None else 2 * table.shape[0])
    out = np.zeros((m, m), dtype=np.float64)
    row = np.ones(1, dtype=np.float64)
    for trials in range(1, m + 1):  # Binomial(trials, target), trials = n + 1
        nxt = np.zeros(trials + 1, dtype=np.float64)
        nxt[:-1] += row * (1.0 - target)
        nxt[1:] += row * target
        row = nxt
        out[trials - 1, :trials] = np.minimum(np.cumsum(row[:trials]), 1.0)
    _EXCEED_TABLES[target] = out
    return out


def posterior_exceeds(target: float, n: Any, y: Any) -> Any:
    """P(p > target | y DLTs of n) under a Beta(1, 1) prior, elementwise (arrays or scalars)."""
    n_arr = np.asarray(n, dtype=np.intp)
    y_arr = np.asarray(y, dtype=np.intp)
    if n_arr.size == 0:
        return np.zeros(np.broadcast(n_arr, y_arr).shape, dtype=np.float64)
    if (y_arr < 0).any() or (y_arr > n_arr).any():
        raise ValueError("posterior_exceeds needs 0 <= y <= n")
    table = _exceed_table(float(target), int(n_arr.max()) + 1)
    return table[n_arr, y_arr]


def elimination_mask(
    n: NDArray[np.int64],
    y: NDArray[np.int64],
    *,
    target: float,
    cutoff: float,
    min_n: int = 3,
    extrasafe_cutoff: float | None = None,
) -> NDArray[np.bool_]:
    """Doses eliminated by the safety rule, per trial (rows) and dose (columns).

    The first dose with ``n >= min_n`` and ``P(p > target | data) > cutoff`` is eliminated
    together with every higher dose. With ``extrasafe_cutoff`` the lowest dose (and so every
    dose) is also eliminated when ``n >= 3`` and the posterior exceeds that smaller cutoff.
    """
    n2 = np.atleast_2d(n)
    y2 = np.atleast_2d(y)
    hit = (n2 >= min_n) & (posterior_exceeds(target, n2, y2) > cutoff)
    elim = np.logical_or.accumulate(hit, axis=1)
    if extrasafe_cutoff is not None:
        first = (n2[:, 0] >= 3) & (posterior_exceeds(target, n2[:, 0], y2[:, 0]) > extrasafe_cutoff)
        elim |= first[:, None]
    return elim


def pava_rows(
    x: NDArray[np.float64], w: NDArray[np.float64], length: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Weighted pool-adjacent-violators on the first ``length[t]`` entries of each row ``t``.

    Follows the reference ``pava``: repeatedly pool the level sets of the first adjacent pair
    that decreases. Entries past ``length[t]`` are ignored and returned unchanged.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    t_count, k = x.shape
    if k <= 1:
        return x
    pos = np.arange(k)
    valid = pos[None, :] < length[:, None]
    level = np.broadcast_to(pos, (t_count, k)).copy()
    wv = np.where(valid, w, 0.0)
    for _ in range(k - 1):
        viol = (np.diff(x, axis=1) < 0) & valid[:, 1:]
        has = viol.any(axis=1)
        if not has.any():
            break
        rows = np.flatnonzero(has)
        i = viol[rows].argmax(axis=1)
        lv1 = level[rows, i]
        lv2 = level[rows, i + 1]
        sub_level = level[rows]
        members = (sub_level == lv1[:, None]) | (sub_level == lv2[:, None])
        sub_x = x[rows]
        sub_w = wv[rows]
        pooled = (sub_x * sub_w * members).sum(axis=1) / (sub_w * members).sum(axis=1)
        x[rows] = np.where(members, pooled[:, None], sub_x)
        level[rows] = np.where(members, lv1[:, None], sub_level)
    return x


def beta_estimates(
    n: NDArray[np.int64], y: NDArray[np.int64], prior: float = 0.05
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Posterior mean and variance of the DLT rate under a Beta(prior, prior) prior.

    The reference code uses 0.05 (BOIN, Keyboard, FIND) and 0.005 (TITE-BOIN in TITEgBOIN).
    """
    a = y + prior
    b = n - y + prior
    nn = n + 2 * prior
    return a / nn, a * b / (nn**2 * (nn + 1.0))


def isotonic_select(
    n: NDArray[np.int64],
    y: NDArray[np.int64],
    eliminated: NDArray[np.bool_],
    *,
    target: float,
    upper_bound: float | None = None,
    prior: float = 0.05,
) -> NDArray[np.int64]:
    """Select the MTD of every trial; -1 where no dose is selected.

    ``upper_bound`` (BOIN's ``boundMTD``) restricts the choice to doses whose isotonic estimate
    does not exceed it.
    """
    n2 = np.atleast_2d(np.asarray(n, dtype=np.int64))
    y2 = np.atleast_2d(np.asarray(y, dtype=np.int64))
    el = np.atleast_2d(np.asarray(eliminated, dtype=bool))
    t_count, k = n2.shape
    adm = (n2 > 0) & ~el
    length = adm.sum(axis=1)
    # Stable sort brings the admissible doses first, in dose order.
    order = np.argsort(~adm, axis=1, kind="stable")
    rows = np.arange(t_count)[:, None]
    n_c = n2[rows, order]
    y_c = y2[rows, order]
    phat, var = beta_estimates(n_c, y_c, prior)
    valid = np.arange(k)[None, :] < length[:, None]
    safe_var = np.where(valid, var, 1.0)
    iso = pava_rows(np.where(valid, phat, 0.0), 1.0 / safe_var, length)
    iso = iso + np.arange(1, k + 1) * TIE_OFFSET
    dist = np.where(valid, np.abs(iso - target), np.inf)
    if upper_bound is not None:
        dist = np.where(iso <= upper_bound, dist, np.inf)
    pick = dist.argmin(axis=1)
    chosen = order[np.arange(t_count), pick]
    none = (length == 0) | el[:, 0] | ~np.isfinite(dist[np.arange(t_count), pick])
    return np.where(none, -1, chosen).astype(np.int64)
