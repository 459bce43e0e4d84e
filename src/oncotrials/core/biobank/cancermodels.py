"""PDX-MI submission to CancerModels.org: the sheet layout, its writer and a dictionary checker.

CancerModels.org (PDCM Finder, formerly PDX Finder; the PDX-MI implementation of Meehan et al.,
Cancer Res 2017;77:e62-6) takes a provider's metadata as one tab-separated file per sheet,
``<provider>/<provider>_metadata-<sheet>.tsv`` (patient, patient_sample, pdx_model,
model_validation, sharing), optionally with a first ``Field`` column whose rows starting with
``#`` are template comments, and drug studies as ``<provider>/drug/<provider>_drugdosing-
Sheet1.tsv``. Submissions are validated with the Lectern dictionary "CancerModels_Dictionary" 1.0
(shipped in ``data/``, from PDCMFinder/pdcm-lectern-validator, Apache-2.0).

:func:`check_submission` applies that dictionary as Lectern does: required fields, code lists,
regular expressions (JavaScript semantics, so ``\\w`` is ASCII), unique fields, the unique key of
patient_sample and the foreign keys between sheets. Each issue names the sheet, the line of the
file (line 1 is the header) and the field, with Lectern's error type as ``code``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from oncotrials.core.errors import ValidationError

DICTIONARY_PATH = Path(__file__).resolve().parent / "data" / "CancerModels_dictionary_1.0.json"

#: The sheets a PDX submission must contain (cell_model is for in-vitro models).
PDX_SHEETS: tuple[str, ...] = (
    "patient",
    "patient_sample",
    "pdx_model",
    "model_validation",
    "sharing",
)

#: Columns of the drug-study sheet, which dictionary 1.0 does not define; they are those read
#: by the CancerModels ETL (PDCMFinder/pdcm-etl, tests/data.py).
DRUG_DOSING_COLUMNS: tuple[str, ...] = (
    "model_id",
    "passage_range",
    "treatment_name",
    "treatment_type",
    "treatment_dose",
    "administration_route",
    "treatment_schedule",
    "treatment_length",
    "treatment_response",
    "response_classification",
)
DRUG_DOSING = "drug_dosing"

#: mRECIST classes as CancerModels spells treatment responses.
RESPONSE_NAMES: Mapping[str, str] = {
    "CR": "complete response",
    "PR": "partial response",
    "SD": "stable disease",
    "PD": "progressive disease",
}


@dataclass(frozen=True, slots=True)
class FieldRule:
    """The restrictions of one dictionary field."""

    name: str
    required: bool
    code_list: tuple[str, ...] | None
    regex: str | None
    unique: bool
    description: str
    example: str
    format: str

    def matches(self, value: str) -> bool:
        return self.regex is None or _compile(self.regex).search(value) is not None


@dataclass(frozen=True, slots=True)
class SheetRule:
    """A dictionary schema: its fields, unique key and foreign keys (local, sheet, foreign)."""

    name: str
    fields: tuple[FieldRule, ...]
    unique_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> FieldRule | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True, slots=True)
class Dictionary:
    name: str
    version: str
    sheets: Mapping[str, SheetRule]


@dataclass(frozen=True, slots=True)
class SubmissionIssue:
    """One breach of the dictionary. ``line`` is the line of the sheet's file (header = 1)."""

    sheet: str
    line: int
    field: str
    code: str
    message: str

    def __str__(self) -> str:
        where = self.sheet + (f", line {self.line}" if self.line else "")
        where += f", {self.field}" if self.field else ""
        return f"{where}: {self.message} [{self.code}]"


@dataclass(frozen=True, slots=True)
class Sheet:
    """Rows of one sheet as strings, each with the line it came from."""

    name: str
    header: tuple[str, ...]
    rows: tuple[tuple[int, Mapping[str, str]], ...]


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    # The dictionary's patterns are JavaScript regexes: ASCII classes, and a bare "[" inside a
    # class is literal (Python warns about possible nested sets but reads it the same way).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(pattern, re.ASCII)


def load_dictionary(path: Path | None = None) -> Dictionary:
    """Read a Lectern dictionary (default: CancerModels dictionary 1.0, shipped)."""
    return _load(path or DICTIONARY_PATH)


