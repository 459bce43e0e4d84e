"""Batch CTCAE grading of a lab CSV file (docs/formats/labs.md).

The file is read whole. By default it is graded all or nothing: a bad row stops the batch with
an error naming its line and the reason (and the lines of any other refused rows). With
``keep_going`` the valid rows are graded and the refused rows listed with their line and reason.
Columns ``value`` and ``unit`` are required, with ``analyte`` or ``term`` (a CTCAE v5.0 term) or
both; ``subject_id``, ``date``, ``id``, ``lln``, ``uln``, ``limit_unit`` (the unit of ``lln``
and ``uln`` when it is not the value's), ``baseline``, ``baseline_abnormal``, ``symptomatic``,
``life_threatening`` and ``serious_arrhythmia`` are optional. Unknown columns are refused (a
misspelt ``ULN`` column must not be ignored). A header problem always stops the batch.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from oncotrials.core.errors import OncotrialsError, ValidationError
from oncotrials.core.grading.ctcae import DEFAULT_VERSION, LabGrade, grade_lab

REQUIRED_COLUMNS = ("value", "unit")
#: At least one of these; a row may fill either or both (they must agree).
TARGET_COLUMNS = ("analyte", "term")
OPTIONAL_COLUMNS = (
    "analyte",
    "term",
    "id",
    "subject_id",
    "date",
    "lln",
    "uln",
    "limit_unit",
    "baseline",
    "baseline_abnormal",
    "symptomatic",
    "life_threatening",
    "serious_arrhythmia",
)
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


@dataclass(frozen=True, slots=True)
class LabRowGrade:
    """The grade of one CSV row, with where it came from."""

    line: int
    id: str | None
    subject_id: str | None
    date: str | None
    result: LabGrade


@dataclass(frozen=True, slots=True)
class LabRowError:
    """A row that was not graded: its line, its identifiers and the reason."""

    line: int
    id: str | None
    subject_id: str | None
    reason: str
    code: str


@dataclass(frozen=True, slots=True)
class LabBatch:
    """The graded rows and, with ``keep_going``, the refused ones (in file order)."""

    graded: tuple[LabRowGrade, ...]
    refused: tuple[LabRowError, ...]


def _flag(text: str, *, column: str, unknown: bool | None) -> bool | None:
    value = text.strip().lower()
    if value == "":
        return unknown
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(
        f"column {column} must be yes/no (or true/false, 1/0, empty for unknown); got {text!r}."
    )


def grade_lab_batch(
    text: str, *, version: str = DEFAULT_VERSION, source: str = "input", keep_going: bool = False
) -> LabBatch:
    """Grade a lab CSV given as text; each refused row is named by its line and reason.

    Without ``keep_going`` any refused row stops the batch (all or nothing): the error names
    the first refused row and the lines of the others. With ``keep_going`` the valid rows are
    graded and the refused ones returned beside them.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise ValidationError(
            f"{source} is empty; it needs a header row with analyte (or term),value,unit."
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if not any(c in header for c in TARGET_COLUMNS):
        missing.insert(0, "analyte (or term)")
    if missing:
        raise ValidationError(
            f"{source}: missing column(s) {', '.join(missing)}; the header must include "
            f"analyte or term (or both), {', '.join(REQUIRED_COLUMNS)}."
        )
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ValidationError(
            f"{source}: unknown column(s) {', '.join(unknown)}; allowed columns are "
            f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}."
        )
    reader.fieldnames = header
    graded: list[LabRowGrade] = []
    refused: list[tuple[LabRowError, OncotrialsError]] = []
    for row in reader:
        line = reader.line_num
        where = f"Line {line} of {source}"
        cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
        if None not in row and not any(cells.values()):
            continue
        try:
            graded.append(_grade_row(cells, None in row, line=line, version=version))
        except OncotrialsError as exc:
            error = type(exc)(f"{where}: {exc.message}", code=exc.code, line=line)
            refused.append(
                (
                    LabRowError(
                        line,
                        cells.get("id") or None,
                        cells.get("subject_id") or None,
                        exc.message,
                        exc.code,
                    ),
                    error,
                )
            )
    if refused and not keep_going:
        first, error = refused[0]
        if len(refused) > 1:
            others = ", ".join(str(r.line) for r, _ in refused[1:])
            error = type(error)(
                f"{error.message} ({len(refused) - 1} more row(s) refused: line(s) {others}; "
                f"nothing was graded.)",
                code=error.code,
                line=first.line,
            )
        raise error
    if not graded and not refused:
        raise ValidationError(f"{source} has a header but no rows to grade.")
    return LabBatch(tuple(graded), tuple(r for r, _ in refused))


def _grade_row(cells: dict[str, str], extra: bool, *, line: int, version: str) -> LabRowGrade:
    if extra:
        raise ValidationError("more fields than columns in the header.")
    for column in REQUIRED_COLUMNS:
        if not cells[column]:
            raise ValidationError(f"column {column} is empty; every row needs it.")
    present = [c for c in TARGET_COLUMNS if c in cells]
    if len(present) == 1 and not cells[present[0]]:
        raise ValidationError(f"column {present[0]} is empty; every row needs it.")
    if not any(cells.get(c) for c in TARGET_COLUMNS):
        raise ValidationError(
            "columns analyte and term are both empty; every row needs one of them (e.g. "
            "neutrophils, or Neutrophil count decreased)."
        )

    def opt(column: str) -> str | None:
        return cells.get(column) or None

    def flag(column: str, unknown: bool | None) -> bool | None:
        return _flag(cells.get(column, ""), column=column, unknown=unknown)

    result = grade_lab(
        opt("analyte"),
        cells["value"],
        cells["unit"],
        term=opt("term"),
        lln=opt("lln"),
        uln=opt("uln"),
        limit_unit=opt("limit_unit"),
        baseline=opt("baseline"),
        baseline_abnormal=flag("baseline_abnormal", None),
        version=version,
        symptomatic=flag("symptomatic", None),
        life_threatening=bool(flag("life_threatening", False)),
        serious_arrhythmia=bool(flag("serious_arrhythmia", False)),
    )
    return LabRowGrade(line, opt("id"), opt("subject_id"), opt("date"), result)


def grade_lab_csv(
    text: str, *, version: str = DEFAULT_VERSION, source: str = "input"
) -> tuple[LabRowGrade, ...]:
    """Grade every row of a lab CSV given as text, all or nothing; errors name the line."""
    return grade_lab_batch(text, version=version, source=source).graded


def grade_lab_file(path: str | Path, *, version: str = DEFAULT_VERSION) -> tuple[LabRowGrade, ...]:
    """Grade a lab CSV file (UTF-8, comma-separated, header row), all or nothing."""
    p = Path(path)
    return grade_lab_csv(p.read_text(encoding="utf-8"), version=version, source=p.name)


def grade_lab_file_batch(
    path: str | Path, *, version: str = DEFAULT_VERSION, keep_going: bool = False
) -> LabBatch:
    """Grade a lab CSV file; with ``keep_going`` the refused rows are returned, not raised."""
    p = Path(path)
    return grade_lab_batch(
        p.read_text(encoding="utf-8"), version=version, source=p.name, keep_going=keep_going
    )
