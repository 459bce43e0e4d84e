"""Plausible input that used to give a wrong grade with exit 0: now counted right or refused.

Each case is one of the wrong grades reported against the graders: vasopressor synonyms counted
as two drugs, an unknown drug counted as a vasopressor, a lower limit in another unit converted
silently, an upper limit of 0 accepted, an ICE-based ICANS grade for a young child.
"""

from __future__ import annotations

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.grading.astct import (
    CrsAssessment,
    grade_assessments,
    grade_crs,
)
from oncotrials.core.grading.ctcae import grade_lab
from oncotrials.core.grading.labs import grade_lab_csv
from oncotrials.core.grading.vasopressors import canonical_vasopressor, distinct_vasopressors


def _crs(*pressors: str) -> int:
    course = grade_assessments(
        [{"temperature_c": 39.0, "vasopressors": list(pressors)}], scale="crs"
    )
    return course.worst_grade


# ---------------------------------------------------------------- CRS vasopressors (Lee 2019)


def test_norepinephrine_and_noradrenaline_are_one_drug_grade_3():
    # Lee 2019 CRS table: one vasopressor -> grade 3 (was 4: two names counted as two drugs)
    assert _crs("norepinephrine", "noradrenaline") == 3
    assert _crs("Levophed", "noradrenaline", "NOREPINEPHRINE bitartrate") == 3


def test_arginine_vasopressin_is_vasopressin_grade_3():
    # "a vasopressor with or without vasopressin" -> grade 3 (was 4: only "vasopressin" known)
    assert _crs("norepinephrine", "arginine vasopressin") == 3
    assert _crs("norepinephrine", "AVP") == 3
    assert _crs("AVP") == 3


def test_two_distinct_vasopressors_other_than_vasopressin_grade_4():
    assert _crs("noradrénaline", "adrénaline") == 4
    assert _crs("norepinephrine", "phenylephrine", "vasopressin") == 4
    assert _crs("dopamine", "epinephrine") == 4


def test_synonyms_counted_once_are_noted():
    course = grade_assessments(
        [{"temperature_c": 39.0, "vasopressors": ["norepinephrine", "noradrenaline"]}],
        scale="crs",
    )
    (note,) = course.assessments[0].result.notes
    assert "1 drug(s) (norepinephrine)" in note


def test_unknown_vasopressor_name_is_refused_with_the_accepted_names():
    with pytest.raises(ValidationError) as info:
        _crs("foo")
    message = info.value.message
    assert "assessment 1: vasopressors: unknown vasopressor 'foo'" in message
    assert "norepinephrine (norepinephrine, noradrenaline, levophed" in message
    assert "vasopressin (vasopressin, arginine vasopressin" in message


def test_unknown_name_refused_also_when_grading_a_dataclass():
    with pytest.raises(ValidationError, match="unknown vasopressor 'foo'"):
        grade_crs(CrsAssessment(temperature_c=None, vasopressors=("norepinephrine", "foo")))


def test_an_inotrope_is_refused_with_the_reason():
    with pytest.raises(ValidationError, match="'dobutamine' is an inotrope, not a vasopressor"):
        _crs("dobutamine")


def test_vocabulary_resolves_spellings():
    assert canonical_vasopressor("Neo-Synephrine") == "phenylephrine"
    assert canonical_vasopressor("  adrenaline ") == "epinephrine"
    assert distinct_vasopressors(["AVP", "", "vasopressin", "levophed"]) == (
        "vasopressin",
        "norepinephrine",
    )


# ------------------------------------------------------------------------ lab reference limits


def test_lln_in_another_unit_is_refused_not_converted():
    # 1800 /mm3 = 1.8 x 10^9/L; an LLN of 2.0 meant as 10^9/L would be 0.002 x 10^9/L -> grade 0
    with pytest.raises(ValidationError) as info:
        grade_lab("neutrophils", "1800", "/mm3", lln="2.0")
    message = info.value.message
    assert "LLN 2.0 /mm3 = 0.002 10^9/L is not a plausible LLN" in message
    assert "--limit-unit" in message


def test_limit_unit_names_the_limits_unit_and_the_true_grade_follows():
    # CTCAE v5.0 Neutrophil count decreased G1: < LLN - 1.5 x 10^9/L
    result = grade_lab("neutrophils", "1800", "/mm3", lln="2.0", limit_unit="10^9/L")
    assert result.grade == 1
    assert grade_lab("neutrophils", "1800", "/mm3", lln="2000").grade == 1


def test_limit_unit_of_another_scale_is_refused():
    with pytest.raises(ValidationError, match="limits' unit 'mmol/L' is on the mmol/L scale"):
        grade_lab("calcium", "9.0", "mg/dL", lln="2.1", limit_unit="mmol/L")


def test_uln_of_zero_is_refused():
    # ALT 100 U/L with ULN 0 graded 4 (> 20 x ULN); a ULN of 0 is not a reference limit
    with pytest.raises(ValidationError, match="ULN 0 U/L is not a reference limit"):
        grade_lab("alt", "100", "U/L", uln="0")


def test_lln_of_zero_is_refused_where_the_grade_uses_it():
    with pytest.raises(ValidationError, match="LLN 0 10\\^9/L is not a reference limit"):
        grade_lab("neutrophils", "1.0", "10^9/L", lln="0")


def test_lln_of_zero_is_accepted_where_labs_print_it_and_the_grade_ignores_it():
    # "0-40 U/L" is how many laboratories print an ALT range
    assert grade_lab("alt", "130", "U/L", lln="0", uln="40").grade == 2


def test_bilirubin_uln_in_mg_per_dl_beside_a_value_in_umol_is_refused():
    with pytest.raises(ValidationError, match=r"ULN 1\.2 umol/L is not a plausible ULN"):
        grade_lab("bilirubin", "40", "umol/L", uln="1.2")


def test_lab_csv_limit_unit_column_and_row_named_in_errors():
    text = (
        "analyte,value,unit,lln,uln,limit_unit\n"
        "neutrophils,1800,/mm3,2.0,7.5,10^9/L\n"
        "alt,100,U/L,,40,\n"
    )
    rows = grade_lab_csv(text)
    assert [r.result.grade for r in rows] == [1, 1]
    bad = "analyte,value,unit,lln\nneutrophils,1800,/mm3,2.0\n"
    with pytest.raises(
        ValidationError, match=r"Line 2 of input: neutrophils .*not a plausible LLN"
    ):
        grade_lab_csv(bad)


# ------------------------------------------------------------------------- paediatric ICANS


def test_icans_under_12_is_refused_explicitly():
    with pytest.raises(ValidationError) as info:
        grade_assessments([{"ice_score": 8, "age_years": 7}], scale="icans")
    assert "children under 12 are graded with the Cornell Assessment of Pediatric" in (
        info.value.message
    )
    with pytest.raises(ValidationError, match="CAPD"):
        grade_assessments([{"ice_score": 8}], scale="icans", age_years=11.5)


def test_icans_at_12_is_graded_with_the_ice_score():
    course = grade_assessments([{"ice_score": 8, "age_years": 12}], scale="icans")
    assert course.worst_grade == 1
