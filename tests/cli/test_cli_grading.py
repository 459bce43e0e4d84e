"""``oncotrials ctcae``, ``crs``, ``icans`` and ``dlt`` commands (typer CliRunner on the apps)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from oncotrials.cli.commands.grading import crs_app, ctcae_app, dlt_app, icans_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "formats" / "examples"
runner = CliRunner(env={"COLUMNS": "220"})


def run_json(app, args):
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ctcae_grade_one_value_as_json():
    # CTCAE v5.0 Neutrophil count decreased G3 "<1000 - 500/mm3"
    doc = run_json(ctcae_app, ["grade", "--analyte", "ANC", "--value", "750", "--unit", "/mm3"])
    assert doc["grade"] == 3
    assert doc["term"] == "Neutrophil count decreased"
    assert doc["meddra_code"] == 10029366
    assert doc["rule"].startswith("CTCAE v5.0 Neutrophil count decreased, grade 3")
    assert doc["value_in_scale"] == "0.750"


def test_ctcae_grade_with_symptoms_and_version():
    args = ["grade", "-a", "potassium", "-v", "3.2", "-u", "mmol/L", "--lln", "3.5", "--uln", "5.1"]
    unknown = run_json(ctcae_app, args)
    assert (unknown["grade"], unknown["possible_grades"], unknown["missing_facts"]) == (
        2,
        [1, 2],
        ["symptomatic"],
    )
    assert run_json(ctcae_app, [*args, "--asymptomatic"])["grade"] == 1
    # CTCAE v6.0 Neutrophil count decreased G3 "<0.5 - 0.1 x 10^9/L"
    v6 = run_json(
        ctcae_app, ["grade", "-a", "ANC", "-v", "0.3", "-u", "10^9/L", "--ctcae-version", "6.0"]
    )
    assert v6["grade"] == 3


def test_ctcae_grade_human_output_names_the_rule():
    result = runner.invoke(
        ctcae_app,
        [
            "grade",
            "--analyte",
            "ALT",
            "--value",
            "181",
            "--unit",
            "U/L",
            "--uln",
            "40",
            "--baseline",
            "60",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Grade 2" in result.stdout
    assert "3 × baseline (180 U/L)" in result.stdout


def test_ctcae_errors_are_one_line_with_exit_1():
    result = runner.invoke(ctcae_app, ["grade", "-a", "ANC", "-v", "1", "-u", "U/L"])
    assert result.exit_code == 1
    assert "does not fit" in result.output
    assert "Traceback" not in result.output
    negative = runner.invoke(ctcae_app, ["grade", "-a", "ANC", "-v", "-1", "-u", "10^9/L"])
    assert negative.exit_code == 1
    assert "cannot be negative" in negative.output


def test_ctcae_grade_labs_file():
    doc = run_json(ctcae_app, ["grade-labs", str(EXAMPLES / "labs.example.csv")])
    assert doc["ctcae_version"] == "5.0"
    assert [r["grade"] for r in doc["results"]] == [0, 4, 2, 1, 1, 2, 3, 3]
    assert doc["results"][1]["line"] == 3
    human = runner.invoke(ctcae_app, ["grade-labs", str(EXAMPLES / "labs.example.csv")])
    assert human.exit_code == 0
    assert "Neutrophil count decreased" in human.stdout


def test_ctcae_grade_labs_bad_file(tmp_path):
    bad = tmp_path / "labs.csv"
    bad.write_text("analyte,value,unit\nANC,0.5,10^9/L\nALT,50,bananas\n", encoding="utf-8")
    result = runner.invoke(ctcae_app, ["grade-labs", str(bad)])
    assert result.exit_code == 1
    assert "Line 3 of labs.csv" in result.output
    missing = runner.invoke(ctcae_app, ["grade-labs", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1
    assert "Cannot read" in missing.output


def test_ctcae_term_lookup():
    doc = run_json(ctcae_app, ["term", "Febrile neutropenia"])
    assert doc["meddra_code"] == 10016288
    assert doc["grades"]["1"] is None  # grade 1 does not exist
    by_code = run_json(ctcae_app, ["term", "10016288", "--grade", "3"])
    assert by_code["grades"]["3"].startswith("ANC <1000/mm3")
    missing = runner.invoke(ctcae_app, ["term", "Febrile neutropenia", "--grade", "1"])
    assert missing.exit_code == 1
    assert "Grade 1 does not exist" in missing.output
    unknown = runner.invoke(ctcae_app, ["term", "Febrile neutropaenia"])
    assert unknown.exit_code == 1
    assert "Did you mean 'Febrile neutropenia'" in unknown.output


def test_crs_grade_file():
    doc = run_json(crs_app, ["grade", str(EXAMPLES / "crs.example.yaml")])
    # Lee 2019 CRS table: fever only G1; fever + 1 vasopressor + low-flow NC G3; after
    # anti-cytokine therapy, hypotension without vasopressors G2
    assert [a["grade"] for a in doc["assessments"]] == [1, 3, 2]
    assert doc["worst_grade"] == 3
    assert doc["subject_id"] == "101-002"


def test_icans_grade_file():
    doc = run_json(icans_app, ["grade", str(EXAMPLES / "icans.example.yaml")])
    # Lee 2019 ICANS table: ICE 8 G1; ICE 3 + seizure G3; ICE 10 G0
    assert [a["grade"] for a in doc["assessments"]] == [1, 3, 0]
    assert doc["assessments"][0]["ice_score"] == 8
    human = runner.invoke(icans_app, ["grade", str(EXAMPLES / "icans.example.yaml")])
    assert human.exit_code == 0
    assert "seizure" in human.stdout


def test_crs_bad_file(tmp_path):
    bad = tmp_path / "crs.json"
    bad.write_text(json.dumps([{"temperature_c": 39, "oxygen_device": "helmet"}]), encoding="utf-8")
    result = runner.invoke(crs_app, ["grade", str(bad)])
    assert result.exit_code == 1
    assert "oxygen_device 'helmet'" in result.output
    wrong_shape = tmp_path / "x.yaml"
    wrong_shape.write_text("patient: 1\n", encoding="utf-8")
    assert runner.invoke(crs_app, ["grade", str(wrong_shape)]).exit_code == 1


def test_dlt_evaluate():
    doc = run_json(
        dlt_app,
        [
            "evaluate",
            "--rules",
            str(EXAMPLES / "dlt-rules.example.yaml"),
            str(EXAMPLES / "dlt-subjects.example.yaml"),
        ],
    )
    assert doc["window_days"] == 21
    by_subject = {s["subject_id"]: s for s in doc["subjects"]}
    # reference vector D-2 (G4 neutropenia for 8 days) and D-7 (nausea exception)
    assert by_subject["101-001"]["outcome"] == "dlt"
    assert by_subject["101-001"]["rule_id"] == "NEUT_G4_PROLONGED"
    # D-9 (onset day 25, 21-day window) and D-14 (CRS G3 for 48 h)
    assert by_subject["101-002"]["outcome"] == "not_dlt"
    reasons = {e["event_id"]: e["reason"] for e in by_subject["101-002"]["events"]}
    assert "outside the DLT window" in reasons["AE-1"]
    assert "lasted 2 days" in reasons["CRS-1"]


def test_dlt_evaluate_human_and_bad_rules(tmp_path):
    result = runner.invoke(
        dlt_app,
        [
            "evaluate",
            "-r",
            str(EXAMPLES / "dlt-rules.example.yaml"),
            str(EXAMPLES / "dlt-subjects.example.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "NEUT_G4_PROLONGED" in result.stdout
    bad = tmp_path / "rules.yaml"
    bad.write_text(
        "dlt:\n  window: {days: 21}\n  rules:\n    - {id: X, min_grade: 9}\n", encoding="utf-8"
    )
    failed = runner.invoke(
        dlt_app, ["evaluate", "-r", str(bad), str(EXAMPLES / "dlt-subjects.example.yaml")]
    )
    assert failed.exit_code == 1
    assert "rules.yaml: dlt/rules/0" in failed.output


def test_ctcae_grade_by_term_and_baseline_flag():
    # Potassium 4.0 >= LLN 3.5 as Hypokalemia: grade 0 without a ULN.
    doc = run_json(
        ctcae_app,
        ["grade", "--term", "Hypokalemia", "-v", "4.0", "-u", "mmol/L", "--lln", "3.5"],
    )
    assert (doc["grade"], doc["analyte"]) == (0, "potassium")
    # ALT 160, ULN 40, baseline 30 flagged abnormal: G3 (> 5 x baseline 150).
    args = ["grade", "-a", "ALT", "-v", "160", "-u", "U/L", "--uln", "40", "--baseline", "30"]
    doc = run_json(ctcae_app, [*args, "--baseline-abnormal"])
    assert (doc["grade"], doc["baseline_abnormal"], doc["baseline_basis"]) == (3, True, "flag")
    doc = run_json(ctcae_app, args)
    assert (doc["grade"], doc["baseline_abnormal"], doc["baseline_basis"]) == (
        2,
        False,
        "inferred",
    )
    human = runner.invoke(ctcae_app, [*args, "--baseline-abnormal"])
    assert human.exit_code == 0
    assert "baseline: abnormal (as flagged)" in human.stdout
    neither = runner.invoke(ctcae_app, ["grade", "-v", "1", "-u", "mmol/L"])
    assert neither.exit_code == 1
    assert "Give the analyte" in neither.output


BAD_BATCH = (
    "subject_id,term,analyte,value,unit,lln,uln\n"
    "S1,Neutrophil count decreased,,0.4,10^9/L,1.8,\n"
    "S1,,ALT,300,U/L,,\n"
    "S2,Hypokalemia,,4.0,mmol/L,3.5,\n"
    "S2,Alanine aminotransferase increased,neutrophils,0.4,10^9/L,,\n"
)


def test_ctcae_grade_labs_default_refuses_the_batch(tmp_path):
    labs = tmp_path / "labs.csv"
    labs.write_text(BAD_BATCH, encoding="utf-8")
    result = runner.invoke(ctcae_app, ["grade-labs", str(labs), "--format", "json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Line 3 of labs.csv" in result.output
    assert "1 more row(s) refused: line(s) 5" in result.output


def test_ctcae_grade_labs_keep_going(tmp_path):
    labs = tmp_path / "labs.csv"
    labs.write_text(BAD_BATCH, encoding="utf-8")
    result = runner.invoke(ctcae_app, ["grade-labs", str(labs), "--keep-going", "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [(r["line"], r["grade"]) for r in doc["results"]] == [(2, 4), (4, 0)]
    assert [(r["line"], r["subject_id"], r["code"]) for r in doc["refused"]] == [
        (3, "S1", "missing_reference"),
        (5, "S2", "term_analyte_mismatch"),
    ]
    assert "depends on the ULN" in doc["refused"][0]["reason"]
    assert "2 row(s) refused (line(s) 3, 5); 2 graded." in result.stderr
    human = runner.invoke(ctcae_app, ["grade-labs", str(labs), "--keep-going"])
    assert human.exit_code == 1
    assert "Refused rows of labs.csv" in human.stdout
    assert "disagree" in human.stdout


def test_ctcae_grade_labs_keep_going_with_no_refusal_exits_0():
    doc = run_json(
        ctcae_app, ["grade-labs", str(EXAMPLES / "labs-terms.example.csv"), "--keep-going"]
    )
    assert doc["refused"] == []
    assert [r["grade"] for r in doc["results"]] == [3, 0, 3, 2, 2, 2]
    assert doc["results"][2]["baseline_basis"] == "flag"
    human = runner.invoke(ctcae_app, ["grade-labs", str(EXAMPLES / "labs-terms.example.csv")])
    assert human.exit_code == 0
    assert "abnormal (as flagged)" in human.stdout
