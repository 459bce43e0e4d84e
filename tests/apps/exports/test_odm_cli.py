"""``oncotrials export odm`` and ``oncotrials odm``: what a data manager exchanging with another
EDC runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from oncotrials.cli.main import app
from oncotrials.core.odm import forms_from_odm, odm_schema_errors

runner = CliRunner()
SCHEDULE = Path(__file__).resolve().parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"
FOREIGN = Path(__file__).resolve().parents[2] / "fixtures" / "odm" / "openclinica_vitals.xml"


def test_export_odm_makes_the_cut_then_gives_the_same_file(trial_data: Any, tmp_path: Path):
    import yaml

    from oncotrials.apps.trials.services import schedule_set

    trial = trial_data.cohort.trial
    schedule_set(
        trial=trial,
        document=yaml.safe_load(SCHEDULE.read_text()),
        by=trial_data.unit.users["admin"],
    )
    code = trial.protocol_code
    args = ["export", "odm", "--study", code, "--cut", "edc-1", "--format", "json"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a"), "--user", "datamanager"])
    assert first.exit_code == 0, first.output
    made = json.loads(first.stdout)
    assert [f["name"] for f in made["files"]] == ["odm.xml"]
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    a, b = (tmp_path / d / "odm.xml" for d in "ab")
    assert a.read_bytes() == b.read_bytes()
    assert odm_schema_errors(a.read_bytes()) == []
    # the exported metadata read back through the command: the standard forms, as declared
    read = runner.invoke(app, ["odm", "import-forms", str(a), "--format", "json"])
    assert read.exit_code == 0, read.output
    forms = json.loads(read.stdout)["forms"]
    assert forms == forms_from_odm(a)
    assert [f["name"] for f in forms][:2] == ["demographics", "medical_history"]


def test_odm_import_forms_declares_them_for_a_trial_or_nothing(trial_data: Any, tmp_path: Path):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.crfs.models import TrialFormDeclaration
    from oncotrials.apps.crfs.services import forms_for_trial

    trial = trial_data.cohort.trial
    args = ["odm", "import-forms", str(FOREIGN), "--study", trial.protocol_code]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 1
    assert "Give --user" in refused.stderr
    broken = tmp_path / "broken.xml"
    broken.write_text(FOREIGN.read_text().replace('DataType="float"', 'DataType="time"'))
    bad = runner.invoke(
        app, ["odm", "import-forms", str(broken), "--study", trial.protocol_code, "--user", "admin"]
    )
    assert bad.exit_code == 1
    assert "I_VITAL_WEIGHT: data type 'time'" in bad.stderr
    assert not TrialFormDeclaration.objects.exists()
    done = runner.invoke(app, [*args, "--user", "admin", "--format", "json"])
    assert done.exit_code == 0, done.output
    assert [d["name"] for d in json.loads(done.stdout)["declared"]] == [
        "vital_signs_v1_0",
        "ecog_performance_status_v1_0",
    ]
    spec = forms_for_trial(trial)["vital_signs_v1_0"]
    assert spec.field("sysbp").max == 280
    assert (
        AuditEvent.objects.filter(
            object_type="crfs.trialformdeclaration", actor_username="admin", channel="cli"
        ).count()
        == 2
    )
    again = runner.invoke(app, [*args, "--user", "admin"])
    assert again.exit_code == 1
    assert "reason" in again.stderr  # replacing a declared form needs a reason
    assert TrialFormDeclaration.objects.filter(version=2).count() == 0


def test_odm_check_reports_schema_errors(tmp_path: Path) -> None:
    answer = runner.invoke(app, ["odm", "check", str(FOREIGN), "--format", "json"])
    assert answer.exit_code == 1
    report = json.loads(answer.stdout)
    assert report["valid"] is False
    assert any("OpenClinica" in e for e in report["errors"])  # vendor extensions: not ODM
