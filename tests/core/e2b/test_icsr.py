"""ICH E2B(R3) ICSR builder: schema-valid initial and follow-up reports, code-list values from the
ICH Implementation Guide, pseudonymisation, and a validator that is shown to reject."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from lxml import etree

from fixtures import E2B, E2B_SCHEMA
from oncotrials.core.e2b import (
    Drug,
    Icsr,
    Nullification,
    Patient,
    PrimarySource,
    Reaction,
    Sender,
    Study,
    build_icsr,
    schema_errors,
)
from oncotrials.core.errors import ValidationError

NS = {"h": "urn:hl7-org:v3", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
REACTION = "0b7d2a34-5c1e-4f7e-9a41-3c8e2f000001"
DRUG = "0b7d2a34-5c1e-4f7e-9a41-3c8e2f000002"


def initial() -> Icsr:
    return Icsr(
        safety_report_id="FR-MAIN-SAE000042",
        worldwide_case_id="FR-MAIN-SAE000042",
        version=1,
        created_at=dt.datetime(2027, 3, 2, 9, 30, tzinfo=dt.UTC),
        first_received=dt.date(2027, 3, 1),
        most_recent_information=dt.date(2027, 3, 1),
        expedited=True,
        receiver="Sponsor Bravoinc",
        sender=Sender(identifier="MAIN", organisation="Main centre", country="FR"),
        primary_source=PrimarySource(country="FR", organisation="Main centre"),
        study=Study(
            sponsor_study_number="ZQB-BRAVO-202",
            name="A phase I trial",
            registrations=(("2024-500001-11-00", "EU"), ("NCT01234567", "US")),
        ),
        patient=Patient(investigation_number="P-0001", age_years=61, sex="female"),
        reactions=(
            Reaction(
                uid=REACTION,
                term="Colitis",
                meddra_code=10009887,
                meddra_version="20.1",
                seriousness=frozenset({"hospitalisation"}),
                outcome="not_recovered",
                start=dt.date(2027, 2, 27),
                country="FR",
            ),
        ),
        drugs=(
            Drug(
                uid=DRUG,
                name="Drug X",
                dose=Decimal("3.0000"),
                dose_unit="mg/kg",
                first_dose=dt.date(2027, 1, 5),
                last_dose=dt.date(2027, 2, 20),
                action="withdrawn",
                causality=((REACTION, "Probable"),),
            ),
        ),
        narrative="Grade 3 colitis, hospitalised.",
    )


def follow_up() -> Icsr:
    first = initial()
    reaction = replace(first.reactions[0], outcome="recovered", end=dt.date(2027, 3, 9))
    return replace(
        first,
        version=2,
        created_at=dt.datetime(2027, 3, 10, 14, 0, tzinfo=dt.UTC),
        most_recent_information=dt.date(2027, 3, 10),
        reactions=(reaction,),
        narrative="Grade 3 colitis, hospitalised; resolved on 9 March.",
    )


def xpath(xml: bytes, path: str) -> list[str]:
    return [str(v) for v in etree.fromstring(xml).xpath(path, namespaces=NS)]


def test_the_validator_accepts_an_fda_example_instance():
    # FDA E2B(R3) example, scenario 3 (premarket IND report); see tests/fixtures/e2b/README.md
    xml = (E2B / "FAERS2022Scenario3.xml").read_bytes()
    assert schema_errors(xml, E2B_SCHEMA) == []


def test_the_validator_rejects_a_mutated_fda_instance():
    xml = (E2B / "FAERS2022Scenario3.xml").read_bytes()
    # C.1.5 renamed: an element the ICSR message type does not declare
    broken = xml.replace(b"<availabilityTime ", b"<availabilityTimes ", 1)
    errors = schema_errors(broken, E2B_SCHEMA)
    assert errors
    assert "availabilityTimes" in errors[0]


def test_initial_report_is_schema_valid():
    assert schema_errors(build_icsr(initial()), E2B_SCHEMA) == []


def test_follow_up_report_is_schema_valid():
    assert schema_errors(build_icsr(follow_up()), E2B_SCHEMA) == []


def test_a_report_missing_a_required_element_is_rejected_by_the_schema():
    tree = etree.fromstring(build_icsr(initial()))
    # the ICSR message must carry its creation time (N.2.r.4); drop it
    node = tree.find("h:PORR_IN049016UV/h:creationTime", NS)
    node.getparent().remove(node)
    errors = schema_errors(etree.tostring(tree), E2B_SCHEMA)
    assert errors
    assert "interactionId" in errors[0]


def test_follow_up_keeps_the_case_ids_and_updates_version_and_dates():
    one, two = build_icsr(initial()), build_icsr(follow_up())
    c11 = "//h:investigationEvent/h:id[@root='2.16.840.1.113883.3.989.2.1.3.1']/@extension"
    c181 = "//h:investigationEvent/h:id[@root='2.16.840.1.113883.3.989.2.1.3.2']/@extension"
    n2r1 = "/h:MCCI_IN200100UV01/h:PORR_IN049016UV/h:id/@extension"
    assert xpath(one, c11) == xpath(two, c11) == ["FR-MAIN-SAE000042"]
    assert xpath(one, c181) == xpath(two, c181) == ["FR-MAIN-SAE000042"]
    assert xpath(one, n2r1) == ["FR-MAIN-SAE000042-V1"]
    assert xpath(two, n2r1) == ["FR-MAIN-SAE000042-V2"]
    c14 = "//h:investigationEvent/h:effectiveTime/h:low/@value"
    c15 = "//h:investigationEvent/h:availabilityTime/@value"
    assert xpath(one, c14) == xpath(two, c14) == ["20270301"]
    assert xpath(one, c15) == ["20270301"]
    assert xpath(two, c15) == ["20270310"]
    end = "//h:observation[h:code/@code='29']/h:effectiveTime/h:high/@value"
    assert xpath(one, end) == []
    assert xpath(two, end) == ["20270309"]


def test_code_list_values_follow_the_ich_implementation_guide():
    xml = build_icsr(initial())
    # C.1.3 report from study = 2 in 2.16.840.1.113883.3.989.2.1.1.2
    assert xpath(xml, "//h:investigationCharacteristic[h:code/@code='1']/h:value/@code") == ["2"]
    assert xpath(xml, "//h:investigationCharacteristic[h:code/@code='1']/h:value/@codeSystem") == [
        "2.16.840.1.113883.3.989.2.1.1.2"
    ]
    # C.2.r.4 physician = 1 in .1.6; C.3.1 other = 6 in .1.7; C.5.4 clinical trials = 1 in .1.8
    assert xpath(xml, "//h:asQualifiedEntity/h:code/@code") == ["1"]
    assert xpath(xml, "//h:asQualifiedEntity/h:code/@codeSystem") == [
        "2.16.840.1.113883.3.989.2.1.1.6"
    ]
    assert xpath(xml, "//h:code[@codeSystem='2.16.840.1.113883.3.989.2.1.1.7']/@code") == ["6"]
    assert xpath(xml, "//h:researchStudy/h:code/@code") == ["1"]
    assert xpath(xml, "//h:researchStudy/h:code/@codeSystem") == ["2.16.840.1.113883.3.989.2.1.1.8"]
    # E.i.3.2c hospitalisation (code 33) true, the other criteria nullFlavor NI
    crit = "//h:observation[h:code/@code='{}']/h:value/@{}"
    assert xpath(xml, crit.format("33", "value")) == ["true"]
    for code in ("34", "21", "35", "12", "26"):
        assert xpath(xml, crit.format(code, "nullFlavor")) == ["NI"]
    # E.i.7 not recovered = 3 in .1.11; G.k.1 suspect = 1 in .1.13; G.k.8 withdrawn = 1 in .1.15
    assert xpath(xml, crit.format("27", "code")) == ["3"]
    assert xpath(xml, "//h:causalityAssessment[h:code/@code='20']/h:value/@codeSystem") == [
        "2.16.840.1.113883.3.989.2.1.1.13"
    ]
    assert xpath(xml, "//h:causalityAssessment[h:code/@code='20']/h:value/@code") == ["1"]
    assert xpath(xml, "//h:inboundRelationship[@typeCode='CAUS']/h:act/h:code/@code") == ["1"]
    # E.i.2.1: MedDRA code in 2.16.840.1.113883.6.163
    assert xpath(xml, "//h:observation[h:code/@code='29']/h:value/@code") == ["10009887"]
    # D.5 female = 2 (ISO 5218)
    assert xpath(xml, "//h:administrativeGenderCode/@code") == ["2"]
    assert xpath(xml, "//h:doseQuantity/@value") == ["3"]
    assert xpath(xml, "//h:doseQuantity/@unit") == ["mg/kg"]


def test_patient_is_masked_and_no_birth_date_is_written():
    xml = build_icsr(initial())
    assert xpath(xml, "//h:player1/h:name/@nullFlavor") == ["MSK"]
    assert xpath(xml, "//h:player1/h:name/text()") == []
    assert xpath(xml, "//h:birthTime") == []
    assert xpath(xml, "//h:observation[h:code/@code='3']/h:value/@value") == ["61"]


def test_an_uncoded_reaction_is_sent_as_text_with_a_null_flavor():
    reaction = replace(initial().reactions[0], meddra_code=None, term="Tummy ache")
    xml = build_icsr(replace(initial(), reactions=(reaction,)))
    assert schema_errors(xml, E2B_SCHEMA) == []
    assert xpath(xml, "//h:observation[h:code/@code='29']/h:value/@nullFlavor") == ["NI"]
    assert xpath(xml, "//h:observation[h:code/@code='29']/h:value/h:originalText/text()") == [
        "Tummy ache"
    ]


def test_a_nullification_carries_its_code_and_reason_and_stays_valid():
    xml = build_icsr(
        replace(follow_up(), nullification=Nullification("nullification", "Entered in error"))
    )
    assert schema_errors(xml, E2B_SCHEMA) == []
    assert xpath(xml, "//h:investigationCharacteristic[h:code/@code='3']/h:value/@code") == ["1"]
    assert xpath(
        xml, "//h:investigationCharacteristic[h:code/@code='4']/h:value/h:originalText/text()"
    ) == ["Entered in error"]


def test_a_blinded_product_is_flagged_and_still_valid():
    drug = replace(initial().drugs[0], name="Blinded study treatment", blinded=True, dose=None)
    xml = build_icsr(replace(initial(), drugs=(drug,)))
    assert schema_errors(xml, E2B_SCHEMA) == []
    assert xpath(xml, "//h:observation[h:code/@code='6']/h:value/@value") == ["true"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": 0}, "version"),
        ({"safety_report_id": " "}, "C.1.1"),
        ({"most_recent_information": dt.date(2027, 2, 1)}, "C.1.5"),
        (
            {"created_at": dt.datetime(2027, 3, 2, 9, 30, tzinfo=dt.UTC).replace(tzinfo=None)},
            "C.1.2",
        ),
        ({"reactions": ()}, "E.i"),
        ({"report_type": "gossip"}, "C.1.3"),
    ],
)
def test_bad_input_names_the_data_element(change, field):
    with pytest.raises(ValidationError) as exc:
        build_icsr(replace(initial(), **change))
    assert exc.value.extra["field"] == field


def test_an_outcome_outside_the_code_list_is_refused():
    reaction = replace(initial().reactions[0], outcome="better")
    with pytest.raises(ValidationError, match=r"E\.i\.7"):
        build_icsr(replace(initial(), reactions=(reaction,)))


def test_a_dose_unit_that_is_not_ucum_is_refused():
    drug = replace(initial().drugs[0], dose_unit="mg per kg")
    with pytest.raises(ValidationError) as exc:
        build_icsr(replace(initial(), drugs=(drug,)))
    assert exc.value.extra["field"] == "G.k.4.r.1b"
