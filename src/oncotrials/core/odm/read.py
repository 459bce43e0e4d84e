"""ODM 1.3.2 metadata read as form declarations (``oncotrials.core.crf``).

Every ``FormDef`` of a ``MetaDataVersion`` becomes one declaration: its non-repeating item
groups' items become fields. What a declaration cannot hold is refused, naming the OID: a
repeating form or item group, an item of a data type without a field type (time, datetime,
partial dates...), a derivation (``MethodOID``), a collection condition, an external code
list, a range check other than GE/LE on a number, more than one unit. Vendor extensions
(elements and attributes outside the ODM namespace) are ignored. Choice labels (``Decode``) that say more than
the code go into the field's help text, since a declaration holds coded values only.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lxml import etree

from oncotrials.core.crf import declaration_problems
from oncotrials.core.errors import ValidationError

from .write import ALIAS_DATE_CHECK, ALIAS_FORM, ALIAS_REQUIRED_IF, ALIAS_RETIRED, NS

N = f"{{{NS}}}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FIELD_TYPE = {
    "text": "text",
    "string": "text",
    "integer": "integer",
    "float": "decimal",
    "double": "decimal",
    "date": "date",
    "boolean": "boolean",
}


class OdmImportError(ValidationError):
    """An ODM document that cannot become form declarations (the message names the OID)."""

    code = "odm_import"


def _refuse(oid: str, why: str) -> OdmImportError:
    return OdmImportError(f"{oid}: {why}", oid=oid, code="odm_item_refused", why=str(why))


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
    if s and not s[0].isalpha():
        s = f"f_{s}"
    return s[:63]


def _translated(elem: Any, child: str) -> str:
    """The English (else the first) TranslatedText of ``child`` of ``elem``."""
    node = elem.find(f"{N}{child}")
    if node is None:
        return ""
    texts = node.findall(f"{N}TranslatedText")
    for t in texts:
        if (t.get(XML_LANG) or "en").lower().startswith("en"):
            return (t.text or "").strip()
    return (texts[0].text or "").strip() if texts else ""


def _aliases(elem: Any, context: str) -> list[str]:
    return [a.get("Name", "") for a in elem.findall(f"{N}Alias") if a.get("Context") == context]


def _parse(source: bytes | str | Path) -> Any:
    raw = source.read_bytes() if isinstance(source, Path) else source
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if b"<!DOCTYPE" in raw[:4096]:
        raise OdmImportError(
            "The document declares a DOCTYPE, which ODM never needs; remove it.",
            code="odm_document_declares_doctype_which",
        )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise OdmImportError(
            f"line {exc.lineno}: not well-formed XML: {exc.msg}",
            code="odm_line_well_formed_xml",
            lineno=str(exc.lineno),
            msg=str(exc.msg),
        ) from None


def _number(oid: str, text: str) -> int | float:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        raise _refuse(oid, f"range check value {text!r} is not a number.") from None
    return int(d) if d == d.to_integral_value() else float(d)


def _field(
    item: Any, mandatory: bool, codelists: dict[str, Any], units: dict[str, str]
) -> dict[str, Any]:
    oid = item.get("OID", "?")
    data_type = item.get("DataType", "")
    ftype = FIELD_TYPE.get(data_type)
    if ftype is None:
        raise _refuse(
            oid,
            f"data type {data_type!r} has no form field type (known: {', '.join(FIELD_TYPE)}).",
        )
    name = item.get("Name", "")
    field: dict[str, Any] = {
        "name": name if re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name) else _slug(name or oid)
    }
    ref = item.find(f"{N}CodeListRef")
    codes = ""
    if ref is not None:
        cl = codelists.get(ref.get("CodeListOID", ""))
        if cl is None:
            raise _refuse(oid, f"its code list {ref.get('CodeListOID')!r} is not defined.")
        if cl.find(f"{N}ExternalCodeList") is not None:
            raise _refuse(
                cl.get("OID"), "an external code list (a dictionary) cannot be a choice list."
            )
        entries = cl.findall(f"{N}CodeListItem") + cl.findall(f"{N}EnumeratedItem")
        if not entries:
            raise _refuse(cl.get("OID"), "the code list has no items.")
        entries.sort(key=lambda e: int(e.get("OrderNumber") or 0))
        field["type"] = "choice"
        field["choices"] = [e.get("CodedValue", "") for e in entries]
        decodes = [(e.get("CodedValue", ""), _translated(e, "Decode")) for e in entries]
        # A declaration holds coded values only: labels that say more than the code are kept
        # in the field's help text, so that nothing the other system showed is lost.
        if any(d and d not in (c, c.replace("_", " ")) for c, d in decodes):
            codes = "; ".join(f"{c} = {d or c}" for c, d in decodes)
    else:
        field["type"] = ftype
    question = _translated(item, "Question")
    default = field["name"].replace("_", " ").capitalize()
    if question and question != default:
        field["label"] = question
    help_text = "; ".join(t for t in (_translated(item, "Description"), codes) if t)
    if help_text:
        field["help"] = help_text
    if mandatory:
        field["required"] = True
    if ftype == "text" and ref is None and item.get("Length"):
        field["max_length"] = int(item.get("Length"))
    unit_refs = item.findall(f"{N}MeasurementUnitRef")
    if len(unit_refs) > 1:
        raise _refuse(oid, "more than one measurement unit; a field has one unit.")
    if unit_refs:
        unit = units.get(unit_refs[0].get("MeasurementUnitOID", ""))
        if unit is None:
            raise _refuse(oid, f"unit {unit_refs[0].get('MeasurementUnitOID')!r} is not defined.")
        field["unit"] = unit
    for rc in item.findall(f"{N}RangeCheck"):
        comparator, soft = rc.get("Comparator"), rc.get("SoftHard")
        values = [v.text or "" for v in rc.findall(f"{N}CheckValue")]
        if field["type"] not in ("integer", "decimal") or comparator not in ("GE", "LE"):
            raise _refuse(
                oid,
                f"range check {comparator or 'without comparator'} on a {data_type} item; "
                "only GE and LE on integer or float items become min/max.",
            )
        if len(values) != 1:
            raise _refuse(oid, "a GE/LE range check needs exactly one CheckValue.")
        key = (
            ("min" if comparator == "GE" else "max")
            if soft == "Hard"
            else ("expected_min" if comparator == "GE" else "expected_max")
        )
        if key in field:
            raise _refuse(oid, f"two range checks give its {key}.")
        field[key] = _number(oid, values[0])
    for rule in _aliases(item, ALIAS_REQUIRED_IF):
        try:
            field["required_if"] = json.loads(rule)
        except json.JSONDecodeError:
            raise _refuse(oid, f"alias {ALIAS_REQUIRED_IF} is not JSON: {rule!r}.") from None
    return field


def forms_from_odm(
    source: bytes | str | Path, *, metadata_version: str | None = None
) -> list[dict[str, Any]]:
    """Form declarations from the ``MetaDataVersion`` of an ODM 1.3.2 document (the first, or
    the one whose OID is ``metadata_version``), in document order. Raises
    :class:`OdmImportError` naming the OID of the first thing a declaration cannot hold, or
    the form whose declaration would be faulty; nothing partial is returned.
    """
    root = _parse(source)
    if root.tag != f"{N}ODM":
        raise OdmImportError(
            f"The root element is {etree.QName(root).localname!r} in namespace "
            f"{etree.QName(root).namespace!r}; expected ODM in {NS} (ODM 1.3).",
            code="odm_root_element_namespace_expected",
            localname=repr(etree.QName(root).localname),
            namespace=repr(etree.QName(root).namespace),
            ns=str(NS),
        )
    mdvs = root.findall(f"{N}Study/{N}MetaDataVersion")
    if metadata_version is not None:
        mdvs = [m for m in mdvs if m.get("OID") == metadata_version]
    if not mdvs:
        which = f" with OID {metadata_version!r}" if metadata_version else ""
        raise OdmImportError(
            f"The document holds no MetaDataVersion{which}.",
            code="odm_document_holds_metadataversion",
            which=str(which),
        )
    mdv = mdvs[0]
    if mdv.find(f"{N}Include") is not None:
        raise _refuse(mdv.get("OID", "?"), "it includes another MetaDataVersion (Include).")
    units = {
        u.get("OID"): (_translated(u, "Symbol") or u.get("Name", ""))
        for u in root.findall(f"{N}Study/{N}BasicDefinitions/{N}MeasurementUnit")
    }
    groups = {g.get("OID"): g for g in mdv.findall(f"{N}ItemGroupDef")}
    items = {i.get("OID"): i for i in mdv.findall(f"{N}ItemDef")}
    codelists = {c.get("OID"): c for c in mdv.findall(f"{N}CodeList")}
    out: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for form in mdv.findall(f"{N}FormDef"):
        oid = form.get("OID", "?")
        if form.get("Repeating") == "Yes":
            raise _refuse(oid, "a repeating form (a log) cannot be a form declaration.")
        named = _aliases(form, ALIAS_FORM)
        name = named[0] if named else _slug(form.get("Name") or oid)
        if name in seen:
            raise _refuse(oid, f"its name {name!r} is that of {seen[name]} too.")
        seen[name] = oid
        fields: list[dict[str, Any]] = []
        for gref in form.findall(f"{N}ItemGroupRef"):
            goid = gref.get("ItemGroupOID", "")
            group = groups.get(goid)
            if group is None:
                raise _refuse(oid, f"its item group {goid!r} is not defined.")
            if group.get("Repeating") == "Yes":
                raise _refuse(goid, "a repeating item group (a table of rows) has no field form.")
            for iref in group.findall(f"{N}ItemRef"):
                ioid = iref.get("ItemOID", "")
                if iref.get("MethodOID"):
                    raise _refuse(ioid, f"a derived item (method {iref.get('MethodOID')}).")
                if iref.get("CollectionExceptionConditionOID"):
                    raise _refuse(
                        ioid,
                        "a collection condition "
                        f"({iref.get('CollectionExceptionConditionOID')}) has no field rule.",
                    )
                item = items.get(ioid)
                if item is None:
                    raise _refuse(goid, f"its item {ioid!r} is not defined.")
                if _aliases(item, ALIAS_RETIRED):
                    continue  # kept for old values only: not part of the declaration
                fields.append(_field(item, iref.get("Mandatory") == "Yes", codelists, units))
        doc: dict[str, Any] = {"name": name, "title": form.get("Name") or name, "fields": fields}
        checks = []
        for rule in _aliases(form, ALIAS_DATE_CHECK):
            try:
                checks.append(json.loads(rule))
            except json.JSONDecodeError:
                raise _refuse(oid, f"alias {ALIAS_DATE_CHECK} is not JSON: {rule!r}.") from None
        if checks:
            doc["date_checks"] = checks
        problems = declaration_problems(doc)
        if problems:
            raise _refuse(oid, f"the declaration it gives is faulty: {problems[0].message}")
        out.append(doc)
    if not out:
        raise _refuse(mdv.get("OID", "?"), "it defines no form (FormDef).")
    return out
