"""Import budget of the command line: each command imports only what it uses.

Run in a fresh interpreter (``sys.modules`` of the test process holds everything already), so
that the test sees what a user's ``oncotrials --help`` or ``oncotrials ctcae grade`` loads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from oncotrials.cli.main import COMMANDS, app, load_command

HEAVY = ("lifelines", "pandas", "polars", "scipy", "django", "matplotlib", "jsonschema")

_PROBE = """
import json, sys
from oncotrials.cli.main import main
sys.argv = ["oncotrials", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
tops = sorted({m.split(".")[0] for m in sys.modules})
commands = sorted(m for m in sys.modules if m.startswith("oncotrials.cli.commands."))
sys.stderr.write("\\nMODULES " + json.dumps({"tops": tops, "commands": commands}) + "\\n")
"""


def _loaded(*args: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "120", "PATH": "", "PYTHONPATH": ":".join(sys.path)},
    )
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return json.loads(line.removeprefix("MODULES "))


def test_help_imports_no_command_module_and_no_heavy_library():
    loaded = _loaded("--help")
    assert loaded["commands"] == []
    assert not {*HEAVY, "numpy", "yaml"} & set(loaded["tops"])


def test_ctcae_grade_imports_the_grading_commands_only():
    loaded = _loaded("ctcae", "grade", "-a", "ANC", "-v", "750", "-u", "/mm3")
    assert loaded["commands"] == ["oncotrials.cli.commands.grading"]
    assert not {*HEAVY, "numpy"} & set(loaded["tops"])


def test_design_simulate_boin_needs_numpy_but_not_scipy():
    loaded = _loaded("design", "simulate", "boin", "--truth", "0.1,0.3,0.5", "-n", "50")
    assert set(loaded["commands"]) == {
        "oncotrials.cli.commands.design",
        "oncotrials.cli.commands.design_model",
    }
    assert "numpy" in loaded["tops"]
    assert not set(HEAVY) & set(loaded["tops"])


@pytest.mark.parametrize("name", list(COMMANDS))
def test_listed_help_is_the_commands_own_help(name):
    command = load_command(name)
    assert command.name == name
    first = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
    assert first == COMMANDS[name].help


def test_every_command_is_listed_and_runs_through_the_lazy_group():
    group = typer.main.get_command(app)
    ctx = typer.Context(group)
    assert group.list_commands(ctx) == list(COMMANDS)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(["design", "list", "--format", "json"])],
        capture_output=True,
        text=True,
        env={"PATH": "", "PYTHONPATH": ":".join(sys.path)},
    )
    assert result.returncode == 0, result.stderr
    assert "boin" in result.stdout


def test_schedule_validate_does_not_import_the_solver():
    week = Path(__file__).resolve().parents[1] / "fixtures" / "ops" / "onc-week-s1.json"
    loaded = _loaded("schedule", "validate", str(week), str(week))
    assert loaded["commands"] == ["oncotrials.cli.commands.schedule"]
    assert not {"ortools", "django", "scipy", "polars"} & set(loaded["tops"])
