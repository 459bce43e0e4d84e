"""``oncotrials export sdtm`` and ``oncotrials convert``: what a sponsor's data manager runs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from oncotrials.cli.main import app

runner = CliRunner()
FIX = Path(__file__).resolve().parents[2] / "fixtures" / "exports"


def test_export_makes_the_cut_then_gives_the_same_files(trial_data: Any, tmp_path: Path):
    from oncotrials.apps.exports.models import DataCut

    code = trial_data.cohort.trial.protocol_code
    args = ["export", "sdtm", "--study", code, "--cut", "transfer-1", "--format", "json"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a"), "--user", "datamanager"])
    assert first.exit_code == 0, first.output
    made = json.loads(first.stdout)
    assert made["made"] is True
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["made"] is False
    for f in made["files"]:
        a = (tmp_path / "a" / f["name"]).read_bytes()
        assert a == (tmp_path / "b" / f["name"]).read_bytes()
        assert hashlib.sha256(a).hexdigest() == f["sha256"]
    cut = DataCut.objects.get(name="transfer-1")
    assert cut.created_by.username == "datamanager"
    # the data manager holds a site-wide membership at the main site only
    assert list(cut.cut_sites.values_list("site__code", flat=True)) == ["main"]


def test_export_errors_are_one_line(trial_data: Any, tmp_path: Path) -> None:
    code = trial_data.cohort.trial.protocol_code
    unknown = runner.invoke(app, ["export", "nosuch", "--study", code, "--cut", "x"])
    assert unknown.exit_code == 1
    assert "Unknown export format 'nosuch'; known: " in unknown.stderr
    assert "sdtm" in unknown.stderr
    missing = runner.invoke(app, ["export", "sdtm", "--study", "NOPE", "--cut", "x"])
    assert missing.exit_code == 1
    assert "No trial with protocol code 'NOPE'" in missing.stderr
    outsider = runner.invoke(
        app, ["export", "sdtm", "--study", code, "--cut", "x", "--user", "outsider"]
    )
    assert outsider.exit_code == 1
    assert "does not allow you to make data cuts" in outsider.stderr
    listed = runner.invoke(app, ["export", "--list"])
    assert listed.exit_code == 0
    assert {"cbioportal", "fhir", "odm", "sdtm"} <= {
        line.split()[0] for line in listed.stdout.splitlines() if line
    }


@pytest.mark.parametrize("name", ["dm", "ts"])
def test_convert_xpt_to_dsj_with_define(tmp_path: Path, name: str) -> None:
    out = tmp_path / f"{name}.json"
    result = runner.invoke(
        app,
        [
            "convert",
            "xpt-to-dsj",
            str(FIX / "cdisc" / f"{name}.xpt"),
            str(out),
            "--define",
            str(FIX / "cdisc" / "define.xml"),
        ],
    )
    assert result.exit_code == 0, result.output
    got = json.loads(out.read_text())
    expected = json.loads((FIX / "cdisc" / f"{name}.json").read_text())
    assert got["rows"] == expected["rows"]
    assert got["columns"] == expected["columns"]


def test_convert_refuses_what_is_not_xpt(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["convert", "xpt-to-dsj", str(FIX / "pharmaversesdtm" / "ts.csv"), str(tmp_path / "o")]
    )
    assert result.exit_code == 1
    assert "not a SAS transport" in result.stderr
    assert not (tmp_path / "o").exists()


def test_convert_sdtm_recist_prints_the_agreement(tmp_path: Path) -> None:
    pv = FIX / "pharmaversesdtm"
    result = runner.invoke(
        app,
        [
            "convert",
            "sdtm-recist",
            str(pv / "tu_onco_recist.csv"),
            str(pv / "tr_onco_recist.csv"),
            str(pv / "rs_onco_recist.csv"),
            "--dm",
            str(pv / "dm.csv"),
            "--evaluator",
            "INDEPENDENT ASSESSOR",
            "--evaluator-id",
            "RADIOLOGIST 2",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["agreed"], report["compared"]) == (21, 22)
    (row,) = [r for r in report["rows"] if not r["agrees"]]
    assert row["subject"] == "01-701-1133"
    assert row["explanation"]
