"""Simon two-stage and single-stage exact designs (clinfun::ph2simon / ph2single semantics)."""

from __future__ import annotations

import csv
import hashlib
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from oncotrials.core.designs import phase2
from oncotrials.core.designs.phase2 import (
    oc_two_stage,
    simon_two_stage,
    single_stage,
)
from oncotrials.core.errors import ValidationError

# Simon R. Optimal two-stage designs for phase II clinical trials. Control Clin Trials
# 1989;10:1-10, Table 1: (r1/n1, r/n, EN(p0), PET(p0)) for the optimal and minimax designs,
# which clinfun::ph2simon(pu, pa, ep1, ep2) reproduces.
SIMON_1989 = [
    # (p0, p1, alpha, beta), optimal, minimax
    ((0.05, 0.25, 0.05, 0.20), (0, 9, 2, 17, 12.0, 0.63), (0, 12, 2, 16, 13.8, 0.54)),
    ((0.05, 0.25, 0.10, 0.10), (0, 9, 2, 24, 14.5, 0.63), (0, 13, 2, 20, 16.4, 0.51)),
    ((0.10, 0.30, 0.05, 0.20), (1, 10, 5, 29, 15.0, 0.74), (1, 15, 5, 25, 19.5, 0.55)),
    ((0.20, 0.40, 0.10, 0.10), (3, 17, 10, 37, 26.0, 0.55), (3, 19, 10, 36, 28.3, 0.46)),
    ((0.20, 0.40, 0.05, 0.10), (4, 19, 15, 54, 30.4, 0.67), (5, 24, 13, 45, 31.2, 0.66)),
    ((0.30, 0.50, 0.05, 0.20), (5, 15, 18, 46, 23.6, 0.72), (6, 19, 16, 39, 25.7, 0.67)),
    ((0.40, 0.60, 0.10, 0.10), (7, 18, 22, 46, 30.2, 0.56), (11, 28, 20, 41, 33.8, 0.55)),
]


@pytest.mark.parametrize(("args", "optimal", "minimax"), SIMON_1989)
def test_simon_1989_table_1(
    args: tuple[float, float, float, float],
    optimal: tuple[int, int, int, int, float, float],
    minimax: tuple[int, int, int, int, float, float],
) -> None:
    res = simon_two_stage(*args)
    for got, want in ((res.optimal, optimal), (res.minimax, minimax)):
        assert (got.r1, got.n1, got.r, got.n) == want[:4]
        assert got.en0 == pytest.approx(want[4], abs=0.05)
        assert got.pet0 == pytest.approx(want[5], abs=0.005)
        assert got.alpha < args[2]
        assert got.power > 1 - args[3]


def test_exact_operating_characteristics_to_floating_point() -> None:
    # IDDI-BE/PhIIdesign inst/tinytest/test-simon2stage.R, simon2stage(p0=0.1, pa=0.3,
    # alpha=0.05, beta=0.2): exact EN(p0), PET(p0), alpha and beta of designs that
    # ph2simon(0.1, 0.3, 0.05, 0.2) also returns (optimal 1/10, 5/29 and two admissible ones).
    res = simon_two_stage(0.1, 0.3, 0.05, 0.2)
    opt = res.optimal
    assert opt.en0 == pytest.approx(15.0141203471, abs=1e-9)
    assert opt.pet0 == pytest.approx(0.7360989291, abs=1e-9)
    assert opt.alpha == pytest.approx(0.0470863066438917, abs=1e-14)
    assert 1 - opt.power == pytest.approx(0.194937086849675, abs=1e-14)
    by_n = {d.n: d for d in res.table}
    assert (by_n[26].r1, by_n[26].n1, by_n[26].r) == (1, 12, 5)
    assert by_n[26].en0 == pytest.approx(16.773968474954, abs=1e-9)
    assert (by_n[27].r1, by_n[27].n1, by_n[27].r) == (1, 11, 5)
    assert by_n[27].en0 == pytest.approx(15.8422899168, abs=1e-9)


def test_admissible_designs_and_weights() -> None:
    # clinfun::twostage.admissible: minimax, admissible designs on the lower convex hull of
    # (n, EN), optimal; qLo/qHi are the weight ranges (rounded to 3 dp) where each is best.
    res = simon_two_stage(0.1, 0.3, 0.05, 0.2)
    kinds = [d.kind for d in res.admissible]
    assert kinds[0] == "minimax"
    assert kinds[-1] == "optimal"
    assert [d.n for d in res.admissible] == [25, 26, 27, 29]
    assert res.admissible[0].q_high == 1.0
    assert res.admissible[-1].q_low == 0.0
    for a, b in zip(res.admissible, res.admissible[1:], strict=False):
        assert a.q_low == b.q_high
        q = (b.en0 - a.en0) / ((b.en0 - a.en0) - (b.n - a.n))
        assert a.q_low == pytest.approx(round(q, 3), abs=1e-12)
        # at weight q both designs have the same expected loss q*n + (1-q)*EN
        assert q * a.n + (1 - q) * a.en0 == pytest.approx(q * b.n + (1 - q) * b.en0)


