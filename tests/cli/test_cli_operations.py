"""``oncotrials accrual forecast`` and ``oncotrials activity report`` on the database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from oncotrials.cli.main import app

runner = CliRunner()
pytestmark = pytest.mark.django_db


def test_accrual_forecast_json_and_table(enrol: Any, journey: Any) -> None:
    from oncotrials.apps.operations.services import accrual_plan_save

    enrol(3)
    accrual_plan_save(
        trial=journey.cohort.trial,
        cohort=None,
        target=20,
        starts_on=dt.date(2026, 1, 1),
        duration_months=12,
        certainty=0.5,
        by=journey.unit.users["admin"],
    )
    result = runner.invoke(app, ["accrual", "forecast", "--trial", "T-SHARED", "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["target"], out["accrued"]) == (20, 3)
    assert out["gajewski"]["lower"] <= out["gajewski"]["median"] <= out["gajewski"]["upper"]
    table = runner.invoke(app, ["accrual", "forecast", "--trial", "T-SHARED"])
    assert table.exit_code == 0
    assert "Gajewski" in table.stdout
    # read as the partner's investigator: the partner's patients only (none here)
    narrow = runner.invoke(
        app,
        [
            "accrual",
            "forecast",
            "--trial",
            "T-SHARED",
            "--as",
            "partner_investigator",
            "-f",
            "json",
        ],
    )
    assert json.loads(narrow.stdout)["accrued"] == 0


def test_unknown_trial_and_cohort_are_one_line_errors(unit: Any) -> None:
    result = runner.invoke(app, ["accrual", "forecast", "--trial", "NOPE"])
    assert result.exit_code == 1
    assert "No trial 'NOPE'" in result.output
    result = runner.invoke(app, ["accrual", "forecast", "--trial", "T-MAIN", "--cohort", "ZZ"])
    assert result.exit_code == 1
    assert "ESC" in result.output  # the cohorts it has


def test_activity_report_formats(enrol: Any, tmp_path: Path) -> None:
    enrol(2)
    result = runner.invoke(app, ["activity", "report", "--year", "2026", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert sum(r["included"] for r in doc["tables"]["by_phase"]) == 2
    csv = runner.invoke(app, ["activity", "report", "--year", "2026", "--format", "csv"])
    assert "by_phase" in csv.stdout
    target = tmp_path / "activity.xlsx"
    xlsx = runner.invoke(
        app, ["activity", "report", "--year", "2026", "--format", "xlsx", "--out", str(target)]
    )
    assert xlsx.exit_code == 0
    assert target.read_bytes()[:2] == b"PK"  # a zip: the workbook
    refused = runner.invoke(app, ["activity", "report", "--year", "2026", "--format", "xlsx"])
    assert refused.exit_code == 1
    bad = runner.invoke(app, ["activity", "report", "--year", "2026", "--format", "pdf"])
    assert bad.exit_code == 1
