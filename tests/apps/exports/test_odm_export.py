"""The ODM 1.3.2 export of a data cut: metadata from the trial's declarations and schedule,
completed forms with their audit records, signature and queries, pseudonymised subjects,
reproducible files and the monitor's scope.

The trial data (conftest): two registered patients of T-SHARED, one per site; here the trial
gets the example visit schedule and a trial-specific form, and the main-site patient a
completed, corrected, queried and signed vital-signs form at C1D1.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree

from oncotrials.core.odm import forms_from_odm, odm_schema_errors

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "formats" / "visit-schedule.example.yaml"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
QOL = {
    "name": "quality_of_life",
    "title": "EQ-5D",
    "fields": [
        {"name": "assessed_on", "type": "date", "required": True},
        {"name": "vas", "type": "integer", "min": 0, "max": 100, "required": True},
    ],
}


@pytest.fixture
def odm_data(trial_data: Any) -> Any:
    from oncotrials.apps.crfs.services import (
        form_declaration_set,
        form_save,
        query_raise,
        signature_sign,
    )
    from oncotrials.apps.subjects.models import Registration
    from oncotrials.apps.subjects.services import visit_record
    from oncotrials.apps.trials.services import schedule_set

    unit = trial_data.unit
    trial = trial_data.cohort.trial
    admin, nurse = unit.users["admin"], unit.users["nurse"]
    schedule_set(trial=trial, document=yaml.safe_load(EXAMPLE.read_text()), by=admin)
    form_declaration_set(trial=trial, document=QOL, by=admin)
    reg = Registration.objects.get(patient=trial_data.patient)
    visit_record(registration=reg, code="C1D1", on=dt.date(2026, 11, 13), by=nurse)
    data = {"assessed_on": "2026-11-13", "systolic_bp": "125", "heart_rate": "72"}
    form = form_save(
        registration=reg,
        visit_code="C1D1",
        form_name="vital_signs",
        data=data,
        version=0,
        complete=True,
        by=nurse,
    )
    form = form_save(
        registration=reg,
        visit_code="C1D1",
        form_name="vital_signs",
        data={**data, "systolic_bp": "135"},
        version=form.version,
        complete=True,
        reason="transcription error",
        by=nurse,
    )
    query_raise(record=form, field="heart_rate", text="Please confirm the rate.", by=admin)
    signature_sign(
        record=form, meaning="reviewed", password=PASSWORD, by=unit.users["investigator"]
    )
    signature_sign(record=reg, meaning="approved", password=PASSWORD, by=unit.users["investigator"])
    return trial_data


def _cut_files(trial: Any, by: Any, name: str = "odm-1") -> dict[str, bytes]:
    from oncotrials.apps.exports.services import data_cut_create, data_cut_files

    cut = data_cut_create(trial=trial, name=name, formats=["odm"], by=by)
    return data_cut_files(cut=cut, fmt="odm", by=by)


def test_the_odm_export_is_schema_valid_and_reproducible(odm_data: Any) -> None:
    from oncotrials.apps.exports.models import DataCut
    from oncotrials.apps.exports.services import data_cut_files

    admin = odm_data.unit.users["admin"]
    files = _cut_files(odm_data.cohort.trial, admin)
    assert list(files) == ["odm.xml"]
    assert odm_schema_errors(files["odm.xml"]) == []
    cut = DataCut.objects.get(name="odm-1")
    assert cut.subjects == 2
    assert data_cut_files(cut=cut, fmt="odm", by=admin) == files  # byte for byte


def test_metadata_holds_the_trial_forms_and_its_visit_schedule(odm_data: Any) -> None:
    files = _cut_files(odm_data.cohort.trial, odm_data.unit.users["admin"])
    root = etree.fromstring(files["odm.xml"])
    mdv = root.find("odm:Study/odm:MetaDataVersion", NS)
    forms = [f.get("OID") for f in mdv.findall("odm:FormDef", NS)]
    # the schedule's field forms in order, then the trial's own form; no record form (labs...)
    assert forms[:5] == [
        "F.DEMOGRAPHICS",
        "F.MEDICAL_HISTORY",
        "F.ELIGIBILITY",
        "F.VITAL_SIGNS",
        "F.ECOG",
    ]
    assert "F.QUALITY_OF_LIFE" in forms
    assert not any("LABS" in f or "ADVERSE" in f for f in forms)
    events = {e.get("OID"): e for e in mdv.findall("odm:StudyEventDef", NS)}
    assert events["SE.CnD1"].get("Repeating") == "Yes"
    assert events["SE.C1D8"].get("Repeating") == "No"
    refs = [r.get("FormOID") for r in events["SE.SCR"].findall("odm:FormRef", NS)]
    assert refs == [
        "F.DEMOGRAPHICS",
        "F.MEDICAL_HISTORY",
        "F.ELIGIBILITY",
        "F.VITAL_SIGNS",
        "F.ECOG",
    ]
    sbp = mdv.find("odm:ItemDef[@OID='IT.VITAL_SIGNS.SYSTOLIC_BP']", NS)
    checks = {
        (r.get("Comparator"), r.get("SoftHard")): r.findtext("odm:CheckValue", namespaces=NS)
        for r in sbp.findall("odm:RangeCheck", NS)
    }
    assert checks == {
        ("GE", "Hard"): "40",
        ("LE", "Hard"): "300",
        ("GE", "Soft"): "80",
        ("LE", "Soft"): "200",
    }
    imported = {d["name"]: d for d in forms_from_odm(files["odm.xml"])}
    assert imported["quality_of_life"]["fields"][1] == {
        "name": "vas",
        "type": "integer",
        "required": True,
        "min": 0,
        "max": 100,
    }


def test_clinical_data_carry_audit_records_signature_and_queries(odm_data: Any) -> None:
    files = _cut_files(odm_data.cohort.trial, odm_data.unit.users["admin"])
    root = etree.fromstring(files["odm.xml"])
    (subject,) = [
        s
        for s in root.iterfind(".//odm:SubjectData", NS)
        if s.get("SubjectKey") == odm_data.patient.research_id
    ]
    assert subject.find("odm:SiteRef", NS).get("LocationOID") == "LOC.MAIN"
    casebook = subject.find("odm:Signature", NS)
    assert casebook.find("odm:SignatureRef", NS).get("SignatureOID") == "SD.APPROVED"
    event = subject.find("odm:StudyEventData", NS)
    assert (event.get("StudyEventOID"), event.get("StudyEventRepeatKey")) == ("SE.CnD1", "1")
    form = event.find("odm:FormData", NS)
    assert form.get("FormOID") == "F.VITAL_SIGNS"
    sig = form.find("odm:Signature", NS)
    assert sig.find("odm:UserRef", NS).get("UserOID") == "USR.investigator"
    assert sig.find("odm:SignatureRef", NS).get("SignatureOID") == "SD.REVIEWED"
    items = {i.get("ItemOID"): i for i in form.iterfind(".//odm:ItemData", NS)}
    sbp = items["IT.VITAL_SIGNS.SYSTOLIC_BP"]
    assert sbp.get("Value") == "135"
    audit = sbp.find("odm:AuditRecord", NS)
    assert audit.find("odm:UserRef", NS).get("UserOID") == "USR.nurse"
    assert audit.findtext("odm:ReasonForChange", namespaces=NS) == "transcription error"
    first = items["IT.VITAL_SIGNS.ASSESSED_ON"].find("odm:AuditRecord", NS)
    assert first.find("odm:ReasonForChange", NS) is None  # unchanged since first entry
    note = items["IT.VITAL_SIGNS.HEART_RATE"].find("odm:Annotation/odm:Comment", NS)
    assert note.text == "Data query (open): Please confirm the rate."
    users = {u.get("OID") for u in root.iterfind(".//odm:AdminData/odm:User", NS)}
    assert users == {"USR.nurse", "USR.investigator"}


def test_no_identifying_data_leaves_in_the_odm_file(odm_data: Any) -> None:
    from oncotrials.apps.subjects.models import PatientIdentity

    files = _cut_files(odm_data.cohort.trial, odm_data.unit.users["admin"])
    text = files["odm.xml"].decode("utf-8")
    identities = PatientIdentity.objects.filter(
        patient__in=[odm_data.patient, odm_data.partner_patient]
    )
    assert identities.count() == 2
    for ident in identities:
        for value in (ident.family_name, ident.given_name, ident.hospital_number):
            assert value not in text
        assert ident.birth_date.isoformat() not in text
    keys = {
        s.get("SubjectKey")
        for s in etree.fromstring(files["odm.xml"]).iterfind(".//odm:SubjectData", NS)
    }
    assert keys == {odm_data.patient.research_id, odm_data.partner_patient.research_id}


def test_a_monitor_exports_odm_of_its_trial_at_its_site_only(
    odm_data: Any, client_for: Any
) -> None:
    from oncotrials.apps.accounts.access import forget_scope
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    unit = odm_data.unit
    trial = odm_data.cohort.trial
    monitor = unit.users["monitor_other"]
    membership_grant(user=monitor, role=Role.SPONSOR_MONITOR, site=unit.main, trial=trial)
    forget_scope(monitor)
    files = _cut_files(trial, monitor, name="monitor")
    keys = {
        s.get("SubjectKey")
        for s in etree.fromstring(files["odm.xml"]).iterfind(".//odm:SubjectData", NS)
    }
    assert keys == {odm_data.patient.research_id}  # not the partner site's patient
    other = client_for("monitor")  # the monitor of T-MAIN only
    answer = other.post(
        "/api/v1/exports/cuts",
        json.dumps({"trial_id": trial.pk, "name": "x", "formats": ["odm"]}),
        content_type="application/json",
    )
    assert answer.status_code == 404


def test_the_odm_format_is_offered_on_the_page_and_the_api(odm_data: Any, client_for: Any) -> None:
    client = client_for("admin")
    assert "odm" in [f["name"] for f in client.get("/api/v1/exports/formats").json()]
    assert "CDISC ODM 1.3.2" in client.get("/exports/").content.decode()
    trial = odm_data.cohort.trial
    answer = client.post(
        "/exports/", {"trial": trial.pk, "name": "web odm", "formats": ["odm"], "reason": ""}
    )
    assert answer.status_code == 302
    cut_id = int(answer["Location"].rstrip("/").rsplit("/", 1)[1])
    xml = client.get(f"/exports/cuts/{cut_id}/odm/odm.xml")
    assert xml.status_code == 200
    assert odm_schema_errors(xml.content) == []
