"""BOIN12 against the paper (Lin et al., JCO Precis Oncol 2020) and the reference software."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scipy import stats

from oncotrials.core.designs.base import Action
from oncotrials.core.designs.boin12 import BOIN12, parse_efftox_outcomes

REFERENCE = Path(__file__).parent / "reference" / "boin12_decisions.json"
DESIGNS = json.loads(REFERENCE.read_text(encoding="utf-8"))["designs"]

# Outcomes where the MD Anderson application continues at dose 1 although 2 of 3 patients there
# had a DLT with phi_t = 0.15: P(p_T > 0.15 | Beta(3, 2)) = 0.9948 exceeds c_t = 0.9, so the
# paper's safety rule eliminates dose 1 (and every dose) and BOIN12 stops. The escalation test
# file marks the neighbouring cases "1NTT", "1TTT" as breaking the application.
SAFETY_RULE_DIVERGENCE = {("shiny_2", o) for o in ("1EBB", "1ETB", "1ETT", "1NBB", "1NTB")}


def _design(spec: dict[str, Any]) -> BOIN12:
    return BOIN12(
        spec["phi_t"],
        spec["phi_e"],
        u_neither=spec["u_neither"],
        u_both=spec["u_both"],
        n_star=spec["n_star"],
        c_t=spec["c_t"],
        c_e=spec["c_e"],
        cohort_size=3,
        n_cohorts=spec["max_n"] // 3,
        n_cap=12,
    )


def test_toxicity_boundaries_are_boin_at_phi_t() -> None:
    # BOIN::get.boundary(target = 0.35, ncohort = 2, cohortsize = 1), BOIN 2.7.2, R 4.2.2
    b = BOIN12(0.35, 0.25).boundaries()
    assert b.lambda_e == pytest.approx(0.276334316806520, abs=1e-12)
    assert b.lambda_d == pytest.approx(0.418907508092047, abs=1e-12)
    # BOIN::get.boundary(target = 0.15, ncohort = 2, cohortsize = 1)
    b = BOIN12(0.15, 0.4, u_neither=50, u_both=30).boundaries()
    assert b.lambda_e == pytest.approx(0.117796649062665, abs=1e-12)
    assert b.lambda_d == pytest.approx(0.178686250195716, abs=1e-12)


def test_benchmark_utility_of_the_default_design() -> None:
    # Lin et al. (2020): u-bar and u_b for the default utilities (100, 40, 60, 0),
    # phi_t = 0.35, phi_e = 0.25: u-bar = 16.25 + 19.5 + 5.25 = 41, u_b = 41 + 59/2 = 70.5.
    b = BOIN12().boundaries()
    assert b.u_bar == pytest.approx(41.0, abs=1e-12)
    assert b.u_benchmark == pytest.approx(70.5, abs=1e-12)


def test_desirability_is_the_beta_tail_of_the_quasi_binomial_posterior() -> None:
    # 3 patients, 0 DLT, 3 responses: x = (60*3 + 40*3)/100 = 3, posterior Beta(4, 1);
    # R: pbeta(0.705, 4, 1, lower.tail = FALSE) = 0.752966149375
    des = BOIN12().desirability([(3, 0, 3), (0, 0, 0)])
    assert des[0] == pytest.approx(75.2966149375, abs=1e-9)
    # No data: Beta(1, 1), P(u > 0.705) = 0.295
    assert des[1] == pytest.approx(29.5, abs=1e-12)


@pytest.mark.parametrize(
    ("treated", "dlts", "responses", "rds"),
    [
        # Lin et al. (2020) Table 3 (phi_t 0.35, phi_e 0.25, utilities 100/40/60/0), as checked
        # by escalation 0.2.3 tests/testthat/test_boin12_rds.R via boin12_rds(sample_sizes =
        # c(0, 3, 6, 9), ...). "None" marks an outcome eliminated ("E" in the table).
        (0, 0, 0, 60.0),
        (3, 0, 3, 91.0),
        (6, 1, 5, 87.0),
        (6, 5, 1, None),
        (9, 0, 8, 99.0),
        (9, 2, 3, 32.5),  # tied with 9/5/5: same utility pseudo-count 4.6
        (9, 5, 5, 32.5),
        (9, 3, 1, 7.0),
        (9, 4, 0, None),
        (9, 6, 9, None),
    ],
)
def test_rds_table_reproduces_table_3(
    treated: int, dlts: int, responses: int, rds: float | None
) -> None:
    rows = {(r.treated, r.dlts, r.responses): r for r in BOIN12().rds_table((0, 3, 6, 9))}
    row = rows[(treated, dlts, responses)]
    assert row.rds == rds
    assert row.admissible is (rds is not None)


def test_rds_ranks_follow_the_desirability() -> None:
    rows = [r for r in BOIN12().rds_table((0, 3, 6, 9)) if r.admissible]
    rows.sort(key=lambda r: r.probability)
    ranks = [r.rds for r in rows]
    assert ranks == sorted(ranks)  # type: ignore[type-var]
    assert min(ranks) == 1.0  # type: ignore[type-var]


def _cases() -> list[Any]:
    return [
        pytest.param(spec, case, id=f"{spec['name']}:{case['outcomes']}")
        for spec in DESIGNS
        for case in spec["cases"]
    ]


@pytest.mark.parametrize(("spec", "case"), _cases())
def test_next_dose_matches_paper_and_reference_application(
    spec: dict[str, Any], case: dict[str, Any]
) -> None:
    design = _design(spec)
    data = parse_efftox_outcomes(case["outcomes"], spec["num_doses"])
    current = int(case["outcomes"].split()[-1].rstrip("NETB")) - 1  # the last cohort's dose
    dec = design.decide(data, current)
    if (spec["name"], case["outcomes"]) in SAFETY_RULE_DIVERGENCE:
        n, t = data[0].treated, data[0].dlts
        assert stats.beta.sf(spec["phi_t"], 1 + t, 1 + n - t) > spec["c_t"]
        assert dec.action is Action.STOP
        assert dec.next_dose is None
        assert "overly toxic" in dec.reason
        return
    if case["continue"]:
        assert dec.action is not Action.STOP, dec.reason
        assert dec.next_dose == case["dose"] - 1, dec.rule
    else:
        # The trial stops (sample size or 12 patients at the dose chosen next): the
        # recommended dose is the selected OBD.
        assert dec.action is Action.STOP, dec.reason
        assert dec.mtd == case["dose"] - 1, dec.reason


def test_published_example_walkthrough_reasons() -> None:
    # Lin et al. (2020) p.1396: after 1NNN 2ENT 3ETT 2EEN, dose 3 has 2/3 DLTs (>= lambda_d)
    # and the trial continues at dose 2; the pathway names the rule that decided.
    design = BOIN12(0.35, 0.25, n_cohorts=10, n_cap=12)
    dec = design.decide(parse_efftox_outcomes("1NNN 2ENT 3ETT", 5), 2)
    assert dec.action is Action.DE_ESCALATE
    assert dec.next_dose == 1
    assert "lambda_d" in dec.reason


STATES = json.loads(
    (Path(__file__).parent / "reference" / "boin12_escalation_states.json").read_text(
        encoding="utf-8"
    )
)["designs"]


def _state_design(spec: dict[str, Any]) -> BOIN12:
    return BOIN12(
        spec["phi_t"],
        spec["phi_e"],
        u_neither=spec["u_neither"],
        u_both=spec["u_both"],
        n_star=spec["n_star"],
        c_t=spec["c_t"],
        c_e=spec["c_e"],
        n_cohorts=1000,  # no sample-size stop: compare the dose-finding rules alone
    )


@pytest.mark.parametrize("spec", STATES, ids=[s["name"] for s in STATES])
def test_dose_finding_agrees_with_the_reference_implementation(spec: dict[str, Any]) -> None:
    # escalation's boin12_next_dose() (see the reference file) checks admissibility afresh for
    # d-1, d, d+1 at each decision, whereas the authors' rules eliminate doses permanently and
    # move to the nearest admissible neighbour; the two coincide while no dose is eliminated.
    # There, the only difference is an exact tie between d-1 and d in the N* rule, which
    # escalation gives to the lower dose (which.max) and the authors' code to the higher one.
    design = _state_design(spec)
    compared = 0
    for state in spec["states"]:
        data = [tuple(c) for c in state["counts"]]
        dec = design.decide(data, state["current"])
        if dec.eliminated:
            continue
        compared += 1
        ours = 0 if dec.next_dose is None else dec.next_dose + 1
        if ours != state["next_dose"]:
            des = design.desirability(data)
            cur = state["current"]
            assert "N*" in dec.rule, (state, dec.rule)
            assert des[cur - 1] == pytest.approx(des[cur], abs=1e-9)
            assert dec.next_dose == cur  # the tie goes to the higher dose
            assert state["next_dose"] == cur  # escalation: the lower (1-based cur = d-1)
    assert compared > 250
