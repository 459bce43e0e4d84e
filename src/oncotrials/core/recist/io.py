"""Read the RECIST input format (``docs/formats/recist-input.md``) into records and options.

The file is checked against ``schemas/recist-input.schema.json`` first; a fault is reported with
its JSON path (``$.patients[0].assessments[2].lesions[1].diameter_mm``). Numbers are read as exact
decimals (``json.loads(parse_float=Decimal)``), so ``25.2`` is 25.2 mm, not a binary float.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist.model import (
    Assessment,
    Baseline,
    BaselineLesion,
    IRecistOptions,
    LesionKind,
    LesionObservation,
    LesionRole,
    LesionStatus,
    Method,
    NewLesion,
    PatientRecord,
    RecistOptions,
)

DOC = "docs/formats/recist-input.md"


@dataclass(frozen=True, slots=True)
class RecistInput:
    """Patients and protocol options read from one input document."""

    records: tuple[PatientRecord, ...]
    options: RecistOptions
    irecist_options: IRecistOptions


@cache
def recist_input_schema() -> dict[str, Any]:
    """The JSON Schema of the RECIST input format."""
    ref = resources.files("oncotrials.core.recist").joinpath("schemas/recist-input.schema.json")
    loaded: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return loaded


def json_path(parts: Sequence[str | int]) -> str:
    """``$.a[0].b`` from the path parts of a jsonschema error."""
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def validate_document(data: Any, schema: Mapping[str, Any], *, source: str, doc: str) -> None:
    """Check ``data`` against ``schema``; raise one error naming the JSON path of the fault."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(data))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    while error.context:  # oneOf/anyOf: report the most specific branch
        error = jsonschema.exceptions.best_match(error.context)
    where = json_path(list(error.absolute_path))
    raise ValidationError(
        f"{source}: {where}: {error.message}. See {doc} for the format.", path=where
    )


def read_json(path: str | Path) -> Any:
    """Read a JSON file with exact decimals; a syntax error names its line and column."""
    p = Path(path)
    text = p.read_text(encoding="utf-8")
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{p.name}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
        ) from None


def load_recist_input(data: Any, *, source: str = "input") -> RecistInput:
    """Validate a parsed document and build the records and options it describes."""
    validate_document(data, recist_input_schema(), source=source, doc=DOC)
    raw_options = data.get("options", {})
    options = RecistOptions(
        confirmation=raw_options.get("confirmation", False),
        min_confirmation_days=raw_options.get("min_confirmation_days", 28),
        min_sd_days=raw_options.get("min_sd_days", 42),
        max_ne_between=raw_options.get("max_ne_between", 1),
        accept_sd_between=raw_options.get("accept_sd_between", False),
        continuing_pr=raw_options.get("continuing_pr", True),
        reappearance_after_cr_is_pd=raw_options.get("reappearance_after_cr_is_pd", True),
    )
    irecist = IRecistOptions(
        recist=options,
        confirm_min_days=raw_options.get("irecist_confirm_min_days", 28),
        confirm_tolerance_days=raw_options.get("irecist_confirm_tolerance_days", 2),
        confirm_max_days=raw_options.get("irecist_confirm_max_days", 56),
    )
    records = []
    seen: dict[str, int] = {}
    for i, patient in enumerate(data["patients"]):
        here = f"$.patients[{i}]"
        pid = patient["patient_id"]
        if pid in seen:
            raise ValidationError(
                f"{source}: {here}.patient_id: {pid!r} is also patient {seen[pid]}; "
                "every patient needs its own id.",
                path=f"{here}.patient_id",
            )
        seen[pid] = i
        records.append(_patient(patient, here, source))
    return RecistInput(tuple(records), options, irecist)


def _date(value: str, where: str, source: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            f"{source}: {where}: {value!r} is not a calendar date (YYYY-MM-DD).", path=where
        ) from None


def _patient(raw: Mapping[str, Any], here: str, source: str) -> PatientRecord:
    baseline = raw["baseline"]
    lesions = tuple(
        BaselineLesion(
            lesion["lesion_id"],
            lesion["organ"],
            lesion.get("diameter_mm"),
            nodal=lesion.get("nodal", False),
            role=None if lesion.get("role") is None else LesionRole(lesion["role"]),
            method=Method(lesion.get("method", "CT")),
            slice_thickness_mm=lesion.get("slice_thickness_mm"),
            kind=LesionKind(lesion.get("kind", "soft_tissue")),
            progressed_after_local_therapy=lesion.get("progressed_after_local_therapy", False),
        )
        for lesion in baseline["lesions"]
    )
    assessments = []
    for j, visit in enumerate(raw["assessments"]):
        where = f"{here}.assessments[{j}]"
        observations = tuple(
            LesionObservation(
                obs["lesion_id"],
                obs.get("diameter_mm"),
                None if obs.get("status") is None else LesionStatus(obs["status"]),
            )
            for obs in visit["lesions"]
        )
        new = tuple(
            NewLesion(
                lesion["lesion_id"],
                organ=lesion.get("organ", ""),
                nodal=lesion.get("nodal", False),
                diameter_mm=lesion.get("diameter_mm"),
                status=LesionStatus(lesion.get("status", "present")),
                equivocal=lesion.get("equivocal", False),
            )
            for lesion in visit.get("new_lesions", ())
        )
        assessments.append(
            Assessment(
                _date(visit["date"], f"{where}.date", source),
                observations,
                new,
                tumour_markers_normal=visit.get("tumour_markers_normal"),
                clinical_symptoms=visit.get("clinical_symptoms", False),
            )
        )
    therapy = raw.get("new_therapy_date")
    return PatientRecord(
        raw["patient_id"],
        _date(raw["start_date"], f"{here}.start_date", source),
        Baseline(_date(baseline["date"], f"{here}.baseline.date", source), lesions),
        tuple(assessments),
        None if therapy is None else _date(therapy, f"{here}.new_therapy_date", source),
    )
