"""``oncotrials design``: boundaries, decide and simulate, human and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oncotrials.cli.commands.design import app, register

runner = CliRunner()


@pytest.fixture(autouse=True)
def _one_line_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    # ONCOTRIALS_DEBUG=1 re-raises errors with tracebacks; these tests check the one-liners.
    monkeypatch.delenv("ONCOTRIALS_DEBUG", raising=False)


STD = "0.05,0.10,0.20,0.30,0.45,0.60"


def run_json(*args: str) -> object:
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_boin_boundaries_json() -> None:
    # BOIN::get.boundary(target=0.3, ncohort=10, cohortsize=3)$boundary_tab
    doc = run_json("boundaries", "boin", "--target", "0.3")
    assert doc["lambda_e"] == pytest.approx(0.23649068523646805, abs=1e-15)
    assert doc["lambda_d"] == pytest.approx(0.35851946464092954, abs=1e-15)
    assert [r["deescalate_if_dlts_at_least"] for r in doc["boundaries"]] == [
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
    ]


def test_boundaries_human_table() -> None:
    res = runner.invoke(app, ["boundaries", "keyboard", "--target", "0.3"])
    assert res.exit_code == 0
    assert "Escalate if # of DLT <=" in res.stdout
    assert "Eliminate if # of DLT >=" in res.stdout


def test_full_table_for_i3plus3() -> None:
    # FIND get_decision_i3plus3(pT=0.3, EI=c(0.25,0.35)): n=5 -> E E S D DU DU
    doc = run_json("boundaries", "i3+3", "--full", "--n-cohorts", "2")
    assert doc["table"]["5"] == ["E", "E", "S", "D", "DU", "DU"]


def test_three_plus_three_rules() -> None:
    doc = run_json("boundaries", "3+3")
    assert doc["design"] == "3+3"


def test_decide_json_uses_dose_levels_from_one() -> None:
    doc = run_json("decide", "boin", "--target", "0.3", "--current", "2", "--data", "3/0,3/2,0/0")
    assert doc["action"] == "de-escalate"
    assert doc["current_dose"] == 2
    assert doc["next_dose"] == 1
    assert "de-escalate if DLTs >= 2" in doc["rule"]


def test_decide_from_json_file(tmp_path: Path) -> None:
    p = tmp_path / "data.json"
    p.write_text(json.dumps([{"treated": 3, "dlts": 0}, {"treated": 3, "dlts": 3}]))
    doc = run_json("decide", "boin", "--current", "2", "--data-file", str(p))
    assert doc["action"] == "eliminate"
    assert doc["eliminated_doses"] == [2]


def test_decide_human() -> None:
    res = runner.invoke(app, ["decide", "3+3", "--current", "1", "--data", "3/0,0/0"])
    assert res.exit_code == 0
    assert "ESCALATE" in res.stdout


def test_simulate_json_is_reproducible() -> None:
    args = ("simulate", "boin", "--truth", STD, "--trials", "2000", "--seed", "1")
    a = run_json(*args)
    b = run_json(*args)
    assert a == b
    assert sum(a["selection_percent"]) + a["no_selection_percent"] == pytest.approx(100)


def test_simulate_exact_three_plus_three() -> None:
    # bcrm::threep3(c(0.05,0.10,0.20,0.30,0.45,0.60)): P(MTD = dose 4) = 0.2181409568076908
    doc = run_json("simulate", "3+3", "--truth", STD, "--exact")
    assert doc["selection_percent"][3] == pytest.approx(21.81409568076908, abs=1e-10)


def test_simulate_scenario_file_and_plot(tmp_path: Path) -> None:
    scen = tmp_path / "s.yaml"
    scen.write_text(
        "seed: 3\nn_trials: 500\nscenarios:\n  - truth: [0.1, 0.2, 0.3]\n"
        "  - name: toxic\n    truth: [0.5, 0.6, 0.7]\n"
    )
    out = tmp_path / "sel.svg"
    docs = run_json("simulate", "keyboard", "--scenarios", str(scen), "--plot", str(out))
    assert [d["scenario"] for d in docs] == ["scenario 1", "toxic"]
    assert docs[0]["n_trials"] == 500
    assert out.read_text().lstrip().startswith("<?xml")


def test_simulate_human_prints_table(tmp_path: Path) -> None:
    out = tmp_path / "sel.png"
    res = runner.invoke(
        app,
        ["simulate", "i3+3", "--truth", STD, "--trials", "500", "--seed", "2", "--plot", str(out)],
    )
    assert res.exit_code == 0
    assert "selected %" in res.stdout
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["simulate", "boin", "--truth", "0.05,1.3"], "got 1.3"),
        (["simulate", "boin", "--truth", "0.3,0.1"], "non-decreasing"),
        (["simulate", "crm2", "--truth", "0.1"], "Unknown design 'crm2'"),
        (["boundaries", "boin", "--target", "1.3"], "got 1.3"),
        (["decide", "boin", "--current", "4", "--data", "3/0,0/0"], "--current must be"),
        (["decide", "boin", "--current", "1", "--data", "3/x"], "'3/x'"),
        (["decide", "boin", "--current", "1"], "exactly one of --data"),
        (["simulate", "boin", "--truth", STD, "--plot", "x.pdf"], ".png or .svg"),
        (["simulate", "boin", "--truth", STD, "--exact"], "--exact applies"),
        (["boundaries", "keyboard", "--p-saf", "0.2"], "BOIN only"),
    ],
)
def test_errors_are_one_line(args: list[str], fragment: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 1
    assert fragment in res.output
    assert "Traceback" not in res.output


def test_register_attaches_commands() -> None:
    def hello() -> None:
        """Say hello."""
        print("hello")

    before = len(app.registered_commands)
    register({"hello-test": hello})
    try:
        res = runner.invoke(app, ["hello-test"])
        assert res.exit_code == 0
        assert "hello" in res.stdout
    finally:
        del app.registered_commands[before:]


def test_decide_tite_boin_with_follow_up(tmp_path: Path) -> None:
    # next_TITE_QuasiBOIN(0.3, n=c(3,6,6,0,0), npend=c(0,0,2,0,0), y=c(0,1,1,0,0),
    #                     ft=c(0,0,50,0,0), d=3, maxt=28) -> d=4
    p = tmp_path / "tite.json"
    p.write_text(
        json.dumps(
            [
                {"treated": 3, "dlts": 0},
                {"treated": 6, "dlts": 1},
                {"treated": 6, "dlts": 1, "pending": 2, "follow_up": [25 / 28, 25 / 28]},
                {"treated": 0, "dlts": 0},
                {"treated": 0, "dlts": 0},
            ]
        )
    )
    doc = run_json("decide", "tite-boin", "--current", "3", "--data-file", str(p))
    assert doc["action"] == "escalate"
    assert doc["next_dose"] == 4


def test_decide_tite_boin_suspends() -> None:
    doc = run_json("decide", "tite-boin", "--current", "1", "--data", "3/0/2,0/0")
    assert doc["action"] == "suspend"


def test_list_shows_exactly_the_registry() -> None:
    from oncotrials.core.designs.registry import DESIGNS, design_names

    docs = run_json("list")
    assert [d["name"] for d in docs] == list(design_names())
    assert {d["name"] for d in docs if d["live"]} == set(design_names(live=True))
    assert docs[[d["name"] for d in docs].index("crm")]["parameters"]["skeleton"]["required"]
    res = runner.invoke(app, ["list"])
    assert res.exit_code == 0
    for name in DESIGNS:
        assert name in res.stdout


def test_help_names_every_live_design() -> None:
    from oncotrials.cli.commands.design import DESIGN_NAMES
    from oncotrials.core.designs.registry import design_names

    assert [n.split(" ")[0] for n in DESIGN_NAMES.split(", ")] == list(design_names(live=True))


@pytest.mark.parametrize("alias", ["kb", "KEYBOARD", "Keyboard"])
def test_aliases_come_from_the_registry(alias: str) -> None:
    doc = run_json("decide", alias, "--current", "1", "--data", "3/0,0/0")
    assert doc["design"] == "keyboard"


def test_decide_runs_every_live_design_with_its_parameters() -> None:
    # The CRM through the same registry path as a cohort's escalation plan.
    doc = run_json(
        "decide", "crm", "--current", "1", "--data", "3/0,0/0,0/0",
        "--param", "skeleton=[0.1,0.2,0.35]",
    )  # fmt: skip
    assert doc["design"] == "crm"
    assert doc["action"] == "escalate"
    doc = run_json(
        "decide", "ewoc", "--current", "1", "--data", "3/0,0/0,0/0",
        "--param", "doses=[50,100,200]",
    )  # fmt: skip
    assert doc["design"] == "ewoc"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["decide", "crm", "--current", "1", "--data", "3/0,0/0"], "parameters.skeleton"),
        (
            ["decide", "crm", "--current", "1", "--data", "3/0,0/0", "--param", "skeleton"],
            "--param must read key=value",
        ),
        (["decide", "boin12", "--current", "1", "--data", "3/0,0/0"], "gives no live decision"),
        (["boundaries", "crm"], "'oncotrials design boundaries' runs 3+3, boin"),
        (["simulate", "ewoc", "--truth", "0.1,0.2"], "for ewoc use"),
    ],
)
def test_designs_outside_a_command_are_one_line_errors(args: list[str], fragment: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 1
    assert fragment in res.output
