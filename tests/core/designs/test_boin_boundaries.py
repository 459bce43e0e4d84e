"""BOIN boundaries and decision tables against BOIN::get.boundary (BOIN 2.7.2)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from oncotrials.core.designs import BOIN, boin_lambdas
from oncotrials.core.errors import ValidationError

REF = json.loads((Path(__file__).parent / "reference" / "boin_boundaries.json").read_text())
CASES = {c["call"]: c for c in REF["cases"]}


@pytest.mark.parametrize("call", list(CASES))
def test_boundaries_match_get_boundary(call: str) -> None:
    # Values from the call named in each case (reference/boin_boundaries.json).
    case = CASES[call]
    design = BOIN(case["target"], p_saf=case["p_saf"], p_tox=case["p_tox"], cohort_size=3)
    b = design.boundaries(max_n=case["max_n"])
    if "lambda_e" in case:
        assert b.lambda_e == pytest.approx(case["lambda_e"], abs=1e-15)
    assert b.lambda_d == pytest.approx(case["lambda_d"], abs=1e-15)
    assert list(b.table.escalate[1:]) == case["escalate"]
    assert list(b.table.deescalate[1:]) == case["deescalate"]
    if "eliminate" in case:
        assert list(b.table.eliminate[1:]) == case["eliminate"]


def test_target_030_lambdas_as_published() -> None:
    # Liu & Yuan (2015) Table 1 / BOIN::get.boundary(target=0.3, ncohort=10, cohortsize=3)
    lam_e, lam_d = boin_lambdas(0.3, 0.18, 0.42)
    assert lam_e == pytest.approx(0.236491, abs=1e-6)
    assert lam_d == pytest.approx(0.358519, abs=1e-6)


def test_exact_integer_trap_requires_one_more_dlt() -> None:
    # get.boundary(target=0.3, ncohort=10, cohortsize=3, p.saf=0.18, p.tox=0.5059405275001106):
    # lambda_d*5 == 2 (to 1e-12), so de-escalation needs 3 DLTs of 5 where ceiling() gives 2.
    case = CASES[
        "get.boundary(target=0.3, ncohort=10, cohortsize=3, p.saf=0.18, p.tox=0.5059405275001106)"
    ]
    table = BOIN(0.3, p_saf=0.18, p_tox=case["p_tox"]).decision_table(max_n=30)
    assert case["ceiling_lambda_d_n"][4] == 2
    assert table.deescalate[5] == 3 == case["deescalate"][4]
    assert table.letter(5, 2) == "S"  # observed rate 0.4 is not > lambda_d = 0.4
    lam_d = BOIN(0.3, p_saf=0.18, p_tox=case["p_tox"]).lambdas[1]
    assert math.isclose(lam_d * 5, 2.0, abs_tol=1e-12)


def test_deescalation_boundary_capped_by_elimination() -> None:
    # get.boundary(target=0.5, ncohort=8, cohortsize=3): at n=4, ceil(0.6029*4)=3 < elim 4;
    # b.d is min(b.d, elim) wherever elimination is defined.
    table = BOIN(0.5).decision_table(max_n=24)
    for n in range(3, 25):
        e = table.eliminate[n]
        if e is not None:
            assert table.deescalate[n] is not None
            assert table.deescalate[n] <= e


def test_extrasafe_stop_boundary() -> None:
    # get.boundary(target=0.3, ncohort=10, cohortsize=3, extrasafe=TRUE)$stop_boundary
    table = BOIN(0.3, extrasafe=True, n_cohorts=10).decision_table()
    assert list(table.stop_lowest[1:]) == REF["extrasafe"]["stop"]


def test_boundary_rows_printed_per_cohort() -> None:
    # boundary_tab of get.boundary(target=0.3, ncohort=10, cohortsize=3) keeps n = 3, 6, ..., 30
    rows = BOIN(0.3, n_cohorts=10).decision_table().boundaries(cohort_size=3)
    assert [r["n"] for r in rows] == list(range(3, 31, 3))
    assert [r["escalate_if_dlts_at_most"] for r in rows] == [0, 1, 2, 2, 3, 4, 4, 5, 6, 7]
    assert [r["deescalate_if_dlts_at_least"] for r in rows] == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert [r["eliminate_if_dlts_at_least"] for r in rows] == [3, 4, 5, 7, 8, 9, 10, 11, 12, 14]


def test_elimination_needs_three_patients() -> None:
    table = BOIN(0.3).decision_table()
    assert table.eliminate[1] is None
    assert table.eliminate[2] is None
    assert table.letter(2, 2) == "D"
    assert table.letter(3, 3) == "DU"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"target": 1.3}, "got 1.3"),
        ({"target": 0.01}, "[0.05, 0.6]"),
        ({"target": 0.3, "p_saf": 0.29}, "p_saf"),
        ({"target": 0.3, "p_tox": 0.31}, "p_tox"),
        ({"target": 0.3, "p_tox": 1.2}, "got 1.2"),
        ({"target": 0.3, "offset": 0.6}, "offset"),
        ({"target": 0.3, "cohort_size": 0}, "cohort_size"),
    ],
)
def test_bad_parameters_are_named(kwargs: dict[str, float], fragment: str) -> None:
    target = kwargs.pop("target")
    design = BOIN(target, **kwargs)  # type: ignore[arg-type]  # constructor only stores
    with pytest.raises(ValidationError) as exc:
        design.decision_table()
    assert fragment in exc.value.message
