"""The independent validator: accepts the plans the engine makes, rejects broken ones.

One test per rule, each on a small hand-made instance whose broken plan breaks that rule only
(the assertion is on the exact set of codes, so a rule that fires too often fails as well).
Rules: the ONC-WEEK fixture README's semantics (chairs, nurses in quarter units, ward stays and
sampling, pharmacy before the dose) and its objective.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from fixtures.scheduling import bed, chair, tiny_doc
from oncotrials.core.scheduling import first_fit, load_instance, objective, validate
from oncotrials.core.scheduling import validator as validator_module

SPD = 288


def codes(doc, solution) -> set[str]:
    return {v.code for v in validate(load_instance(doc), solution)}


def test_validator_shares_no_code_with_the_solvers():
    tree = ast.parse(Path(validator_module.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"__future__", "collections", "dataclasses", "typing"}


def test_first_fit_of_the_week_is_valid_and_scores_45118(week):
    plan = first_fit(week)
    assert validate(week, plan) == []
    assert objective(week, plan) == 45_118
    assert len(week.visits) - len(plan) == 36


def test_objective_by_hand():
    doc = tiny_doc(
        [
            chair("A", [0]),
            chair("B", [0], weight=3),
            chair("C", [0, 1], target=0),
            bed("W", [0, 1]),
        ]
    )
    plan = {
        "A": (0, 96, -1),  # ends at slot 114: day 0 makespan 18
        "C": (1, SPD + 100, -1),  # one day late: 20; day 1 makespan 118 - 96 = 22
        "W": (1, SPD + 96, SPD + 96 + 3),  # a ward stay adds no makespan; one day late: 20
    }
    assert codes(doc, plan) == set()
    assert objective(load_instance(doc), plan) == 18 + 3000 + 20 + 22 + 20


def test_empty_plan_costs_every_request():
    doc = tiny_doc([chair("A", [0]), bed("W", [0])])
    assert objective(load_instance(doc), {}) == 1000 + 3000


def test_unknown_visit():
    assert codes(tiny_doc([chair("A", [0])]), {"Z": (0, 96, -1)}) == {"unknown_visit"}


def test_malformed_booking():
    assert codes(tiny_doc([chair("A", [0])]), {"A": [0, 96]}) == {"malformed"}


def test_day_not_allowed():
    assert codes(tiny_doc([chair("A", [0])]), {"A": (1, SPD + 96, -1)}) == {"day_not_allowed"}


@pytest.mark.parametrize("start", [90, 228 - 10])
def test_chair_window(start):
    doc = tiny_doc([chair("A", [0])], nurse_profile=[[0, 288, 9]])  # nurses all day
    assert codes(doc, {"A": (0, start, -1)}) == {"chair_window"}


def test_chair_window_counts_pre_assessment_and_preparation():
    doc = tiny_doc([chair("A", [0], pre=6, prep=6, samples=[])])
    assert codes(doc, {"A": (0, 108, 102)}) == set()
    assert codes(doc, {"A": (0, 107, 101)}) == {"chair_window", "pharmacy_window"}


@pytest.mark.parametrize("start", [95, 145, 4 * SPD + 96])
def test_bed_window(start):
    day = start // SPD
    doc = tiny_doc([bed("W", [0, 4], samples=[])])
    assert codes(doc, {"W": (day, start, start + 3)}) == {"bed_window"}


def test_time_window():
    doc = tiny_doc([chair("A", [0], window=[120, 200])])
    assert codes(doc, {"A": (0, 120, -1)}) == set()
    assert codes(doc, {"A": (0, 100, -1)}) == {"time_window"}


def test_pharmacy_window():
    doc = tiny_doc([chair("A", [0], pre=6, prep=6, samples=[])])
    # the preparation ends after the chair start
    assert codes(doc, {"A": (0, 120, 116)}) == {"pharmacy_window"}
    # ... or starts before the pharmacy opens plus the pre-assessment
    assert codes(doc, {"A": (0, 120, 100)}) == {"pharmacy_window"}


def test_ward_preparation_must_be_ready_by_the_dose():
    doc = tiny_doc([bed("W", [0])])
    assert codes(doc, {"W": (0, 96, 99)}) == set()  # ready at 108 = admission + dose_at
    assert codes(doc, {"W": (0, 96, 100)}) == {"pharmacy_window"}


def test_pharmacy_missing():
    doc = tiny_doc([chair("A", [0], pre=6, prep=6, samples=[])])
    assert codes(doc, {"A": (0, 120, -1)}) == {"pharmacy_missing"}


def test_pharmacy_unexpected():
    assert codes(tiny_doc([chair("A", [0])]), {"A": (0, 96, 90)}) == {"pharmacy_unexpected"}


def test_chair_capacity():
    doc = tiny_doc([chair("A", [0]), chair("B", [0])], chairs=1)
    assert codes(doc, {"A": (0, 96, -1), "B": (0, 114, -1)}) == set()
    assert codes(doc, {"A": (0, 96, -1), "B": (0, 113, -1)}) == {"chair_capacity"}


def test_bed_capacity():
    doc = tiny_doc([bed("W", [0]), bed("X", [1], samples=[])], beds=1)
    plan = {"W": (0, 96, 99), "X": (1, SPD + 96, SPD + 99)}  # W ends at 408 > 384
    assert codes(doc, plan) == {"bed_capacity"}
    doc["beds"] = 2
    assert codes(doc, plan) == set()


def test_nurse_capacity():
    # two nurses (8 quarter units): a set-up takes 1 + 3, so two at once fit, three do not
    doc = tiny_doc([chair(x, [0]) for x in "ABC"], nurse_profile=[[96, 228, 2]])
    ab = {"A": (0, 96, -1), "B": (0, 96, -1)}
    assert codes(doc, {**ab, "C": (0, 109, -1)}) == set()  # 1 + 1 + 4, after their samples
    assert codes(doc, {**ab, "C": (0, 98, -1)}) == {"nurse_capacity"}  # 4 + 4 + 4


def test_nurse_capacity_counts_samples():
    # A and B sample at 96 + 12 = 108 (1 + 3 each) while C is set up from 106 (4): 12 > 8
    doc = tiny_doc([chair(x, [0]) for x in "ABC"], nurse_profile=[[96, 228, 2]])
    ab = {"A": (0, 96, -1), "B": (0, 96, -1)}
    assert codes(doc, {**ab, "C": (0, 109, -1)}) == set()
    assert codes(doc, {**ab, "C": (0, 106, -1)}) == {"nurse_capacity"}


def test_nurses_off_duty():
    doc = tiny_doc([chair("A", [0])], nurse_profile=[[96, 100, 2]])
    assert codes(doc, {"A": (0, 96, -1)}) == {"nurse_capacity"}


def test_ward_sampling_capacity():
    doc = tiny_doc([bed("W", [0]), bed("X", [0])], ward_sampling_capacity=[[84, 372, 1]])
    assert codes(doc, {"W": (0, 96, 99), "X": (0, 97, 99)}) == set()
    assert codes(doc, {"W": (0, 96, 99), "X": (0, 96, 99)}) == {"ward_sampling_capacity"}


def test_ward_sampling_is_lower_at_night():
    # two 24-h stays admitted 6 slots apart: their samples at +12/+18 coincide by day (cap 2,
    # fine) but the week's night capacity is 1, and +300 is a night slot for both if aligned
    doc = tiny_doc([bed("W", [0]), bed("X", [0])])
    assert codes(doc, {"W": (0, 96, 99), "X": (0, 96, 99)}) == {"ward_sampling_capacity"}
    assert codes(doc, {"W": (0, 96, 99), "X": (0, 97, 99)}) == set()


def test_pharmacy_capacity():
    doc = tiny_doc(
        [chair("A", [0], prep=6, samples=[]), chair("B", [0], prep=6, samples=[])],
        pharmacy_capacity=1,
    )
    assert codes(doc, {"A": (0, 120, 100), "B": (0, 120, 106)}) == set()
    assert codes(doc, {"A": (0, 120, 100), "B": (0, 120, 105)}) == {"pharmacy_capacity"}


def test_outside_the_horizon():
    found = codes(tiny_doc([chair("A", [0])]), {"A": (0, -50, -1)})
    assert "horizon" in found
    assert "chair_window" in found


def test_violations_name_the_visits():
    doc = tiny_doc([chair("A", [0]), chair("B", [0])], chairs=1)
    (v,) = validate(load_instance(doc), {"A": (0, 96, -1), "B": (0, 100, -1)})
    assert v.code == "chair_capacity"
    assert v.slot == 100
    assert "A, B" in v.message
    assert "capacity 1" in v.message


def test_broken_week_plan_is_rejected(week):
    plan = dict(first_fit(week))
    victim = next(k for k in plan if k.startswith("C"))
    day, start, prep = plan[victim]
    plan[victim] = (day, start - 40, prep)
    assert validate(week, plan)
