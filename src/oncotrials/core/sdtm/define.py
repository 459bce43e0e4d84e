"""Define-XML 2.1: writing it from the datasets, reading what a converter needs, and validating it.

The document is built from the same :class:`Dataset` objects as the XPT and Dataset-JSON files:
``Length`` is :func:`writers.widths` (the XPT storage width), every ``ItemDef`` OID is the
Dataset-JSON ``itemOID``, and ``def:leaf`` points at the XPT file. Validation runs the Define-XML
2.1 XML Schema bundled with odmlib (CDISC's ``define2-1-0.xsd`` and the ODM 1.3.2 schemas it
imports) through lxml.

References
----------
CDISC Define-XML v2.1 specification (2019), sections 4.2 (ItemGroupDef), 4.3 (ItemDef) and 5.3
(def:Standards).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from oncotrials.core.errors import ValidationError

from .model import DATE, FLOAT, INTEGER, TEXT, Dataset
from .writers import item_oid, significant_digits, widths

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
DEF_NS = "http://www.cdisc.org/ns/def/v2.1"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: ODM_NS, "def": DEF_NS, "xlink": XLINK_NS}
SDTMIG_VERSION = "3.4"


def _q(tag: str) -> str:
    prefix, _, local = tag.rpartition(":")
    return f"{{{DEF_NS if prefix == 'def' else ODM_NS}}}{local}"


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    el = etree.SubElement(parent, _q(tag))
    tt = etree.SubElement(el, _q("TranslatedText"))
    tt.set(f"{{{XML_NS}}}lang", "en")
    tt.text = text
    return el


def _oid_part(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)


def define_xml(
    datasets: Sequence[Dataset],
    *,
    study_id: str,
    title: str,
    study_oid: str,
    mdv_oid: str,
    created: dt.datetime,
    notes: Sequence[str] = (),
) -> bytes:
    """A Define-XML 2.1 document describing ``datasets`` (one XPT file each)."""
    stamp = created.replace(tzinfo=None, microsecond=0).isoformat()
    root = etree.Element(_q("ODM"), nsmap=NSMAP)
    root.set("ODMVersion", "1.3.2")
    root.set("FileOID", f"{study_oid}.define")
    root.set("FileType", "Snapshot")
    root.set("CreationDateTime", stamp)
    root.set("Originator", "oncotrials")
    root.set("SourceSystem", "oncotrials")
    root.set(_q("def:Context"), "Submission")
    study = etree.SubElement(root, _q("Study"), OID=study_oid)
    gv = etree.SubElement(study, _q("GlobalVariables"))
    etree.SubElement(gv, _q("StudyName")).text = study_id
    etree.SubElement(gv, _q("StudyDescription")).text = title or study_id
    etree.SubElement(gv, _q("ProtocolName")).text = study_id
    mdv = etree.SubElement(study, _q("MetaDataVersion"), OID=mdv_oid)
    mdv.set("Name", f"SDTM data cut of {study_id}")
    mdv.set("Description", " ".join(notes) or f"SDTMIG {SDTMIG_VERSION} datasets of {study_id}.")
    mdv.set(_q("def:DefineVersion"), "2.1.0")
    standards = etree.SubElement(mdv, _q("def:Standards"))
    etree.SubElement(
        standards,
        _q("def:Standard"),
        OID="STD.1",
        Name="SDTMIG",
        Type="IG",
        Version=SDTMIG_VERSION,
        Status="Final",
    )
    item_defs: list[etree._Element] = []
    methods: list[etree._Element] = []
    for ds in datasets:
        w = widths(ds)
        ig = etree.SubElement(mdv, _q("ItemGroupDef"), OID=f"IG.{ds.name}", Name=ds.name)
        ig.set("Repeating", "Yes" if ds.repeating else "No")
        ig.set("IsReferenceData", "No")
        ig.set("SASDatasetName", ds.name)
        if ds.name.startswith("SUPP"):
            ig.set("Domain", ds.name[4:])
        else:
            ig.set("Domain", ds.name)
        ig.set("Purpose", "Tabulation")
        ig.set(_q("def:Structure"), ds.structure)
        ig.set(_q("def:StandardOID"), "STD.1")
        ig.set(_q("def:ArchiveLocationID"), f"LF.{ds.name}")
        _text(ig, "Description", ds.label)
        for order, v in enumerate(ds.variables, start=1):
            oid = item_oid(ds.name, v.name)
            ref = etree.SubElement(ig, _q("ItemRef"), ItemOID=oid)
            ref.set("Mandatory", "Yes" if v.mandatory else "No")
            ref.set("OrderNumber", str(order))
            if v.key:
                ref.set("KeySequence", str(v.key))
            if v.origin == "Derived":
                method_oid = f"MT.{ds.name}.{v.name}"
                ref.set("MethodOID", method_oid)
                method = etree.Element(
                    _q("MethodDef"),
                    OID=method_oid,
                    Name=f"Derivation of {ds.name}.{v.name}",
                    Type="Computation",
                )
                _text(method, "Description", v.method or "Derived.")
                methods.append(method)
            ref.set("Role", v.role)
            item = etree.Element(_q("ItemDef"), OID=oid, Name=v.name)
            item.set("DataType", v.type)
            if v.type in (TEXT, INTEGER, FLOAT):
                item.set("Length", str(w[v.name]))
            if v.type == FLOAT:
                item.set("SignificantDigits", str(significant_digits(ds, v.name)))
            item.set("SASFieldName", v.name)
            _text(item, "Description", v.label)
            origin = etree.SubElement(item, _q("def:Origin"), Type=v.origin)
            if v.origin == "Collected":
                origin.set("Source", "Investigator")
            elif v.origin in ("Assigned", "Protocol", "Derived"):
                origin.set("Source", "Sponsor")
            item_defs.append(item)
        cls = etree.SubElement(ig, _q("def:Class"), Name=ds.sdtm_class)
        del cls  # a class without subclass
        leaf = etree.SubElement(ig, _q("def:leaf"), ID=f"LF.{ds.name}")
        leaf.set(f"{{{XLINK_NS}}}href", f"{ds.name.lower()}.xpt")
        etree.SubElement(leaf, _q("def:title")).text = f"{ds.name.lower()}.xpt"
    for item in item_defs:
        mdv.append(item)
    for method in methods:
        mdv.append(method)
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data


# --- Validation --------------------------------------------------------------------------------


@cache
def _schema() -> etree.XMLSchema:
    from odmlib import schema_manager

    path = Path(schema_manager.get_schema_path("define", "2.1"))
    return etree.XMLSchema(etree.parse(str(path)))


def define_schema_errors(document: bytes | str | Path) -> list[str]:
    """Errors of a Define-XML 2.1 document against its XML Schema ("line N: message"); [] when
    valid. A document that is not XML gives one error, never an exception."""
    try:
        if isinstance(document, Path):
            tree = etree.parse(str(document))
        else:
            raw = document.encode("utf-8") if isinstance(document, str) else document
            tree = etree.ElementTree(etree.fromstring(raw))
    except etree.XMLSyntaxError as exc:
        return [f"line {exc.lineno}: not well-formed XML: {exc.msg}"]
    schema = _schema()
    if schema.validate(tree):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


# --- Reading what a Dataset-JSON converter needs -------------------------------------------------

# Define-XML DataType -> Dataset-JSON dataType (Dataset-JSON v1.1 specification, section 3.2).
DSJ_TYPE = {
    "text": "string",
    "integer": "integer",
    "float": "double",
    "date": "date",
    "datetime": "datetime",
    "time": "time",
    "URI": "URI",
    "boolean": "boolean",
}


@dataclass(frozen=True, slots=True)
class DefineItem:
    oid: str
    name: str
    label: str
    data_type: str
    length: int | None
    key: int | None
    display_format: str = ""


@dataclass(frozen=True, slots=True)
class DefineGroup:
    oid: str
    name: str
    label: str
    items: tuple[DefineItem, ...]


@dataclass(frozen=True, slots=True)
class DefineInfo:
    file_oid: str
    study_oid: str
    mdv_oid: str
    groups: dict[str, DefineGroup]


def _description(el: Any) -> str:
    tt = el.find(f"{_q('Description')}/{_q('TranslatedText')}")
    return (tt.text or "").strip() if tt is not None else ""


def read_define(path: str | Path) -> DefineInfo:
    """The dataset and variable metadata of a Define-XML 2.x file."""
    try:
        root = etree.parse(str(path)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise ValidationError(
            f"{path}: cannot read Define-XML: {exc}",
            code="sdtm_read_define_xml",
            path=str(path),
            detail=str(exc),
        ) from exc
    study = root.find(_q("Study"))
    mdv = study.find(_q("MetaDataVersion")) if study is not None else None
    if study is None or mdv is None:
        raise ValidationError(
            f"{path}: no Study/MetaDataVersion; is this a Define-XML file?",
            code="sdtm_study_metadataversion_define_xml",
            path=str(path),
        )
    defs = {el.get("OID"): el for el in mdv.iter(_q("ItemDef"))}
    groups: dict[str, DefineGroup] = {}
    for ig in mdv.iter(_q("ItemGroupDef")):
        items = []
        for ref in ig.iter(_q("ItemRef")):
            if ref.getparent() is not ig:
                continue
            item = defs.get(ref.get("ItemOID"))
            if item is None:
                raise ValidationError(
                    f"{path}: ItemRef {ref.get('ItemOID')} of {ig.get('Name')} has no ItemDef.",
                    code="sdtm_itemref_itemdef",
                    path=str(path),
                    itemoid=str(ref.get("ItemOID")),
                    name=str(ig.get("Name")),
                )
            length = item.get("Length")
            key = ref.get("KeySequence")
            items.append(
                DefineItem(
                    oid=item.get("OID") or "",
                    name=item.get("Name") or "",
                    label=_description(item),
                    data_type=item.get("DataType") or "text",
                    length=int(length) if length else None,
                    key=int(key) if key else None,
                    display_format=item.get(_q("def:DisplayFormat")) or "",
                )
            )
        name = ig.get("Name") or ""
        groups[name.upper()] = DefineGroup(
            ig.get("OID") or "", name, _description(ig), tuple(items)
        )
    return DefineInfo(
        root.get("FileOID") or "", study.get("OID") or "", mdv.get("OID") or "", groups
    )


DATE_TYPES = (DATE,)
