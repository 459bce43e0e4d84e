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


def test_sprec_unknown_type_is_one_line() -> None:
    r = runner.invoke(app, ["biobank", "sprec", "gel"])
    assert r.exit_code == 1
    assert "Unknown specimen type 'gel'" in r.output
