"""Writers: SAS XPORT v5 (pyreadstat), CDISC Dataset-JSON 1.1, and the character widths they share.

One rule gives every character variable its width: the longest value in UTF-8 bytes, at least
1 (what pyreadstat stores, which cannot be set otherwise). The XPT is read back after writing and
its widths compared with that rule, so Define-XML ``Length``, Dataset-JSON ``length`` and the XPT
can never disagree. Timestamps in the files are those of the data cut, so writing the same cut
twice gives byte-identical files.

References
----------
SAS Institute, TS-140 "The record layout of a data set in SAS transport (XPORT) format" (v5).
CDISC Dataset-JSON v1.1 specification (2024), and its JSON Schema.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import polars as pl
import pyreadstat

from oncotrials.core.errors import ValidationError

from .model import DATE, FLOAT, INTEGER, MAX_LABEL, MAX_NAME, MAX_TEXT_BYTES, TEXT, Dataset

NUMERIC_WIDTH = 8  # every XPT numeric is an 8-byte IBM float


def widths(dataset: Dataset) -> dict[str, int]:
    """The storage width of each variable: 8 for numbers, the longest value in bytes otherwise."""
    out: dict[str, int] = {}
    for i, v in enumerate(dataset.variables):
        if v.type in (INTEGER, FLOAT):
            out[v.name] = NUMERIC_WIDTH
        else:
            out[v.name] = max((len(str(r[i]).encode("utf-8")) for r in dataset.rows), default=1)
            out[v.name] = max(out[v.name], 1)
    return out


def significant_digits(dataset: Dataset, name: str) -> int:
    """Decimal places of a float variable (Define-XML ``SignificantDigits``), at least 1."""
    values = [v for v in dataset.column(name) if v is not None]
    places = [max(0, -Decimal(v).normalize().as_tuple().exponent) for v in values]  # type: ignore[operator]
    return max([1, *places])


def check_xpt_limits(dataset: Dataset) -> None:
    """Refuse what SAS XPORT v5 cannot hold, naming the dataset and variable."""
    if len(dataset.name) > MAX_NAME:
        raise ValidationError(
            f"Dataset name {dataset.name!r} is longer than {MAX_NAME}.",
            code="sdtm_dataset_name_longer_than",
            name=repr(dataset.name),
            max_name=str(MAX_NAME),
        )
    if len(dataset.label) > MAX_LABEL:
        raise ValidationError(
            f"{dataset.name}: label longer than {MAX_LABEL} characters.",
            code="sdtm_label_longer_than_characters",
            name=str(dataset.name),
            max_label=str(MAX_LABEL),
        )
    for name, width in widths(dataset).items():
        if width > MAX_TEXT_BYTES:
            raise ValidationError(
                f"{dataset.name}.{name}: a value has {width} bytes; XPT v5 allows "
                f"{MAX_TEXT_BYTES}. Move the rest to SUPP{dataset.name} (never cut it).",
                code="sdtm_value_bytes_xpt_v5",
                name=str(dataset.name),
                name_2=str(name),
                width=str(width),
                max_text_bytes=str(MAX_TEXT_BYTES),
            )
    for v in dataset.variables:
        if len(v.name) > MAX_NAME or len(v.label) > MAX_LABEL:
            raise ValidationError(
                f"{dataset.name}.{v.name}: name or label too long for XPT v5.",
                code="sdtm_name_label_too_long",
                name=str(dataset.name),
                name_2=str(v.name),
            )


def _frame(dataset: Dataset) -> pl.DataFrame:
    columns: dict[str, pl.Series] = {}
    for i, v in enumerate(dataset.variables):
        values = [r[i] for r in dataset.rows]
        if v.type in (INTEGER, FLOAT):
            columns[v.name] = pl.Series(
                v.name, [None if x is None else float(x) for x in values], dtype=pl.Float64
            )
        else:
            columns[v.name] = pl.Series(v.name, [str(x) for x in values], dtype=pl.Utf8)
    return pl.DataFrame(columns)


def _sas_stamp(when: dt.datetime) -> bytes:
    return when.strftime("%d%b%y:%H:%M:%S").upper().encode("ascii")


# Offsets of the creation and modification stamps in a one-member XPT v5 file (TS-140): the
# second and third 80-byte records of the library header and of the member header.
_STAMPS = ((80 + 64, 16), (160, 16), (400 + 64, 16), (480, 16))


def _restamp(data: bytes, when: dt.datetime) -> bytes:
    if not data.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD"):
        raise ValidationError(
            "The XPT writer did not produce a SAS XPORT v5 library header.",
            code="sdtm_xpt_writer_did_produce",
        )
    stamp = _sas_stamp(when)
    out = bytearray(data)
    for offset, size in _STAMPS:
        old = bytes(out[offset : offset + size])
        if len(old) != size or old[7:8] != b":":
            raise ValidationError(
                "Unexpected XPT header layout; cannot set its timestamps.",
                code="sdtm_unexpected_xpt_header_layout",
            )
        out[offset : offset + size] = stamp
    return bytes(out)


def xpt_bytes(dataset: Dataset, *, created: dt.datetime) -> bytes:
    """The dataset as a SAS XPORT v5 file, stamped ``created``, checked by reading it back."""
    check_xpt_limits(dataset)
    fd, tmp = tempfile.mkstemp(suffix=".xpt")
    os.close(fd)
    try:
        pyreadstat.write_xport(
            _frame(dataset),
            tmp,
            file_label=dataset.label,
            column_labels=[v.label for v in dataset.variables],
            table_name=dataset.name,
            file_format_version=5,
        )
        data = _restamp(Path(tmp).read_bytes(), created)
        Path(tmp).write_bytes(data)
        _frame_back, meta = pyreadstat.read_xport(tmp, metadataonly=True)
    finally:
        Path(tmp).unlink(missing_ok=True)
    expected = widths(dataset)
    if meta.variable_storage_width != expected:
        raise ValidationError(
            f"{dataset.name}: the XPT widths {meta.variable_storage_width} differ from the "
            f"declared lengths {expected}.",
            code="sdtm_xpt_widths_differ_from",
            name=str(dataset.name),
            variable_storage_width=str(meta.variable_storage_width),
            expected=str(expected),
        )
    return data


# --- Dataset-JSON 1.1 --------------------------------------------------------------------------

DSJ_VERSION = "1.1.0"
DSJ_TYPES = {TEXT: "string", INTEGER: "integer", FLOAT: "double", DATE: "date"}


def item_oid(dataset: str, variable: str) -> str:
    return f"IT.{dataset}.{variable}"


def dataset_json(
    dataset: Dataset,
    *,
    study_oid: str,
    mdv_oid: str,
    created: dt.datetime,
    originator: str = "oncotrials",
    source_system: tuple[str, str] = ("oncotrials", ""),
    file_oid: str = "",
) -> dict[str, Any]:
    """The dataset as a Dataset-JSON 1.1 document (a dict ready for ``json.dumps``)."""
    w = widths(dataset)
    columns: list[dict[str, Any]] = []
    for v in dataset.variables:
        col: dict[str, Any] = {
            "itemOID": item_oid(dataset.name, v.name),
            "name": v.name,
            "label": v.label,
            "dataType": DSJ_TYPES[v.type],
        }
        if v.type == TEXT:
            col["length"] = w[v.name]
        if v.key:
            col["keySequence"] = v.key
        columns.append(col)
    rows = []
    for r in dataset.rows:
        row: list[Any] = []
        for v, value in zip(dataset.variables, r, strict=True):
            if v.type == FLOAT and value is not None:
                row.append(float(value))
            else:
                row.append(value)
        rows.append(row)
    stamp = created.replace(tzinfo=None, microsecond=0).isoformat()
    return {
        "datasetJSONCreationDateTime": stamp,
        "datasetJSONVersion": DSJ_VERSION,
        "fileOID": file_oid or f"{study_oid}/{dataset.name.lower()}",
        "dbLastModifiedDateTime": stamp,
        "originator": originator,
        "sourceSystem": {"name": source_system[0], "version": source_system[1]},
        "studyOID": study_oid,
        "metaDataVersionOID": mdv_oid,
        "metaDataRef": "define.xml",
        "itemGroupOID": f"IG.{dataset.name}",
        "records": len(rows),
        "name": dataset.name,
        "label": dataset.label,
        "columns": columns,
        "rows": rows,
    }


def json_bytes(document: dict[str, Any]) -> bytes:
    """Stable serialisation: key order as built, UTF-8, no trailing spaces."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@cache
def dataset_json_schema() -> dict[str, Any]:
    """CDISC's Dataset-JSON 1.1 JSON Schema (draft 2019-09), as shipped by cdisc-rules-engine."""
    ref = resources.files("oncotrials.core.sdtm").joinpath("schemas/dataset.schema.json")
    loaded: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return loaded


def dataset_json_errors(document: Any) -> list[str]:
    """Schema errors of a Dataset-JSON document, each with its JSON path; [] when valid."""
    validator = jsonschema.Draft201909Validator(dataset_json_schema())
    out = []
    for e in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path)
        out.append(f"{where}: {e.message}")
    rows = document.get("rows") if isinstance(document, dict) else None
    if isinstance(rows, list) and document.get("records") != len(rows):
        out.append(f"$.records: {document.get('records')} but {len(document['rows'])} rows")
    return out
