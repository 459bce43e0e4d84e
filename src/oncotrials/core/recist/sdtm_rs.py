"""Time-point responses from an SDTM RS (Disease Response) table, for the best overall response.

A sponsor's RS domain (SDTMIG 3.x, oncology: one row per subject, assessment and test) holds the
overall time-point response as ``RSTESTCD = OVRLRESP`` and, optionally, the target (``TRGRESP``),
non-target (``NTRGRESP``) responses and unequivocal new-lesion progression (``NEWLPROG``). This
module turns those rows into the rows of ``docs/formats/recist-timepoints.md`` so that the same
rules give the best overall response (RECIST 1.1 or iRECIST); see
``docs/formats/recist-timepoints.md`` section "SDTM RS input".

* ``RSCAT`` (when present) selects the criteria: ``RECIST 1.1`` or ``iRECIST``; rows of other
  criteria are left out.
* ``RSEVAL`` (``INVESTIGATOR``, ``INDEPENDENT ASSESSOR``…) and ``RSEVALID`` (``RADIOLOGIST 1``)
  say who read; a table with several evaluators needs one chosen. Among several independent
  readers, the read accepted by adjudication (``RSACPTFL = Y``) is used.
* The value is ``RSSTRESC`` (else ``RSORRES``); ``RSSTAT = NOT DONE`` makes the assessment not
  done (ND), whatever the result column says.
* ``RSDTC`` is the assessment date. A date without its day (``2014-02``) is imputed to the last
  day of the month, as pharmaverse/admiralonco's ADRS template does
  (``derive_vars_dt(highest_imputation = "D", date_imputation = "last")``), with a note; a date
  without its month is refused.
* The start of treatment (the reference of the minimum SD duration) comes from DM (``RFSTDTC``,
  or another reference variable) or, failing that, from the study day: ``RSDTC - (RSDY - 1)``
  (SDTMIG 4.4.4: day 1 is the reference start, there is no day 0).
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist.timepoints import (
    IRECIST,
    NOT_DONE,
    RECIST,
    TimepointRow,
    group_timepoints,
)

#: RSCAT of each criteria (CDISC controlled terminology, codelist "Category of Response").
RSCAT = {RECIST: "RECIST 1.1", IRECIST: "IRECIST"}
_USED = {"OVRLRESP": "overall", "TRGRESP": "target", "NTRGRESP": "non_target"}
_NEW_LESION = "NEWLPROG"
_NEW_LESION_VALUES = {"UNEQUIVOCAL": "Y", "EQUIVOCAL": "N", "Y": "Y", "N": "N"}
_REQUIRED = ("USUBJID", "RSTESTCD", "RSDTC")
_FULL_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(T.*)?$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class RsTable:
    """The RS rows chosen for one evaluator, as time-point rows grouped by subject."""

    patients: dict[str, tuple[dt.date, list[TimepointRow]]]
    evaluator: str
    notes: tuple[str, ...]


def _fail(source: str, line: int, column: str, message: str) -> ValidationError:
    return ValidationError(
        f"{source}, line {line}, field {column}: {message}", code="invalid_timepoints"
    )


def _cell(record: Mapping[str, str | None], column: str) -> str:
    value = (record.get(column) or "").strip()
    return "" if value.upper() == "NA" else value


def rs_date(raw: str, source: str, line: int, column: str = "RSDTC") -> tuple[dt.date, bool]:
    """An ISO 8601 date of SDTM (time part ignored); a missing day is imputed to the month's
    last day (returned flag True). A missing month or a bad date is refused."""
    full = _FULL_DATE.match(raw)
    try:
        if full:
            return dt.date(int(full[1]), int(full[2]), int(full[3])), False
        month = _MONTH.match(raw)
        if month:
            year, mon = int(month[1]), int(month[2])
            return dt.date(year, mon, calendar.monthrange(year, mon)[1]), True
    except ValueError:
        pass
    raise _fail(
        source,
        line,
        column,
        f"{raw!r} is not an ISO 8601 date with at least year and month (YYYY-MM-DD, or YYYY-MM "
        "imputed to the last day)",
    )


def read_start_dates(path: str | Path, *, variable: str = "RFSTDTC") -> dict[str, dt.date]:
    """Each subject's start of treatment from an SDTM DM table (CSV): ``variable`` by USUBJID.
    Subjects without a full date are left out (an RS subject then needs RSDY)."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        names = reader.fieldnames or []
        for column in ("USUBJID", variable):
            if column not in names:
                raise ValidationError(
                    f"{path.name}, line 1: no column {column}; DM gives the start of treatment "
                    f"as {variable} per USUBJID.",
                    code="invalid_timepoints",
                )
        out: dict[str, dt.date] = {}
        for line, record in enumerate(reader, start=2):
            value = _cell(record, variable)
            if _FULL_DATE.match(value):
                out[_cell(record, "USUBJID")] = rs_date(value, path.name, line, variable)[0]
    return out