def _brute_force(p0: float, p1: float, alpha: float, beta: float, nmax: int) -> dict[int, tuple]:
    """Direct transcription of the search: every n, n1 ascending, r1 and r descending, strict."""
    m = np.arange(nmax + 1)[:, None]
    k = np.arange(nmax + 1)[None, :]
    pmf = {p: stats.binom.pmf(k, m, p) for p in (p0, p1)}
    sf = {p: stats.binom.sf(k, m, p) for p in (p0, p1)}  # sf[m, k] = P(Bin(m) > k)

    def reject(p: float, r1: int, n1: int, r: int, n2: int) -> float:
        total = 0.0
        for x1 in range(r1 + 1, n1 + 1):
            total += pmf[p][n1, x1] * (1.0 if r - x1 < 0 else sf[p][n2, r - x1])
        return total

    out = {}
    for n in range(2, nmax + 1):
        best = float(n)
        choice = None
        for n1 in range(1, n):
            n2 = n - n1
            for r1 in range(n1 - 1, -1, -1):
                pet = float(np.sum(pmf[p0][n1, : r1 + 1]))
                en = n1 + (1 - pet) * n2
                for r in range(r1 + n2, r1 - 1, -1):
                    if (
                        reject(p0, r1, n1, r, n2) < alpha
                        and 1 - reject(p1, r1, n1, r, n2) < beta
                        and en < best - 1e-12
                    ):
                        best, choice = en, (r1, n1, r, n)
        if choice is not None:
            out[n] = (*choice, best)
    return out


# Search paths: by default most n are settled in the rounds that check every n's best candidate
# together; no rounds sends every n through the ordered chunks (one candidate at a time with
# chunks of one); a budget of one term splits every check into single candidates; a block budget
# of one searches each n alone; many rounds with no floor settle every n in the rounds.
SEARCH_PATHS = {
    "default": {},
    "chunks-only": {"_ROUNDS": 0, "_FIRST_CHUNK": 1},
    "split-checks": {"_CHECK_TERMS": 1},
    "one-n-per-block": {"_BLOCK_TERMS": 1},
    "rounds-only": {"_ROUNDS": 1000, "_MIN_OPEN": 1},
}


