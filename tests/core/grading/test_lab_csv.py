"""Batch lab CSV grading (docs/formats/labs.md): all or nothing, errors name line and column."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import jsonschema
import pytest

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.grading.labs import grade_lab_csv, grade_lab_file

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "docs" / "formats" / "examples" / "labs.example.csv"

HEADER = "subject_id,date,analyte,value,unit,lln,uln,baseline,symptomatic\n"


def test_example_file_grades_every_row():
    rows = grade_lab_file(EXAMPLE)
    got = {(r.line, r.result.analyte): r.result.grade for r in rows}
    # CTCAE v5.0: ANC 3.2 normal; ANC 0.40 G4 (<0.5); platelets 62,000/mm3 G2 (<75,000-50,000);
    # ALT 130 with baseline 62 > ULN 40: 1.5-3.0 x baseline G1; potassium 3.2 asymptomatic G1;
    # corrected calcium 11.8 mg/dL G2 (>11.5-12.5); lipase 2.5 x ULN, symptoms unknown: worse G3;
    # QTc 487 ms with baseline 410: >60 ms change G3
    assert got == {
        (2, "neutrophils"): 0,
        (3, "neutrophils"): 4,
        (4, "platelets"): 2,
        (5, "alt"): 1,
        (6, "potassium"): 1,
        (7, "calcium"): 2,
        (8, "lipase"): 3,
        (9, "qtc"): 3,
    }
    lipase = next(r for r in rows if r.result.analyte == "lipase")
    assert lipase.result.possible_grades == (2, 3)
    assert rows[1].subject_id == "101-001"
    assert rows[1].date == "2026-03-11"


def test_example_rows_match_the_published_row_schema():
    schema = json.loads(
        (ROOT / "docs" / "formats" / "labs.schema.json").read_text(encoding="utf-8")
    )
    for row in csv.DictReader(io.StringIO(EXAMPLE.read_text(encoding="utf-8"))):
        jsonschema.validate(row, schema)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "S1,2026-01-01,ANC,-0.5,10^9/L,1.8,,,",
            r"Line 2 of labs.csv: neutrophils \(ANC\) value cannot be negative",
        ),
        ("S1,2026-01-01,ANC,0.5,U/L,1.8,,,", r"Line 2 of labs\.csv: Unit 'U/L' does not fit"),
        ("S1,2026-01-01,ANC,0.5,parsecs,1.8,,,", "Line 2 of labs.csv: Unknown unit 'parsecs'"),
        ("S1,2026-01-01,troponin,5,ng/L,,,,", "Line 2 of labs.csv: Unknown analyte 'troponin'"),
        ("S1,2026-01-01,K,3.2,mmol/L,3.5,5.1,,maybe", "column symptomatic must be yes/no"),
        ("S1,2026-01-01,ALT,300,U/L,,,,", r"Line 2 of labs.csv: .*depends on the ULN"),
        ("S1,2026-01-01,,300,U/L,,,,", "Line 2 of labs.csv: column analyte is empty"),
        ("S1,2026-01-01,ANC,0.5,10^9/L,1.8,,,,extra", "more fields than columns"),
    ],
)
def test_bad_rows_name_the_line_and_field(row, message):
    text = HEADER + row + "\n"
    with pytest.raises((ValidationError, NotFoundError), match=message):
        grade_lab_csv(text, source="labs.csv")


def test_error_on_a_later_line_names_that_line():
    text = HEADER + "S1,d,ANC,2.5,10^9/L,1.8,,,\nS1,d,ANC,x,10^9/L,1.8,,,\n"
    with pytest.raises(ValidationError, match=r"Line 3 of labs\.csv") as info:
        grade_lab_csv(text, source="labs.csv")
    assert info.value.extra["line"] == 3


def test_unknown_and_missing_columns_are_refused():
    with pytest.raises(ValidationError, match=r"unknown column.*ULN"):
        grade_lab_csv("analyte,value,unit,ULN\nALT,50,U/L,40\n")
    with pytest.raises(ValidationError, match=r"missing column.*unit"):
        grade_lab_csv("analyte,value\nALT,50\n")
    with pytest.raises(ValidationError, match="no rows"):
        grade_lab_csv("analyte,value,unit\n")
    with pytest.raises(ValidationError, match="empty"):
        grade_lab_csv("")


def test_version_applies_to_the_whole_file():
    text = "analyte,value,unit\nANC,0.3,10^9/L\n"
    # CTCAE v5.0 Neutrophil G4 <0.5; v6.0 G3 <0.5 - 0.1
    assert grade_lab_csv(text)[0].result.grade == 4
    assert grade_lab_csv(text, version="6.0")[0].result.grade == 3


def test_blank_lines_are_skipped_and_a_bom_is_accepted():
    text = "\ufeffanalyte,value,unit,symptomatic\nK,2.4,mmol/L,\n,,,\n"
    rows = grade_lab_csv(text)
    assert [r.result.grade for r in rows] == [4]  # CTCAE v5.0 Hypokalemia G4 <2.5 mmol/L
