"""``oncotrials match``: run, explain and import-ctml --check against files (the database
modes are tested in tests/apps/mtb/test_matching_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fixtures import ONCOTREE
from oncotrials.cli.commands.match import app

runner = CliRunner()
REPO = Path(__file__).parents[2]
CTML_DIR = REPO / "tests" / "core" / "matching" / "ctml"
BAD_DIR = REPO / "tests" / "core" / "matching" / "bad_ctml"

PATIENTS = [
    {
        "id": "P1",
        "diagnosis": "LUAD",
        "age": 61,
        "sex": "female",
        "ecog": 1,
        "prior_lines": 1,
        "prior_therapies": ["carboplatin"],
        "labs": {"creatinine_clearance": 80},
        "report": {"alterations": [{"gene": "KRAS", "protein_change": "p.G12C"}]},
    },
    {"id": "P2", "diagnosis": "LUAD", "age": 70, "ecog": 0, "report": None},
    {
        "id": "P3",
        "diagnosis": "IDC",
        "age": 50,
        "report": {"alterations": [{"gene": "PIK3CA", "protein_change": "p.H1047R"}]},
    },
]

TRIAL = """
trial_id: NCT-CLI
status: open
criteria: {age: {gte: 18}}
cohorts:
  - id: G12C
    slots: 2
    criteria:
      and:
        - diagnosis: NSCLC
        - genomic: {gene: KRAS, protein_change: p.G12C}
        - ecog: {lte: 1}
  - id: CLOSED
    status: closed
    criteria: {diagnosis: LUNG}
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    patients = tmp_path / "patients.json"
    patients.write_text(json.dumps(PATIENTS), encoding="utf-8")
    trials = tmp_path / "trials"
    trials.mkdir()
    (trials / "nct-cli.yaml").write_text(TRIAL, encoding="utf-8")
    (trials / "00-000.yaml").write_text(
        (CTML_DIR / "00-000_breast_pik3ca.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return patients, trials


def test_run_json_lists_open_levels_with_slots(files: tuple[Path, Path]) -> None:
    patients, trials = files
    args = [
        "run",
        "--patients",
        str(patients),
        "--trials",
        str(trials),
        "--oncotree",
        str(ONCOTREE),
    ]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_level = {(lv["trial_id"], lv["level"]): lv for lv in data["levels"]}
    assert by_level[("NCT-CLI", "G12C")]["patients"] == ["P1"]
    assert by_level[("NCT-CLI", "G12C")]["slots"] == 2
    assert by_level[("00-000", "A")]["patients"] == ["P3"]
    assert ("NCT-CLI", "CLOSED") not in by_level
    closed = runner.invoke(app, [*args, "--include-closed", "--format", "json"])
    levels = {(lv["trial_id"], lv["level"]): lv for lv in json.loads(closed.stdout)["levels"]}
    assert levels[("NCT-CLI", "CLOSED")]["patients"] == ["P1", "P2"]
    only = runner.invoke(app, [*args, "--patient", "P1", "--format", "json"])
    assert [lv["level"] for lv in json.loads(only.stdout)["levels"]] == ["G12C"]
    human = runner.invoke(app, args)
    assert human.exit_code == 0
    assert "G12C" in human.stdout


def test_explain_names_criteria_and_unknowns(files: tuple[Path, Path]) -> None:
    patients, trials = files
    result = runner.invoke(
        app,
        [
            "explain",
            "--patient",
            "P2",
            "--patients",
            str(patients),
            "--trials",
            str(trials),
            "--trial",
            "NCT-CLI",
            "--oncotree",
            str(ONCOTREE),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    g12c = next(lv for lv in data["levels"] if lv["level"] == "G12C")
    assert g12c["matched"] is False
    assert g12c["explanation"]["value"] == "unknown"
    reasons = [c.get("reason") for c in g12c["explanation"]["children"]]
    assert "no genomic report" in reasons


def test_import_ctml_prints_compiled_criteria(files: tuple[Path, Path]) -> None:
    result = runner.invoke(
        app,
        [
            "import-ctml",
            "--check",
            str(CTML_DIR / "11-111_kras_exclusion.json"),
            "--oncotree",
            str(ONCOTREE),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    (trial,) = json.loads(result.stdout)
    arm = trial["levels"][0]
    assert arm["level"] == "SOLID-KRASWT"
    assert {"not": {"genomic": {"gene": "KRAS", "category": "mutation"}}} in arm["criteria"]["and"]
    human = runner.invoke(
        app, ["import-ctml", "--check", str(CTML_DIR), "--oncotree", str(ONCOTREE)]
    )
    assert human.exit_code == 0
    assert "00-000" in human.stdout
    assert "11-111" in human.stdout


def test_malformed_ctml_is_one_line_error_naming_file_path_and_value() -> None:
    result = runner.invoke(
        app, ["import-ctml", "--check", str(BAD_DIR), "--oncotree", str(ONCOTREE)]
    )
    assert result.exit_code == 1
    assert "02-bad.yaml" in result.stderr
    assert "variant_category" in result.stderr
    assert "'Mutant'" in result.stderr
    assert result.stdout == ""


def test_oncotree_defaults_to_the_shipped_tree_and_unknown_gene(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    patients, trials = files
    args = ["run", "--patients", str(patients), "--trials", str(trials), "--format", "json"]
    result = runner.invoke(app, args, env={"ONCOTRIALS_ONCOTREE": ""})
    assert result.exit_code == 0, result.output
    with_tree = runner.invoke(app, [*args, "--oncotree", str(ONCOTREE)])
    assert json.loads(result.stdout) == json.loads(with_tree.stdout)
    # LUAD lies under NSCLC in the shipped tree: P1 matches G12C without --oncotree
    levels = {lv["level"]: lv["patients"] for lv in json.loads(result.stdout)["levels"]}
    assert levels["G12C"] == ["P1"]
    genes = tmp_path / "genes.txt"
    genes.write_text("KRAS\nPIK3CA\nTP53\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "run",
            "--patients",
            str(patients),
            "--trials",
            str(trials),
            "--oncotree",
            str(ONCOTREE),
            "--genes",
            str(genes),
        ],
    )
    assert result.exit_code == 1
    assert "'ERBB2'" in result.stderr  # 00-000 arm B names ERBB2, not in the catalogue


def test_bad_patient_file_names_the_record(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, trials = files
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "X", "ecog": 7}]), encoding="utf-8")
    result = runner.invoke(
        app, ["run", "--patients", str(bad), "--trials", str(trials), "--oncotree", str(ONCOTREE)]
    )
    assert result.exit_code == 1
    assert "patients[0]" in result.stderr
    assert "ecog" in result.stderr


def test_ctml_status_key_is_configurable_on_the_command_line(tmp_path: Path) -> None:
    trials = tmp_path / "trials"
    trials.mkdir()
    (trials / "ctims.yaml").write_text(
        """
protocol_no: CT-1
status: closed to accrual
ctims_status: Open to Accrual
treatment_list:
  step:
    - arm:
        - arm_code: A
          match:
            - clinical: {age_numerical: ">=18"}
""",
        encoding="utf-8",
    )
    patients = tmp_path / "p.json"
    patients.write_text(json.dumps([{"id": "P1", "age": 40}]), encoding="utf-8")
    args = ["run", "--patients", str(patients), "--trials", str(trials), "--format", "json"]
    closed = json.loads(runner.invoke(app, args).stdout)
    assert closed["levels"] == []  # the root status says closed: nothing open to list
    result = runner.invoke(app, [*args, "--ctml-status-key", "ctims_status"])
    assert result.exit_code == 0, result.output
    assert [lv["patients"] for lv in json.loads(result.stdout)["levels"]] == [["P1"]]
    check = runner.invoke(
        app, ["import-ctml", "--check", str(trials), "--ctml-status-key", "ctims_status"]
    )
    assert "open" in check.stdout
