"""CLI: oncotrials design simon / single-stage / pp-monitor / getprior / crm-decide / crm-simulate."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from oncotrials.cli.commands.design_model import COMMANDS, app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _one_line_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    # ONCOTRIALS_DEBUG=1 turns the one-line errors into tracebacks; these tests check the former.
    monkeypatch.delenv("ONCOTRIALS_DEBUG", raising=False)


def _json(args: list[str]) -> dict:  # type: ignore[type-arg]
    res = runner.invoke(app, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def test_simon_json_gives_simon_1989_designs() -> None:
    # Simon (1989) Table 1, p0 = 0.10, p1 = 0.30, alpha = 0.05, beta = 0.20
    doc = _json(["simon", "--p0", "0.1", "--p1", "0.3", "--alpha", "0.05", "--power", "0.8"])
    opt, mm = doc["optimal"], doc["minimax"]
    assert (opt["r1"], opt["n1"], opt["r"], opt["n"]) == (1, 10, 5, 29)
    assert (mm["r1"], mm["n1"], mm["r"], mm["n"]) == (1, 15, 5, 25)
    # exact EN(p0) of the optimal design: PhIIdesign's simon2stage test value
    assert opt["en_p0"] == pytest.approx(15.0141203471, abs=1e-9)
    assert doc["admissible"][0]["kind"] == "minimax"
    assert doc["nmax"] == 100


def test_simon_human_table_and_warning() -> None:
    res = runner.invoke(
        app, ["simon", "--p0", "0.2", "--p1", "0.35", "--alpha", "0.05", "--power", "0.95"]
    )
    assert res.exit_code == 0
    assert "optimal" in res.stdout
    assert "11/53" in res.stdout
    assert "too close to nmax=100" in res.stderr


def test_simon_bad_input_is_one_line_error() -> None:
    res = runner.invoke(app, ["simon", "--p0", "0.3", "--p1", "0.2"])
    assert res.exit_code == 1
    assert "p1 (the desirable response rate) must exceed p0" in res.stderr
    assert "Traceback" not in res.stderr
    res = runner.invoke(app, ["simon", "--p0", "0.1", "--p1", "0.3", "--power", "1.2"])
    assert res.exit_code == 1
    assert "--power must lie in (0, 1); got 1.2" in res.stderr


def test_single_stage_json() -> None:
    # designs.md §1.11: clinfun::ph2single(0.1, 0.3, 0.05, 0.2) first design n = 25
    doc = _json(["single-stage", "--p0", "0.1", "--p1", "0.3"])
    assert doc["designs"][0]["n"] == 25
    doc = _json(["single-stage", "--p0", "0.1", "--p1", "0.3", "--tolerance", "0.005"])
    assert doc["designs"][0]["n"] == 21


def test_pp_monitor_json() -> None:
    doc = _json(
        ["pp-monitor", "--nmax", "40", "--p0", "0.2", "--looks", "10,20,30,40", "--p1", "0.4"]
    )
    assert doc["looks"] == [10, 20, 30, 40]
    assert len(doc["stop_futility_if_responses_at_most"]) == 4
    oc = doc["operating_characteristics"]
    assert oc["p0"]["reject"] < oc["p1"]["reject"]


def test_getprior_json_centre_is_target() -> None:
    doc = _json(
        ["getprior", "--halfwidth", "0.05", "--target", "0.25", "--nu", "3", "--nlevel", "5"]
    )
    assert doc["skeleton"][2] == 0.25
    assert doc["skeleton"] == sorted(doc["skeleton"])


def test_crm_decide_dfcrm_help_page() -> None:
    # dfcrm help-page data as per-dose counts: dose 2: 3/0, dose 3: 4/1, dose 4: 3/2
    doc = _json([
        "crm-decide", "--skeleton", "0.05,0.10,0.20,0.35,0.50,0.70", "--target", "0.2",
        "--data", "0/0,3/0,4/1,3/2,0/0,0/0", "--current", "2", "--allow-skip",
    ])  # fmt: skip
    # designs.md §1.6: beta-hat = -0.2121715265, next dose 2
    assert doc["beta_estimate"] == pytest.approx(-0.2121715265, abs=1e-9)
    assert doc["next_dose"] == 2
    assert doc["action"] == "stay"


def test_crm_decide_errors_name_the_option() -> None:
    res = runner.invoke(app, [
        "crm-decide", "--skeleton", "0.05,0.2,0.1", "--data", "3/0,0/0,0/0", "--current", "1",
    ])  # fmt: skip
    assert res.exit_code == 1
    assert "skeleton must be strictly increasing" in res.stderr
    res = runner.invoke(app, [
        "crm-decide", "--skeleton", "0.05,0.1,0.2", "--data", "3/0,0/0", "--current", "1",
    ])  # fmt: skip
    assert res.exit_code == 1
    assert "--data has 2 dose levels but --skeleton has 3" in res.stderr
    res = runner.invoke(app, [
        "crm-decide", "--skeleton", "0.05,x,0.2", "--data", "3/0,0/0,0/0", "--current", "1",
    ])  # fmt: skip
    assert res.exit_code == 1
    assert "--skeleton: item 2 is not a number; got 'x'" in res.stderr


def test_crm_simulate_json_seeded() -> None:
    args = [
        "crm-simulate", "--truth", "0.05,0.10,0.20,0.30,0.45,0.60", "--halfwidth", "0.05",
        "--nu", "4", "--trials", "500", "--seed", "7",
    ]  # fmt: skip
    a = _json(args)
    b = _json(args)
    assert a["selection_percent"] == b["selection_percent"]
    assert sum(a["selection_percent"]) == pytest.approx(100.0)
    assert a["total_patients"] == pytest.approx(36.0)
    assert a["n_trials"] == 500


def test_crm_simulate_needs_a_skeleton() -> None:
    res = runner.invoke(app, ["crm-simulate", "--truth", "0.1,0.2,0.3"])
    assert res.exit_code == 1
    assert "Give the CRM skeleton with --skeleton" in res.stderr


def test_commands_mapping_for_registration() -> None:
    assert set(COMMANDS) == {
        "simon", "single-stage", "pp-monitor", "pp-search", "getprior", "crm-decide",
        "crm-simulate", "tite-crm-simulate", "ewoc-decide", "ewoc-simulate",
    }  # fmt: skip
    assert all(callable(f) for f in COMMANDS.values())


def test_crm_decide_with_pathways() -> None:
    doc = _json([
        "crm-decide", "--skeleton", "0.0625,0.1225,0.2040,0.3,0.4018,0.5013", "--target", "0.3",
        "--data", "3/0,3/0,0/0,0/0,0/0,0/0", "--current", "2", "--pathways", "2",
    ])  # fmt: skip
    assert len(doc["pathways"]) == 20
    first = doc["pathways"][0]
    assert first["outcomes"] == [{"dose": doc["next_dose"], "dlts": 0, "treated": 3}]
    res = runner.invoke(app, [
        "crm-decide", "--skeleton", "0.0625,0.1225,0.2040,0.3,0.4018,0.5013",
        "--data", "3/0,3/0,0/0,0/0,0/0,0/0", "--current", "2", "--pathways", "1",
    ])  # fmt: skip
    assert res.exit_code == 0
    assert "Dose-transition pathways" in res.stdout


def test_pp_search_json() -> None:
    doc = _json([
        "pp-search", "--p0", "0.2", "--p1", "0.4", "--alpha", "0.1", "--power", "0.8",
        "--nmax-min", "20", "--nmax-max", "30", "--first-look", "5", "--top", "3",
    ])  # fmt: skip
    assert 1 <= len(doc["designs"]) <= 3
    for d in doc["designs"]:
        assert d["type1"] <= 0.1
        assert d["power"] >= 0.8
    res = runner.invoke(app, ["pp-search", "--p0", "0.2", "--p1", "0.4", "--nmax-max", "5"])
    assert res.exit_code == 1
    assert "--nmax-max must be at least --nmax-min" in res.stderr


def test_tite_crm_simulate_json() -> None:
    doc = _json([
        "tite-crm-simulate", "--truth", "0.05,0.10,0.20,0.30,0.45,0.60", "--halfwidth", "0.05",
        "--nu", "4", "--patients", "12", "--rate", "2", "--trials", "200", "--seed", "3",
    ])  # fmt: skip
    assert doc["design"] == "tite-crm"
    assert doc["mean_duration"] == pytest.approx(12 / 2 + 1)
    assert sum(doc["selection_percent"]) == pytest.approx(100.0)


def test_ewoc_decide_json() -> None:
    # One patient at the lowest dose (x_min) without DLT, uniform priors: the 0.25-quantile of
    # the MTD stays 140 + 0.25 * 285 = 211.25, rounded down to 210 mg/m2 (dose 3), capped at
    # dose 2 by the no-skipping rule.
    doc = _json([
        "ewoc-decide", "--doses", "140,180,210,250,300,350,425", "--current", "1",
        "--data", "1/0,0/0,0/0,0/0,0/0,0/0,0/0",
    ])  # fmt: skip
    assert doc["mtd_quantile"] == pytest.approx(211.25, abs=1e-9)
    assert doc["next_dose"] == 2
    assert doc["next_dose_amount"] == 180
    res = runner.invoke(app, [
        "ewoc-decide", "--doses", "140,180", "--current", "1", "--data", "0/0,0/0,0/0",
    ])  # fmt: skip
    assert res.exit_code == 1
    assert "--data has 3 dose levels but --doses has 2" in res.stderr


def test_ewoc_simulate_json() -> None:
    doc = _json([
        "ewoc-simulate", "--doses", "1,2,3,4,5,6", "--truth", "0.05,0.1,0.2,0.3,0.45,0.6",
        "--target", "0.3", "--patients", "12", "--cohort-size", "3", "--trials", "300",
        "--seed", "1",
    ])  # fmt: skip
    assert doc["design"] == "ewoc"
    assert sum(doc["selection_percent"]) + doc["no_selection_percent"] == pytest.approx(100.0)