@cache
def _load(path: Path) -> Dictionary:
    raw: Any = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(raw, list):
        raw = raw[0]
    sheets: dict[str, SheetRule] = {}
    for schema in raw["schemas"]:
        fields = []
        for f in schema["fields"]:
            r = f.get("restrictions") or {}
            meta = f.get("meta") or {}
            fields.append(
                FieldRule(
                    name=f["name"],
                    required=bool(r.get("required", False)),
                    code_list=tuple(r["codeList"]) if "codeList" in r else None,
                    regex=r.get("regex"),
                    unique=bool(r.get("unique", False)),
                    description=f.get("description", ""),
                    example=str(meta.get("examples", "")),
                    format=str(meta.get("format", "")),
                )
            )
        restrictions = schema.get("restrictions") or {}
        foreign = tuple(
            (m["local"], fk["schema"], m["foreign"])
            for fk in restrictions.get("foreignKey", [])
            for m in fk["mappings"]
        )
        sheets[schema["name"]] = SheetRule(
            name=schema["name"],
            fields=tuple(fields),
            unique_key=tuple(restrictions.get("uniqueKey", ())),
            foreign_keys=foreign,
        )
    return Dictionary(name=raw["name"], version=str(raw["version"]), sheets=sheets)


# --------------------------------------------------------------------------- checking


def check_submission(
    sheets: Mapping[str, Sheet],
    dictionary: Dictionary | None = None,
    *,
    required_sheets: Sequence[str] = PDX_SHEETS,
) -> list[SubmissionIssue]:
    """Every breach of ``dictionary`` in ``sheets``, in sheet, line and field order.

    Codes are Lectern's: ``MISSING_REQUIRED_FIELD``, ``INVALID_ENUM_VALUE``,
    ``INVALID_BY_REGEX``, ``UNRECOGNIZED_FIELD``, ``INVALID_BY_UNIQUE``,
    ``INVALID_BY_UNIQUE_KEY``, ``INVALID_BY_FOREIGN_KEY``; plus ``MISSING_SHEET`` and
    ``UNKNOWN_SHEET`` (the validator refuses a workbook whose sheets are not in the dictionary).
    """
    d = dictionary or load_dictionary()
    issues: list[SubmissionIssue] = []
    for name in required_sheets:
        if name not in sheets:
            issues.append(
                SubmissionIssue(name, 0, "", "MISSING_SHEET", f"the sheet {name} is missing.")
            )
    for name, sheet in sheets.items():
        if name == DRUG_DOSING:
            issues.extend(_check_drug_dosing(sheet, sheets))
            continue
        rule = d.sheets.get(name)
        if rule is None:
            issues.append(
                SubmissionIssue(
                    name,
                    0,
                    "",
                    "UNKNOWN_SHEET",
                    f"the sheet {name} is not in {d.name} {d.version} "
                    f"(sheets: {', '.join(d.sheets)}).",
                )
            )
            continue
        issues.extend(_check_sheet(rule, sheet))
        issues.extend(_check_foreign_keys(rule, sheet, sheets))
    order = {name: i for i, name in enumerate([*d.sheets, DRUG_DOSING])}
    issues.sort(key=lambda i: (order.get(i.sheet, len(order)), i.line))
    return issues


