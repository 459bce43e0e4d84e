"""ICANS in children under 12: the CAPD score in place of the ICE score.

Reference: Lee DW et al., ASTCT consensus grading for cytokine release syndrome and neurologic
toxicity associated with immune effector cells, Biol Blood Marrow Transplant 2019;25:625-638,
ICANS grading for children under 12 (CAPD 1-8: grade 1 if awakens spontaneously, grade 2 if
awakens to voice; CAPD >= 9: grade 3; unable to perform the CAPD: grade 4; seizure, motor and
raised-ICP domains as for adults). The CAPD (Traube et al., Crit Care Med 2014;42:656-663) has 8
items scored 0-4 (0-32); a score of 9 or more indicates delirium.
"""

from __future__ import annotations

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.grading.astct import grade_assessments


def _grade(**item: object) -> int:
    return grade_assessments([{"age_years": 7, **item}], scale="icans").worst_grade


@pytest.mark.parametrize(
    ("item", "grade"),
    [
        ({"capd_score": 0}, 0),
        ({"capd_score": 1}, 1),
        ({"capd_score": 8, "consciousness": "awakens_spontaneously"}, 1),
        ({"capd_score": 5, "consciousness": "awakens_to_voice"}, 2),
        ({"capd_score": 8}, 1),
        ({"capd_score": 9}, 3),  # >= 9: delirium, grade 3
        ({"capd_score": 32}, 3),
        ({"capd_score": 12, "consciousness": "unarousable"}, 4),
        ({"capd_score": 4, "seizure": "rapidly_resolving"}, 3),
        ({"capd_score": 4, "raised_icp": "diffuse_edema_or_signs"}, 4),
    ],
)
def test_paediatric_table(item: dict[str, object], grade: int) -> None:
    assert _grade(**item) == grade


def test_rule_names_the_capd_row() -> None:
    course = grade_assessments([{"capd_score": 10, "age_years": 3}], scale="icans")
    result = course.assessments[0].result
    assert result.rule == "Grade 3: CAPD score >= 9"
    assert result.decided_by == ("capd",)
    assert any("CAPD score 10" in n for n in result.notes)


def test_a_child_with_an_ice_score_is_refused_and_pointed_to_the_capd() -> None:
    with pytest.raises(ValidationError, match="record capd_score"):
        grade_assessments([{"ice_score": 8, "age_years": 7}], scale="icans")
    with pytest.raises(ValidationError, match="record capd_score"):
        grade_assessments([{"ice_score": 8}], scale="icans", age_years=11)
    # the subject-level age with a CAPD score is graded
    assert grade_assessments([{"capd_score": 9}], scale="icans", age_years=11).worst_grade == 3


def test_bad_capd_input_is_refused() -> None:
    with pytest.raises(ValidationError, match="CAPD score runs from 0 to 32"):
        _grade(capd_score=33)
    with pytest.raises(ValidationError, match="capd_score must be a whole number"):
        _grade(capd_score="high")
    with pytest.raises(ValidationError, match="not both"):
        _grade(capd_score=3, ice_score=9)
