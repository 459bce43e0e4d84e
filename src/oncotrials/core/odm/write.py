"""CDISC ODM 1.3.2 from plain study data, built with odmlib.

The metadata (``Study/MetaDataVersion``) comes from the form declarations and the visit
schedule; the clinical data (``ClinicalData``, a Snapshot) from the completed forms, each value
with an ``AuditRecord`` (its last change: who, when, why), each signed form (and casebook) with a
``Signature`` and each data query as an ``Annotation``. Mapping:

==========================  =====================================================================
declaration / schedule      ODM 1.3.2
==========================  =====================================================================
form                        ``FormDef`` (Name = title; Alias ``oncotrials.form`` = name) with one
                            non-repeating ``ItemGroupDef``
field                       ``ItemDef`` (Name = field name, Question = label, Description = help)
type                        text→text (Length = max_length), integer→integer, decimal→float,
                            date→date, boolean→boolean, choice→text with a ``CodeList``
unit                        ``MeasurementUnitRef`` to a ``MeasurementUnit`` of BasicDefinitions
required                    ``ItemRef Mandatory="Yes"``
min / max                   ``RangeCheck`` GE / LE, SoftHard="Hard"
expected_min / _max         ``RangeCheck`` GE / LE, SoftHard="Soft" (a query, not a block)
required_if, date_checks    ``Alias`` ``oncotrials.required_if`` / ``oncotrials.date_check``
                            (JSON), which other systems may ignore
dropped field with data     a text ``ItemDef`` with ``Alias`` ``oncotrials.retired``
visit (SCR...)              ``StudyEventDef`` SE.<code>, not repeating
cycle day                   SE.C<n>D<d> for one cycle, else SE.CnD<d> repeating, the cycle
                            number as ``StudyEventRepeatKey``
imaging, follow-up          SE.<code> repeating, the assessment number as repeat key
end of treatment            SE.<code>
==========================  =====================================================================

Record forms (labs, exposure, adverse events, RECIST) live in their own tables and go out in
SDTM; they are not ODM forms here.

References
----------
CDISC Operational Data Model (ODM) Version 1.3.2, 2013: the elements ``ODM``,
``MetaDataVersion``, ``AdminData``, ``ClinicalData``, ``AuditRecord``, ``Signature`` and
``Annotation``; its XML Schema ``ODM1-3-2.xsd``, bundled with odmlib, decides validity.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from typing import Any

import odmlib.odm_1_3_2.model as odm

from oncotrials.core.crf import DeclarationError, FieldSpec, FormSpec, form_spec_from_dict
from oncotrials.core.errors import ValidationError

from .model import Audit, OdmStudy, Query, Signed

NS = "http://www.cdisc.org/ns/odm/v1.3"
ALIAS_FORM = "oncotrials.form"
ALIAS_REQUIRED_IF = "oncotrials.required_if"
ALIAS_DATE_CHECK = "oncotrials.date_check"
ALIAS_RETIRED = "oncotrials.retired"
RETIRED = "No longer declared for this form; kept for the values collected before."
DATA_TYPE = {
    "text": "text",
    "choice": "text",
    "integer": "integer",
    "decimal": "float",
    "date": "date",
    "boolean": "boolean",
}
SIGNATURE_MEANINGS = {
    "reviewed": "I have reviewed these data and confirm them",
    "approved": "I approve these data as accurate and complete",
    "author": "I am the author of these data",
}
UNSCHEDULED = "SE.UNSCHEDULED"


def _text(value: str, lang: str = "en") -> odm.TranslatedText:
    return odm.TranslatedText(_content=value, lang=lang)


def _number(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def form_oid(name: str) -> str:
    return f"F.{name.upper()}"


def group_oid(name: str) -> str:
    return f"IG.{name.upper()}"


def item_oid(form: str, field: str) -> str:
    return f"IT.{form.upper()}.{field.upper()}"


def codelist_oid(form: str, field: str) -> str:
    return f"CL.{form.upper()}.{field.upper()}"


# ----------------------------------------------------------------------------- visit schedule


@dataclass(frozen=True)
class EventDef:
    oid: str
    name: str
    repeating: bool
    forms: tuple[str, ...]


class Events:
    """The schedule's visits as ODM study events, and each visit code's (event, repeat key)."""

    def __init__(self, schedule: Mapping[str, Any] | None, forms: Iterable[str]) -> None:
        known = set(forms)
        self.defs: list[EventDef] = []
        self._exact: dict[str, str] = {}
        self._cycles: list[tuple[Any, str, bool]] = []
        self._series: list[tuple[str, str]] = []
        if schedule is None:
            return
        from oncotrials.core.schedule import load_schedule

        s = load_schedule(schedule)

        def add(oid: str, name: str, repeating: bool, names: Sequence[str]) -> str:
            taken = {d.oid for d in self.defs}
            base, n = oid, 2
            while oid in taken:
                oid, n = f"{base}.{n}", n + 1
            wanted = tuple(dict.fromkeys(f for f in names if f in known))
            self.defs.append(EventDef(oid, name or oid[3:], repeating, wanted))
            return oid

        for v in s.visits:
            self._exact[v.code] = add(f"SE.{v.code}", v.name or v.code, False, v.forms)
        if s.cycles is not None:
            for d in s.cycles.days:
                only = d.only_cycles or ()
                one = len(only) == 1
                name = d.name or (
                    f"Cycle {only[0]} day {d.day}" if one else f"Day {d.day} of each cycle"
                )
                oid = add(f"SE.{d.label}", name, not one, d.forms)
                self._cycles.append((d, oid, not one))
        if s.imaging is not None:
            i = s.imaging
            self._series.append((i.code, add(f"SE.{i.code}", "Tumour assessment", True, i.forms)))
        if s.end_of_treatment is not None:
            e = s.end_of_treatment
            self._exact[e.code] = add(f"SE.{e.code}", "End of treatment", False, e.forms)
        if s.follow_up is not None:
            f = s.follow_up
            self._series.append((f.code, add(f"SE.{f.code}", "Follow-up", True, f.forms)))

    def locate(self, visit: str) -> tuple[str, str | None]:
        """(StudyEventOID, StudyEventRepeatKey) of a visit code; a code the schedule does not
        hold (a schedule amended since) goes to the unscheduled event, keyed by the code."""
        if visit in self._exact:
            return self._exact[visit], None
        m = re.fullmatch(r"C(\d+)D(\d+)", visit)
        if m:
            cycle, day = int(m.group(1)), int(m.group(2))
            for d, oid, repeating in self._cycles:
                if d.day == day and d.in_cycle(cycle):
                    return oid, (str(cycle) if repeating else None)
        for code, oid in self._series:
            m = re.fullmatch(re.escape(code) + r"(\d+)", visit)
            if m:
                return oid, m.group(1)
        return UNSCHEDULED, visit


# ----------------------------------------------------------------------------- metadata


def form_specs(declarations: Iterable[Mapping[str, Any]]) -> list[FormSpec]:
    specs = []
    for doc in declarations:
        try:
            specs.append(form_spec_from_dict(doc))
        except DeclarationError as exc:
            raise ValidationError(
                f"Form declaration {doc.get('name')!r} is faulty: {exc}; correct it first.",
                code="odm_form_declaration_faulty_correct",
                name=repr(doc.get("name")),
                detail=str(exc),
            ) from None
    return specs


def _range_checks(f: FieldSpec) -> list[odm.RangeCheck]:
    out = []
    for key, comparator, soft in (
        ("min", "GE", "Hard"),
        ("max", "LE", "Hard"),
        ("expected_min", "GE", "Soft"),
        ("expected_max", "LE", "Soft"),
    ):
        bound = getattr(f, key)
        if bound is not None:
            out.append(
                odm.RangeCheck(
                    Comparator=comparator,
                    SoftHard=soft,
                    CheckValue=[odm.CheckValue(_content=_number(bound))],
                )
            )
    return out


def _item_def(spec: FormSpec, f: FieldSpec, units: Mapping[str, str]) -> odm.ItemDef:
    item = odm.ItemDef(OID=item_oid(spec.name, f.name), Name=f.name, DataType=DATA_TYPE[f.type])
    if f.type == "text":
        item.Length = f.max_length
    elif f.type == "choice":
        item.Length = max(len(c) for c in f.choices)
    if f.help:
        item.Description = odm.Description(TranslatedText=[_text(f.help)])
    item.Question = odm.Question(TranslatedText=[_text(f.title)])
    if f.unit:
        item.MeasurementUnitRef.append(odm.MeasurementUnitRef(MeasurementUnitOID=units[f.unit]))
    item.RangeCheck.extend(_range_checks(f))
    if f.type == "choice":
        item.CodeListRef = odm.CodeListRef(CodeListOID=codelist_oid(spec.name, f.name))
    if f.help == RETIRED:
        item.Alias.append(odm.Alias(Context=ALIAS_RETIRED, Name="yes"))
    if f.required_if is not None:
        rule = json.dumps({"field": f.required_if[0], "equals": f.required_if[1]})
        item.Alias.append(odm.Alias(Context=ALIAS_REQUIRED_IF, Name=rule))
    return item


def metadata_version(
    study: OdmStudy, specs: Sequence[FormSpec], events: Events
) -> tuple[odm.MetaDataVersion, odm.BasicDefinitions | None]:
    """The MetaDataVersion of the forms and events, and the measurement units they use."""
    units = sorted({f.unit for s in specs for f in s.fields if f.unit})
    unit_oids = {u: f"MU.{i}" for i, u in enumerate(units, 1)}
    basic = None
    if units:
        basic = odm.BasicDefinitions()
        for u in units:
            basic.MeasurementUnit.append(
                odm.MeasurementUnit(
                    OID=unit_oids[u], Name=u, Symbol=odm.Symbol(TranslatedText=[_text(u)])
                )
            )
    mdv = odm.MetaDataVersion(
        OID=f"MDV.{study.study_id}",
        Name=f"{study.study_id} case report forms",
        Description=f"Form declarations and visit schedule of {study.study_id}",
    )
    if events.defs:
        mdv.Protocol = odm.Protocol()
        for i, e in enumerate(events.defs, 1):
            mdv.Protocol.StudyEventRef.append(
                odm.StudyEventRef(StudyEventOID=e.oid, OrderNumber=i, Mandatory="No")
            )
    for e in events.defs:
        sed = odm.StudyEventDef(
            OID=e.oid, Name=e.name, Repeating="Yes" if e.repeating else "No", Type="Scheduled"
        )
        for i, name in enumerate(e.forms, 1):
            sed.FormRef.append(odm.FormRef(FormOID=form_oid(name), OrderNumber=i, Mandatory="Yes"))
        mdv.StudyEventDef.append(sed)
    for spec in specs:
        fd = odm.FormDef(OID=form_oid(spec.name), Name=spec.title, Repeating="No")
        fd.ItemGroupRef.append(
            odm.ItemGroupRef(ItemGroupOID=group_oid(spec.name), OrderNumber=1, Mandatory="Yes")
        )
        fd.Alias.append(odm.Alias(Context=ALIAS_FORM, Name=spec.name))
        for c in spec.date_checks:
            rule = {"earlier": c.earlier, "later": c.later}
            if c.message:
                rule["message"] = c.message
            fd.Alias.append(odm.Alias(Context=ALIAS_DATE_CHECK, Name=json.dumps(rule)))
        mdv.FormDef.append(fd)
    for spec in specs:
        ig = odm.ItemGroupDef(OID=group_oid(spec.name), Name=spec.title, Repeating="No")
        for i, f in enumerate(spec.fields, 1):
            ig.ItemRef.append(
                odm.ItemRef(
                    ItemOID=item_oid(spec.name, f.name),
                    OrderNumber=i,
                    Mandatory="Yes" if f.required else "No",
                )
            )
        mdv.ItemGroupDef.append(ig)
    for spec in specs:
        for f in spec.fields:
            mdv.ItemDef.append(_item_def(spec, f, unit_oids))
    for spec in specs:
        for f in spec.fields:
            if f.type != "choice":
                continue
            cl = odm.CodeList(OID=codelist_oid(spec.name, f.name), Name=f.title, DataType="text")
            for i, code in enumerate(f.choices, 1):
                cl.CodeListItem.append(
                    odm.CodeListItem(
                        CodedValue=code,
                        OrderNumber=i,
                        Decode=odm.Decode(TranslatedText=[_text(code.replace("_", " "))]),
                    )
                )
            mdv.CodeList.append(cl)
    return mdv, basic


# ----------------------------------------------------------------------------- clinical data


def _user_oid(login: str) -> str:
    return f"USR.{login or 'system'}"


def _audit(a: Audit, location: str) -> odm.AuditRecord:
    rec = odm.AuditRecord(
        UserRef=odm.UserRef(UserOID=_user_oid(a.user)),
        LocationRef=odm.LocationRef(LocationOID=location),
        DateTimeStamp=odm.DateTimeStamp(_content=a.at),
    )
    if a.reason:
        rec.ReasonForChange = odm.ReasonForChange(_content=a.reason)
    return rec


def _signature(s: Signed, location: str) -> odm.Signature:
    return odm.Signature(
        ID=f"SIG.{s.ref}",
        UserRef=odm.UserRef(UserOID=_user_oid(s.user)),
        LocationRef=odm.LocationRef(LocationOID=location),
        SignatureRef=odm.SignatureRef(SignatureOID=f"SD.{s.meaning.upper()}"),
        DateTimeStamp=odm.DateTimeStamp(_content=s.at),
    )


def _annotations(queries: Iterable[Query], start: int) -> list[odm.Annotation]:
    return [
        odm.Annotation(
            SeqNum=start + i,
            ID=f"Q.{q.ref}",
            Comment=odm.Comment(
                SponsorOrSite="Sponsor", _content=f"Data query ({q.status}): {q.text}"
            ),
        )
        for i, q in enumerate(queries)
    ]


def _location_oid(site: str) -> str:
    return f"LOC.{site.upper()}"


def _with_retired(specs: list[FormSpec], study: OdmStudy) -> list[FormSpec]:
    """The forms with, after their declared fields, the fields a declaration has since dropped
    but completed forms still hold: text items marked ``oncotrials.retired``, so that no
    collected value is lost and a declaration read back is the current one."""
    declared = {s.name: set(s.field_names) for s in specs}
    extra: dict[str, dict[str, None]] = {}
    for subject in study.subjects:
        for rec in subject.forms:
            if rec.form not in declared:
                raise ValidationError(
                    f"Subject {subject.key}: form {rec.form!r} at {rec.visit} has no declaration "
                    "in this export.",
                    code="odm_subject_form_declaration_export",
                    key=str(subject.key),
                    form=repr(rec.form),
                    visit=str(rec.visit),
                )
            for v in rec.values:
                if v.field not in declared[rec.form]:
                    extra.setdefault(rec.form, {})[v.field] = None
    return [
        replace(
            s,
            fields=(
                *s.fields,
                *(FieldSpec(name, "text", help=RETIRED) for name in sorted(extra.get(s.name, {}))),
            ),
        )
        for s in specs
    ]


def odm_root(study: OdmStudy, *, created: dt.datetime) -> odm.ODM:
    """The ODM 1.3.2 document (an odmlib object) of the study: metadata, administrative data
    (users, sites, signature meanings) and the clinical data of its subjects."""
    specs = _with_retired(form_specs(study.declarations), study)
    by_name = {s.name: s for s in specs}
    events = Events(study.schedule, by_name)
    stamp = created.astimezone(dt.UTC).replace(microsecond=0).isoformat()
    root = odm.ODM(
        FileOID=f"ODM.{study.study_id}.{created.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
        FileType="Snapshot",
        Granularity="All",
        CreationDateTime=stamp,
        AsOfDateTime=stamp,
        ODMVersion="1.3.2",
        Originator=study.sponsor or "oncotrials",
        SourceSystem="oncotrials",
    )
    study_oid = f"ST.{study.study_id}"
    st = odm.Study(
        OID=study_oid,
        GlobalVariables=odm.GlobalVariables(
            StudyName=odm.StudyName(_content=study.study_id),
            StudyDescription=odm.StudyDescription(_content=study.title or study.study_id),
            ProtocolName=odm.ProtocolName(_content=study.study_id),
        ),
    )
    # Clinical data first (it decides which users and events are referenced).
    clinical = odm.ClinicalData(StudyOID=study_oid, MetaDataVersionOID=f"MDV.{study.study_id}")
    users: set[str] = set()
    meanings: set[str] = set()
    unscheduled: dict[str, None] = {}
    for subject in study.subjects:
        location = _location_oid(subject.site)
        sd = odm.SubjectData(SubjectKey=subject.key)
        if subject.signature is not None:
            sd.Signature = _signature(subject.signature, location)
            users.add(subject.signature.user)
            meanings.add(subject.signature.meaning)
        sd.SiteRef = odm.SiteRef(LocationOID=location)
        visits: dict[tuple[str, str | None], odm.StudyEventData] = {}
        for rec in subject.forms:
            spec = by_name[rec.form]
            oid, key = events.locate(rec.visit)
            if oid == UNSCHEDULED:
                unscheduled[rec.form] = None
            if (oid, key) not in visits:
                visits[(oid, key)] = odm.StudyEventData(StudyEventOID=oid, StudyEventRepeatKey=key)
            fd = odm.FormData(FormOID=form_oid(rec.form))
            if rec.audit is not None:
                fd.AuditRecord = _audit(rec.audit, location)
                users.add(rec.audit.user)
            if rec.signature is not None:
                fd.Signature = _signature(rec.signature, location)
                users.add(rec.signature.user)
                meanings.add(rec.signature.meaning)
            on_field = {q.field for q in rec.queries}
            form_queries = [q for q in rec.queries if q.field not in {v.field for v in rec.values}]
            fd.Annotation.extend(_annotations(form_queries, 1))
            seq = len(form_queries) + 1
            ig = odm.ItemGroupData(ItemGroupOID=group_oid(rec.form))
            order = {f.name: i for i, f in enumerate(spec.fields)}
            for v in sorted(rec.values, key=lambda v: order[v.field]):
                item = odm.ItemData(ItemOID=item_oid(rec.form, v.field), Value=v.value)
                if v.audit is not None:
                    item.AuditRecord = _audit(v.audit, location)
                    users.add(v.audit.user)
                if v.field in on_field:
                    mine = [q for q in rec.queries if q.field == v.field]
                    item.Annotation.extend(_annotations(mine, seq))
                    seq += len(mine)
                ig.ItemData.append(item)
            fd.ItemGroupData.append(ig)
            visits[(oid, key)].FormData.append(fd)
        sd.StudyEventData.extend(visits.values())
        clinical.SubjectData.append(sd)
    if unscheduled:
        events.defs.append(EventDef(UNSCHEDULED, "Unscheduled visit", True, tuple(unscheduled)))
    mdv, basic = metadata_version(study, specs, events)
    if basic is not None:
        st.BasicDefinitions = basic
    st.MetaDataVersion.append(mdv)
    root.Study.append(st)
    admin = odm.AdminData(StudyOID=study_oid)
    for login in sorted(users):
        admin.User.append(
            odm.User(OID=_user_oid(login), LoginName=odm.LoginName(_content=login or "system"))
        )
    for site in sorted(study.sites, key=lambda s: s.code):
        admin.Location.append(
            odm.Location(
                OID=_location_oid(site.code),
                Name=site.name or site.code,
                LocationType="Site",
                MetaDataVersionRef=[
                    odm.MetaDataVersionRef(
                        StudyOID=study_oid,
                        MetaDataVersionOID=mdv.OID,
                        EffectiveDate=study.effective or created.date().isoformat(),
                    )
                ],
            )
        )
    for meaning in sorted(meanings):
        admin.SignatureDef.append(
            odm.SignatureDef(
                OID=f"SD.{meaning.upper()}",
                Methodology="Electronic",
                Meaning=odm.Meaning(_content=SIGNATURE_MEANINGS.get(meaning, meaning)),
                LegalReason=odm.LegalReason(
                    _content="Electronic signature under 21 CFR Part 11 (password re-entered)"
                ),
            )
        )
    root.AdminData.append(admin)
    if study.subjects:
        root.ClinicalData.append(clinical)
    return root


def odm_bytes(root: odm.ODM) -> bytes:
    """The document as indented UTF-8 XML with its declaration."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    element = etree.fromstring(root.to_xml_string().encode("utf-8"), parser)
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True))


