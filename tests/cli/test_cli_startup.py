"""Start-up: `make run` takes a host and a port, and the demo load tells how far it is."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oncotrials.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], '--host "127.0.0.1" --port "8000"'),
        (["PORT=8001", "HOST=127.0.0.1"], '--host "127.0.0.1" --port "8001"'),
    ],
)
def test_make_run_passes_host_and_port_to_oncotrials_run(args, expected):
    dry = subprocess.run(
        ["make", "-n", "-W", "pyproject.toml", "run", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in dry.stdout.splitlines() if "oncotrials run" in x)
    assert "--demo-if-empty" in line
    assert expected in line


def test_run_takes_host_and_port():
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--host" in result.stdout
    assert "--port" in result.stdout
    assert runner.invoke(app, ["run", "--port", "0"]).exit_code != 0


@pytest.mark.django_db(transaction=True)
def test_the_demo_load_shows_each_step_with_counts_and_time():
    result = runner.invoke(app, ["demo", "--seed", "7", "--no-patients"])
    assert result.exit_code == 0, result.output
    steps = [x for x in result.stderr.splitlines() if " done — " in x]
    assert [s.split(" done")[0].strip() for s in steps[:3]] == ["sites", "users", "trials"]
    trials = next(s for s in steps if s.strip().startswith("trials done"))
    assert re.search(r"\b[1-9]\d* trials, 0 patients\b", trials)
    assert all(re.search(r"\[\d+\.\d s\]$", s) for s in steps)
    assert re.search(r"Demo loaded in \d+\.\d s\.", result.stderr)