def _check_sheet(rule: SheetRule, sheet: Sheet) -> list[SubmissionIssue]:
    issues: list[SubmissionIssue] = []
    known = set(rule.columns)
    for column in sheet.header:
        if column not in known:
            issues.append(
                SubmissionIssue(
                    rule.name,
                    1,
                    column,
                    "UNRECOGNIZED_FIELD",
                    f"column {column} is not a field of {rule.name} "
                    f"(fields: {', '.join(rule.columns)}).",
                )
            )
    absent = {f.name for f in rule.fields if f.name not in sheet.header}
    for f in rule.fields:
        if f.name in absent and f.required:
            issues.append(
                SubmissionIssue(
                    rule.name,
                    1,
                    f.name,
                    "MISSING_REQUIRED_FIELD",
                    f"the required column {f.name} is missing.",
                )
            )
    seen: dict[str, dict[str, int]] = {}
    seen_key: dict[tuple[str, ...], int] = {}
    for line, row in sheet.rows:
        for f in rule.fields:
            if f.name in absent:
                continue
            value = row.get(f.name, "").strip()
            if not value:
                if f.required:
                    issues.append(
                        SubmissionIssue(
                            rule.name,
                            line,
                            f.name,
                            "MISSING_REQUIRED_FIELD",
                            f"{f.name} is required and empty (example: {f.example}).",
                        )
                    )
                continue
            if f.code_list is not None and value not in f.code_list:
                issues.append(
                    SubmissionIssue(
                        rule.name,
                        line,
                        f.name,
                        "INVALID_ENUM_VALUE",
                        f"{value!r} is not in the code list ({', '.join(f.code_list)}).",
                    )
                )
            if not f.matches(value):
                issues.append(
                    SubmissionIssue(
                        rule.name,
                        line,
                        f.name,
                        "INVALID_BY_REGEX",
                        f"{value!r} does not match the pattern {f.regex} (format: "
                        f"{' '.join(f.format.split())}).",
                    )
                )
            if f.unique:
                first = seen.setdefault(f.name, {}).setdefault(value, line)
                if first != line:
                    issues.append(
                        SubmissionIssue(
                            rule.name,
                            line,
                            f.name,
                            "INVALID_BY_UNIQUE",
                            f"{value!r} must be unique; it is already on line {first}.",
                        )
                    )
        if rule.unique_key and all(k in sheet.header for k in rule.unique_key):
            key = tuple(row.get(k, "").strip() for k in rule.unique_key)
            first_line = seen_key.setdefault(key, line)
            if first_line != line:
                issues.append(
                    SubmissionIssue(
                        rule.name,
                        line,
                        ", ".join(rule.unique_key),
                        "INVALID_BY_UNIQUE_KEY",
                        f"the key ({', '.join(key)}) is already on line {first_line}.",
                    )
                )
    return issues


def _values(sheet: Sheet | None, column: str) -> set[str]:
    if sheet is None:
        return set()
    return {row.get(column, "").strip() for _, row in sheet.rows} - {""}


def _check_foreign_keys(
    rule: SheetRule, sheet: Sheet, sheets: Mapping[str, Sheet]
) -> list[SubmissionIssue]:
    issues: list[SubmissionIssue] = []
    for local, other, foreign in rule.foreign_keys:
        allowed = _values(sheets.get(other), foreign)
        for line, row in sheet.rows:
            value = row.get(local, "").strip()
            if value and value not in allowed:
                issues.append(
                    SubmissionIssue(
                        rule.name,
                        line,
                        local,
                        "INVALID_BY_FOREIGN_KEY",
                        f"{value!r} has no row in {other} ({foreign}).",
                    )
                )
    return issues


def _check_drug_dosing(sheet: Sheet, sheets: Mapping[str, Sheet]) -> list[SubmissionIssue]:
    """The drug sheet is outside dictionary 1.0: check its columns and that models exist."""
    issues: list[SubmissionIssue] = []
    for column in sheet.header:
        if column not in DRUG_DOSING_COLUMNS:
            issues.append(
                SubmissionIssue(
                    DRUG_DOSING,
                    1,
                    column,
                    "UNRECOGNIZED_FIELD",
                    f"column {column} is not a drug-dosing column "
                    f"({', '.join(DRUG_DOSING_COLUMNS)}).",
                )
            )
    models = _values(sheets.get("pdx_model"), "model_id")
    for line, row in sheet.rows:
        for column in ("model_id", "treatment_name"):
            if not row.get(column, "").strip():
                issues.append(
                    SubmissionIssue(
                        DRUG_DOSING,
                        line,
                        column,
                        "MISSING_REQUIRED_FIELD",
                        f"{column} is required and empty.",
                    )
                )
        model = row.get("model_id", "").strip()
        if model and model not in models:
            issues.append(
                SubmissionIssue(
                    DRUG_DOSING,
                    line,
                    "model_id",
                    "INVALID_BY_FOREIGN_KEY",
                    f"{model!r} has no row in pdx_model (model_id).",
                )
            )
    return issues


