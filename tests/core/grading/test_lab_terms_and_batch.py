"""Lab rows by CTCAE term, the baseline-abnormal flag, and per-row refusal (--keep-going).

Expected grades are read off the NCI CTCAE v5.0 grade texts quoted beside each case.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.grading.catalogue import load_catalogue
from oncotrials.core.grading.ctcae import LAB_TERMS, grade_lab, resolve_lab_target
from oncotrials.core.grading.labs import grade_lab_batch, grade_lab_csv, grade_lab_file

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "docs" / "formats" / "examples" / "labs-terms.example.csv"


# ------------------------------------------------------------------------------ CTCAE terms


def test_every_lab_term_is_a_ctcae_v5_catalogue_term():
    catalogue = load_catalogue()
    for term, targets in LAB_TERMS.items():
        assert catalogue.term(term).term == term
        assert {direction for _, direction in targets} in ({"low"}, {"high"})


def test_a_term_alone_names_the_analyte_and_the_direction():
    # v5.0 Neutrophil count decreased G4 "<500/mm3; <0.5 x 10e9 /L"
    r = grade_lab(None, "0.4", "10^9/L", term="Neutrophil count decreased")
    assert (r.analyte, r.grade, r.term) == ("neutrophils", 4, "Neutrophil count decreased")
    # Case and spacing are ignored; ALT G2 ">3.0 - 5.0 x ULN" (130 > 120)
    r = grade_lab(None, "130", "U/L", uln="40", term="  alanine  aminotransferase INCREASED ")
    assert (r.analyte, r.grade) == ("alt", 2)
    target = resolve_lab_target(None, "hypokalemia")
    assert (target.analyte.key, target.direction, target.term) == (
        "potassium",
        "low",
        "Hypokalemia",
    )


def test_term_and_analyte_must_agree():
    r = grade_lab("ANC", "0.4", "10^9/L", term="Neutrophil count decreased")
    assert r.grade == 4
    with pytest.raises(ValidationError, match=r"'neutrophils' and term 'Alanine.*disagree") as info:
        grade_lab("neutrophils", "0.4", "10^9/L", term="Alanine aminotransferase increased")
    assert info.value.code == "term_analyte_mismatch"


def test_unknown_non_lab_and_ambiguous_terms_are_refused_clearly():
    with pytest.raises(NotFoundError, match=r"Did you mean 'Neutrophil count decreased'"):
        grade_lab(None, "0.4", "10^9/L", term="Neutrophil count decresed")
    with pytest.raises(ValidationError, match=r"'Febrile neutropenia' is not graded from a lab"):
        grade_lab(None, "0.4", "10^9/L", term="Febrile neutropenia")
    with pytest.raises(ValidationError, match=r"corrected calcium .* or ionised calcium") as info:
        grade_lab(None, "0.95", "mmol/L", term="Hypocalcemia")
    assert info.value.code == "ambiguous_term"
    # With the analyte: v5.0 Hypocalcemia G2 ionised calcium "<1.0 - 0.9 mmol/L"
    assert grade_lab("ionized_calcium", "0.95", "mmol/L", lln="1.1", term="Hypocalcemia").grade == 2
    with pytest.raises(ValidationError, match=r"analyte .* or the CTCAE term"):
        grade_lab(None, "1", "mmol/L")


def test_v5_term_names_grade_under_v6():
    # v6.0 Thrombocytopenia G2 "<75.0 - 50.0 x 10^9/L"
    r = grade_lab(None, "50", "10^9/L", lln="150", term="Platelet count decreased", version="6.0")
    assert (r.grade, r.term) == (2, "Thrombocytopenia")
    with pytest.raises(NotFoundError, match=r"v6.0 has no Lymphocyte count decreased"):
        grade_lab(None, "0.4", "10^9/L", term="Lymphocyte count decreased", version="6.0")


def test_v5_hyperglycemia_by_term_at_or_below_uln_is_grade_0():
    r = grade_lab("glucose", "5", "mmol/L", uln="6", term="Hyperglycemia")
    assert r.grade == 0
    assert r.rule == "CTCAE v5.0 Hyperglycemia: no grade criterion met"
    with pytest.raises(ValidationError, match=r"clinical management"):
        grade_lab("glucose", "7", "mmol/L", uln="6", term="Hyperglycemia")


# ------------------------------------------------- at or above LLN without ULN (issue fix)


def test_decreased_term_at_or_above_lln_needs_no_uln():
    # Potassium 4.0 with LLN 3.5: Hypokalemia needs no ULN, so grade 0.
    r = grade_lab(None, "4.0", "mmol/L", lln="3.5", term="Hypokalemia")
    assert (r.grade, r.term) == (0, None)
    assert r.rule == "CTCAE v5.0 Hypokalemia: no grade criterion met"
    assert grade_lab(None, "3.5", "mmol/L", lln="3.5", term="Hypokalemia").grade == 0
    # The analyte alone asks for both directions: Hyperkalemia G1 is ">ULN - 5.5", so the ULN
    # is needed, and the error says how to grade one direction only.
    with pytest.raises(ValidationError, match=r"depends on the ULN.*name the CTCAE term.*Hypokal"):
        grade_lab("potassium", "4.0", "mmol/L", lln="3.5")


def test_a_term_row_in_a_batch_grades_while_the_analyte_row_is_refused():
    text = (
        "term,analyte,value,unit,lln\n"
        "Hypokalemia,,4.0,mmol/L,3.5\n"
        "Hyponatremia,,140,mmol/L,135\n"
        ",potassium,4.0,mmol/L,3.5\n"
    )
    batch = grade_lab_batch(text, source="labs.csv", keep_going=True)
    assert [(r.line, r.result.grade) for r in batch.graded] == [(2, 0), (3, 0)]
    assert [r.line for r in batch.refused] == [4]
    assert "depends on the ULN" in batch.refused[0].reason


def test_the_other_direction_is_noted_when_a_term_is_named():
    # Potassium 6.5 > ULN 5.1 named as Hypokalemia: grade 0 for that term, with a note.
    r = grade_lab(None, "6.5", "mmol/L", lln="3.5", uln="5.1", term="Hypokalemia")
    assert r.grade == 0
    assert any("above ULN: Hyperkalemia is not graded" in n for n in r.notes)


# ------------------------------------------------------------------ baseline-abnormal flag


def test_baseline_abnormal_inferred_flagged_or_assumed():
    # ALT 160, ULN 40, baseline 30 <= ULN: inferred normal, G2 ">3.0 - 5.0 x ULN" (160 > 120).
    r = grade_lab("ALT", "160", "U/L", uln="40", baseline="30")
    assert (r.grade, r.baseline_abnormal, r.baseline_basis) == (2, False, "inferred")
    assert "baseline normal inferred: baseline 30 <= ULN 40" in r.notes
    # Flagged abnormal (e.g. the baseline laboratory's ULN was lower): G3 ">3.0 - 5.0 x
    # baseline" reads 160 > 5 x 30 = 150.
    r = grade_lab("ALT", "160", "U/L", uln="40", baseline="30", baseline_abnormal=True)
    assert (r.grade, r.baseline_abnormal, r.baseline_basis) == (3, True, "flag")
    assert any("flag overrides the baseline 30 <= ULN 40" in n for n in r.notes)
    # No baseline, no flag: normal assumed (current behaviour), and said so.
    r = grade_lab("ALT", "160", "U/L", uln="40")
    assert (r.grade, r.baseline_abnormal, r.baseline_basis) == (2, False, "assumed")


def test_flag_normal_overrides_a_baseline_above_uln():
    # Bilirubin 40 umol/L, ULN 21, baseline 30 > ULN: inferred abnormal, G1 "1.0 - 1.5 x
    # baseline"; flagged normal: G2 ">1.5 - 3.0 x ULN" (40 > 31.5).
    inferred = grade_lab("bilirubin", "40", "umol/L", uln="21", baseline="30")
    assert (inferred.grade, inferred.baseline_abnormal, inferred.baseline_basis) == (
        1,
        True,
        "inferred",
    )
    flagged = grade_lab(
        "bilirubin", "40", "umol/L", uln="21", baseline="30", baseline_abnormal=False
    )
    assert (flagged.grade, flagged.baseline_abnormal, flagged.baseline_basis) == (2, False, "flag")


def test_flag_abnormal_needs_the_baseline_but_not_the_uln():
    with pytest.raises(ValidationError, match=r"baseline_abnormal is yes.*give the baseline"):
        grade_lab("ALT", "160", "U/L", uln="40", baseline_abnormal=True)
    # ALT 130, baseline 62 flagged abnormal, no ULN: G1 "1.5 - 3.0 x baseline" (93-186).
    r = grade_lab("ALT", "130", "U/L", baseline="62", baseline_abnormal=True)
    assert (r.grade, r.baseline_basis) == (1, "flag")
    # Without the flag the ULN is needed to infer it.
    with pytest.raises(ValidationError, match=r"depends on the ULN"):
        grade_lab("ALT", "130", "U/L", baseline="62")


def test_flag_on_a_term_that_does_not_use_it_is_noted_not_used():
    r = grade_lab("ANC", "0.4", "10^9/L", baseline_abnormal=True)
    assert (r.grade, r.baseline_abnormal, r.baseline_basis) == (4, None, "")
    assert any("does not change the Neutrophil count decreased grade" in n for n in r.notes)


def test_flag_column_in_csv():
    text = "analyte,value,unit,uln,baseline,baseline_abnormal\nALT,160,U/L,40,30,yes\n"
    assert grade_lab_csv(text)[0].result.grade == 3
    text = "analyte,value,unit,uln,baseline,baseline_abnormal\nALT,160,U/L,40,30,\n"
    assert grade_lab_csv(text)[0].result.baseline_basis == "inferred"
    bad = "analyte,value,unit,uln,baseline,baseline_abnormal\nALT,160,U/L,40,30,maybe\n"
    with pytest.raises(ValidationError, match=r"Line 2 of labs.csv: column baseline_abnormal"):
        grade_lab_csv(bad, source="labs.csv")


# -------------------------------------------------------------------- per-row refusal


BATCH = (
    "id,subject_id,analyte,term,value,unit,lln,uln\n"
    "a,S1,ANC,,0.4,10^9/L,1.8,\n"
    "b,S1,ALT,,300,U/L,,\n"
    "c,S2,,Hypokalemia,3.2,mmol/L,3.5,\n"
    "d,S2,neutrophils,Alanine aminotransferase increased,0.4,10^9/L,,\n"
    "e,S3,,,1,mmol/L,,\n"
)


def test_default_is_all_or_nothing_and_names_every_refused_line():
    with pytest.raises(ValidationError) as info:
        grade_lab_batch(BATCH, source="labs.csv")
    message = info.value.message
    assert message.startswith("Line 3 of labs.csv: ALT 300 U/L: the Alanine aminotransferase")
    assert "2 more row(s) refused: line(s) 5, 6; nothing was graded." in message
    assert info.value.extra["line"] == 3


def test_keep_going_grades_the_valid_rows_and_lists_the_refused():
    batch = grade_lab_batch(BATCH, source="labs.csv", keep_going=True)
    # ANC 0.4 G4 "<0.5 x 10e9 /L"; potassium 3.2 < LLN 3.5 Hypokalemia G1 (symptoms unknown:
    # worse of 1 and 2 is 2).
    assert [(r.line, r.id, r.result.grade) for r in batch.graded] == [(2, "a", 4), (4, "c", 2)]
    refused = {r.line: r for r in batch.refused}
    assert list(refused) == [3, 5, 6]
    assert refused[3].id == "b"
    assert refused[3].subject_id == "S1"
    assert "depends on the ULN" in refused[3].reason
    assert refused[5].code == "term_analyte_mismatch"
    assert "analyte and term are both empty" in refused[6].reason
    assert not refused[6].reason.startswith("Line")


def test_keep_going_with_every_row_refused_returns_no_grades():
    batch = grade_lab_batch("analyte,value,unit\nALT,x,U/L\n", keep_going=True)
    assert batch.graded == ()
    assert [(r.line, r.code) for r in batch.refused] == [(2, "invalid")]


def test_header_problems_always_stop_the_batch():
    with pytest.raises(ValidationError, match=r"missing column\(s\) analyte \(or term\)"):
        grade_lab_batch("value,unit\n1,U/L\n", keep_going=True)
    with pytest.raises(ValidationError, match=r"unknown column"):
        grade_lab_batch("term,value,unit,baseline_abnormality\n", keep_going=True)


def test_term_only_header_is_enough():
    rows = grade_lab_csv("term,value,unit\nNeutrophil count decreased,0.4,10^9/L\n")
    assert rows[0].result.grade == 4


# ---------------------------------------------------------------------------- the example


def test_terms_example_file():
    rows = grade_lab_file(EXAMPLE)
    got = [(r.line, r.result.analyte, r.result.grade, r.result.baseline_basis) for r in rows]
    # ANC 0.9 G3 "<1.0 - 0.5"; K 4.0 >= LLN as Hypokalemia G0 (no ULN needed); ALT 160 flagged
    # abnormal vs baseline 30 G3 (> 5 x 30); AST 160 baseline 30 <= ULN inferred normal G2
    # (> 3 x 40); bilirubin 40 flagged normal G2 (> 1.5 x 21); ionised Ca 0.95 G2 (< 1.0).
    assert got == [
        (2, "neutrophils", 3, ""),
        (3, "potassium", 0, ""),
        (4, "alt", 3, "flag"),
        (5, "ast", 2, "inferred"),
        (6, "bilirubin", 2, "flag"),
        (7, "ionized_calcium", 2, ""),
    ]
    schema = json.loads((ROOT / "docs" / "formats" / "labs.schema.json").read_text("utf-8"))
    for row in csv.DictReader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))):
        jsonschema.validate(row, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"analyte": "", "term": "", "value": "1", "unit": "U/L"}, schema)
