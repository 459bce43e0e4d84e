"""The FHIR R4 / mCODE bundle of a study: strict R4 parse of every resource, the FHIR.js binding
validator (calibrated on HL7's 179 mCODE examples), pseudonymisation, reproducibility."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir_study_factory import make_study

from fhir_validation import errors, validate
from oncotrials.core.fhir import bundle_dict, bundle_json, study_from_json, study_to_json
from oncotrials.core.fhir import codes as c

MCODE = (
    Path(__file__).resolve().parents[2] / "fixtures" / "exports" / "fhir" / "mcode-4.0.0-examples"
)
CREATED = dt.datetime(2026, 5, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def bundle() -> dict[str, Any]:
    return json.loads(bundle_json(make_study(), created=CREATED))


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_the_plain_data_survives_its_json_exactly() -> None:
    study = make_study()
    assert study_from_json(study_to_json(study)) == study


def test_the_same_study_and_time_give_the_same_bytes() -> None:
    assert bundle_json(make_study(), created=CREATED) == bundle_json(make_study(), created=CREATED)


def test_every_resource_parses_strictly_as_r4(bundle: dict[str, Any]) -> None:
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert sorted(set(kinds)) == [
        "AdverseEvent",
        "Condition",
        "Consent",
        "MedicationAdministration",
        "Observation",
        "Patient",
        "ResearchStudy",
        "ResearchSubject",
        "Specimen",
    ]
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert json.loads(model.model_dump_json()) == resource  # nothing dropped or added
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    # an R5 element is refused by the strict parse
    subject = copy.deepcopy(_of(bundle, "ResearchSubject")[0])
    subject["progress"] = [{"type": {"text": "on study"}}]
    with pytest.raises(ValueError, match="progress"):
        get_fhir_model_class("ResearchSubject").model_validate(subject)


def test_the_patient_is_pseudonymised(bundle: dict[str, Any]) -> None:
    patients = _of(bundle, "Patient")
    assert [p["identifier"] for p in patients] == [
        [{"system": c.RESEARCH_ID, "value": "ONC-000001"}],
        [{"system": c.RESEARCH_ID, "value": "ONC-000002"}],
    ]
    first = patients[0]
    assert first["birthDate"] == "1961"  # the year only
    assert set(first) == {"resourceType", "id", "meta", "identifier", "name", "gender", "birthDate"}
    assert first["name"] == [
        {
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                    "valueCode": "masked",
                }
            ]
        }
    ]
    assert "birthDate" not in patients[1]


def test_mcode_and_genomics_reporting_shapes(bundle: dict[str, Any]) -> None:
    condition = _of(bundle, "Condition")[0]
    assert condition["meta"]["profile"] == [c.PROFILE_PRIMARY_CANCER]
    assert condition["code"]["coding"][0] == {
        "system": c.ONCOTREE,
        "code": "LUAD",
        "display": "Lung Adenocarcinoma",
    }
    observations = _of(bundle, "Observation")
    by_code = {o["code"]["coding"][0]["code"]: o for o in observations}
    assert by_code["89247-1"]["valueInteger"] == 1
    assert by_code["399537006"]["valueCodeableConcept"] == {"text": "Stage IV"}
    variant = by_code["69548-6"]
    components = {x["code"]["coding"][0]["code"]: x for x in variant["component"]}
    assert components["48018-6"]["valueCodeableConcept"] == {"text": "KRAS"}
    assert components["48004-6"]["valueCodeableConcept"]["coding"][0]["code"] == (
        "NM_004985.5:c.34G>T"
    )
    assert components["48005-3"]["valueCodeableConcept"]["coding"][0]["code"] == "p.Gly12Cys"
    assert components["81258-6"]["valueQuantity"] == {
        "value": 23.1,
        "unit": "%",
        "system": c.UCUM,
        "code": "%",
    }
    ae = _of(bundle, "AdverseEvent")[0]
    assert ae["extension"][0]["url"] == c.AE_GRADE_URL
    assert ae["extension"][0]["valueCodeableConcept"]["coding"][0]["code"] == "C41340"  # grade 3
    assert ae["severity"]["coding"][0]["code"] == "severe"
    assert ae["seriousness"]["coding"][0]["code"] == "Serious"
    specimens = _of(bundle, "Specimen")
    assert specimens[0]["type"]["coding"][0]["code"] == "TISS"
    assert specimens[1]["parent"] == [{"reference": f"urn:uuid:{specimens[0]['id']}"}]
    assert specimens[1]["status"] == "unavailable"  # depleted
    dose = _of(bundle, "MedicationAdministration")[0]["dosage"]["dose"]
    assert dose == {"value": 50, "unit": "mg", "system": c.UCUM, "code": "mg"}
    study = _of(bundle, "ResearchStudy")[0]
    assert study["phase"]["coding"][0]["code"] == "phase-1"
    assert [a["name"] for a in study["arm"]] == ["A-DL1", "A-DL2"]
    subjects = _of(bundle, "ResearchSubject")
    assert [s["status"] for s in subjects] == ["on-study-intervention", "off-study"]
    assert subjects[1]["period"] == {"start": "2026-03-09", "end": "2026-04-01"}


def test_fhirjs_accepts_all_179_mcode_examples() -> None:
    files = sorted(MCODE.glob("*.json"))
    assert len(files) == 179
    found = validate(files)
    assert len(found) == 179
    assert {name: errors(m) for name, m in found.items() if errors(m)} == {}


def test_fhirjs_rejects_a_bad_status_and_an_r5_shaped_subject(tmp_path: Path) -> None:
    specimen = json.loads((MCODE / "Specimen-human-specimen-lung.json").read_text())
    specimen["status"] = "bogus"
    (tmp_path / "bad-status.json").write_text(json.dumps(specimen))
    bundle = bundle_dict(make_study(), created=CREATED)
    subject = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ResearchSubject"
    )
    subject["subject"] = subject.pop("individual")  # the R5 name of the element
    (tmp_path / "r5-subject.json").write_text(json.dumps(bundle))
    found = validate([tmp_path / "bad-status.json", tmp_path / "r5-subject.json"])
    assert any('Code "bogus" not found in value set' in e for e in errors(found["bad-status.json"]))
    r5 = errors(found["r5-subject.json"])
    assert any("ResearchSubject.subject: Unexpected property" in e for e in r5)
    assert any("individual" in e for e in r5)


def test_fhirjs_accepts_our_bundle(tmp_path: Path) -> None:
    path = tmp_path / "bundle.json"
    path.write_bytes(bundle_json(make_study(), created=CREATED))
    assert errors(validate([path])["bundle.json"]) == []
