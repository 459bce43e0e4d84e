"""``oncotrials match`` on the database: --patient, --trial, run, import-ctml (system actor)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from matching_helpers import precision_unit
from typer.testing import CliRunner

from oncotrials.cli.commands.match import app

runner = CliRunner()

CTML = """
protocol_no: t-main
treatment_list:
  step:
    - arm:
        - arm_code: g12c
          match:
            - genomic: {hugo_symbol: KRAS, protein_change: p.G12C}
          dose_level:
            - level_code: DL1
              match:
                - clinical: {age_numerical: ">=18"}
"""


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    from oncotrials.apps.matching.engine import reset_matching_cache

    reset_matching_cache()
    yield
    reset_matching_cache()


@pytest.fixture
def unit_p(unit: Any, tmp_path: Path) -> Any:
    return precision_unit(unit, tmp_path)


def test_match_patient_json_and_table(unit_p: Any) -> None:
    rid = unit_p.kras_patient.research_id
    result = runner.invoke(app, ["--patient", rid, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["patient"] == rid
    assert [m["level"] for m in doc["matches"]] == ["G12C"]  # HER2 is closed
    assert doc["matches"][0]["slots_available"] == 1
    assert doc["matches"][0]["explanation"][0]["value"] == "met"
    closed = json.loads(
        runner.invoke(app, ["--patient", rid, "--include-closed", "--format", "json"]).stdout
    )
    assert {m["level"] for m in closed["matches"]} == {"G12C", "HER2"}
    human = runner.invoke(app, ["--patient", rid])
    assert human.exit_code == 0
    assert "T-MAIN" in human.stdout
    assert "G12C" in human.stdout


def test_match_trial_lists_patients_of_every_site(unit_p: Any) -> None:
    result = runner.invoke(app, ["--trial", "T-MAIN", "--include-closed", "--format", "json"])
    assert result.exit_code == 0, result.output
    pairs = {(m["level"], m["patient"]) for m in json.loads(result.stdout)["matches"]}
    assert ("G12C", unit_p.partner_patient.research_id) in pairs  # the system sees every site
    assert ("BRAF", unit_p.braf_patient.research_id) in pairs


def test_run_on_the_database(unit_p: Any) -> None:
    result = runner.invoke(app, ["run", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["trials"] == 1
    assert doc["levels"] == 3
    # open levels at the patient's site only: the partner site does not run T-MAIN
    assert {(m["level"], m["patient"]) for m in doc["matches"]} == {
        ("G12C", unit_p.kras_patient.research_id),
        ("BRAF", unit_p.braf_patient.research_id),
    }
    assert runner.invoke(app, ["run"]).exit_code == 0


def test_unknown_ids_are_one_line_errors(unit_p: Any) -> None:
    for args in (["--patient", "NOPE"], ["--trial", "NOPE"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        assert "check the" in result.output
        assert "Traceback" not in result.output
    half = runner.invoke(app, ["run", "--patients", "p.json"])
    assert half.exit_code == 1
    assert "needs both --patients FILE and --trials DIR" in half.output


def test_import_ctml_into_the_database_is_audited(unit_p: Any, tmp_path: Path) -> None:
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.trials.models import DoseLevel
    from oncotrials.apps.trials.services import dose_level_create

    dl = dose_level_create(
        cohort=unit_p.g12c,
        level=1,
        agent="Drug G",
        dose="100",
        unit="mg",
        by=unit_p.unit.users["admin"],
    )
    path = tmp_path / "t-main.yaml"
    path.write_text(CTML, encoding="utf-8")
    before = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    result = runner.invoke(
        app, ["import-ctml", str(path), "--reason", "CTML v4", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)[0]
    assert doc["trial"] == "T-MAIN"
    assert {(x["ctml"], x["target"]) for x in doc["levels"]} == {
        ("g12c", "cohort G12C"),
        ("g12c/DL1", "cohort G12C DL1 Drug G"),
    }
    unit_p.g12c.refresh_from_db()
    assert unit_p.g12c.match_criteria == {"genomic": {"gene": "KRAS", "protein_change": "p.G12C"}}
    assert DoseLevel.objects.get(pk=dl.pk).match_criteria == {"age": {"gte": 18.0}}
    events = AuditEvent.objects.filter(id__gt=before).order_by("id")
    assert {e.channel for e in events} == {"cli"}
    assert {e.reason for e in events} == {"CTML v4"}
    assert len(events) == 3  # the cohort, the dose level, the trial's levels made independent
    trial_event = next(e for e in events if e.object_type == "trials.trial")
    assert trial_event.changes == {"match_levels": ["inherit", "independent"]}


def test_import_ctml_of_an_unknown_protocol_changes_nothing(unit_p: Any, tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text(CTML.replace("t-main", "X-999"), encoding="utf-8")
    version = unit_p.trial.version
    result = runner.invoke(app, ["import-ctml", str(path)])
    assert result.exit_code == 1
    assert "protocol_no 'X-999' is not the protocol code of any of our trials" in result.output
    unit_p.trial.refresh_from_db()
    assert unit_p.trial.version == version


def test_import_ctml_directory_is_all_or_nothing(unit_p: Any, tmp_path: Path) -> None:
    from oncotrials.apps.trials.services import dose_level_create

    admin = unit_p.unit.users["admin"]
    dose_level_create(cohort=unit_p.g12c, level=1, agent="Drug G", dose="1", unit="mg", by=admin)
    (tmp_path / "a.yaml").write_text(CTML, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        CTML.replace("hugo_symbol: KRAS", "hugo_symbol: NOTAGENE1"), encoding="utf-8"
    )
    result = runner.invoke(app, ["import-ctml", str(tmp_path)])
    assert result.exit_code == 1
    assert "b.yaml" in result.output
    assert "NOTAGENE1" in result.output
    unit_p.g12c.refresh_from_db()
    assert unit_p.g12c.match_criteria["and"][0] == {"diagnosis": "NSCLC"}  # a.yaml rolled back


def test_match_patient_prints_the_explanation(unit_p: Any) -> None:
    human = runner.invoke(app, ["--patient", unit_p.kras_patient.research_id])
    assert human.exit_code == 0, human.output
    assert "[yes] alteration KRAS p.G12C — found: KRAS p.G12C" in human.stdout
    assert "[yes] diagnosis Non-Small Cell Lung Cancer (NSCLC) — diagnosis Lung" in human.stdout


def test_why_not_names_the_first_failing_clause_per_level(unit_p: Any) -> None:
    rid = unit_p.braf_patient.research_id  # COAD, BRAF p.V600E
    result = runner.invoke(app, ["--patient", rid, "--why-not", "T-MAIN", "--format", "json"])
    assert result.exit_code == 0, result.output
    levels = {m["level"]: m for m in json.loads(result.stdout)["matches"]}
    assert set(levels) == {"G12C", "BRAF", "HER2"}
    assert levels["BRAF"]["matched"] is True
    assert levels["BRAF"]["why_not"] is None
    assert levels["G12C"]["matched"] is False
    # the first clause of the G12C cohort that fails: the diagnosis, named by OncoTree name
    assert levels["G12C"]["why_not"] == (
        "diagnosis Non-Small Cell Lung Cancer (NSCLC): not met (diagnosis Colon Adenocarcinoma "
        "(COAD))"
    )
    assert levels["HER2"]["why_not"].startswith("alteration ERBB2 cnv amplification: not met")
    human = runner.invoke(app, ["--patient", rid, "--why-not", "T-MAIN"])
    assert "first failing clause" in human.stdout
    bad = runner.invoke(app, ["--trial", "T-MAIN", "--why-not", "T-MAIN"])
    assert bad.exit_code != 0


def test_registered_patients_are_listed_apart_with_their_status(unit_p: Any) -> None:
    import datetime as dt

    from oncotrials.apps.subjects.models import Registration

    Registration.objects.create(
        patient=unit_p.kras_patient,
        trial=unit_p.trial,
        cohort=unit_p.g12c,
        registered_on=dt.date(2026, 10, 1),
        registered_by=unit_p.unit.users["admin"],
        status="off_study",
        status_date=dt.date(2026, 11, 1),
    )
    result = runner.invoke(app, ["--trial", "T-MAIN", "--include-closed", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["matches"]
    kras = [m for m in rows if m["patient"] == unit_p.kras_patient.research_id]
    assert kras
    assert {m["registration"] for m in kras} == {"off_study"}
    others = [m for m in rows if m["patient"] != unit_p.kras_patient.research_id]
    assert {m["registration"] for m in others} == {None}
    assert rows[-len(kras) :] == kras  # candidates first, the registered after them
    human = runner.invoke(app, ["--trial", "T-MAIN", "--include-closed"])
    assert "already registered (listed apart)" in human.stdout
    assert "off study" in human.stdout