# ----------------------------------------------------------------------------- validation


@cache
def _validator() -> Any:
    from odmlib.odm_parser import ODMSchemaValidator

    return ODMSchemaValidator(standard="odm", version="1.3.2")


def odm_schema_errors(document: bytes | str) -> list[str]:
    """Errors of a document against the ODM 1.3.2 XML Schema (bundled with odmlib); [] when
    valid. A document that is not XML gives one error, never an exception."""
    from lxml import etree

    raw = document.encode("utf-8") if isinstance(document, str) else document
    try:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        return [f"line {exc.lineno}: not well-formed XML: {exc.msg}"]
    text = raw.decode("utf-8")
    return [f"{e.path or '/'}: {e.reason or e.message}" for e in _validator().xsd.iter_errors(text)]


def odm_oid_errors(root: odm.ODM) -> list[str]:
    """OID uniqueness and ref/def integrity of a document (odmlib ``verify_oids``)."""
    from odmlib.exceptions import OdmlibOIDError
    from odmlib.oid_generator import create_oid_checker

    try:
        root.verify_oids(create_oid_checker("odm_1_3_2"))
    except OdmlibOIDError as exc:
        return [str(exc)]
    return []


def odm_files(study: OdmStudy, *, created: dt.datetime) -> dict[str, bytes]:
    """``odm.xml``, checked for OID integrity and against the ODM 1.3.2 schema before it is
    returned; the same study and time give the same bytes."""
    root = odm_root(study, created=created)
    problems = odm_oid_errors(root)
    data = odm_bytes(root)
    problems += odm_schema_errors(data)
    if problems:
        raise ValidationError(
            f"The ODM document of {study.study_id} is invalid: {problems[0]}",
            code="odm_odm_document_invalid",
            study_id=str(study.study_id),
            problems=str(problems[0]),
        )
    return {"odm.xml": data}
