"""Write an ICH E2B(R3) ICSR as the HL7 v3 XML message the field exchanges: a batch
(``MCCI_IN200100UV01``) holding one ICSR message (``PORR_IN049016UV``).

The element layout follows the ICH E2B(R3) Implementation Guide (v5.02, section 3 and the XPaths
of each data element) and the FDA's example instances; the output validates against the ICH
ICSR schema set (``tests/fixtures/e2b/``, see its README).

References
----------
ICH E2B(R3) Electronic Transmission of Individual Case Safety Reports, Implementation Guide,
data elements and message specification, v5.02 (2016), with the ICH ICSR schema files.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from oncotrials.core.errors import ValidationError

from . import codes as c
from .model import Drug, Icsr, Reaction

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NS = {None: HL7, "xsi": XSI}
_XSI_TYPE = f"{{{XSI}}}type"
# UCUM unit codes are case-sensitive tokens without spaces (https://ucum.org/ucum)
_UCUM = re.compile(r"^[A-Za-z0-9/.\[\]{}%*^'_-]+$")
# ICH IG field lengths (section 3) for the free texts written here
_MAX = {"safety_report_id": 100, "receiver": 60, "narrative": 100000, "term": 250, "name": 250}


def _el(parent: Any, tag: str, text: str | None = None, **attrs: str) -> Any:
    node = etree.SubElement(parent, f"{{{HL7}}}{tag}")
    for key, value in attrs.items():
        node.set(_XSI_TYPE if key == "xsi_type" else key, value)
    if text is not None:
        node.text = text
    return node


def _ts(value: dt.datetime) -> str:
    """HL7 TS with seconds and UTC offset (ICH IG Appendix II: CCYYMMDDhhmmss+ZZzz)."""
    return value.strftime("%Y%m%d%H%M%S%z")


def _date(value: dt.date) -> str:
    return value.strftime("%Y%m%d")


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _require_key(value: str | None, table: dict[str, str], field: str) -> str:
    if value not in table:
        raise ValidationError(
            f"{field} must be one of {', '.join(sorted(table))}; got {value!r}.",
            field=field,
            code="e2b_not_in_code_list",
            field_value=str(field),
            table=str(", ".join(sorted(table))),
            value=repr(value),
        )
    return table[value]


def _check(icsr: Icsr) -> None:
    if not icsr.safety_report_id.strip():
        raise ValidationError(
            "The safety report identifier (C.1.1) is empty.",
            field="C.1.1",
            code="e2b_safety_report_identifier_c",
        )
    for name, value in (
        ("safety_report_id", icsr.safety_report_id),
        ("receiver", icsr.receiver),
        ("narrative", icsr.narrative),
    ):
        if len(value) > _MAX[name]:
            raise ValidationError(
                f"{name} is {len(value)} characters long; E2B(R3) allows {_MAX[name]}.",
                field=name,
                code="e2b_characters_long_e2b_r3",
                name=str(name),
                n_value=str(len(value)),
                max=str(_MAX[name]),
            )
    if icsr.version < 1:
        raise ValidationError(
            f"version must be 1 or more; got {icsr.version}.",
            field="version",
            code="e2b_version_below_one",
            version=str(icsr.version),
        )
    if icsr.created_at.tzinfo is None:
        raise ValidationError(
            "created_at (C.1.2) must carry its time zone.",
            field="C.1.2",
            code="e2b_created_c_carry_time",
        )
    if icsr.most_recent_information < icsr.first_received:
        raise ValidationError(
            f"The date of most recent information (C.1.5, {icsr.most_recent_information}) is "
            f"before the date first received (C.1.4, {icsr.first_received}).",
            field="C.1.5",
            code="e2b_date_most_recent_information",
            most_recent_information=str(icsr.most_recent_information),
            first_received=str(icsr.first_received),
        )
    if not icsr.reactions:
        raise ValidationError(
            "An ICSR needs at least one reaction (E.i).",
            field="E.i",
            code="e2b_no_reaction",
        )
    if not icsr.drugs:
        raise ValidationError(
            "An ICSR needs at least one drug (G.k).", field="G.k", code="e2b_no_drug"
        )
    for r in icsr.reactions:
        if not r.term.strip() or len(r.term) > _MAX["term"]:
            raise ValidationError(
                f"Reaction {r.uid}: the term as reported (E.i.1.1a) must have 1 to "
                f"{_MAX['term']} characters; got {len(r.term.strip())}.",
                field="E.i.1.1a",
                code="e2b_reaction_term_reported_e",
                uid=str(r.uid),
                max_length=str(_MAX["term"]),
                n_strip=str(len(r.term.strip())),
            )
        if r.end is not None and r.start is not None and r.end < r.start:
            raise ValidationError(
                f"Reaction {r.term!r} ends ({r.end}) before it starts ({r.start}).",
                field="E.i.5",
                code="e2b_reaction_ends_before_starts",
                term=repr(r.term),
                end=str(r.end),
                start=str(r.start),
            )
    for d in icsr.drugs:
        if not d.name.strip() or len(d.name) > _MAX["name"]:
            raise ValidationError(
                f"Drug {d.uid}: the product name (G.k.2.2) must have 1 to {_MAX['name']} "
                "characters.",
                field="G.k.2.2",
                code="e2b_drug_product_name_g",
                uid=str(d.uid),
                max_length=str(_MAX["name"]),
            )


def build_icsr(icsr: Icsr) -> bytes:
    """The ICSR as E2B(R3) XML (UTF-8, with its declaration).

    Raises ``ValidationError`` naming the data element when a value breaks an E2B(R3) rule
    (a code outside its code list, a missing identifier, a text over its length).
    """
    _check(icsr)
    created = _ts(icsr.created_at)
    root = etree.Element(f"{{{HL7}}}MCCI_IN200100UV01", nsmap=_NS)
    root.set("ITSVersion", "XML_1.0")
    message_id = f"{icsr.safety_report_id}-V{icsr.version}"
    _el(root, "id", root=c.OID_BATCH_NUMBER, extension=f"{message_id}-B")  # N.1.2
    _el(root, "creationTime", value=created)  # N.1.5
    _el(root, "responseModeCode", code="D")
    _el(root, "interactionId", root=c.OID_HL7_INTERACTION, extension="MCCI_IN200100UV01")
    _el(root, "name", code="1", codeSystem=c.CS_MESSAGE_TYPE, displayName="ichicsr")  # N.1.1

    msg = _el(root, "PORR_IN049016UV")
    _el(msg, "id", root=c.OID_MESSAGE_ID, extension=message_id)  # N.2.r.1
    _el(msg, "creationTime", value=created)  # N.2.r.4
    _el(msg, "interactionId", root=c.OID_HL7_INTERACTION, extension="PORR_IN049016UV")
    _el(msg, "processingCode", code="P")
    _el(msg, "processingModeCode", code="T")
    _el(msg, "acceptAckCode", code="AL")
    _device(msg, "receiver", "RCV", c.OID_MESSAGE_RECEIVER, icsr.receiver)  # N.2.r.3
    _device(msg, "sender", "SND", c.OID_MESSAGE_SENDER, icsr.sender.identifier)  # N.2.r.2
    cap = _el(msg, "controlActProcess", classCode="CACT", moodCode="EVN")
    _el(cap, "code", code="PORR_TE049016UV", codeSystem=c.OID_HL7_TRIGGER_EVENT)
    _el(cap, "effectiveTime", value=created)  # C.1.2
    subject = _el(cap, "subject", typeCode="SUBJ")
    _investigation(subject, icsr)

    _device(root, "receiver", "RCV", c.OID_BATCH_RECEIVER, icsr.receiver)  # N.1.4
    _device(root, "sender", "SND", c.OID_BATCH_SENDER, icsr.sender.identifier)  # N.1.3
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _device(parent: Any, tag: str, type_code: str, root: str, extension: str) -> None:
    node = _el(parent, tag, typeCode=type_code)
    device = _el(node, "device", classCode="DEV", determinerCode="INSTANCE")
    _el(device, "id", root=root, extension=extension)


def _investigation(subject: Any, icsr: Icsr) -> None:
    ie = _el(subject, "investigationEvent", classCode="INVSTG", moodCode="EVN")
    _el(ie, "id", root=c.OID_SAFETY_REPORT_ID, extension=icsr.safety_report_id)  # C.1.1
    _el(ie, "id", root=c.OID_WORLDWIDE_CASE_ID, extension=icsr.worldwide_case_id)  # C.1.8.1
    _el(ie, "code", code="PAT_ADV_EVNT", codeSystem=c.OID_HL7_ACT_CODE)
    _el(ie, "text", icsr.narrative, mediaType="text/plain")  # H.1
    _el(ie, "statusCode", code="active")
    period = _el(ie, "effectiveTime")
    _el(period, "low", value=_date(icsr.first_received))  # C.1.4
    _el(ie, "availabilityTime", value=_date(icsr.most_recent_information))  # C.1.5

    component = _el(ie, "component", typeCode="COMP")
    _assessment(component, icsr)
    _observation_event(ie, c.OBS_ADDITIONAL_DOCUMENTS, "additionalDocumentsAvailable", False)
    _observation_event(ie, c.OBS_EXPEDITED, "localCriteriaForExpedited", icsr.expedited)

    # C.1.8.2 First sender of this case
    rel = _el(ie, "outboundRelationship", typeCode="SPRT")
    inv = _el(rel, "relatedInvestigation", classCode="INVSTG", moodCode="EVN")
    _el(
        inv,
        "code",
        code=c.RELATED_INITIAL_REPORT,
        codeSystem=c.CS_INVESTIGATION_CHARACTERISTIC,
        displayName="initialReport",
    )
    entity = _author_entity(inv)
    _el(
        entity,
        "code",
        code=_require_key(icsr.first_sender, c.FIRST_SENDER, "C.1.8.2"),
        codeSystem=c.CS_FIRST_SENDER,
    )
    _primary_source(ie, icsr)
    _sender(ie, icsr)
    _characteristic(
        ie,
        c.CHAR_REPORT_TYPE,
        "ichReportType",
        code=_require_key(icsr.report_type, c.REPORT_TYPE, "C.1.3"),
        code_system=c.CS_REPORT_TYPE,
    )
    _characteristic(ie, c.CHAR_OTHER_CASE_IDS, "otherCaseIds", null="NI")  # C.1.9.1
    if icsr.nullification is not None:
        _characteristic(
            ie,
            c.CHAR_NULLIFICATION,
            "nullificationAmendmentCode",
            code=_require_key(icsr.nullification.kind, c.NULLIFICATION, "C.1.11.1"),
            code_system=c.CS_NULLIFICATION,
        )
        if not icsr.nullification.reason.strip():
            raise ValidationError(
                "A nullification or amendment needs its reason (C.1.11.2).",
                field="C.1.11.2",
                code="e2b_nullification_amendment_needs_reason",
            )
        _characteristic(
            ie,
            c.CHAR_NULLIFICATION_REASON,
            "nullificationAmendmentReason",
            text=icsr.nullification.reason[:2000],
        )


def _author_entity(inv: Any) -> Any:
    holder = _el(inv, "subjectOf2", typeCode="SUBJ")
    event = _el(holder, "controlActEvent", classCode="CACT", moodCode="EVN")
    author = _el(event, "author", typeCode="AUT")
    return _el(author, "assignedEntity", classCode="ASSIGNED")


def _country(parent: Any, tag: str, code: str, class_code: str = "COUNTRY") -> None:
    node = _el(parent, tag, classCode=class_code, determinerCode="INSTANCE")
    _el(node, "code", code=code.upper(), codeSystem=c.CS_COUNTRY)


def _primary_source(ie: Any, icsr: Icsr) -> None:
    """C.2.r: the reporter, by qualification, country and organisation (not by name)."""
    source = icsr.primary_source
    rel = _el(ie, "outboundRelationship", typeCode="SPRT")
    _el(rel, "priorityNumber", value="1")  # primary source for regulatory purposes
    inv = _el(rel, "relatedInvestigation", classCode="INVSTG", moodCode="EVN")
    _el(
        inv,
        "code",
        code=c.RELATED_SOURCE_REPORT,
        codeSystem=c.CS_INVESTIGATION_CHARACTERISTIC,
        displayName="sourceReport",
    )
    entity = _author_entity(inv)
    person = _el(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
    qual = _el(person, "asQualifiedEntity", classCode="QUAL")
    _el(
        qual,
        "code",
        code=_require_key(source.qualification, c.QUALIFICATION, "C.2.r.4"),
        codeSystem=c.CS_QUALIFICATION,
    )
    if source.country:
        _located(person, source.country)
    if source.organisation:
        _organisation(entity, source.organisation)  # C.2.r.2.1


def _located(person: Any, country: str) -> None:
    """A person's country (C.2.r.3, C.3.4.5)."""
    _country(_el(person, "asLocatedEntity", classCode="LOCE"), "location", country)


