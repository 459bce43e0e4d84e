"""``oncotrials survival km``: the documented example, a published data set, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lifelines.datasets import load_leukemia
from typer.testing import CliRunner

from oncotrials.cli.commands.survival import app
from oncotrials.core.survival.io import survival_input_schema

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats"
EXAMPLE = FORMATS / "survival-input.example.json"
runner = CliRunner()


def _km(path: Path, *args: str):
    return runner.invoke(app, ["km", str(path), *args])


def _write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "subjects.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_the_documented_schema_is_the_one_the_reader_uses():
    documented = json.loads((FORMATS / "survival-input.schema.json").read_text(encoding="utf-8"))
    assert documented == survival_input_schema()


def test_example_derives_pfs_with_a_rule_per_subject():
    result = _km(EXAMPLE, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    rules = {s["subject_id"]: (s["days"], s["event"], s["rule"]) for s in document["subjects"]}
    assert rules["S01"][:2] == (168, True)  # 2024-01-08 → progression 2024-06-24
    assert rules["S04"][:2] == (112, False)  # new therapy: last scan before it, 2024-06-03
    assert "new anticancer therapy" in rules["S04"][2]
    assert rules["S05"][:2] == (56, False)  # progression after 2 missed 8-weekly visits
    assert "missed visits" in rules["S05"][2]
    assert rules["S08"][:2] == (0, False)  # no baseline assessment
    level_1, level_2 = document["groups"]
    assert (level_1["n"], level_1["events"]) == (4, 2)
    assert (level_2["label"], level_2["n"]) == ("dose level 2", 4)
    # S(12 months) lies beyond the last (censored) follow-up of dose level 1: not estimated
    assert level_1["at"][1]["survival"] is None
    assert level_1["median_ci"][1] is None  # upper bound not reached


def test_freireich_6mp_arm_through_the_command(tmp_path):
    # Freireich 1963 6-MP arm: published median remission 23 weeks; CI (13, not reached) and
    # S(10) = 0.7529 as lifelines 0.30.3 computes them (reference file, survival section).
    data = load_leukemia()
    arm = data[data.Rx == 0]
    document = {
        "time_unit": "weeks",
        "times": [10],
        "subjects": [
            {"subject_id": f"F{i}", "time": float(t), "event": bool(e)}
            for i, (t, e) in enumerate(zip(arm.t, arm.status, strict=True))
        ],
    }
    result = _km(_write(tmp_path, document), "--format", "json")
    group = json.loads(result.stdout)["groups"][0]
    assert group["median"] == 23
    assert group["median_ci"] == [13, None]
    assert group["at"][0]["survival"] == pytest.approx(0.7529, abs=1e-4)


def test_human_output():
    result = _km(EXAMPLE)
    assert result.exit_code == 0, result.output
    assert "PFS (Kaplan-Meier, months)" in result.stdout
    assert "dose level 1" in result.stdout
    assert "S05:" in result.stdout


def test_dor_excludes_non_responders(tmp_path):
    document = {
        "endpoint": "DoR",
        "time_unit": "days",
        "subjects": [
            {
                "subject_id": "R1",
                "start_date": "2024-01-01",
                "response_date": "2024-02-26",
                "assessment_dates": ["2024-02-26", "2024-04-22"],
                "progression_date": "2024-06-17",
            },
            {"subject_id": "N1", "start_date": "2024-01-01", "progression_date": "2024-02-26"},
        ],
    }
    document_out = json.loads(_km(_write(tmp_path, document), "--format", "json").stdout)
    assert [s["subject_id"] for s in document_out["subjects"]] == ["R1"]
    assert document_out["subjects"][0]["days"] == 112
    assert document_out["excluded"] == ["N1"]


@pytest.mark.parametrize(
    ("subjects", "fragment"),
    [
        ([{"subject_id": "A", "time": -1, "event": True}], "$.subjects[0]"),
        ([{"subject_id": "A"}], "$.subjects[0]"),
        (
            [{"subject_id": "A", "start_date": "2024-03-01", "death_date": "2024-02-01"}],
            "$.subjects[0]: Subject A, field death_date",
        ),
        (
            [
                {"subject_id": "A", "time": 1, "event": True},
                {"subject_id": "A", "time": 2, "event": False},
            ],
            "$.subjects[1].subject_id: 'A' appears twice",
        ),
    ],
)
def test_bad_input_names_the_json_path(tmp_path, subjects, fragment):
    result = _km(_write(tmp_path, {"subjects": subjects}))
    assert result.exit_code == 1
    assert fragment in " ".join(result.stderr.split())