# --------------------------------------------------------------------------- files


def sheet_path(directory: Path, provider: str, sheet: str) -> Path:
    """Where ``sheet`` of ``provider`` lives in a submission directory."""
    if sheet == DRUG_DOSING:
        return directory / "drug" / f"{provider}_drugdosing-Sheet1.tsv"
    return directory / f"{provider}_metadata-{sheet}.tsv"


def _clean(value: str) -> str:
    return " ".join(str(value).split())


def write_submission(
    directory: Path,
    provider: str,
    sheets: Mapping[str, Sequence[Mapping[str, str]]],
    dictionary: Dictionary | None = None,
) -> list[Path]:
    """Write ``sheets`` (rows keyed by field name) as the provider's submission TSV files.

    Each metadata file has the dictionary's columns in its order, preceded by a ``Field``
    column whose ``#``-rows carry each field's description, example, format and whether it is
    essential, as in the CancerModels template; data rows leave ``Field`` empty.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", provider):
        raise ValidationError(
            f"The provider abbreviation names the files; use letters, digits, - or _ "
            f"(got {provider!r}).",
            field="provider",
        )
    d = dictionary or load_dictionary()
    written: list[Path] = []
    for name, rows in sheets.items():
        path = sheet_path(directory, provider, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
        if name == DRUG_DOSING:
            columns = DRUG_DOSING_COLUMNS
            writer.writerow(columns)
            comments: list[list[str]] = []
        else:
            rule = d.sheets[name]
            columns = rule.columns
            writer.writerow(["Field", *columns])
            comments = [
                ["#Description", *(_clean(f.description) for f in rule.fields)],
                ["#Example", *(_clean(f.example) for f in rule.fields)],
                ["#Format", *(_clean(f.format) for f in rule.fields)],
                ["#Essential?", *("essential" if f.required else "" for f in rule.fields)],
            ]
        writer.writerows(comments)
        for row in rows:
            unknown = set(row) - set(columns)
            if unknown:
                raise ValidationError(
                    f"Sheet {name}: {', '.join(sorted(unknown))} is not a column of the sheet.",
                    field=sorted(unknown)[0],
                )
            cells = [_clean(row.get(c, "")) for c in columns]
            writer.writerow(cells if name == DRUG_DOSING else ["", *cells])
        path.write_text(buffer.getvalue(), encoding="utf-8")
        written.append(path)
    return written


_METADATA = re.compile(r"^(?P<provider>.+)_metadata-(?P<sheet>[a-z_]+)\.tsv$")


def read_sheet(path: Path, name: str) -> Sheet:
    """Read one TSV sheet; drop the ``Field`` column and its ``#`` comment rows."""
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text), delimiter="\t")
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return Sheet(name, (), ())
    field_index = header.index("Field") if "Field" in header else None
    rows: list[tuple[int, Mapping[str, str]]] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if (
            field_index is not None
            and field_index < len(cells)
            and cells[field_index].strip().startswith("#")
        ):
            continue
        row = {
            column: (cells[i] if i < len(cells) else "")
            for i, column in enumerate(header)
            if i != field_index
        }
        rows.append((line, row))
    columns = tuple(c for i, c in enumerate(header) if i != field_index)
    return Sheet(name, columns, tuple(rows))


def read_submission(directory: Path) -> tuple[str, dict[str, Sheet]]:
    """Read a submission directory: the provider abbreviation and its sheets by name."""
    if not directory.is_dir():
        raise ValidationError(f"{directory} is not a directory of submission files.")
    providers: set[str] = set()
    sheets: dict[str, Sheet] = {}
    for path in sorted(directory.glob("*.tsv")):
        match = _METADATA.match(path.name)
        if match is None:
            continue
        providers.add(match["provider"])
        sheets[match["sheet"]] = read_sheet(path, match["sheet"])
    if not providers:
        raise ValidationError(
            f"{directory} holds no <provider>_metadata-<sheet>.tsv file; export a submission first."
        )
    if len(providers) > 1:
        raise ValidationError(
            f"{directory} mixes providers ({', '.join(sorted(providers))}); keep one per directory."
        )
    provider = providers.pop()
    dosing = sheet_path(directory, provider, DRUG_DOSING)
    if dosing.exists():
        sheets[DRUG_DOSING] = read_sheet(dosing, DRUG_DOSING)
    return provider, sheets


