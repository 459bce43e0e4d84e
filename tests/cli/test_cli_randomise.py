"""``oncotrials randomise blocks`` and ``randomise simulate-minimisation``."""

from __future__ import annotations

import csv
import json
from collections import Counter

from typer.testing import CliRunner

from oncotrials.cli.commands.randomise import app

runner = CliRunner()
BLOCKS = ["blocks", "--arms", "A:1,B:1", "--strata", "site=X,Y;ecog=0,1", "--blocks", "4,6"]


def test_blocks_json_lists_every_stratum_with_complete_blocks():
    result = runner.invoke(app, [*BLOCKS, "--n", "30", "--seed", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [s["stratum"] for s in document["strata"]] == [
        "site=X|ecog=0", "site=X|ecog=1", "site=Y|ecog=0", "site=Y|ecog=1"
    ]  # fmt: skip
    for stratum in document["strata"]:
        assert stratum["n"] >= 30
        for block in stratum["blocks"]:
            rows = stratum["allocations"][block["start"] : block["start"] + block["size"]]
            assert Counter(rows) == {"A": block["size"] // 2, "B": block["size"] // 2}
    again = runner.invoke(app, [*BLOCKS, "--n", "30", "--seed", "1", "--format", "json"])
    assert again.stdout == result.stdout


def test_blocks_written_as_csv(tmp_path):
    out = tmp_path / "list.csv"
    result = runner.invoke(
        app,
        [
            "blocks",
            "--arms",
            "T:2,C:1",
            "--blocks",
            "3,6",
            "--n",
            "12",
            "--seed",
            "4",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["stratum"] for r in rows} == {"all"}
    assert Counter(r["arm"] for r in rows)["T"] == 2 * Counter(r["arm"] for r in rows)["C"]
    assert [int(r["sequence"]) for r in rows] == list(range(1, len(rows) + 1))
    assert "Per stratum" in result.stdout


def test_blocks_bad_input_is_one_line_naming_the_field():
    result = runner.invoke(app, ["blocks", "--arms", "A:1,B:0", "--n", "10"])
    assert result.exit_code == 1
    assert "arms.B: the ratio must be > 0; got 0" in result.stderr
    result = runner.invoke(app, ["blocks", "--arms", "A:1,B:x", "--n", "10"])
    assert "--arms: the ratio of arm 'B' must be a whole number" in result.stderr
    result = runner.invoke(app, ["blocks", "--arms", "A:2,B:1", "--blocks", "4", "--n", "10"])
    assert "block_sizes: 4 is not a positive multiple of 3" in result.stderr
    result = runner.invoke(app, ["blocks", "--arms", "A,B", "--strata", "site", "--n", "4"])
    assert "--strata: 'site' must be a factor and its levels" in result.stderr


def test_simulate_minimisation_compares_with_simple_randomisation():
    result = runner.invoke(
        app,
        ["simulate-minimisation", "--arms", "A:1,B:1", "--factors", "sex=F,M;age=<65,>=65;ecog=0,1,2",
         "--patients", "100", "--trials", "200", "--seed", "3", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    mini, simple = document["results"]
    assert (mini["method"], simple["method"]) == ("minimisation", "simple")
    assert mini["max_marginal_imbalance"]["mean"] < simple["max_marginal_imbalance"]["mean"] / 2
    assert abs(mini["preferred_rate"] - 0.8) < 0.02  # ~16,000 decisions: SE ≈ 0.003
    assert simple["preferred_rate"] is None
    human = runner.invoke(
        app,
        ["simulate-minimisation", "--arms", "A,B", "--factors", "sex=F,M", "--patients", "20",
         "--trials", "10", "--seed", "1"],
    )  # fmt: skip
    assert human.exit_code == 0
    assert "minimisation" in human.stdout


def test_simulate_minimisation_bad_input_names_the_field():
    base = ["simulate-minimisation", "--arms", "A:1,B:1", "--factors", "sex=F,M"]
    result = runner.invoke(app, [*base, "--p", "0.2"])
    assert result.exit_code == 1
    assert "p: the probability of the preferred arm must lie in [1/2, 1]" in result.stderr
    result = runner.invoke(app, [*base, "--weights", "age=2"])
    assert "weights.age: not a factor" in result.stderr
    result = runner.invoke(app, [*base, "--measure", "sd"])
    assert "measure: the imbalance measure must be one of range, variance" in result.stderr