def _organisation(entity: Any, name: str) -> None:
    """The organisation an author belongs to, nested as the ICSR schema wants it."""
    org = _el(entity, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
    inner = _el(org, "assignedEntity", classCode="ASSIGNED")
    named = _el(inner, "representedOrganization", classCode="ORG", determinerCode="INSTANCE")
    _el(named, "name", name[:100])


def _sender(ie: Any, icsr: Icsr) -> None:
    """C.3: the sender type and organisation."""
    sender = icsr.sender
    holder = _el(ie, "subjectOf1", typeCode="SUBJ")
    event = _el(holder, "controlActEvent", classCode="CACT", moodCode="EVN")
    author = _el(event, "author", typeCode="AUT")
    entity = _el(author, "assignedEntity", classCode="ASSIGNED")
    _el(
        entity,
        "code",
        code=_require_key(sender.kind, c.SENDER_TYPE, "C.3.1"),
        codeSystem=c.CS_SENDER_TYPE,
    )
    if sender.country:
        person = _el(entity, "assignedPerson", classCode="PSN", determinerCode="INSTANCE")
        _located(person, sender.country)  # C.3.4.5
    _organisation(entity, sender.organisation)  # C.3.2


def _characteristic(
    ie: Any,
    char_code: str,
    name: str,
    *,
    code: str = "",
    code_system: str = "",
    null: str = "",
    text: str = "",
) -> None:
    """C.1.3, C.1.9.1, C.1.11: an investigation characteristic (code system CS_CHARACTERISTIC)."""
    holder = _el(ie, "subjectOf2", typeCode="SUBJ")
    obs = _el(holder, "investigationCharacteristic", classCode="OBS", moodCode="EVN")
    _el(obs, "code", code=char_code, codeSystem=c.CS_CHARACTERISTIC, displayName=name)
    if code:
        _el(obs, "value", xsi_type="CE", code=code, codeSystem=code_system)
    elif text:
        value = _el(obs, "value", xsi_type="CE")
        _el(value, "originalText", text)
    else:
        _el(obs, "value", xsi_type="BL", nullFlavor=null)


def _observation_event(ie: Any, code: str, name: str, value: bool) -> None:
    component = _el(ie, "component", typeCode="COMP")
    obs = _el(component, "observationEvent", classCode="OBS", moodCode="EVN")
    _el(obs, "code", code=code, codeSystem=c.CS_OBSERVATION, displayName=name)
    _el(obs, "value", xsi_type="BL", value="true" if value else "false")


def _subject_observation(parent: Any, code: str, name: str) -> Any:
    holder = _el(parent, "subjectOf2", typeCode="SBJ")
    obs = _el(holder, "observation", classCode="OBS", moodCode="EVN")
    _el(obs, "code", code=code, codeSystem=c.CS_OBSERVATION, displayName=name)
    return obs


def _assessment(component: Any, icsr: Icsr) -> None:
    aea = _el(component, "adverseEventAssessment", classCode="INVSTG", moodCode="EVN")
    subject = _el(aea, "subject1", typeCode="SBJ")
    role = _el(subject, "primaryRole", classCode="INVSBJ")
    patient = icsr.patient
    player = _el(role, "player1", classCode="PSN", determinerCode="INSTANCE")
    _el(player, "name", nullFlavor="MSK")  # D.1: masked (pseudonymised record)
    if patient.sex is None:
        _el(player, "administrativeGenderCode", nullFlavor="UNK")
    else:
        _el(
            player,
            "administrativeGenderCode",
            code=_require_key(patient.sex, c.SEX, "D.5"),
            codeSystem=c.CS_SEX,
        )
    if patient.investigation_number:
        ident = _el(player, "asIdentifiedEntity", classCode="IDENT")
        _el(ident, "id", root=c.OID_INVESTIGATION_NUMBER, extension=patient.investigation_number)
        _el(
            ident,
            "code",
            code=c.RECORD_NUMBER_INVESTIGATION,
            codeSystem=c.CS_RECORD_NUMBER_SOURCE,
            displayName="Investigation",
        )
    _study(role, icsr)
    if patient.age_years is not None:
        obs = _subject_observation(role, c.OBS_AGE, "age")
        _el(obs, "value", xsi_type="PQ", value=str(patient.age_years), unit="a")  # D.2.2
    if patient.weight_kg is not None:
        obs = _subject_observation(role, c.OBS_BODY_WEIGHT, "bodyWeight")
        _el(obs, "value", xsi_type="PQ", value=_num(patient.weight_kg), unit="kg")  # D.3
    for reaction in icsr.reactions:
        _reaction(role, reaction)
    holder = _el(role, "subjectOf2", typeCode="SBJ")
    organizer = _el(holder, "organizer", classCode="CATEGORY", moodCode="EVN")
    _el(
        organizer,
        "code",
        code=c.ORGANIZER_DRUGS,
        codeSystem=c.CS_ORGANIZER,
        displayName="drugInformation",
    )
    for drug in icsr.drugs:
        _drug(organizer, drug)
    for drug in icsr.drugs:  # G.k.1 characterisation of each drug's role
        comp = _el(aea, "component", typeCode="COMP")
        ca = _el(comp, "causalityAssessment", classCode="OBS", moodCode="EVN")
        _el(
            ca,
            "code",
            code=c.OBS_DRUG_ROLE,
            codeSystem=c.CS_OBSERVATION,
            displayName="interventionCharacterization",
        )
        _el(
            ca,
            "value",
            xsi_type="CE",
            code=_require_key(drug.role, c.DRUG_ROLE, "G.k.1"),
            codeSystem=c.CS_DRUG_ROLE,
        )
        _product_reference(ca, drug)
    known = {r.uid for r in icsr.reactions}
    for drug in icsr.drugs:  # G.k.9.i.2.r relatedness of each drug to each reaction
        for reaction_uid, result in drug.causality:
            if reaction_uid not in known:
                raise ValidationError(
                    f"Drug {drug.name!r}: a causality assessment names reaction "
                    f"{reaction_uid}, which is not in the report.",
                    field="G.k.9.i",
                    code="e2b_drug_causality_assessment_names",
                    name=repr(drug.name),
                    reaction_uid=str(reaction_uid),
                )
            comp = _el(aea, "component", typeCode="COMP")
            ca = _el(comp, "causalityAssessment", classCode="OBS", moodCode="EVN")
            _el(
                ca,
                "code",
                code=c.OBS_CAUSALITY,
                codeSystem=c.CS_OBSERVATION,
                displayName="causality",
            )
            _el(ca, "value", result[:60], xsi_type="ST")  # G.k.9.i.2.r.3
            method = _el(ca, "methodCode")
            _el(method, "originalText", "Investigator attribution (5-point scale)")  # .r.2
            author = _el(ca, "author", typeCode="AUT")
            entity = _el(author, "assignedEntity", classCode="ASSIGNED")
            source = _el(entity, "code")
            _el(source, "originalText", "Investigator")  # G.k.9.i.2.r.1
            s1 = _el(ca, "subject1", typeCode="SUBJ")
            ref = _el(s1, "adverseEffectReference", classCode="OBS", moodCode="EVN")
            _el(ref, "id", root=reaction_uid)
            _product_reference(ca, drug)
    for comment in icsr.comments:  # H.4 sender's comments
        comp = _el(aea, "component1", typeCode="COMP")
        event = _el(comp, "observationEvent", classCode="OBS", moodCode="EVN")
        _el(event, "code", code="10", codeSystem=c.CS_OBSERVATION, displayName="comment")
        _el(event, "value", comment[:20000], xsi_type="ED")
        author = _el(event, "author", typeCode="AUT")
        entity = _el(author, "assignedEntity", classCode="ASSIGNED")
        _el(
            entity,
            "code",
            code="1",
            codeSystem="2.16.840.1.113883.3.989.2.1.1.21",
            displayName="sender",
        )


def _product_reference(ca: Any, drug: Drug) -> None:
    s2 = _el(ca, "subject2", typeCode="SUBJ")
    ref = _el(s2, "productUseReference", classCode="SBADM", moodCode="EVN")
    _el(ref, "id", root=drug.uid)


def _study(role: Any, icsr: Icsr) -> None:
    study = icsr.study
    holder = _el(role, "subjectOf1", typeCode="SBJ")
    rs = _el(holder, "researchStudy", classCode="CLNTRL", moodCode="EVN")
    _el(rs, "id", root=c.OID_SPONSOR_STUDY_NUMBER, extension=study.sponsor_study_number)  # C.5.3
    _el(
        rs,
        "code",
        code=_require_key(study.kind, c.STUDY_TYPE, "C.5.4"),
        codeSystem=c.CS_STUDY_TYPE,
    )
    if study.name:
        _el(rs, "title", study.name[:2000])  # C.5.2
    for number, country in study.registrations:  # C.5.1.r
        auth = _el(rs, "authorization", typeCode="AUTH")
        reg = _el(auth, "studyRegistration", classCode="ACT", moodCode="EVN")
        _el(reg, "id", root=c.OID_STUDY_REGISTRATION, extension=number)
        if country:
            author = _el(reg, "author", typeCode="AUT")
            terr = _el(author, "territorialAuthority", classCode="TERR")
            _country(terr, "governingPlace", country)


def _reaction(role: Any, r: Reaction) -> None:
    holder = _el(role, "subjectOf2", typeCode="SBJ")
    obs = _el(holder, "observation", classCode="OBS", moodCode="EVN")
    _el(obs, "id", root=r.uid)
    _el(obs, "code", code=c.OBS_REACTION, codeSystem=c.CS_OBSERVATION, displayName="reaction")
    if r.start is not None or r.end is not None:
        period = _el(obs, "effectiveTime", xsi_type="IVL_TS")
        if r.start is not None:
            _el(period, "low", value=_date(r.start))  # E.i.4
        if r.end is not None:
            _el(period, "high", value=_date(r.end))  # E.i.5
    if r.meddra_code is not None:
        value = _el(
            obs,
            "value",
            xsi_type="CE",
            code=str(r.meddra_code),
            codeSystem=c.CS_MEDDRA,
            codeSystemVersion=r.meddra_version,
        )  # E.i.2.1a/b
    else:  # not coded: the reported text, flagged as not coded (nullFlavor NI)
        value = _el(obs, "value", xsi_type="CE", nullFlavor="NI")
    _el(value, "originalText", r.term)  # E.i.1.1a
    if r.country:
        loc = _el(obs, "location", typeCode="LOC")
        entity = _el(loc, "locatedEntity", classCode="LOCE")
        _country(entity, "locatedPlace", r.country)  # E.i.9
    for key in c.SERIOUSNESS:  # E.i.3.2a-f: true, or nullFlavor NI when the criterion is absent
        code = c.SERIOUSNESS[key]
        rel = _el(obs, "outboundRelationship2", typeCode="PERT")
        crit = _el(rel, "observation", classCode="OBS", moodCode="EVN")
        _el(
            crit,
            "code",
            code=code,
            codeSystem=c.CS_OBSERVATION,
            displayName=c.SERIOUSNESS_NAMES[code],
        )
        if key in r.seriousness:
            _el(crit, "value", xsi_type="BL", value="true")
        else:
            _el(crit, "value", xsi_type="BL", nullFlavor="NI")
    unknown = set(r.seriousness) - set(c.SERIOUSNESS)
    if unknown:
        raise ValidationError(
            f"Seriousness criteria must be among {', '.join(c.SERIOUSNESS)}; got "
            f"{', '.join(sorted(unknown))}.",
            field="E.i.3.2",
            code="e2b_seriousness_criteria_among",
            seriousness=str(", ".join(c.SERIOUSNESS)),
            unknown=str(", ".join(sorted(unknown))),
        )
    if r.outcome is not None:
        rel = _el(obs, "outboundRelationship2", typeCode="PERT")
        out = _el(rel, "observation", classCode="OBS", moodCode="EVN")
        _el(out, "code", code=c.OBS_OUTCOME, codeSystem=c.CS_OBSERVATION, displayName="outcome")
        _el(
            out,
            "value",
            xsi_type="CE",
            code=_require_key(r.outcome, c.OUTCOME, "E.i.7"),
            codeSystem=c.CS_OUTCOME,
        )


def _drug(organizer: Any, d: Drug) -> None:
    comp = _el(organizer, "component", typeCode="COMP")
    sa = _el(comp, "substanceAdministration", classCode="SBADM", moodCode="EVN")
    _el(sa, "id", root=d.uid)
    consumable = _el(sa, "consumable", typeCode="CSM")
    instance = _el(consumable, "instanceOfKind", classCode="INST")
    product = _el(instance, "kindOfProduct", classCode="MMAT", determinerCode="KIND")
    _el(product, "name", d.name)  # G.k.2.2
    # G.k.4.r: one dosage, the last one given before the reaction
    rel = _el(sa, "outboundRelationship2", typeCode="COMP")
    dosage = _el(rel, "substanceAdministration", classCode="SBADM", moodCode="EVN")
    if d.dosage_text:
        _el(dosage, "text", d.dosage_text[:2000])  # G.k.4.r.8
    if d.first_dose is not None or d.last_dose is not None:
        period = _el(dosage, "effectiveTime", xsi_type="IVL_TS")
        if d.first_dose is not None:
            _el(period, "low", value=_date(d.first_dose))  # G.k.4.r.4
        if d.last_dose is not None:
            _el(period, "high", value=_date(d.last_dose))  # G.k.4.r.5
    if d.route:
        route = _el(dosage, "routeCode")
        _el(route, "originalText", d.route[:60])  # G.k.4.r.10.1
    else:
        _el(dosage, "routeCode", nullFlavor="UNK")
    if d.dose is not None:
        unit = d.dose_unit.replace("\u00b2", "2").strip()
        if not _UCUM.match(unit):
            raise ValidationError(
                f"Drug {d.name!r}: the dose unit {d.dose_unit!r} is not a UCUM code "
                "(G.k.4.r.1b), e.g. mg, mg/kg, mg/m2.",
                field="G.k.4.r.1b",
                code="e2b_drug_dose_unit_ucum",
                name=repr(d.name),
                dose_unit=repr(d.dose_unit),
            )
        _el(dosage, "doseQuantity", value=_num(d.dose), unit=unit)  # G.k.4.r.1a/b
    if d.blinded:
        rel = _el(sa, "outboundRelationship2", typeCode="PERT")
        obs = _el(rel, "observation", classCode="OBS", moodCode="EVN")
        _el(obs, "code", code=c.OBS_BLINDED, codeSystem=c.CS_OBSERVATION, displayName="blinded")
        _el(obs, "value", xsi_type="BL", value="true")  # G.k.2.5
    if d.additional_information:
        rel = _el(sa, "outboundRelationship2", typeCode="REFR")
        obs = _el(rel, "observation", classCode="OBS", moodCode="EVN")
        _el(
            obs,
            "code",
            code=c.OBS_ADDITIONAL_INFORMATION,
            codeSystem=c.CS_OBSERVATION,
            displayName="additionalInformation",
        )
        _el(obs, "value", d.additional_information[:2000], xsi_type="ST")  # G.k.11
    if d.action is not None:
        rel = _el(sa, "inboundRelationship", typeCode="CAUS")
        act = _el(rel, "act", classCode="ACT", moodCode="EVN")
        _el(
            act,
            "code",
            code=_require_key(d.action, c.ACTION_TAKEN, "G.k.8"),
            codeSystem=c.CS_ACTION_TAKEN,
        )  # G.k.8


def schema_errors(xml: bytes, schema: Path) -> list[str]:
    """Errors of ``xml`` against the ICH ICSR schema whose entry point is ``schema``
    (``multicacheschemas/MCCI_IN200100UV01.xsd`` of the ICH schema set); empty when valid."""
    validator = etree.XMLSchema(etree.parse(str(schema)))
    doc = etree.fromstring(xml)
    if validator.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in validator.error_log]
