"""BOIN-COMB: the BOIN design for two-drug combinations (Lin & Yin 2017).

Doses form a grid: rows are the levels of drug A, columns those of drug B (at most as many rows
as columns, as the reference requires). At the current combination the single-agent BOIN
boundaries decide escalate / stay / de-escalate; the move is then to the admissible neighbour
(one level up or down in one drug) whose data give the largest posterior probability that its
DLT rate lies in ``(lambda_e, lambda_d)`` under a Beta(y + 0.5, n - y + 0.5) posterior, plus
``0.0005 * n`` to favour combinations with more data; ties are broken at random, as
``BOIN::next.comb`` and ``BOIN::get.oc.comb`` do. A combination with ``y`` at or above the
elimination boundary is eliminated together with every combination at least as high in both
drugs. At the end, the MTD is the combination whose bivariate isotonic estimate (weights
``n + 0.1``, the ``Iso::biviso`` problem, solved here by Dykstra's alternating projections) is
closest to the target, with BOIN's ``1e-5 * (row + column)`` tie-break.

``decide`` follows ``next.comb`` (including its rule that blocks an escalation when a tried
combination of the candidate's row or column below it already shows an observed rate at or
above ``lambda_d``); ``simulate`` follows ``get.oc.comb`` (``mtd.contour = FALSE``, no
titration), whose escalation has no such block.

References
----------
Lin R, Yin G (2017). Bayesian optimal interval design for dose finding in drug-combination
trials. Stat Methods Med Res 26(5):2155-2167.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from oncotrials.core.designs.base import Action, check_positive_int
from oncotrials.core.designs.boin import BOIN, boin_lambdas
from oncotrials.core.designs.isotonic import pava_rows, posterior_exceeds
from oncotrials.core.designs.simulate import ProgressCallback, RngLike
from oncotrials.core.errors import ValidationError
from oncotrials.core.lazy import stats

Cell = tuple[int, int]


@dataclass(frozen=True)
class CombDecision:
    """Next combination (0-based ``(row, column)``), or None when the trial stops."""

    action: Action
    current: Cell
    next_dose: Cell | None
    reason: str
    rule: str = ""
    eliminated: tuple[Cell, ...] = ()
    mtd: Cell | None = None


@dataclass(frozen=True, eq=False)
class CombSimulationResult:
    """Operating characteristics of a combination design (arrays shaped like the dose grid)."""

    truth: NDArray[np.float64]
    n_trials: int
    selection: NDArray[np.float64]
    no_selection: float
    early_stop: float
    patients: NDArray[np.float64]
    dlts: NDArray[np.float64]
    total_patients: float
    total_dlts: float
    selected: NDArray[np.int64]  # (n_trials, 2); -1 where none

    @property
    def selection_percent(self) -> NDArray[np.float64]:
        return 100.0 * self.selection

    def summary(self) -> dict[str, Any]:
        return {
            "design": BOINComb.name,
            "truth": self.truth.tolist(),
            "n_trials": self.n_trials,
            "selection_percent": np.round(self.selection_percent, 4).tolist(),
            "no_selection_percent": round(100 * self.no_selection, 4),
            "early_stop_percent": round(100 * self.early_stop, 4),
            "patients": np.round(self.patients, 4).tolist(),
            "dlts": np.round(self.dlts, 4).tolist(),
            "total_patients": round(self.total_patients, 4),
            "total_dlts": round(self.total_dlts, 4),
        }


def bivariate_isotonic(
    x: NDArray[np.float64], w: NDArray[np.float64], *, tol: float = 1e-10, max_iter: int = 20_000
) -> NDArray[np.float64]:
    """Weighted least-squares fit non-decreasing along rows and columns, for each (T, I, J) grid.

    Dykstra's alternating projections (row-wise then column-wise weighted PAVA, with correction
    terms) converge to the unique bivariate isotonic regression, the problem ``Iso::biviso``
    solves; each grid stops iterating once it moves by less than ``tol``.
    """
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    t_count, ni, nj = x.shape
    out = x.copy()
    p = np.zeros_like(x)
    q = np.zeros_like(x)
    idx = np.arange(t_count)
    for _ in range(max_iter):
        if idx.size == 0:
            break
        m = idx.size
        cur, pp, qq, ww = out[idx], p[idx], q[idx], w[idx]
        a = cur + pp
        yr = pava_rows(a.reshape(m * ni, nj), ww.reshape(m * ni, nj), np.full(m * ni, nj))
        yr = yr.reshape(m, ni, nj)
        pp = a - yr
        b = yr + qq
        bt = b.transpose(0, 2, 1).reshape(m * nj, ni)
        wt = ww.transpose(0, 2, 1).reshape(m * nj, ni)
        new = pava_rows(bt, wt, np.full(m * nj, ni)).reshape(m, nj, ni).transpose(0, 2, 1)
        qq = b - new
        change = np.abs(new - cur).max(axis=(1, 2))
        rows_ok = (np.diff(new, axis=2) >= -tol).all(axis=(1, 2))
        out[idx], p[idx], q[idx] = new, pp, qq
        idx = idx[~((change < tol) & rows_ok)]
    return out


class BOINComb:
    """BOIN for drug combinations (``BOIN::next.comb``, ``get.oc.comb``, ``select.mtd.comb``).

    Parameters are those of :class:`~oncotrials.core.designs.boin.BOIN`; the dose grid comes
    with the data (``n`` and ``y`` matrices, rows = drug A levels, columns = drug B levels).
    """

    name: ClassVar[str] = "boin-comb"
    label: ClassVar[str] = "BOIN for drug combinations"
    aliases: ClassVar[tuple[str, ...]] = ("boincomb",)

    def __init__(
        self,
        target: float = 0.3,
        *,
        cohort_size: int = 3,
        n_cohorts: int = 20,
        n_earlystop: int = 100,
        p_saf: float | None = None,
        p_tox: float | None = None,
        cutoff_eli: float = 0.95,
        extrasafe: bool = False,
        offset: float = 0.05,
        bound_mtd: bool = False,
    ) -> None:
        self.target = target
        self.cohort_size = cohort_size
        self.n_cohorts = n_cohorts
        self.n_earlystop = n_earlystop
        self.p_saf = p_saf
        self.p_tox = p_tox
        self.cutoff_eli = cutoff_eli
        self.extrasafe = extrasafe
        self.offset = offset
        self.bound_mtd = bound_mtd

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"BOINComb({params})"

    def get_params(self) -> dict[str, Any]:
        return dict(vars(self))

    def _boin(self) -> BOIN:
        b = BOIN(
            self.target,
            cohort_size=self.cohort_size,
            n_cohorts=self.n_cohorts,
            n_earlystop=self.n_earlystop,
            p_saf=self.p_saf,
            p_tox=self.p_tox,
            cutoff_eli=self.cutoff_eli,
            extrasafe=self.extrasafe,
            offset=self.offset,
        )
        b._validate()
        return b

    def _bounds(self, max_n: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        table = self._boin().decision_table(max_n)  # cached per parameters
        b_e, b_d, elim = table.escalate, table.deescalate, table.eliminate
        sentinel = max_n + 1
        return (
            np.array(b_e, dtype=np.int64),
            np.array([0 if v is None else v for v in b_d], dtype=np.int64),
            np.array([sentinel if e is None else e for e in elim], dtype=np.int64),
        )

    def _score_table(self, max_n: int) -> NDArray[np.float64]:
        lam_e, lam_d = boin_lambdas(*self._boin()._probs())
        nn = np.arange(max_n + 1)[:, None]
        yy = np.arange(max_n + 1)[None, :]
        ok = yy <= nn
        a = np.where(ok, yy + 0.5, 1.0)
        b = np.where(ok, nn - yy + 0.5, 1.0)
        s = stats.beta.cdf(lam_d, a, b) - stats.beta.cdf(lam_e, a, b)
        return np.where(ok, s + nn * 5e-4, 0.0)

    @staticmethod
    def _matrices(
        n: Sequence[Sequence[int]] | NDArray[np.int64],
        y: Sequence[Sequence[int]] | NDArray[np.int64],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        nn = np.asarray(n)
        yy = np.asarray(y)
        if nn.ndim != 2 or nn.shape != yy.shape or nn.size == 0:
            raise ValidationError(
                f"n and y must be matrices of the same shape (rows = drug A levels, columns = "
                f"drug B levels); got shapes {nn.shape} and {yy.shape}.",
                code="design_comb_shapes",
                n_shape=nn.shape,
                y_shape=yy.shape,
            )
        if nn.shape[0] > nn.shape[1]:
            raise ValidationError(
                f"Arrange the grid with no more rows than columns (transpose it); got "
                f"{nn.shape[0]} rows and {nn.shape[1]} columns.",
                code="design_comb_rows",
                ni=nn.shape[0],
                nj=nn.shape[1],
            )
        bad = np.argwhere((nn < 0) | (yy < 0) | (yy > nn))
        if bad.size:
            i, j = (int(v) for v in bad[0])
            raise ValidationError(
                f"Combination ({i + 1}, {j + 1}): need 0 <= DLTs <= treated; got "
                f"{int(yy[i, j])} DLTs among {int(nn[i, j])}.",
                code="design_comb_counts",
                row=i + 1,
                column=j + 1,
                dlts=int(yy[i, j]),
                treated=int(nn[i, j]),
            )
        return nn.astype(np.int64), yy.astype(np.int64)

    # --- live decision -----------------------------------------------------------------------

    def decide(
        self,
        n: Sequence[Sequence[int]] | NDArray[np.int64],
        y: Sequence[Sequence[int]] | NDArray[np.int64],
        current: Cell,
        *,
        rng: RngLike = None,
    ) -> CombDecision:
        """Next combination after the data ``n``, ``y`` at the current combination (0-based).

        Ties between candidate combinations are broken at random (``rng``), as in the reference.
        """
        nn, yy = self._matrices(n, y)
        ni, nj = nn.shape
        a, b = current
        if not (0 <= a < ni and 0 <= b < nj):
            raise ValidationError(
                f"current combination {current} is outside the {ni} x {nj} dose grid.",
                code="design_comb_current",
                current=current,
                ni=ni,
                nj=nj,
            )
        cur = (int(a), int(b))
        nc = int(nn[a, b])
        if nc == 0:
            raise ValidationError(
                f"No patient has been treated at the current combination {cur}; the reference "
                "next.comb requires data at the current dose.",
                code="design_comb_untreated",
                cur=cur,
            )
        max_n = max(int(nn.max()), self.cohort_size * self.n_cohorts)
        b_e, b_d, b_elim = self._bounds(max_n)
        lam_e, lam_d = boin_lambdas(*self._boin()._probs())
        elim = np.zeros_like(nn, dtype=bool)
        for i in range(ni):
            for j in range(nj):
                if nn[i, j] > 0 and yy[i, j] >= b_elim[nn[i, j]]:
                    elim[i:, j:] = True
        el = tuple((int(i), int(j)) for i, j in np.argwhere(elim))
        yc = int(yy[a, b])
        rule = f"n={nc}: escalate if DLTs <= {b_e[nc]}, de-escalate if >= {b_d[nc]}; observed {yc}"
        if nc >= self.n_earlystop:
            return CombDecision(
                Action.STOP,
                cur,
                None,
                f"{nc} patients at {cur} reach n_earlystop; stop the trial.",
                rule=rule,
                eliminated=el,
            )
        if cur == (0, 0) and yc >= b_elim[nc]:
            return CombDecision(
                Action.STOP,
                cur,
                None,
                "The lowest combination is overly toxic; stop, no MTD.",
                rule=rule,
                eliminated=el,
            )
        extra = self.cutoff_eli - self.offset
        if (
            self.extrasafe
            and cur == (0, 0)
            and nc >= 3
            and b_elim[nc] <= nc
            and posterior_exceeds(float(self.target), nn[0, 0], yy[0, 0]) > extra
        ):
            return CombDecision(
                Action.STOP,
                cur,
                None,
                "The lowest combination is overly toxic (extra-safe rule); stop, no MTD.",
                rule=rule,
                eliminated=el,
            )
        gen = np.random.default_rng(rng)
        phat = yy / np.where(nn == 0, 1, nn)
        if yc <= b_e[nc]:
            moves = [(1, 0), (0, 1)]
            scores = [0.0, 0.0]
            for k, (da, db) in enumerate(moves):
                ta, tb = a + da, b + db
                if ta < ni and tb < nj and not elim[ta, tb]:
                    if k == 0 and np.any(phat[ta, : b + 1] >= lam_d):
                        continue
                    if k == 1 and np.any(phat[: a + 1, tb] >= lam_d):
                        continue
                    scores[k] = self._cell_score(int(nn[ta, tb]), int(yy[ta, tb]), lam_e, lam_d)
            action = Action.ESCALATE
        elif yc >= b_d[nc]:
            moves = [(-1, 0), (0, -1)]
            scores = [0.0, 0.0]
            for k, (da, db) in enumerate(moves):
                ta, tb = a + da, b + db
                if ta >= 0 and tb >= 0:
                    scores[k] = self._cell_score(int(nn[ta, tb]), int(yy[ta, tb]), lam_e, lam_d)
            action = Action.DE_ESCALATE
        else:
            return CombDecision(
                Action.STAY, cur, cur, f"{yc}/{nc} DLTs at {cur}: stay.", rule=rule, eliminated=el
            )
        best = max(scores)
        if best == 0:
            return CombDecision(
                Action.STAY,
                cur,
                cur,
                f"{yc}/{nc} DLTs at {cur}: no admissible neighbour; stay.",
                rule=rule,
                eliminated=el,
            )
        ties = [k for k, s in enumerate(scores) if s == best]
        k = ties[int(gen.random() * len(ties))]
        nxt = (a + moves[k][0], b + moves[k][1])
        if action is Action.DE_ESCALATE and cur in el:
            action = Action.ELIMINATE
        note = " (tie broken at random)" if len(ties) > 1 else ""
        return CombDecision(
            action,
            cur,
            (int(nxt[0]), int(nxt[1])),
            f"{yc}/{nc} DLTs at {cur}: {action.value} to {nxt}{note}.",
            rule=rule,
            eliminated=el,
        )

    @staticmethod
    def _cell_score(n: int, y: int, lam_e: float, lam_d: float) -> float:
        a, b = y + 0.5, n - y + 0.5
        return float(stats.beta.cdf(lam_d, a, b) - stats.beta.cdf(lam_e, a, b)) + n * 5e-4

    # --- MTD selection -------------------------------------------------------------------------

    def _select(
        self, n: NDArray[np.int64], y: NDArray[np.int64], *, round_estimates: bool
    ) -> NDArray[np.int64]:
        """Vectorised ``select.mtd.comb`` over trials: n, y of shape (T, I, J) -> (T, 2)."""
        t_count, ni, nj = n.shape
        target = float(self.target)
        hit = (n >= 3) & (posterior_exceeds(target, n, y) > self.cutoff_eli)
        elim = np.zeros_like(hit)
        # per row, the first hit j eliminates (i:, j) and (i, j:)
        first = np.where(hit.any(axis=2), hit.argmax(axis=2), nj)  # (T, I)
        cols = np.arange(nj)
        rows = np.arange(ni)
        for i in range(ni):
            fj = first[:, i]
            has = fj < nj
            elim[:, i, :] |= has[:, None] & (cols[None, :] >= fj[:, None])
            col_mask = has[:, None] & (cols[None, :] == fj[:, None])  # (T, J)
            elim |= col_mask[:, None, :] & (rows[None, :, None] >= i)
        if self.extrasafe:
            es = (n[:, 0, 0] >= 3) & (
                posterior_exceeds(target, n[:, 0, 0], y[:, 0, 0]) > self.cutoff_eli - self.offset
            )
            elim |= es[:, None, None]
        phat = (y + 0.05) / (n + 0.1)
        iso = bivariate_isotonic(phat, (n + 0.1).astype(np.float64))
        if round_estimates:
            iso = np.round(iso, 2)
        iso = np.where(elim, 1.1, iso)
        tie = 1e-5 * ((rows + 1)[:, None] + (cols + 1)[None, :])
        iso = iso * (n != 0) + tie[None, :, :]
        none = elim[:, 0, 0].copy()
        if self.bound_mtd:
            lam_d = boin_lambdas(*self._boin()._probs())[1]
            tried = n != 0
            all_over = np.all(np.where(tried, iso >= lam_d, True), axis=(1, 2))
            none |= all_over
            iso = np.where(iso >= lam_d, 10.0, iso)
        iso = np.where(n == 0, 10.0, iso)
        dist = np.abs(iso - target)
        # R's which(..., arr.ind = TRUE)[1, ] scans column-major: first column, then row.
        flat = dist.transpose(0, 2, 1).reshape(t_count, ni * nj)
        k = flat.argmin(axis=1)
        col, row = np.divmod(k, ni)
        out = np.stack([row, col], axis=1).astype(np.int64)
        return np.where(none[:, None], -1, out)

    def select_mtd(
        self,
        n: Sequence[Sequence[int]] | NDArray[np.int64],
        y: Sequence[Sequence[int]] | NDArray[np.int64],
    ) -> Cell | None:
        """The MTD combination (0-based), as ``BOIN::select.mtd.comb`` (estimates rounded to
        2 decimals before the choice, as that function does); None when none is selected."""
        self._boin()
        nn, yy = self._matrices(n, y)
        out = self._select(nn[None], yy[None], round_estimates=True)[0]
        return None if out[0] < 0 else (int(out[0]), int(out[1]))

    # --- simulation ----------------------------------------------------------------------------

    def simulate(
        self,
        truth: Sequence[Sequence[float]] | NDArray[np.float64],
        *,
        n_trials: int = 10_000,
        rng: RngLike = None,
        start_dose: Cell = (0, 0),
        progress: ProgressCallback | None = None,
    ) -> CombSimulationResult:
        """Operating characteristics (``BOIN::get.oc.comb``), vectorised over trials."""
        self._boin()
        p = np.asarray(truth, dtype=np.float64)
        if p.ndim != 2 or p.size == 0:
            raise ValidationError(
                f"truth must be a matrix of DLT probabilities (rows = drug A levels); got "
                f"shape {p.shape}.",
                code="design_comb_truth_shape",
                shape=p.shape,
            )
        if np.any((p < 0) | (p > 1)):
            i, j = (int(v) for v in np.argwhere((p < 0) | (p > 1))[0])
            raise ValidationError(
                f"truth[{i}][{j}] must be a probability in [0, 1]; got {float(p[i, j])!r}.",
                code="design_comb_truth_probability",
                i=i,
                j=j,
                value=repr(float(p[i, j])),
            )
        if np.any(np.diff(p, axis=0) < 0) or np.any(np.diff(p, axis=1) < 0):
            raise ValidationError(
                "truth must be non-decreasing along every row and column (toxicity increases "
                "with the dose of either drug).",
                code="design_comb_truth_decreasing",
            )
        ni, nj = p.shape
        if ni > nj:
            raise ValidationError(
                f"Arrange the grid with no more rows than columns (transpose it); got {ni} rows "
                f"and {nj} columns.",
                code="design_comb_rows",
                ni=ni,
                nj=nj,
            )
        check_positive_int("n_trials", n_trials)
        gen = np.random.default_rng(rng)
        cs = self.cohort_size
        max_n = cs * self.n_cohorts
        b_e, b_d, b_elim = self._bounds(max_n)
        score = self._score_table(max_n)
        t_idx = np.arange(n_trials)
        n = np.zeros((n_trials, ni, nj), dtype=np.int64)
        y = np.zeros_like(n)
        elim = np.zeros((n_trials, ni, nj), dtype=bool)
        a = np.full(n_trials, start_dose[0], dtype=np.int64)
        b = np.full(n_trials, start_dose[1], dtype=np.int64)
        active = np.ones(n_trials, dtype=bool)
        toxic = np.zeros(n_trials, dtype=bool)
        rows = np.arange(ni)
        cols = np.arange(nj)
        for step in range(self.n_cohorts):
            draws = (gen.random((n_trials, cs)) < p[a, b][:, None]).sum(axis=1)
            u = gen.random(n_trials)
            add = np.where(active, cs, 0)
            n[t_idx, a, b] += add
            y[t_idx, a, b] += np.where(active, draws, 0)
            nc = n[t_idx, a, b]
            yc = y[t_idx, a, b]
            has = b_elim[nc] <= nc
            hit = active & has & (yc >= b_elim[nc])
            elim |= (
                hit[:, None, None]
                & (rows[None, :, None] >= a[:, None, None])
                & (cols[None, None, :] >= b[:, None, None])
            )
            stop = hit & (a == 0) & (b == 0)
            if self.extrasafe:
                es = posterior_exceeds(float(self.target), n[:, 0, 0], y[:, 0, 0]) > (
                    self.cutoff_eli - self.offset
                )
                stop |= active & has & (a == 0) & (b == 0) & (nc >= 3) & es
            toxic |= stop
            active &= ~stop
            # n.earlystop as get.oc.comb: stop when the design would not move up and not down
            top = (a == ni - 1) & (b == nj - 1)
            up_a_el = elim[t_idx, np.minimum(a + 1, ni - 1), b] | (a == ni - 1)
            up_b_el = elim[t_idx, a, np.minimum(b + 1, nj - 1)] | (b == nj - 1)
            cannot_up = (yc > b_e[nc]) | top | (up_a_el & up_b_el)
            not_down = (yc < b_d[nc]) | ((a == 0) & (b == 0))
            active &= ~((nc >= self.n_earlystop) & cannot_up & not_down)
            up = yc <= b_e[nc]
            down = ~up & (yc >= b_d[nc])
            # candidate 0: (a+1, b) or (a-1, b); candidate 1: (a, b+1) or (a, b-1)
            ca = np.where(up, a + 1, a - 1)
            cb = np.where(up, b + 1, b - 1)
            ok0 = np.where(up, ca < ni, ca >= 0)
            ok1 = np.where(up, cb < nj, cb >= 0)
            ca_c = np.clip(ca, 0, ni - 1)
            cb_c = np.clip(cb, 0, nj - 1)
            ok0 &= ~np.where(up, elim[t_idx, ca_c, b], False)
            ok1 &= ~np.where(up, elim[t_idx, a, cb_c], False)
            s0 = np.where(ok0, score[n[t_idx, ca_c, b], y[t_idx, ca_c, b]], 0.0)
            s1 = np.where(ok1, score[n[t_idx, a, cb_c], y[t_idx, a, cb_c]], 0.0)
            best = np.maximum(s0, s1)
            tie = s0 == s1
            pick1 = np.where(tie, u >= 0.5, s1 > s0)
            move = active & (up | down) & (best > 0)
            a = np.where(move & ~pick1, ca_c, a)
            b = np.where(move & pick1, cb_c, b)
            if progress is not None:
                progress(step + 1, self.n_cohorts)
            if not active.any():
                break
        if progress is not None:
            progress(self.n_cohorts, self.n_cohorts)
        sel = self._select(n, y, round_estimates=False)
        sel = np.where(toxic[:, None], -1, sel)
        counts = np.zeros((ni, nj))
        ok = sel[:, 0] >= 0
        np.add.at(counts, (sel[ok, 0], sel[ok, 1]), 1.0)
        return CombSimulationResult(
            truth=p,
            n_trials=n_trials,
            selection=counts / n_trials,
            no_selection=float(np.mean(~ok)),
            early_stop=float(np.mean(toxic)),
            patients=n.mean(axis=0),
            dlts=y.mean(axis=0),
            total_patients=float(n.sum(axis=(1, 2)).mean()),
            total_dlts=float(y.sum(axis=(1, 2)).mean()),
            selected=sel,
        )


__all__ = ["BOINComb", "CombDecision", "CombSimulationResult", "bivariate_isotonic"]