def read_rs_csv(
    path: str | Path,
    *,
    criteria: str = RECIST,
    evaluator: str | None = None,
    start_dates: Mapping[str, dt.date] | None = None,
) -> RsTable:
    """Read an SDTM RS table (CSV, as exported by SAS or R); all or nothing."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return read_rs(
            csv.DictReader(fh),
            source=path.name,
            criteria=criteria,
            evaluator=evaluator,
            start_dates=start_dates,
        )


def _evaluator_of(record: Mapping[str, str | None]) -> str:
    return _cell(record, "RSEVAL").upper() or "UNSPECIFIED"


def read_rs(
    reader: Iterable[dict[str, str | None]],
    *,
    source: str,
    criteria: str = RECIST,
    evaluator: str | None = None,
    start_dates: Mapping[str, dt.date] | None = None,
) -> RsTable:
    """RS rows (dicts) → time-point rows per subject, for ``group_timepoints``' rules."""
    if criteria not in RSCAT:
        raise ValidationError(
            f"Unknown criteria {criteria!r}; use recist or irecist.", code="invalid_timepoints"
        )
    rows = list(enumerate(reader, start=2))
    if not rows:
        raise ValidationError(f"{source}: no RS rows.", code="invalid_timepoints")
    names = set(rows[0][1])
    missing = [c for c in _REQUIRED if c not in names]
    if "RSSTRESC" not in names and "RSORRES" not in names:
        missing.append("RSSTRESC")
    if missing:
        raise ValidationError(
            f"{source}, line 1: missing column(s) {', '.join(missing)}; an RS table needs "
            "USUBJID, RSTESTCD, RSSTRESC (or RSORRES) and RSDTC.",
            code="invalid_timepoints",
        )
    notes: list[str] = []
    wanted = RSCAT[criteria]
    if "RSCAT" in names:
        cats = {_cell(r, "RSCAT").upper() for _, r in rows}
        rows = [(n, r) for n, r in rows if _cell(r, "RSCAT").upper() == wanted]
        if not rows:
            raise ValidationError(
                f"{source}: no row with RSCAT {wanted!r} (found {', '.join(sorted(cats))}); "
                "choose the criteria that the table holds.",
                code="invalid_timepoints",
            )
    rows = [(n, r) for n, r in rows if _cell(r, "RSTESTCD").upper() in (*_USED, _NEW_LESION)]
    if not rows:
        raise ValidationError(
            f"{source}: no OVRLRESP, TRGRESP, NTRGRESP or NEWLPROG row.", code="invalid_timepoints"
        )
    evaluators = sorted({_evaluator_of(r) for _, r in rows})
    if evaluator is None:
        if len(evaluators) > 1:
            raise ValidationError(
                f"{source} holds the reads of several evaluators ({', '.join(evaluators)}); "
                "choose one with --evaluator (evaluator= in Python): an RSEVAL, or an RSEVALID such as "
                "RADIOLOGIST 1.",
                code="invalid_timepoints",
            )
        chosen = evaluators[0]
        rows_e = rows
    else:
        chosen = evaluator.strip().upper()
        rows_e = [
            (n, r) for n, r in rows if chosen in (_evaluator_of(r), _cell(r, "RSEVALID").upper())
        ]
        if not rows_e:
            raise ValidationError(
                f"{source}: no row of evaluator {evaluator!r}; the table holds "
                f"{', '.join(evaluators)}.",
                code="invalid_timepoints",
            )
    readers = {_cell(r, "RSEVALID").upper() for _, r in rows_e}
    if len(readers) > 1 and "RSACPTFL" in names:
        rows_e = [(n, r) for n, r in rows_e if _cell(r, "RSACPTFL").upper() == "Y"]
        notes.append(
            f"{len(readers)} readers for {chosen}: the read accepted by adjudication "
            "(RSACPTFL = Y) is used"
        )
    # one record per subject and assessment date
    grouped: dict[tuple[str, dt.date], dict[str, str | None]] = {}
    lines: dict[tuple[str, dt.date], int] = {}
    seen: dict[tuple[str, dt.date, str], int] = {}
    days: dict[str, dict[dt.date, int]] = {}
    imputed = 0
    for line, r in rows_e:
        subject = _cell(r, "USUBJID")
        if not subject:
            raise _fail(source, line, "USUBJID", "empty; every row names its subject")
        raw_date = _cell(r, "RSDTC")
        date, was_imputed = rs_date(raw_date, source, line)
        code = _cell(r, "RSTESTCD").upper()
        key = (subject, date)
        if (subject, date, code) in seen:
            raise _fail(
                source,
                line,
                "RSTESTCD",
                f"a second {code} for {subject} on {date} (line {seen[subject, date, code]}); "
                "keep one read per evaluator and assessment",
            )
        seen[subject, date, code] = line
        imputed += was_imputed and code == "OVRLRESP"
        if _cell(r, "RSSTAT").upper() == "NOT DONE":
            value = NOT_DONE
        else:
            value = _cell(r, "RSSTRESC") or _cell(r, "RSORRES")
        record = grouped.setdefault(
            key, {"patient_id": subject, "date": date.isoformat(), "start_date": ""}
        )
        if code == _NEW_LESION:
            mapped = _NEW_LESION_VALUES.get(value.upper())
            if mapped is None and value != NOT_DONE:
                raise _fail(
                    source, line, "RSSTRESC", f"{value!r} is not UNEQUIVOCAL, EQUIVOCAL, Y or N"
                )
            record["new_lesions"] = mapped or ""
        else:
            record[_USED[code]] = value
        if code == "OVRLRESP" or key not in lines:
            lines[key] = line
        study_day = _cell(r, "RSDY")
        if study_day and not was_imputed:
            try:
                days.setdefault(subject, {})[date] = int(float(study_day))
            except ValueError:
                raise _fail(source, line, "RSDY", f"{study_day!r} is not a study day") from None
    if imputed:
        notes.append(
            f"{imputed} assessment date(s) without the day imputed to the last day of the month "
            "(as admiralonco's ADRS template)"
        )
    starts = _starts({s for s, _ in grouped}, start_dates or {}, days, source)
    records: list[tuple[int, dict[str, str | None]]] = []
    for key, record in sorted(grouped.items(), key=lambda kv: lines[kv[0]]):
        record["start_date"] = starts[key[0]].isoformat()
        if criteria == IRECIST:
            # iRECIST: the overall response as recorded (see timepoints._i_row)
            record = {k: v for k, v in record.items() if k not in ("target", "non_target",
                                                                    "new_lesions")}  # fmt: skip
        elif record.get("overall") and not record.get("new_lesions"):
            # without the new-lesion assessment the components cannot be checked
            record = {k: v for k, v in record.items() if k not in ("target", "non_target")}
        records.append((lines[key], record))
    patients = group_timepoints(records, source=source, criteria=criteria)
    return RsTable(patients, chosen, tuple(notes))


def _starts(
    subjects: set[str],
    given: Mapping[str, dt.date],
    days: dict[str, dict[dt.date, int]],
    source: str,
) -> dict[str, dt.date]:
    out: dict[str, dt.date] = {}
    for subject in sorted(subjects):
        if subject in given:
            out[subject] = given[subject]
            continue
        implied = {
            date - dt.timedelta(days=day - 1 if day > 0 else day)
            for date, day in days.get(subject, {}).items()
        }
        if not implied:
            raise ValidationError(
                f"{source}: subject {subject} has no start of treatment: give the DM table "
                "(RFSTDTC) or RSDY on its RS rows.",
                code="invalid_timepoints",
            )
        if len(implied) > 1:
            raise ValidationError(
                f"{source}: the RSDY of subject {subject} imply different starts of treatment "
                f"({', '.join(sorted(d.isoformat() for d in implied))}); give the DM table "
                "(RFSTDTC).",
                code="invalid_timepoints",
            )
        out[subject] = implied.pop()
    return out
