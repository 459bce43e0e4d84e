"""``oncotrials schedule check`` and ``schedule calendar``: the documented example and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from oncotrials.cli.commands.schedule import app

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "formats" / "visit-schedule.example.yaml"
FORMS = (
    "demographics,medical_history,eligibility,vital_signs,ecog,labs,exposure,adverse_events,"
    "recist,end_of_treatment,survival_status,subsequent_therapy"
)
runner = CliRunner()


def test_check_the_example_with_its_forms_finds_nothing():
    result = runner.invoke(app, ["check", str(EXAMPLE), "--forms", FORMS, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["errors"] == 0
    assert document["problems"] == []
    assert document["forms_checked"] is True
    human = runner.invoke(app, ["check", str(EXAMPLE)])
    assert human.exit_code == 0
    assert "no problems" in human.stdout


def test_check_reports_an_unknown_form_and_exits_1(tmp_path):
    doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    doc["cycles"]["days"][1]["forms"] = ["vitals"]
    path = tmp_path / "schedule.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = runner.invoke(app, ["check", str(path), "--forms", FORMS, "--format", "json"])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert problems == [
        {
            "code": "E001",
            "level": "error",
            "message": "Visit C1D8 lists an unknown form 'vitals'.",
            "path": "$.cycles.days[1].forms[0]",
            "visit": "C1D8",
        }
    ]
    human = runner.invoke(app, ["check", str(path), "--forms", FORMS])
    assert human.exit_code == 1
    assert "E001" in human.stdout


def test_check_warnings_alone_exit_0(tmp_path):
    path = tmp_path / "schedule.json"
    path.write_text(
        json.dumps({"trial": "T", "cycles": {"length_days": 28, "count": 2, "days": [{"day": 1}]}}),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(path), "--format", "json"])
    assert result.exit_code == 0
    assert [p["code"] for p in json.loads(result.stdout)["problems"]] == ["W001"]


def test_calendar_of_the_example_with_done_visits(tmp_path):
    done = tmp_path / "visits.csv"
    done.write_text(
        "code,date\nSCR,2025-12-20\nC1D1,2026-01-05\nC1D8,2026-01-13\nC2D1,2026-01-28\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        ["calendar", str(EXAMPLE), "--start", "2026-01-05", "--done", str(done),
         "--today", "2026-02-20", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    visits = {v["code"]: v for v in document["visits"]}
    assert visits["C1D8"]["status"] == "done"
    assert visits["C1D8"]["days_from_target"] == 1
    assert visits["C1D15"]["status"] == "overdue"
    # C3D1: 21 days after the actual C2D1 (28 January), window ±3
    assert (visits["C3D1"]["target"], visits["C3D1"]["status"]) == ("2026-02-18", "due")
    assert visits["IMG1"]["target"] == "2026-02-16"
    assert visits["C1D1"]["procedures"][1]["timepoints"][:2] == ["pre-dose", "0.5h"]
    assert document["counts"]["overdue"] == 2
    human = runner.invoke(
        app, ["calendar", str(EXAMPLE), "--start", "2026-01-05", "--today", "2026-01-05"]
    )
    assert human.exit_code == 0
    assert "C1D15" in human.stdout


def test_calendar_after_end_of_treatment_lists_eot_and_follow_up():
    result = runner.invoke(
        app,
        ["calendar", str(EXAMPLE), "--start", "2026-01-05", "--today", "2026-03-01",
         "--end-of-treatment", "2026-02-20", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    codes = [v["code"] for v in json.loads(result.stdout)["visits"]]
    assert codes[-9:] == ["EOT", "FU1", "FU2", "FU3", "FU4", "FU5", "FU6", "FU7", "FU8"]
    assert "C4D1" not in codes  # due 9 March, after the end of treatment


def test_bad_dates_and_done_files_are_one_line_errors(tmp_path):
    result = runner.invoke(app, ["calendar", str(EXAMPLE), "--start", "2026-02-30"])
    assert result.exit_code == 1
    assert "--start: '2026-02-30' is not a calendar date" in result.stderr
    bad = tmp_path / "done.csv"
    bad.write_text("code,date\nC1D1,2026-01-05\nC1D8,12/01/2026\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "calendar",
            str(EXAMPLE),
            "--start",
            "2026-01-05",
            "--done",
            str(bad),
            "--today",
            "2026-02-01",
        ],
    )
    assert result.exit_code == 1
    assert (
        "done.csv line 3: date '12/01/2026' of visit C1D8 is not a calendar date" in result.stderr
    )
    twice = tmp_path / "twice.csv"
    twice.write_text("code,date\nC1D1,2026-01-05\nC1D1,2026-01-06\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "calendar",
            str(EXAMPLE),
            "--start",
            "2026-01-05",
            "--done",
            str(twice),
            "--today",
            "2026-02-01",
        ],
    )
    assert "twice.csv line 3: visit C1D1 is listed twice" in result.stderr
    future = tmp_path / "future.csv"
    future.write_text("code,date\nC1D1,2026-03-05\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "calendar",
            str(EXAMPLE),
            "--start",
            "2026-01-05",
            "--done",
            str(future),
            "--today",
            "2026-02-01",
        ],
    )
    assert result.exit_code == 1
    assert "done.C1D1: 2026-03-05 is after today" in result.stderr


def test_structurally_bad_schedule_is_a_one_line_error_naming_the_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("trial: T\ncycles: {length_days: 0, days: [{day: 1}]}\n", encoding="utf-8")
    result = runner.invoke(app, ["calendar", str(path), "--start", "2026-01-05"])
    assert result.exit_code == 1
    assert "bad.yaml: $.cycles.length_days: 0 is less than the minimum of 1" in result.stderr
    result = runner.invoke(app, ["check", str(path), "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"][0]["code"] == "E006"
