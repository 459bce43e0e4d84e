"""``oncotrials schedule week`` and ``schedule validate`` on small instances."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fixtures.scheduling import chair, tiny_doc, wednesday_doc
from oncotrials.cli.commands.schedule import app

runner = CliRunner()


def _write(tmp_path: Path, name: str, doc: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_week_plans_writes_and_validates(tmp_path):
    instance = _write(tmp_path, "slice.json", wednesday_doc(12, 2))
    out = tmp_path / "plan.json"
    args = ["week", str(instance), "--time-limit", "0.2", "--deterministic", "--out", str(out)]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["requests"] == 14
    assert document["objective"] <= document["first_fit_objective"]
    assert document["violations"] == 0
    assert document["lower_bound"] is None or document["lower_bound"] <= document["objective"]
    plan = json.loads(out.read_text(encoding="utf-8"))
    assert len(plan) + len(document["unscheduled"]) == 14
    assert all(len(v) == 3 for v in plan.values())
    checked = runner.invoke(app, ["validate", str(instance), str(out), "--format", "json"])
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert report["violations"] == []
    assert report["objective"] == document["objective"]
    human = runner.invoke(app, ["validate", str(instance), str(out)])
    assert "no violation" in human.stdout


def test_week_human_output(tmp_path):
    instance = _write(tmp_path, "tiny.json", tiny_doc([chair("A", [0]), chair("B", [0, 1])]))
    result = runner.invoke(app, ["week", str(instance), "--time-limit", "0.2", "--deterministic"])
    assert result.exit_code == 0, result.output
    assert "objective" in result.stdout
    assert "gap to the bound" in result.stdout or "none proved" in result.stdout


def test_validate_lists_violations_and_exits_1(tmp_path):
    instance = _write(tmp_path, "tiny.json", tiny_doc([chair("A", [0]), chair("B", [0])], chairs=1))
    plan = _write(tmp_path, "plan.json", {"A": [0, 96, -1], "B": [0, 100, -1], "Z": [0, 96, -1]})
    result = runner.invoke(app, ["validate", str(instance), str(plan), "--format", "json"])
    assert result.exit_code == 1
    codes = {v["code"] for v in json.loads(result.stdout)["violations"]}
    assert codes == {"chair_capacity", "unknown_visit"}
    human = runner.invoke(app, ["validate", str(instance), str(plan)])
    assert human.exit_code == 1
    assert "chair_capacity" in human.stdout
    assert "day 0 08:20" in human.stdout


def test_bad_instance_names_the_field_and_plans_nothing(tmp_path):
    doc = tiny_doc([chair("A", [0], unit="couch")])
    instance = _write(tmp_path, "bad.json", doc)
    out = tmp_path / "plan.json"
    result = runner.invoke(app, ["week", str(instance), "--time-limit", "1", "--out", str(out)])
    assert result.exit_code == 1
    assert "$.visits[0].unit" in result.stderr
    assert "unknown resource 'couch'" in result.stderr
    assert not out.exists()


def test_solution_that_is_not_an_object(tmp_path):
    instance = _write(tmp_path, "tiny.json", tiny_doc([chair("A", [0])]))
    plan = _write(tmp_path, "plan.json", [1, 2])
    result = runner.invoke(app, ["validate", str(instance), str(plan)])
    assert result.exit_code == 1
    assert "expected an object" in result.stderr
