"""The ``fhir`` export from a data cut: strict R4 parse, FHIR.js, pseudonymisation, scope (a
monitor exports only its trial at its site), the CLI, and the round trip through the reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from fhir_validation import errors, validate
from oncotrials.cli.main import app

runner = CliRunner()


def _bundle(files: dict[str, bytes]) -> dict[str, Any]:
    assert set(files) == {"bundle.json"}
    return json.loads(files["bundle.json"])


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_a_fhir_cut_parses_strictly_and_holds_no_identifying_data(trial_data: Any, tmp_path: Path):
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files
    from oncotrials.apps.subjects.models import PatientIdentity

    admin = trial_data.unit.users["admin"]
    cut = data_cut_create(
        trial=trial_data.cohort.trial, name="fhir-1", formats=["fhir", "sdtm"], by=admin
    )
    assert cut.subjects == 2
    files = data_cut_files(cut=cut, fmt="fhir", by=admin)
    assert data_cut_files(cut=cut, fmt="fhir", by=admin) == files  # the same bytes
    Bundle.model_validate_json(files["bundle.json"])  # strict R4(B) parse of every resource
    bundle = _bundle(files)
    research_ids = {trial_data.patient.research_id, trial_data.partner_patient.research_id}
    assert {p["identifier"][0]["value"] for p in _of(bundle, "Patient")} == research_ids
    text = files["bundle.json"].decode()
    for identity in PatientIdentity.objects.filter(
        patient__in=[trial_data.patient, trial_data.partner_patient]
    ):
        for value in (identity.family_name, identity.given_name, identity.hospital_number):
            assert value not in text
        assert identity.birth_date.isoformat() not in text
    (ae,) = _of(bundle, "AdverseEvent")
    assert ae["event"]["text"] == "Colitis"
    assert ae["extension"][0]["valueCodeableConcept"]["text"] == "CTCAE v5.0 grade 3"
    (dose,) = _of(bundle, "MedicationAdministration")
    assert dose["dosage"]["dose"]["value"] == 50
    assert len(_of(bundle, "ResearchSubject")) == 2
    path = tmp_path / "bundle.json"
    path.write_bytes(files["bundle.json"])
    assert errors(validate([path])["bundle.json"]) == []


def test_a_monitor_exports_fhir_of_its_trial_at_its_site_only(trial_data: Any, client_for: Any):
    from oncotrials.apps.accounts.access import forget_scope
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files

    unit = trial_data.unit
    trial = trial_data.cohort.trial
    monitor = unit.users["monitor_other"]
    membership_grant(user=monitor, role=Role.SPONSOR_MONITOR, site=unit.main, trial=trial)
    forget_scope(monitor)
    mine = data_cut_create(trial=trial, name="monitor-fhir", formats=["fhir"], by=monitor)
    bundle = _bundle(data_cut_files(cut=mine, fmt="fhir", by=monitor))
    assert [p["identifier"][0]["value"] for p in _of(bundle, "Patient")] == [
        trial_data.patient.research_id
    ]
    whole = data_cut_create(trial=trial, name="all-fhir", formats=["fhir"], by=unit.users["admin"])
    client = client_for("monitor")  # the monitor of T-MAIN only
    assert client.get(f"/api/v1/exports/cuts/{whole.pk}/files/fhir").status_code == 404
    assert client.get(f"/exports/cuts/{whole.pk}/fhir.zip").status_code == 404


def test_web_and_api_serve_the_fhir_bundle(trial_data: Any, client_for: Any) -> None:
    client = client_for("admin")
    trial = trial_data.cohort.trial
    answer = client.post(
        "/exports/", {"trial": trial.pk, "name": "web fhir", "formats": ["fhir"], "reason": ""}
    )
    assert answer.status_code == 302
    cut_id = int(answer["Location"].rstrip("/").rsplit("/", 1)[1])
    one = client.get(f"/api/v1/exports/cuts/{cut_id}/files/fhir/bundle.json")
    assert one.status_code == 200
    assert json.loads(one.content)["resourceType"] == "Bundle"
    assert client.get(f"/exports/cuts/{cut_id}/fhir.zip")["Content-Type"] == "application/zip"


def test_cli_exports_fhir_and_the_reader_reads_it_back(trial_data: Any, tmp_path: Path) -> None:
    code = trial_data.cohort.trial.protocol_code
    args = ["export", "fhir", "--study", code, "--cut", "fhir-cli", "--format", "json"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b")])
    assert second.exit_code == 0, second.output
    a = (tmp_path / "a" / "bundle.json").read_bytes()
    assert a == (tmp_path / "b" / "bundle.json").read_bytes()
    read = runner.invoke(
        app,
        ["import", "fhir", str(tmp_path / "a" / "bundle.json"), "--out", str(tmp_path / "r.json")],
    )
    assert read.exit_code == 0, read.output
    records = json.loads((tmp_path / "r.json").read_text())
    assert {p["key"] for p in records["patients"]} == {
        trial_data.patient.research_id,
        trial_data.partner_patient.research_id,
    }
    assert {p["sex"] for p in records["patients"]} == {
        trial_data.patient.sex,
        trial_data.partner_patient.sex,
    }


def test_a_fhir_cut_holds_the_ecog_of_this_trials_screening_only(trial_data: Any) -> None:
    """An ECOG recorded outside any registration belongs to a trial's data only when it was
    observed while the patient was screened for that trial (2026-11-02 to 11-10 here). One
    recorded at referral, or during another trial's screening, is clinical and the site's: the
    sponsor monitor or biostatistician a cut is for may not see it on the patient page, so it is
    not exported either."""
    import datetime as dt

    from oncotrials.apps.exports.services import data_cut_create, data_cut_files
    from oncotrials.apps.subjects.services import baseline_observation_record

    nurse, admin = trial_data.unit.users["nurse"], trial_data.unit.users["admin"]
    for on, value in ((dt.date(2026, 10, 20), 2), (dt.date(2026, 11, 5), 1)):
        baseline_observation_record(
            patient=trial_data.patient, kind="ecog", observed_on=on, value=value, by=nurse
        )
    cut = data_cut_create(
        trial=trial_data.cohort.trial, name="fhir-ecog", formats=["fhir"], by=admin
    )
    bundle = _bundle(data_cut_files(cut=cut, fmt="fhir", by=admin))
    ecog = [
        (o["effectiveDateTime"], o["valueInteger"])
        for o in _of(bundle, "Observation")
        if o["code"]["coding"][0]["code"] == "89247-1"
    ]
    assert ("2026-11-05", 1) in ecog
    assert all(on != "2026-10-20" for on, _ in ecog), ecog