@pytest.mark.parametrize(
    "args", [(0.1, 0.4, 0.1, 0.2), (0.3, 0.6, 0.05, 0.2), (0.3, 0.6, 0.1, 0.1)]
)
@pytest.mark.parametrize("path", sorted(SEARCH_PATHS))
def test_vectorised_search_equals_brute_force(
    args: tuple[float, float, float, float],
    path: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in SEARCH_PATHS[path].items():
        monkeypatch.setattr(phase2, name, value)
    res = simon_two_stage(*args, nmax=24)
    brute = _brute_force(*args, nmax=24)
    assert sorted(brute) == [d.n for d in res.table]
    for d in res.table:
        r1, n1, r, _n, en = brute[d.n]
        assert (d.r1, d.n1, d.r) == (r1, n1, r)
        assert d.en0 == pytest.approx(en, rel=1e-12)


def test_random_settings_equal_brute_force() -> None:
    # Settings drawn at random (fixed seed) over the whole range of rates and error bounds.
    rng = np.random.default_rng(20261207)
    checked = 0
    while checked < 12:
        p0 = float(rng.uniform(0.02, 0.8))
        p1 = float(min(p0 + rng.uniform(0.15, 0.45), 0.98))
        alpha, beta = float(rng.uniform(0.02, 0.2)), float(rng.uniform(0.05, 0.3))
        brute = _brute_force(p0, p1, alpha, beta, nmax=18)
        if not brute:
            with pytest.raises(ValidationError):
                simon_two_stage(p0, p1, alpha, beta, nmax=18)
            continue
        res = simon_two_stage(p0, p1, alpha, beta, nmax=18)
        assert [(d.r1, d.n1, d.r, d.n) for d in res.table] == [brute[n][:4] for n in sorted(brute)]
        for d in res.table:
            assert d.en0 == pytest.approx(brute[d.n][4], rel=1e-12)
        checked += 1


def _regression_rows() -> list[dict[str, str]]:
    with (Path(__file__).parent / "reference" / "simon_search_regression.csv").open() as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize(
    "row",
    _regression_rows(),
    ids=lambda r: "-".join(r[k] for k in ("p0", "p1", "alpha", "beta", "nmax")),
)
def test_search_equals_the_per_n_search(row: dict[str, str]) -> None:
    # reference/simon_search_regression.csv: the designs of the per-n search this one replaced
    # (every n's minimal-EN design found one n at a time; itself equal to clinfun 1.1.5 in the
    # settings of clinfun_phase2_simon.csv): the same optimal and minimax designs with EN(p0)
    # and PET(p0) to 1e-12, and the same design for every n (digest of the r1/n1/r/n rows).
    args = tuple(float(row[k]) for k in ("p0", "p1", "alpha", "beta"))
    res = simon_two_stage(*args, nmax=int(row["nmax"]))
    for design, key in ((res.optimal, "opt"), (res.minimax, "mm")):
        assert (design.r1, design.n1, design.r, design.n) == tuple(
            int(row[f"{key}_{f}"]) for f in ("r1", "n1", "r", "n")
        )
        assert design.en0 == pytest.approx(float(row[f"{key}_en0"]), abs=1e-12)
        assert design.pet0 == pytest.approx(float(row[f"{key}_pet0"]), abs=1e-12)
    assert len(res.table) == int(row["rows"])
    table = ";".join(f"{d.r1}/{d.n1}/{d.r}/{d.n}" for d in res.table)
    assert hashlib.sha256(table.encode()).hexdigest()[:16] == row["table_sha256"]


def test_oc_two_stage_matches_search() -> None:
    # clinfun::oc.twostage.bdry(pu, pa, r1, n1, r, n) quantities for the optimal design
    rej, pet, en = oc_two_stage(1, 10, 5, 29, 0.1)
    assert rej == pytest.approx(0.0470863066438917, abs=1e-14)
    assert pet == pytest.approx(0.7360989291, abs=1e-9)
    assert en == pytest.approx(15.0141203471, abs=1e-9)


def test_nmax_too_small_is_explained() -> None:
    with pytest.raises(ValidationError, match=r"No two-stage design with n <= 10 .* increase nmax"):
        simon_two_stage(0.2, 0.35, 0.05, 0.05, nmax=10)


def test_warning_when_optimal_is_near_nmax() -> None:
    # clinfun's print.ph2simon warns when the optimal n > nmax - 10 (designs.md §1.11 caution)
    res = simon_two_stage(0.2, 0.35, 0.05, 0.05, nmax=100)
    assert "too close to nmax=100" in res.warning


def test_search_time_nmax_100() -> None:
    start = time.perf_counter()
    simon_two_stage(0.1, 0.3, 0.05, 0.2, nmax=100)
    assert time.perf_counter() - start < 3.0  # bench/simon.py measures it beside clinfun


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"p0": 0.3, "p1": 0.2}, r"p1 .* must exceed p0 .*got p0=0\.3 and p1=0\.2"),
        ({"p0": 1.2, "p1": 0.3}, r"p0 must lie in \(0, 1\); got 1\.2"),
        ({"p0": 0.1, "p1": 0.3, "alpha": 0}, r"alpha must lie in \(0, 1\); got 0"),
        ({"p0": 0.1, "p1": 0.3, "nmax": 1001}, "nmax must be an integer in 2..1000"),
    ],
)
def test_simon_bad_input(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        simon_two_stage(**kwargs)  # type: ignore[arg-type]


# --- single stage -------------------------------------------------------------------------


def test_single_stage_with_phiidesign_tolerance() -> None:
    # IDDI-BE/PhIIdesign inst/tinytest/test-fleming1stage.R: fleming1stage(p0=0.45, pa=0.7,
    # alpha=0.05, beta=0.2) (eps = 0.005): N = 25, r = 15, alpha 0.0439597032152844,
    # beta 0.189436023504946.
    (d,) = single_stage(0.45, 0.7, 0.05, 0.2, tolerance=0.005)
    assert (d.n, d.r) == (25, 15)
    assert d.alpha == pytest.approx(0.0439597032152844, abs=1e-15)
    assert d.beta == pytest.approx(0.189436023504946, abs=1e-15)


def test_tolerance_changes_the_design() -> None:
    # designs.md §1.11: p0=.1, p1=.3 (alpha .05, beta .2): N = 21 with PhIIdesign's eps=0.005,
    # 25 with clinfun::ph2single's exact inequalities.
    assert single_stage(0.1, 0.3, 0.05, 0.2, tolerance=0.005)[0].n == 21
    exact = single_stage(0.1, 0.3, 0.05, 0.2, n_solutions=3)
    assert exact[0].n == 25
    assert exact[0].r == 5
    for d in exact:
        assert d.alpha == pytest.approx(stats.binom.sf(d.r, d.n, 0.1))
        assert d.alpha <= 0.05
        assert d.beta <= 0.2
        assert d.power == pytest.approx(1 - d.beta)
    # and no smaller n works at all
    for n in range(1, 25):
        r = np.arange(n)
        ok = (stats.binom.sf(r, n, 0.1) <= 0.05) & (stats.binom.cdf(r, n, 0.3) <= 0.2)
        assert not ok.any()


def test_single_stage_bad_input() -> None:
    with pytest.raises(ValidationError, match="tolerance must lie in"):
        single_stage(0.1, 0.3, tolerance=-0.1)
    with pytest.raises(ValidationError, match="n_solutions must be a positive integer; got 0"):
        single_stage(0.1, 0.3, n_solutions=0)
