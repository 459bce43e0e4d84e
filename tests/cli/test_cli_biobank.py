"""``oncotrials biobank``: SPREC without a database, custody check exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from oncotrials.cli.main import app

runner = CliRunner()


def test_sprec_json() -> None:
    r = runner.invoke(
        app,
        [
            "biobank",
            "sprec",
            "serum",
            "--container",
            "SST",
            "--centrifugations",
            "1",
            "--precentrifugation-min",
            "150",
            "--precentrifugation-temp",
            "2-10",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["code"] == "SER-SST-D-X-N-X-X"


def test_sprec_spins_are_checked_and_coded_from_verified_rows_only() -> None:
    args = ["biobank", "sprec", "whole_blood", "--container", "EDTA", "--centrifugations", "2"]
    spins = ["--spin", "4 °C,1600 g,10 min,off", "--spin", "4,16000 x g,600 s,on"]
    r = runner.invoke(app, [*args, *spins, "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["code"].split("-")[3:5] == ["X", "X"]
    assert out["elements"][4][2] == (
        "unknown (no verified SPREC row for 4 °C, 16000 × g, 10 min, braked)"
    )
    bad = runner.invoke(app, [*args, "--spin", "4,3000 rpm,10,on"])
    assert bad.exit_code == 1
    assert "spin 1 force" in bad.output
    assert "not rpm" in bad.output


def test_sprec_unknown_type_is_one_line() -> None:
    r = runner.invoke(app, ["biobank", "sprec", "gel"])
    assert r.exit_code == 1
    assert "Unknown specimen type 'gel'" in r.output