def check_directory(
    directory: Path, dictionary: Dictionary | None = None
) -> tuple[str, dict[str, Sheet], list[SubmissionIssue]]:
    """Read and check a submission directory (see :func:`check_submission`)."""
    provider, sheets = read_submission(directory)
    return provider, sheets, check_submission(sheets, dictionary)


def sheets_from_rows(rows: Mapping[str, Sequence[Mapping[str, str]]]) -> dict[str, Sheet]:
    """In-memory sheets from rows keyed by field name, numbered as the writer numbers them."""
    out: dict[str, Sheet] = {}
    d = load_dictionary()
    for name, records in rows.items():
        columns = DRUG_DOSING_COLUMNS if name == DRUG_DOSING else d.sheets[name].columns
        first = 2 if name == DRUG_DOSING else 6
        out[name] = Sheet(
            name,
            columns,
            tuple(
                (first + i, {c: _clean(r.get(c, "")) for c in columns})
                for i, r in enumerate(records)
            ),
        )
    return out


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class CmPatient:
    patient_id: str
    sex: str
    history: str = ""
    ethnicity: str = ""
    ethnicity_assessment_method: str = ""
    initial_diagnosis: str = ""
    age_at_initial_diagnosis: str = ""


@dataclass(frozen=True, slots=True)
class CmPatientSample:
    patient_id: str
    sample_id: str
    age_in_years_at_collection: str
    diagnosis: str
    tumour_type: str
    primary_site: str
    collection_site: str
    model_id: str
    sharable: str = "no"
    treatment_naive_at_collection: str = "Not provided"
    collection_date: str = ""
    collection_event: str = ""
    months_since_collection_1: str = ""
    stage: str = ""
    staging_system: str = ""
    grade: str = ""
    grading_system: str = ""
    virology_status: str = ""
    treated_at_collection: str = ""
    treated_prior_to_collection: str = ""


@dataclass(frozen=True, slots=True)
class CmPdxModel:
    model_id: str
    host_strain_name: str
    host_strain_nomenclature: str
    engraftment_site: str
    engraftment_type: str
    sample_type: str
    passage_number: str
    sample_state: str = ""
    publications: str = ""


@dataclass(frozen=True, slots=True)
class CmModelValidation:
    model_id: str
    validation_technique: str
    description: str
    passages_tested: str
    validation_host_strain_nomenclature: str


@dataclass(frozen=True, slots=True)
class CmSharing:
    model_id: str
    accessibility: str
    email: str
    name: str
    europdx_access_modality: str = ""
    form_url: str = ""
    database_url: str = ""


@dataclass(frozen=True, slots=True)
class CmDrugDosing:
    model_id: str
    treatment_name: str
    passage_range: str = ""
    treatment_type: str = ""
    treatment_dose: str = ""
    administration_route: str = ""
    treatment_schedule: str = ""
    treatment_length: str = ""
    treatment_response: str = ""
    response_classification: str = ""


Record = CmPatient | CmPatientSample | CmPdxModel | CmModelValidation | CmSharing | CmDrugDosing

_SHEET_OF: Mapping[type, str] = {
    CmPatient: "patient",
    CmPatientSample: "patient_sample",
    CmPdxModel: "pdx_model",
    CmModelValidation: "model_validation",
    CmSharing: "sharing",
    CmDrugDosing: DRUG_DOSING,
}


def submission_rows(records: Iterable[Record]) -> dict[str, list[dict[str, str]]]:
    """Rows per sheet from typed records; patients shared by several models appear once."""
    out: dict[str, list[dict[str, str]]] = {name: [] for name in PDX_SHEETS}
    seen_patients: set[str] = set()
    for record in records:
        sheet = _SHEET_OF[type(record)]
        if isinstance(record, CmPatient):
            if record.patient_id in seen_patients:
                continue
            seen_patients.add(record.patient_id)
        out.setdefault(sheet, []).append({k: str(v) for k, v in dataclasses.asdict(record).items()})
    return out
