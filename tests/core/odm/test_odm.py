"""ODM 1.3.2 from plain data: the document is valid against CDISC's XML Schema (bundled with
odmlib), its OIDs are defined once and every reference resolves, metadata read back gives the
same form declarations, and what a declaration cannot hold is refused by OID."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from lxml import etree

from oncotrials.core.crf import STANDARD_DECLARATIONS, form_spec_from_dict
from oncotrials.core.odm import (
    Audit,
    FormRecord,
    OdmImportError,
    OdmStudy,
    Query,
    Signed,
    Site,
    Subject,
    Value,
    forms_from_odm,
    odm_bytes,
    odm_files,
    odm_oid_errors,
    odm_root,
    odm_schema_errors,
    study_from_json,
    study_to_json,
)

ROOT = Path(__file__).resolve().parents[3]
SCHEDULE = yaml.safe_load((ROOT / "docs" / "formats" / "visit-schedule.example.yaml").read_text())
FOREIGN = ROOT / "tests" / "fixtures" / "odm" / "openclinica_vitals.xml"
NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
CREATED = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
QOL = {
    "name": "quality_of_life",
    "title": "EQ-5D",
    "fields": [
        {"name": "assessed_on", "type": "date", "required": True, "help": "Day of the visit"},
        {"name": "vas", "type": "integer", "label": "Health today", "min": 0, "max": 100},
        {"name": "note", "type": "text", "max_length": 300},
        {"name": "temperature", "type": "decimal", "unit": "°C", "expected_max": 38.5},
    ],
}


def _study(subjects: tuple[Subject, ...] = ()) -> OdmStudy:
    return OdmStudy(
        study_id="ONC-PH1-001",
        title="A phase I study",
        declarations=(*STANDARD_DECLARATIONS, QOL),
        schedule=SCHEDULE,
        sites=(Site("main", "Main centre"),),
        subjects=subjects,
        effective="2026-02-01",
    )


NURSE = Audit("nurse", "2026-11-13T09:00:00+00:00")
SUBJECT = Subject(
    key="ONC-0001",
    site="main",
    forms=(
        FormRecord(
            visit="C1D1",
            form="vital_signs",
            values=(
                Value("assessed_on", "2026-11-13", NURSE),
                Value("systolic_bp", "210", Audit("nurse", "2026-11-13T10:00:00+00:00", "typo")),
            ),
            audit=NURSE,
            signature=Signed(3, "investigator", "2026-11-14T09:00:00+00:00", "reviewed"),
            queries=(Query(5, "systolic_bp", "Confirm", "open", "2026-11-13T10:00:00+00:00"),),
        ),
        FormRecord("C2D1", "vital_signs", (Value("assessed_on", "2026-12-04"),)),
        FormRecord("IMG2", "quality_of_life", (Value("assessed_on", "2026-12-25"),)),
        FormRecord("X9", "ecog", (Value("performance_status", "1"),)),  # not in the schedule
    ),
    signature=Signed(9, "investigator", "2026-11-30T09:00:00+00:00", "approved"),
)


def test_the_document_is_valid_against_the_odm_1_3_2_schema() -> None:
    xml = odm_files(_study((SUBJECT,)), created=CREATED)["odm.xml"]
    assert odm_schema_errors(xml) == []
    root = etree.fromstring(xml)
    assert root.get("ODMVersion") == "1.3.2"
    assert root.get("FileType") == "Snapshot"


def test_the_validator_runs_an_invalid_document_fails() -> None:
    xml = odm_files(_study((SUBJECT,)), created=CREATED)["odm.xml"]
    # ItemDef without its required DataType, and an element ODM does not have
    broken = xml.replace(b' DataType="date"', b"", 1)
    assert any("DataType" in e for e in odm_schema_errors(broken))
    assert odm_schema_errors(xml.replace(b"<AdminData", b"<Nonsense/><AdminData", 1))
    (error,) = odm_schema_errors(b"<ODM")
    assert error.startswith("line 1: not well-formed XML")


def test_every_oid_is_defined_once_and_every_reference_resolves() -> None:
    root = odm_root(_study((SUBJECT,)), created=CREATED)
    assert odm_oid_errors(root) == []
    root.Study[0].MetaDataVersion[0].FormDef.pop()  # the quality of life form goes
    assert "F.QUALITY_OF_LIFE" in odm_oid_errors(root)[0]


def test_the_same_data_give_the_same_bytes_and_survive_json() -> None:
    study = _study((SUBJECT,))
    assert study_from_json(study_to_json(study)) == study
    first = odm_files(study, created=CREATED)
    assert odm_files(study_from_json(study_to_json(study)), created=CREATED) == first
    later = odm_files(study, created=CREATED + dt.timedelta(days=1))["odm.xml"]
    strip = [b"20261120T120000Z", b"2026-11-20T12:00:00+00:00"]
    a = first["odm.xml"]
    for s, r in zip(strip, [b"20261121T120000Z", b"2026-11-21T12:00:00+00:00"], strict=True):
        a = a.replace(s, r)
    assert a == later  # timestamps aside


def test_visits_map_to_study_events_and_repeat_keys() -> None:
    root = etree.fromstring(odm_bytes(odm_root(_study((SUBJECT,)), created=CREATED)))
    events = [
        (e.get("StudyEventOID"), e.get("StudyEventRepeatKey"))
        for e in root.iterfind(".//odm:StudyEventData", NS)
    ]
    assert events == [
        ("SE.CnD1", "1"),
        ("SE.CnD1", "2"),
        ("SE.IMG", "2"),
        ("SE.UNSCHEDULED", "X9"),
    ]
    defs = {e.get("OID"): e for e in root.iterfind(".//odm:StudyEventDef", NS)}
    assert list(defs)[:4] == ["SE.SCR", "SE.CnD1", "SE.C1D8", "SE.C1D15"]
    assert [r.get("FormOID") for r in defs["SE.UNSCHEDULED"]] == ["F.ECOG"]
    assert defs["SE.FU"].get("Repeating") == "Yes"


def test_a_value_of_a_field_no_longer_declared_is_kept_as_a_retired_item() -> None:
    old = FormRecord("SCR", "ecog", (Value("performance_status", "1"), Value("karnofsky", "90")))
    study = _study((Subject("ONC-0002", "main", (old,)),))
    xml = odm_files(study, created=CREATED)["odm.xml"]
    root = etree.fromstring(xml)
    (item,) = root.findall(".//odm:ItemDef[@OID='IT.ECOG.KARNOFSKY']", NS)
    assert item.find("odm:Alias", NS).get("Context") == "oncotrials.retired"
    assert root.find(".//odm:ItemData[@ItemOID='IT.ECOG.KARNOFSKY']", NS).get("Value") == "90"
    (ecog,) = [d for d in forms_from_odm(xml) if d["name"] == "ecog"]
    assert [f["name"] for f in ecog["fields"]] == ["assessed_on", "performance_status"]


def test_metadata_read_back_gives_the_same_declarations() -> None:
    xml = odm_files(_study(), created=CREATED)["odm.xml"]
    back = forms_from_odm(xml)
    declared = [*STANDARD_DECLARATIONS, QOL]
    used = [d for d in declared if d["name"] in {b["name"] for b in back}]
    assert [d["name"] for d in back] == [d["name"] for d in used]
    assert len(back) == len(declared)
    for original, read in zip(used, back, strict=True):
        assert form_spec_from_dict(read) == form_spec_from_dict(original), original["name"]


def test_another_edcs_metadata_becomes_declarations() -> None:
    vitals, ecog = forms_from_odm(FOREIGN)
    assert vitals["name"] == "vital_signs_v1_0"
    assert vitals["title"] == "Vital Signs - v1.0"
    spec = form_spec_from_dict(vitals)
    sbp = spec.field("sysbp")
    assert (sbp.type, sbp.unit, sbp.min, sbp.max, sbp.required) == (
        "integer",
        "mmHg",
        50,
        280,
        True,
    )
    assert spec.field("weight").type == "decimal"
    assert spec.field("comment").max_length == 200
    position = spec.field("position")
    assert position.choices == ("1", "2", "3")
    assert position.help == "1 = Supine; 2 = Sitting; 3 = Standing"
    assert form_spec_from_dict(ecog).field("ecogscore").choices == ("0", "1", "2", "3", "4")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'OID="IG_VITAL_UNGROUPED" Name="IG_VITAL_UNGROUPED" Repeating="No"',
            'OID="IG_VITAL_UNGROUPED" Name="IG_VITAL_UNGROUPED" Repeating="Yes"',
            "IG_VITAL_UNGROUPED: a repeating item group",
        ),
        (
            'Name="WEIGHT" DataType="float"',
            'Name="WEIGHT" DataType="partialDate"',
            "I_VITAL_WEIGHT: data type 'partialDate'",
        ),
        (
            '<RangeCheck Comparator="GE"',
            '<RangeCheck Comparator="NE"',
            "I_VITAL_SYSBP: range check NE",
        ),
        (
            'ItemOID="I_VITAL_WEIGHT" OrderNumber="3" Mandatory="No"',
            'ItemOID="I_VITAL_WEIGHT" OrderNumber="3" Mandatory="No" MethodOID="MT_BMI"',
            "I_VITAL_WEIGHT: a derived item",
        ),
        (
            'OID="F_ECOG_V10" Name="ECOG Performance Status - v1.0" Repeating="No"',
            'OID="F_ECOG_V10" Name="ECOG Performance Status - v1.0" Repeating="Yes"',
            "F_ECOG_V10: a repeating form",
        ),
        (
            '<CodeListRef CodeListOID="CL_ECOG"/>',
            '<CodeListRef CodeListOID="CL_NONE"/>',
            "I_ECOG_ECOGSCORE: its code list 'CL_NONE'",
        ),
        (
            'Name="WEIGHT" DataType="float"',
            'Name="SYSBP" DataType="float"',
            "F_VITALSIGNS_V10: the declaration it gives is faulty: .*'sysbp' is declared twice",
        ),
    ],
)
def test_what_a_declaration_cannot_hold_is_refused_by_oid(old: str, new: str, message: str) -> None:
    text = FOREIGN.read_text()
    assert old in text
    with pytest.raises(OdmImportError, match=message):
        forms_from_odm(text.replace(old, new, 1))


def test_what_is_not_odm_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(
        OdmImportError, match=r"expected ODM in http://www\.cdisc\.org/ns/odm/v1\.3"
    ):
        forms_from_odm(b'<ODM xmlns="http://www.cdisc.org/ns/odm/v2.0"/>')
    with pytest.raises(OdmImportError, match="DOCTYPE"):
        forms_from_odm(b'<!DOCTYPE x [<!ENTITY a "b">]><ODM/>')
    with pytest.raises(OdmImportError, match="not well-formed"):
        forms_from_odm(b"<ODM")
    with pytest.raises(OdmImportError, match="no MetaDataVersion with OID 'v9'"):
        forms_from_odm(FOREIGN, metadata_version="v9")
