"""Keyboard, mTPI-2 and i3+3 decision tables against the reference R code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oncotrials.core.designs import MTPI2, Action, I3Plus3, Keyboard
from oncotrials.core.designs.keyboard import keyboard_keys
from oncotrials.core.errors import ValidationError

HERE = Path(__file__).parent / "reference"
KB = json.loads((HERE / "keyboard_boundaries.json").read_text())
FIND = json.loads((HERE / "find_decision_tables.json").read_text())


@pytest.mark.parametrize("case", KB["cases"], ids=[c["call"] for c in KB["cases"]])
def test_keyboard_boundaries_match_get_boundary_kb(case: dict) -> None:
    # Keyboard::get.boundary.kb(target, ncohort=12, cohortsize=3)$full_boundary_tab
    table = Keyboard(case["target"]).decision_table(max_n=case["max_n"])
    assert list(table.escalate[1:]) == case["escalate"]
    assert list(table.deescalate[1:]) == case["deescalate"]
    assert list(table.eliminate[1:]) == case["eliminate"]


@pytest.mark.parametrize("case", FIND["cases"], ids=[c["call"] for c in FIND["cases"]])
def test_find_tables_match(case: dict) -> None:
    # FIND get_decision_i3plus3 / get_decision_mtpi2(pT, EI = pT -/+ 0.05, npts = 12)$tab
    cls = I3Plus3 if case["design"] == "i3+3" else MTPI2
    table = cls(case["target"]).decision_table(max_n=12)
    for key, letter in case["table"].items():
        n, y = (int(v) for v in key.split(":"))
        assert table.letter(n, y) == letter, key


def test_keyboard_eliminates_at_two_of_two() -> None:
    # get.boundary.kb(target=0.3, ...) eliminate row: NA at n=1, 2 at n=2 (BOIN needs n >= 3).
    table = Keyboard(0.3).decision_table(max_n=6)
    assert table.eliminate[2] == 2
    dec = Keyboard(0.3, cohort_size=1).decide([(1, 0), (2, 2), (0, 0)], current=1)
    assert dec.action is Action.ELIMINATE
    assert dec.eliminated == (1, 2)


def test_i3plus3_differs_from_mtpi2_where_documented() -> None:
    # FIND tables (reference/find_decision_tables.json): pT .3, n=5, y=2 is S (i3+3) vs D
    # (mTPI-2); pT .25, n=3, y=1 is S vs D.
    assert I3Plus3(0.3).decision_table(12).letter(5, 2) == "S"
    assert MTPI2(0.3).decision_table(12).letter(5, 2) == "D"
    assert I3Plus3(0.25).decision_table(12).letter(3, 1) == "S"
    assert MTPI2(0.25).decision_table(12).letter(3, 1) == "D"


def test_keyboard_keys_tile_the_unit_interval() -> None:
    keys = keyboard_keys(0.25, 0.35)
    assert keys[0] == 0.0
    assert keys[-1] == 1.0
    assert 0.25 in keys
    assert 0.35 in keys


def test_bad_margin_is_named() -> None:
    with pytest.raises(ValidationError, match="margin_l"):
        Keyboard(0.3, margin_l=0.5).decision_table()


def test_i3plus3_rejects_extrasafe() -> None:
    with pytest.raises(ValidationError, match="extrasafe"):
        I3Plus3(0.3, extrasafe=True).decision_table()


def test_n_earlystop_semantics_follow_each_reference() -> None:
    # get.oc.kb stops once the current dose has n.earlystop patients, whatever the decision;
    # FIND's run_sim_i3plus3 stops when the dose chosen next already has them.
    data = [(3, 0), (9, 1), (0, 0)]  # 1/9 escalates under both tables
    assert Keyboard(0.3, n_earlystop=9).decide(data, 1).action is Action.STOP
    assert I3Plus3(0.3, n_earlystop=9).decide(data, 1).action is Action.ESCALATE
    back = [(9, 0), (3, 2), (0, 0)]  # 2/3 de-escalates to a dose with 9 patients
    assert I3Plus3(0.3, n_earlystop=9).decide(back, 1).action is Action.STOP
