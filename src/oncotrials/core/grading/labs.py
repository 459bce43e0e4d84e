"""Batch CTCAE grading of a lab CSV file (docs/formats/labs.md).

The file is read whole and graded all or nothing: the first bad row stops the batch with an
error naming its line and column. Columns ``analyte``, ``value`` and ``unit`` are required;
``subject_id``, ``date``, ``id``, ``lln``, ``uln``, ``limit_unit`` (the unit of ``lln`` and
``uln`` when it is not the value's), ``baseline``, ``symptomatic``,
``life_threatening`` and ``serious_arrhythmia`` are optional. Unknown columns are refused (a
misspelt ``ULN`` column must not be ignored).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from oncotrials.core.errors import OncotrialsError, ValidationError
from oncotrials.core.grading.ctcae import DEFAULT_VERSION, LabGrade, grade_lab

REQUIRED_COLUMNS = ("analyte", "value", "unit")
OPTIONAL_COLUMNS = (
    "id",
    "subject_id",
    "date",
    "lln",
    "uln",
    "limit_unit",
    "baseline",
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


def _flag(text: str, *, column: str, where: str, unknown: bool | None) -> bool | None:
    value = text.strip().lower()
    if value == "":
        return unknown
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValidationError(
        f"{where}: column {column} must be yes/no (or true/false, 1/0, empty for unknown); "
        f"got {text!r}."
    )


def grade_lab_csv(
    text: str, *, version: str = DEFAULT_VERSION, source: str = "input"
) -> tuple[LabRowGrade, ...]:
    """Grade every row of a lab CSV given as text; errors name the line and column."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise ValidationError(f"{source} is empty; it needs a header row with analyte,value,unit.")
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            f"{source}: missing column(s) {', '.join(missing)}; the header must include "
            f"{', '.join(REQUIRED_COLUMNS)}."
        )
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ValidationError(
            f"{source}: unknown column(s) {', '.join(unknown)}; allowed columns are "
            f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}."
        )
    reader.fieldnames = header
    out: list[LabRowGrade] = []
    for row in reader:
        line = reader.line_num
        where = f"Line {line} of {source}"
        if None in row:
            raise ValidationError(f"{where}: more fields than columns in the header.")
        cells = {k: (v or "").strip() for k, v in row.items()}
        if not any(cells.values()):
            continue
        for column in REQUIRED_COLUMNS:
            if not cells[column]:
                raise ValidationError(f"{where}: column {column} is empty; every row needs it.")

        def opt(column: str, cells: dict[str, str] = cells) -> str | None:
            return cells.get(column) or None

        try:
            result = grade_lab(
                cells["analyte"],
                cells["value"],
                cells["unit"],
                lln=opt("lln"),
                uln=opt("uln"),
                limit_unit=opt("limit_unit"),
                baseline=opt("baseline"),
                version=version,
                symptomatic=_flag(
                    cells.get("symptomatic", ""), column="symptomatic", where=where, unknown=None
                ),
                life_threatening=bool(
                    _flag(
                        cells.get("life_threatening", ""),
                        column="life_threatening",
                        where=where,
                        unknown=False,
                    )
                ),
                serious_arrhythmia=bool(
                    _flag(
                        cells.get("serious_arrhythmia", ""),
                        column="serious_arrhythmia",
                        where=where,
                        unknown=False,
                    )
                ),
            )
        except OncotrialsError as exc:
            raise type(exc)(f"{where}: {exc.message}", code=exc.code, line=line) from None
        out.append(LabRowGrade(line, opt("id"), opt("subject_id"), opt("date"), result))
    if not out:
        raise ValidationError(f"{source} has a header but no rows to grade.")
    return tuple(out)


def grade_lab_file(path: str | Path, *, version: str = DEFAULT_VERSION) -> tuple[LabRowGrade, ...]:
    """Grade a lab CSV file (UTF-8, comma-separated, header row)."""
    p = Path(path)
    return grade_lab_csv(p.read_text(encoding="utf-8"), version=version, source=p.name)
