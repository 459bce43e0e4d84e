"""Reading SDTM back: SAS XPORT files, Dataset-JSON, CSV (with its encoding detected), and the
XPT to Dataset-JSON conversion.

Encodings: a text file is read as UTF-8 (a byte-order mark is dropped); when that fails and every
byte is defined in Windows-1252, it is read as Windows-1252 and the first byte that is not UTF-8
is reported (line and byte); otherwise the error names that byte and asks for the encoding. Latin-1
is never guessed: every byte sequence is valid Latin-1, so guessing it would hide a wrong file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyreadstat

from oncotrials.core.errors import ValidationError

from .define import DSJ_TYPE, DefineInfo
from .writers import DSJ_VERSION

# Bytes Windows-1252 leaves undefined.
_CP1252_HOLES = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    notice: str = ""


def decode_text(data: bytes, *, source: str, encoding: str | None = None) -> Decoded:
    """Text of a file: as ``encoding`` when given, else UTF-8, else Windows-1252, else an error."""
    if encoding:
        try:
            return Decoded(data.decode(encoding), encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ValidationError(
                f"{source}: cannot be read as {encoding}: {exc}.",
                code="sdtm_wrong_encoding",
                source=str(source),
                encoding=str(encoding),
                detail=str(exc),
            ) from exc
    try:
        return Decoded(data.decode("utf-8-sig"), "utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
    line = data.count(b"\n", 0, bad) + 1
    byte = data[bad]
    if not any(b in _CP1252_HOLES for b in data if b >= 0x80):
        return Decoded(
            data.decode("cp1252"),
            "windows-1252",
            f"{source} is not UTF-8 (line {line}: byte 0x{byte:02X}); read as Windows-1252.",
        )
    raise ValidationError(
        f"{source}, line {line}: byte 0x{byte:02X} is neither UTF-8 nor Windows-1252; give the "
        "file's encoding (e.g. --encoding latin-1) or save it as UTF-8.",
        code="sdtm_line_byte_0x_neither",
        source=str(source),
        line=str(line),
        byte=format(byte, "02X"),
    )


@dataclass(frozen=True, slots=True)
class Table:
    """A dataset read from a file: columns in order, rows as dicts (text as str, numbers as
    int/float, missing as "" or None)."""

    name: str
    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    encoding: str = ""
    notices: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    widths: dict[str, int] = field(default_factory=dict)
    numeric: frozenset[str] = frozenset()
    label: str = ""
    modified: dt.datetime | None = None


def read_csv(path: str | Path, *, encoding: str | None = None) -> Table:
    """An SDTM dataset written as CSV (R's ``NA`` and empty cells are missing values)."""
    p = Path(path)
    decoded = decode_text(p.read_bytes(), source=p.name, encoding=encoding)
    reader = csv.DictReader(io.StringIO(decoded.text, newline=""))
    if not reader.fieldnames:
        raise ValidationError(
            f"{p.name}: no header line.", code="sdtm_no_header_line", name=str(p.name)
        )
    rows = []
    for n, raw in enumerate(reader, start=2):
        if None in raw:
            raise ValidationError(
                f"{p.name}, line {n}: more cells than the header has columns.",
                code="sdtm_line_more_cells_than",
                name=str(p.name),
                n=str(n),
            )
        rows.append({k: ("" if v in ("NA", None) else v) for k, v in raw.items()})
    notices = (decoded.notice,) if decoded.notice else ()
    return Table(p.stem.upper(), tuple(reader.fieldnames), tuple(rows), decoded.encoding, notices)


def _xpt_encoding(path: Path) -> tuple[str, str]:
    """Read the character data once as UTF-8; fall back to Windows-1252 with a notice."""
    try:
        pyreadstat.read_xport(str(path), encoding="utf-8")
        return "utf-8", ""
    except pyreadstat.ReadstatError:
        try:
            pyreadstat.read_xport(str(path), encoding="cp1252")
        except pyreadstat.ReadstatError as exc:
            raise ValidationError(
                f"{path.name}: character data is neither UTF-8 nor Windows-1252 ({exc}); give "
                "its encoding.",
                code="sdtm_character_data_neither_utf",
                name=str(path.name),
                detail=str(exc),
            ) from exc
        return "cp1252", f"{path.name} is not UTF-8; read as Windows-1252."


def read_xpt(path: str | Path, *, encoding: str | None = None) -> Table:
    """A SAS XPORT (v5 or v8) dataset, with its labels, storage widths and timestamps."""
    p = Path(path)
    if not p.is_file():
        raise ValidationError(f"{p}: no such file.", code="sdtm_no_such_xpt_file", file=str(p))
    head = p.read_bytes()[:80]
    if not head.startswith(b"HEADER RECORD*******LIB"):
        raise ValidationError(
            f"{p.name}: not a SAS transport (XPORT) file; its first record reads {head[:40]!r}.",
            code="sdtm_sas_transport_xport_file",
            name=str(p.name),
            head=repr(head[:40]),
        )
    notice = ""
    if encoding is None:
        encoding, notice = _xpt_encoding(p)
    try:
        frame, meta = pyreadstat.read_xport(str(p), encoding=encoding, output_format="dict")
    except pyreadstat.ReadstatError as exc:
        raise ValidationError(
            f"{p.name}: cannot be read as SAS XPORT: {exc}.",
            code="sdtm_read_sas_xport",
            name=str(p.name),
            detail=str(exc),
        ) from exc
    columns = tuple(meta.column_names)
    numeric = frozenset(c for c in columns if meta.readstat_variable_types.get(c) == "double")
    values = {c: list(frame[c]) for c in columns}
    nrows = meta.number_rows or 0
    rows = []
    for i in range(nrows):
        row: dict[str, Any] = {}
        for c in columns:
            v = values[c][i]
            if c in numeric:
                v = None if v is None or v != v else float(v)
            else:
                v = "" if v is None else str(v)
            row[c] = v
        rows.append(row)
    return Table(
        name=(meta.table_name or p.stem).upper(),
        columns=columns,
        rows=tuple(rows),
        encoding=encoding,
        notices=(notice,) if notice else (),
        labels={k: v or "" for k, v in meta.column_names_to_labels.items()},
        widths=dict(meta.variable_storage_width),
        numeric=numeric,
        label=meta.file_label or "",
        modified=meta.modification_time,
    )


def read_dataset_json(path: str | Path) -> Table:
    p = Path(path)
    try:
        doc = json.loads(decode_text(p.read_bytes(), source=p.name).text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{p.name}, line {exc.lineno}: not JSON: {exc.msg}.",
            code="sdtm_line_json",
            name=str(p.name),
            lineno=str(exc.lineno),
            msg=str(exc.msg),
        ) from exc
    try:
        columns = tuple(c["name"] for c in doc["columns"])
        rows = tuple(dict(zip(columns, r, strict=True)) for r in doc["rows"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValidationError(
            f"{p.name}: not a Dataset-JSON document ({exc}).",
            code="sdtm_dataset_json_document",
            name=str(p.name),
            detail=str(exc),
        ) from exc
    numeric = frozenset(
        c["name"] for c in doc["columns"] if c.get("dataType") in ("integer", "double", "float")
    )
    return Table(
        doc.get("name", p.stem).upper(),
        columns,
        tuple(
            {k: ("" if v is None and k not in numeric else v) for k, v in r.items()} for r in rows
        ),
        "utf-8",
        numeric=numeric,
    )


def read_table(path: str | Path, *, encoding: str | None = None) -> Table:
    """An SDTM dataset from .csv, .xpt or Dataset-JSON (.json)."""
    p = Path(path)
    if not p.exists():
        raise ValidationError(f"{p}: no such file.", code="sdtm_no_such_file", file=str(p))
    suffix = p.suffix.lower()
    if suffix == ".xpt":
        return read_xpt(p, encoding=encoding)
    if suffix == ".json":
        return read_dataset_json(p)
    if suffix == ".csv":
        return read_csv(p, encoding=encoding)
    raise ValidationError(
        f"{p.name}: unknown kind of file; give a .csv, .xpt or .json dataset.",
        code="sdtm_unknown_kind_file_give",
        name=str(p.name),
    )


# --- XPT -> Dataset-JSON -------------------------------------------------------------------------


def _sas_datetime(value: dt.datetime | None) -> str:
    if value is None:
        return "1960-01-01T00:00:00"  # SAS's epoch: the file carries no time
    return value.replace(microsecond=0, tzinfo=None).isoformat()


def xpt_to_dataset_json(
    path: str | Path,
    *,
    define: DefineInfo | None = None,
    created: dt.datetime | None = None,
    originator: str = "",
    source_system: tuple[str, str] | None = None,
    encoding: str | None = None,
) -> dict[str, Any]:
    """A Dataset-JSON 1.1 document from an XPT file.

    With the study's Define-XML, columns take their OIDs, labels, data types, lengths and key
    sequence from it, and the file's OIDs follow CDISC's examples (``fileOID`` = Define
    ``FileOID/date/dataset``). Without it, OIDs are ``IT.<dataset>.<variable>``, numbers are
    ``integer`` when every value is whole (else ``double``) and lengths are the XPT widths.
    Rows keep the file's values cell for cell: text as read (trailing blanks are padding),
    numbers as integers or floats, missing numbers as null.
    """
    table = read_xpt(path, encoding=encoding)
    created = created or dt.datetime.now(dt.UTC)
    stamp = created.replace(tzinfo=None, microsecond=0).isoformat()
    name = table.name
    columns: list[dict[str, Any]] = []
    types: dict[str, str] = {}
    if define is not None:
        group = define.groups.get(name)
        if group is None:
            raise ValidationError(
                f"{Path(path).name}: dataset {name} is not described in the Define-XML (it has "
                f"{', '.join(sorted(define.groups)) or 'no datasets'}).",
                code="sdtm_dataset_described_define_xml",
                name=str(Path(path).name),
                name_2=str(name),
                groups=str(", ".join(sorted(define.groups)) or "no datasets"),
            )
        by_name = {i.name: i for i in group.items}
        missing = [c for c in table.columns if c not in by_name]
        if missing:
            raise ValidationError(
                f"{Path(path).name}: variables {missing} are not in the Define-XML of {name}.",
                code="sdtm_variables_define_xml",
                name=str(Path(path).name),
                missing=str(missing),
                name_2=str(name),
            )
        for c in table.columns:
            item = by_name[c]
            data_type = DSJ_TYPE.get(item.data_type, "string")
            col: dict[str, Any] = {
                "itemOID": item.oid,
                "name": c,
                "label": item.label or table.labels.get(c) or c,
                "dataType": data_type,
            }
            if data_type == "string" and item.length:
                col["length"] = item.length
            if item.display_format:
                col["displayFormat"] = item.display_format
            if item.key:
                col["keySequence"] = item.key
            columns.append(col)
            types[c] = data_type
        group_oid, label = group.oid, group.label or table.label
        study_oid, mdv_oid = define.study_oid, define.mdv_oid
        file_oid = f"{define.file_oid}/{created.date().isoformat()}/{name.lower()}"
    else:
        for c in table.columns:
            if c in table.numeric:
                whole = all(r[c] is None or float(r[c]).is_integer() for r in table.rows)
                data_type = "integer" if whole else "double"
            else:
                data_type = "string"
            col = {
                "itemOID": f"IT.{name}.{c}",
                "name": c,
                "label": table.labels.get(c) or c,
                "dataType": data_type,
            }
            if data_type == "string":
                col["length"] = max(1, table.widths.get(c, 1))
            columns.append(col)
            types[c] = data_type
        group_oid, label = f"IG.{name}", table.label
        study_oid, mdv_oid = "", ""
        file_oid = f"{Path(path).stem}.json"
    rows = []
    for r in table.rows:
        out = []
        for c in table.columns:
            v = r[c]
            if c in table.numeric and v is not None and types[c] == "integer":
                if not float(v).is_integer():
                    raise ValidationError(
                        f"{Path(path).name}: {c} is an integer in the Define-XML but holds {v}.",
                        code="sdtm_integer_define_xml_but",
                        name=str(Path(path).name),
                        c=str(c),
                        value=str(v),
                    )
                v = int(v)
            out.append(v)
        rows.append(out)
    doc: dict[str, Any] = {
        "datasetJSONCreationDateTime": stamp,
        "datasetJSONVersion": DSJ_VERSION,
        "fileOID": file_oid,
        "dbLastModifiedDateTime": _sas_datetime(table.modified),
    }
    if originator:
        doc["originator"] = originator
    if source_system is not None:
        doc["sourceSystem"] = {"name": source_system[0], "version": source_system[1]}
    if study_oid:
        doc["studyOID"] = study_oid
    if mdv_oid:
        doc["metaDataVersionOID"] = mdv_oid
        doc["metaDataRef"] = "define.xml"
    doc.update(
        {
            "itemGroupOID": group_oid,
            "records": len(rows),
            "name": name,
            "label": label,
            "columns": columns,
            "rows": rows,
        }
    )
    return doc
