"""Simon two-stage and single-stage designs against values computed by running clinfun 1.1.5.

See reference/crm_phase2_sources.md: twostage.admissible(ph2simon(p0, p1, alpha, beta, nmax)),
oc.twostage.bdry(...) and ph2single(p0, p1, alpha, beta, nsoln).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from oncotrials.core.designs.phase2 import simon_two_stage, single_stage

REF = Path(__file__).parent / "reference"


def _rows(name: str) -> list[dict[str, str]]:
    with (REF / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


SIMON: dict[tuple[float, float, float, float, int], list[dict[str, str]]] = defaultdict(list)
for _r in _rows("clinfun_phase2_simon.csv"):
    SIMON[(float(_r["p0"]), float(_r["p1"]), float(_r["alpha"]), float(_r["beta"]),
           int(_r["nmax"]))].append(_r)  # fmt: skip


@pytest.mark.parametrize("key", sorted(SIMON), ids=str)
def test_simon_matches_clinfun(key: tuple[float, float, float, float, int]) -> None:
    p0, p1, alpha, beta, nmax = key
    rows = SIMON[key]
    res = simon_two_stage(p0, p1, alpha, beta, nmax=nmax)
    (count,) = [r for r in rows if r["kind"] == "rows"]
    assert len(res.table) == int(count["n"])  # nrow(ph2simon(...)$out)
    expected = [r for r in rows if r["kind"] != "rows"]
    assert len(res.admissible) == len(expected)
    for got, want in zip(res.admissible, expected, strict=True):
        assert got.kind == want["kind"].lower()
        assert (got.r1, got.n1, got.r, got.n) == (
            int(want["r1"]), int(want["n1"]), int(want["r"]), int(want["n"])
        )  # fmt: skip
        assert got.en0 == pytest.approx(float(want["en0"]), rel=1e-13)
        assert got.pet0 == pytest.approx(float(want["pet0"]), rel=1e-13)
        assert got.alpha == pytest.approx(float(want["reject_p0"]), rel=1e-12)
        assert got.power == pytest.approx(float(want["reject_p1"]), rel=1e-12)
        assert got.q_low == float(want["qlo"])
        assert got.q_high == float(want["qhi"])
    assert res.minimax.n == int(expected[0]["n"])
    assert res.optimal.en0 == pytest.approx(float(expected[-1]["en0"]), rel=1e-13)


SINGLE: dict[tuple[float, float, float, float], list[dict[str, str]]] = defaultdict(list)
for _r in _rows("clinfun_phase2_single.csv"):
    SINGLE[(float(_r["p0"]), float(_r["p1"]), float(_r["alpha"]), float(_r["beta"]))].append(_r)


@pytest.mark.parametrize("key", sorted(SINGLE), ids=str)
def test_single_stage_matches_clinfun(key: tuple[float, float, float, float]) -> None:
    rows = SINGLE[key]
    got = single_stage(*key, n_solutions=len(rows))
    assert [(d.n, d.r) for d in got] == [(int(r["n"]), int(r["r"])) for r in rows]
    for d, r in zip(got, rows, strict=True):
        assert d.alpha == pytest.approx(float(r["type1"]), rel=1e-12)
        assert d.beta == pytest.approx(float(r["type2"]), rel=1e-12)
