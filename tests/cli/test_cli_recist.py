"""``oncotrials recist evaluate``: JSON and human output, the documented example, bad files."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oncotrials.cli.commands.recist import app
from oncotrials.core.recist.io import recist_input_schema

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats"
EXAMPLE = FORMATS / "recist-input.example.json"
runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["evaluate", *args])


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "input.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _example() -> dict:
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_the_documented_schema_is_the_one_the_reader_uses():
    documented = json.loads((FORMATS / "recist-input.schema.json").read_text(encoding="utf-8"))
    assert documented == recist_input_schema()


def test_example_as_json_names_the_table_rows_and_the_best_response():
    result = _run(str(EXAMPLE), "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["criteria"] == "RECIST 1.1"
    p1, p2 = document["patients"]
    assert [tp["overall"] for tp in p1["timepoints"]] == ["PR", "PR", "PD"]
    assert p1["timepoints"][2]["rule"].startswith("RECIST 1.1 Table 1 row 9")
    # 32.5 + 18.0 + 21.0 = 71.5 mm → 21.0 + 12.4 + 14.0 = 47.4 mm: -33.71 %
    assert p1["baseline_sum_mm"] == "71.50"
    assert p1["timepoints"][0]["change_from_baseline_pct"] == "-33.71"
    assert p1["bor"] == {
        "response": "PR",
        "date": "2024-02-19",
        "rule": "PR confirmed on 2024-04-01, at least 28 days later (RECIST 1.1 section 4.4, "
        "Table 3)",
        "confirmed_by": "2024-04-01",
    }
    assert p1["progression_date"] == "2024-05-13"
    assert p2["bor"]["response"] == "PD"


def test_irecist_sees_pseudo_progression_where_recist_stops():
    result = _run(str(EXAMPLE), "--criteria", "irecist", "--format", "json")
    assert result.exit_code == 0, result.output
    p2 = json.loads(result.stdout)["patients"][1]
    assert [tp["overall"] for tp in p2["timepoints"]] == ["iUPD", "iPR", "iPR"]
    assert p2["ibor"]["response"] == "iPR"
    assert p2["timepoints"][0]["recist"]["overall"] == "PD"


def test_no_confirm_overrides_the_file():
    result = _run(str(EXAMPLE), "--no-confirm", "--format", "json")
    document = json.loads(result.stdout)
    assert document["confirmation"] is False
    assert document["patients"][0]["bor"]["rule"].startswith("best time-point response PR")


def test_human_output_shows_table_rows_and_bor():
    result = _run(str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert "Patient P001" in result.stdout
    assert "RECIST 1.1 Table 1 row 9: new lesion → PD" in result.stdout
    assert "BOR: PR" in result.stdout


def test_decimal_input_is_exact(tmp_path):
    # 21 → 25.2 mm is exactly +20 % (a binary float would give 19.999...%)
    document = _example()
    patient = document["patients"][1]
    patient["assessments"] = patient["assessments"][:1]
    patient["baseline"]["lesions"][0]["diameter_mm"] = 21
    patient["assessments"][0]["lesions"][0]["diameter_mm"] = Decimal("25.2")
    path = tmp_path / "exact.json"
    path.write_text(json.dumps(document, default=str).replace('"25.2"', "25.2"), encoding="utf-8")
    out = json.loads(_run(str(path), "--format", "json").stdout)
    assert out["patients"][1]["timepoints"][0]["change_from_nadir_pct"] == "20.00"


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (
            lambda d: d["patients"][0]["assessments"][1]["lesions"][0].update(diameter_mm=-4),
            "$.patients[0].assessments[1].lesions[0].diameter_mm",
            "less than the minimum of 0",
        ),
        (
            lambda d: d["patients"][1]["baseline"]["lesions"][0].pop("organ"),
            "$.patients[1].baseline.lesions[0]",
            "'organ' is a required property",
        ),
        (
            lambda d: d["patients"][0]["assessments"][0].update(date="2024-13-40"),
            "$.patients[0].assessments[0].date",
            "not a calendar date",
        ),
        (
            lambda d: d["patients"][0]["assessments"][0]["lesions"][3].update(status="better"),
            "$.patients[0].assessments[0].lesions[3].status",
            "'better' is not one of",
        ),
        (
            lambda d: d["patients"][1].update(patient_id="P001"),
            "$.patients[1].patient_id",
            "'P001' is also patient 0",
        ),
    ],
)
def test_schema_faults_name_their_json_path(tmp_path, mutate, path, fragment):
    document = copy.deepcopy(_example())
    mutate(document)
    result = _run(str(_write(tmp_path, document)))
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert path in message
    assert fragment in message
    assert "Traceback" not in result.output


def test_rule_faults_name_patient_assessment_lesion_and_field(tmp_path):
    document = _example()
    del document["patients"][0]["assessments"][1]["lesions"][1]  # T2 missing without status
    result = _run(str(_write(tmp_path, document)))
    assert result.exit_code == 1
    message = " ".join(result.stderr.split())
    assert "Patient P001, assessment 2 (2024-04-01), target lesion T2: missing" in message


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"patients": [\n  {"patient_id": }\n]}', encoding="utf-8")
    result = _run(str(path))
    assert result.exit_code == 1
    assert "line 2, column 18" in result.stderr


def test_missing_file(tmp_path):
    result = _run(str(tmp_path / "nope.json"))
    assert result.exit_code == 1
    assert "Cannot read" in result.stderr
