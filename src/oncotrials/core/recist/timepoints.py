"""Best overall response from time-point responses as a reader records them (RECIST 1.1).

A sponsor's or an independent reader's table gives, per patient and assessment date, the target,
non-target and new-lesion assessments and/or the overall time-point response, not measurements.
This module reads such a table (``docs/formats/recist-timepoints.md``), derives the overall
response of a row from its components by RECIST 1.1 Table 1 (target disease) or Table 2
(non-target disease only) when the overall is not given (and checks it when both are), and the
best overall response with and without confirmation by the same rules as the measurement input
(Eisenhauer 2009 section 4.4 and Table 3, made precise as in pharmaverse/admiralonco
``derive_param_confirmed_bor``; see :mod:`oncotrials.core.recist._bor`).

* ``ND`` (not done) records a scheduled assessment that did not take place: it is listed but is
  no assessment, so it neither confirms nor breaks a confirmation (admiralonco counts records
  only). An ``NE`` assessment took place but could not be evaluated.
* A patient without any assessment done has a **missing** best overall response (``MISSING``,
  the last of admiralonco's order CR > PR > SD > NON-CR/NON-PD > PD > NE > MISSING), which is
  not the same as NE.
* Target disease: non-target ``NON-CR/NON-PD`` with target ``PR`` is an overall PR, with target
  ``CR`` an overall PR (Table 1). An *overall* ``NON-CR/NON-PD`` exists only for a patient
  without target disease (Table 2): it is refused for a patient with target disease.
* Assessments after the first PD do not count (section 4.4: best response "until disease
  progression").
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist import _bor
from oncotrials.core.recist.model import RecistOptions

MISSING = "MISSING"
NOT_DONE = "ND"
_RESPONSES = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE")
_CODE = {
    "CR": _bor.CR,
    "PR": _bor.PR,
    "SD": _bor.SD,
    "NON-CR/NON-PD": _bor.NN,
    "PD": _bor.PD,
    "NE": _bor.NE,
}
_NAME = {code: name for name, code in _CODE.items()}
_SPELLINGS = {
    "NON-CR/NON-PD": "NON-CR/NON-PD",
    "NONCR/NONPD": "NON-CR/NON-PD",
    "NON-CR NON-PD": "NON-CR/NON-PD",
    "NON CR/NON PD": "NON-CR/NON-PD",
    "NOT DONE": NOT_DONE,
    "ND": NOT_DONE,
}
_NO_DISEASE = ("", "NA", "N/A", "NONE")
_COLUMNS = (
    "patient_id",
    "date",
    "start_date",
    "target",
    "non_target",
    "new_lesions",
    "overall",
)


@dataclass(frozen=True, slots=True)
class TimepointRow:
    """One assessment of the table, with the overall response it counts as and why."""

    line: int
    date: dt.date
    target: str | None  # None: no target disease
    non_target: str | None  # None: no non-target disease (or not given)
    new_lesions: bool | None
    overall: str  # a response, or ND
    rule: str
    components: bool = False  # target / non-target / new lesions given (not the overall only)


@dataclass(frozen=True, slots=True)
class TimepointBest:
    response: str  # CR, PR, SD, NON-CR/NON-PD, PD, NE or MISSING
    date: dt.date | None
    rule: str
    confirmed_by: dt.date | None = None


@dataclass(frozen=True, slots=True)
class TimepointPatient:
    patient_id: str
    start_date: dt.date
    has_target_disease: bool
    rows: tuple[TimepointRow, ...]
    bor: TimepointBest
    bor_unconfirmed: TimepointBest
    bor_confirmed: TimepointBest
    notes: tuple[str, ...] = field(default=())


def _fail(source: str, line: int, column: str, message: str) -> ValidationError:
    return ValidationError(
        f"{source}, line {line}, field {column}: {message}", code="invalid_timepoints"
    )


def _response(raw: str | None, source: str, line: int, column: str) -> str | None:
    """A response of the table (upper case, spellings unified); None when empty or NA."""
    text = " ".join((raw or "").strip().upper().split())
    if text in _NO_DISEASE:
        return None
    text = _SPELLINGS.get(text, text)
    if text not in (*_RESPONSES, NOT_DONE):
        raise _fail(
            source,
            line,
            column,
            f"{raw!r} is not a response; write one of {', '.join(_RESPONSES)}, ND (not done) "
            "or NA (no such disease)",
        )
    return text


def _yes_no(raw: str | None, source: str, line: int) -> bool | None:
    text = (raw or "").strip().upper()
    if text == "":
        return None
    if text in ("Y", "YES", "TRUE", "1"):
        return True
    if text in ("N", "NO", "FALSE", "0"):
        return False
    raise _fail(source, line, "new_lesions", f"{raw!r} is not Y or N")


def _date(raw: str | None, source: str, line: int, column: str) -> dt.date:
    try:
        return dt.date.fromisoformat((raw or "").strip())
    except ValueError:
        raise _fail(source, line, column, f"{raw!r} is not a date (YYYY-MM-DD)") from None


def overall_from_components(
    target: str | None, non_target: str | None, new_lesions: bool
) -> tuple[str, str]:
    """The overall time-point response of RECIST 1.1 Table 1 (target disease) or Table 2 (no
    target disease), and the row that gives it. ``None`` means no such disease."""
    if new_lesions:
        return "PD", "new lesion → PD (RECIST 1.1 Tables 1 and 2)"
    if target == "PD" or non_target == "PD":
        which = "target" if target == "PD" else "non-target"
        return "PD", f"{which} PD → PD (RECIST 1.1 Tables 1 and 2)"
    if target is None:
        if non_target is None:
            raise ValueError("no target and no non-target disease")
        table = "RECIST 1.1 Table 2 (non-target disease only)"
        if non_target == "CR":
            return "CR", f"non-target CR, no new lesion → CR ({table})"
        if non_target == "NON-CR/NON-PD":
            return "NON-CR/NON-PD", f"non-target NON-CR/NON-PD, no new lesion ({table})"
        if non_target == "NE":
            return "NE", f"non-target not all evaluated → NE ({table})"
        raise ValueError(f"non-target {non_target} is not a non-target response")
    table = "RECIST 1.1 Table 1"
    if target == "CR":
        if non_target in (None, "CR"):
            return "CR", f"target CR, non-target CR or none, no new lesion → CR ({table})"
        if non_target == "NON-CR/NON-PD":
            return "PR", f"target CR, non-target NON-CR/NON-PD → PR ({table})"
        return "PR", f"target CR, non-target not evaluated → PR ({table})"
    if target == "PR":
        return "PR", f"target PR, non-target non-PD or not all evaluated → PR ({table})"
    if target == "SD":
        return "SD", f"target SD, non-target non-PD or not all evaluated → SD ({table})"
    if target == "NE":
        return "NE", f"target not all evaluated, non-target non-PD → NE ({table})"
    raise ValueError(f"target {target} is not a target response")


def _row(
    record: dict[str, str | None], line: int, source: str
) -> tuple[str, dt.date, TimepointRow]:
    pid = (record.get("patient_id") or "").strip()
    if not pid:
        raise _fail(source, line, "patient_id", "empty; every row names its patient")
    date = _date(record.get("date"), source, line, "date")
    start = _date(record.get("start_date"), source, line, "start_date")
    if date < start:
        raise _fail(source, line, "date", f"{date} is before the start of treatment {start}")
    target = _response(record.get("target"), source, line, "target")
    non_target = _response(record.get("non_target"), source, line, "non_target")
    new = _yes_no(record.get("new_lesions"), source, line)
    given = _response(record.get("overall"), source, line, "overall")
    if target == "NON-CR/NON-PD":
        raise _fail(
            source,
            line,
            "target",
            "NON-CR/NON-PD is a non-target or overall response; a target response is CR, PR, "
            "SD, PD or NE (RECIST 1.1 section 4.3.1)",
        )
    if non_target in ("PR", "SD"):
        raise _fail(
            source,
            line,
            "non_target",
            f"{non_target} is not a non-target response; write CR, NON-CR/NON-PD, PD or NE "
            "(RECIST 1.1 section 4.3.2)",
        )
    assessed = [c for c in (target, non_target) if c is not None]
    if given == NOT_DONE or (assessed and all(c == NOT_DONE for c in assessed)):
        if given not in (None, NOT_DONE) or any(c != NOT_DONE for c in assessed) or new:
            raise _fail(source, line, "overall", "a not-done (ND) row has no other response")
        return pid, start, TimepointRow(line, date, None, None, None, NOT_DONE, "not done")
    # one category not done while the other was assessed: that category is not evaluated
    target = "NE" if target == NOT_DONE else target
    non_target = "NE" if non_target == NOT_DONE else non_target
    components = target is not None or non_target is not None or new is not None
    derived: tuple[str, str] | None = None
    if components:
        if new is None:
            raise _fail(source, line, "new_lesions", "empty; write Y or N beside the components")
        if target is None and non_target is None and not new:
            raise _fail(
                source, line, "target", "no target or non-target response; write one, or NA"
            )
        derived = overall_from_components(target, non_target, new)
    if given is None and derived is None:
        raise _fail(
            source,
            line,
            "overall",
            "empty; give the overall response, or target, non_target and new_lesions",
        )
    if given is not None and derived is not None and given != derived[0]:
        raise _fail(
            source,
            line,
            "overall",
            f"{given} disagrees with the components, which give {derived[0]} by {derived[1]}",
        )
    if derived is not None:
        overall, rule = derived
    else:
        assert given is not None
        overall, rule = given, "overall response as recorded"
    row = TimepointRow(line, date, target, non_target, new, overall, rule, derived is not None)
    return pid, start, row


def read_timepoints_csv(path: str | Path) -> dict[str, tuple[dt.date, list[TimepointRow]]]:
    """Read a time-point table (CSV, header row); all or nothing, errors name line and field."""
    path = Path(path)
    source = path.name
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return read_timepoints(csv.DictReader(fh), source=source)


def read_timepoints(
    reader: Iterable[dict[str, str | None]], *, source: str
) -> dict[str, tuple[dt.date, list[TimepointRow]]]:
    """Rows of dicts (a ``csv.DictReader``) grouped by patient, in date order."""
    out: dict[str, tuple[dt.date, list[TimepointRow]]] = {}
    header_checked = False
    for line, record in enumerate(reader, start=2):
        if not header_checked:
            names = set(record)
            missing = [c for c in ("patient_id", "date", "start_date") if c not in names]
            unknown = sorted(str(c) for c in names - set(_COLUMNS) if c is not None)
            if missing or unknown:
                what = (
                    f"missing column(s) {', '.join(missing)}"
                    if missing
                    else f"unknown column(s) {', '.join(unknown)}"
                )
                raise ValidationError(
                    f"{source}, line 1: {what}; the columns are {', '.join(_COLUMNS)}.",
                    code="invalid_timepoints",
                )
            header_checked = True
        if None in record:
            raise _fail(source, line, "row", "more cells than columns")
        if not any((v or "").strip() for v in record.values()):
            continue
        pid, start, row = _row(record, line, source)
        if pid in out:
            first_start, rows = out[pid]
            if start != first_start:
                raise _fail(
                    source,
                    line,
                    "start_date",
                    f"{start} differs from {first_start} given earlier for patient {pid}",
                )
            if any(r.date == row.date for r in rows):
                raise _fail(
                    source, line, "date", f"patient {pid} has two assessments on {row.date}"
                )
            rows.append(row)
        else:
            out[pid] = (start, [row])
    if not out:
        raise ValidationError(f"{source}: no assessment rows.", code="invalid_timepoints")
    for _start, rows in out.values():
        rows.sort(key=lambda r: r.date)
    return out


def _best(best: _bor.Best, dates: list[dt.date]) -> TimepointBest:
    return TimepointBest(
        _NAME[best.code],
        None if best.index is None else dates[best.index],
        best.rule,
        None if best.confirmed_by is None else dates[best.confirmed_by],
    )


def best_overall_response(
    patient_id: str,
    start_date: dt.date,
    rows: list[TimepointRow],
    options: RecistOptions | None = None,
) -> TimepointPatient:
    """Best overall response of one patient's time points, with and without confirmation."""
    options = options or RecistOptions()
    # Target disease: a target response on any row, or an overall PR or SD (Table 2 has
    # neither). Without target disease: an overall NON-CR/NON-PD, or components with no target.
    # Overall responses alone (CR, NE, PD) do not tell: target disease is assumed.
    shown = any(r.target is not None or r.overall in ("PR", "SD") for r in rows)
    notes: list[str] = []
    for r in rows:
        if shown and r.overall == "NON-CR/NON-PD":
            raise ValidationError(
                f"line {r.line}, field overall: patient {patient_id} has target disease (a "
                "target response, or an overall PR or SD, on another row), so NON-CR/NON-PD is "
                "not an overall response (RECIST 1.1 Table 1); give target, non_target and "
                "new_lesions instead.",
                code="invalid_timepoints",
            )
    has_targets = shown or not any(
        r.overall == "NON-CR/NON-PD" or (r.components and r.target is None) for r in rows
    )
    done = [r for r in rows if r.overall != NOT_DONE]
    if len(done) < len(rows):
        notes.append(
            f"{len(rows) - len(done)} assessment(s) not done (ND): not counted, and they "
            "neither confirm nor break a confirmation"
        )
    counted: list[TimepointRow] = []
    for r in done:
        counted.append(r)
        if r.overall == "PD":
            break
    if len(counted) < len(done):
        notes.append(f"{len(done) - len(counted)} assessment(s) after the first PD not counted")
    if not counted:
        missing = TimepointBest(MISSING, None, "no assessment done: best overall response missing")
        return TimepointPatient(
            patient_id, start_date, has_targets, tuple(rows), missing, missing, missing,
            tuple(notes),
        )  # fmt: skip
    dates = [r.date for r in counted]
    codes = [_CODE[r.overall] for r in counted]
    sd_from = start_date + dt.timedelta(days=options.min_sd_days)
    unconfirmed = _bor.best_unconfirmed(
        dates, codes, sd_from=sd_from, min_sd_days=options.min_sd_days
    )
    confirmed = _bor.best_confirmed(
        dates,
        codes,
        sd_from=sd_from,
        min_sd_days=options.min_sd_days,
        min_confirmation_days=options.min_confirmation_days,
        max_ne_between=options.max_ne_between,
        accept_sd_between=options.accept_sd_between,
        has_targets=has_targets,
    )
    bor_u, bor_c = _best(unconfirmed, dates), _best(confirmed, dates)
    return TimepointPatient(
        patient_id,
        start_date,
        has_targets,
        tuple(rows),
        bor_c if options.confirmation else bor_u,
        bor_u,
        bor_c,
        tuple(notes),
    )


def evaluate_timepoints_csv(
    path: str | Path, options: RecistOptions | None = None
) -> list[TimepointPatient]:
    """Every patient of a time-point table, in the order first seen."""
    data = read_timepoints_csv(path)
    out = []
    for pid, (start, rows) in data.items():
        try:
            out.append(best_overall_response(pid, start, rows, options))
        except ValidationError as exc:
            raise ValidationError(f"{Path(path).name}, {exc.message}", code=exc.code) from None
    return out
