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
* Table 3 footnote (a): "if a CR is truly met at first time point, then any disease seen at a
  subsequent time point, even disease meeting PR criteria relative to baseline, makes the disease
  PD at that point". A recorded PR, SD or NON-CR/NON-PD after a CR (before any PD) contradicts
  it: the time point counts as PD, with a warning that names both assessments (if the CR was
  doubtful, the reader corrects it to PR in the source, and the BOR is then a PR).
* iRECIST (Seymour et al., Lancet Oncol 2017;18:e143-e152): the reader records iCR, iPR, iSD,
  NON-iCR/NON-iUPD, iUPD, iCPD or NE. iUPD is confirmed by iCPD at the next assessment, 4-8
  weeks later: an iCPD needs an iUPD before it (since the last reset), a confirming or
  following assessment more than 8 weeks (plus the protocol tolerance) after the iUPD is used
  with a warning, one less than 4 weeks after it with a warning (a scan done that early counts
  only when done for symptoms and showing new lesions: the reader's call). iSD, iPR or iCR
  after iUPD resets the bar. The confirmed iUPD is the progression (its date); an iUPD never
  confirmed is not progression and ranks between NON-iCR/NON-iUPD and iCPD for the best
  response (iBOR), which is the best time-point response as in RECIST 1.1 (Seymour 2017 Table
  3), with the RECIST 1.1 confirmation of iCR/iPR when asked for.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist import _bor
from oncotrials.core.recist.model import IRecistOptions, RecistOptions

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

RECIST = "recist"
IRECIST = "irecist"
CRITERIA = (RECIST, IRECIST)
_I_RESPONSES = ("iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE")
_I_CODE = {
    "iCR": _bor.CR,
    "iPR": _bor.PR,
    "iSD": _bor.SD,
    "NON-iCR/NON-iUPD": _bor.NN,
    "iUPD": _bor.UPD,
    "iCPD": _bor.PD,
    "NE": _bor.NE,
}
_I_NAME = {code: name for name, code in _I_CODE.items()}
_I_SPELLINGS = {
    **{name.upper(): name for name in _I_RESPONSES},
    "NON-ICR NON-IUPD": "NON-iCR/NON-iUPD",
    "NONICR/NONIUPD": "NON-iCR/NON-iUPD",
    "NON ICR/NON IUPD": "NON-iCR/NON-iUPD",
    "NOT DONE": NOT_DONE,
    "ND": NOT_DONE,
}
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
    warnings: tuple[str, ...] = field(default=())
    criteria: str = RECIST
    progression_date: dt.date | None = None  # iRECIST: the iUPD that iCPD confirmed


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


def _i_response(raw: str | None, source: str, line: int, column: str) -> str | None:
    """An iRECIST overall response (spellings unified); None when empty."""
    text = " ".join((raw or "").strip().upper().split())
    if text == "":
        return None
    name = _I_SPELLINGS.get(text)
    if name is None:
        raise _fail(
            source,
            line,
            column,
            f"{raw!r} is not an iRECIST response; write one of {', '.join(_I_RESPONSES)} or ND "
            "(not done)",
        )
    return name


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


def _i_row(record: dict[str, str | None], line: int, source: str) -> TimepointRow:
    """An iRECIST row: the overall response as the reader recorded it. Whether a time point is
    iUPD or iCPD depends on the assessment before it, which the reader has judged: components
    cannot say it, so they are refused rather than silently ignored."""
    for column in ("target", "non_target", "new_lesions"):
        if (record.get(column) or "").strip():
            raise _fail(
                source,
                line,
                column,
                "iRECIST time points are read from the overall response only (iUPD or iCPD "
                "depends on the previous assessment); leave the components empty",
            )
    overall = _i_response(record.get("overall"), source, line, "overall")
    if overall is None:
        raise _fail(source, line, "overall", "empty; give the iRECIST overall response")
    rule = "not done" if overall == NOT_DONE else "iRECIST overall response as recorded"
    return TimepointRow(line, _date(record.get("date"), source, line, "date"), None, None, None,
                        overall, rule)  # fmt: skip


def _row(
    record: dict[str, str | None], line: int, source: str, criteria: str = RECIST
) -> tuple[str, dt.date, TimepointRow]:
    pid = (record.get("patient_id") or "").strip()
    if not pid:
        raise _fail(source, line, "patient_id", "empty; every row names its patient")
    date = _date(record.get("date"), source, line, "date")
    start = _date(record.get("start_date"), source, line, "start_date")
    if date < start:
        raise _fail(source, line, "date", f"{date} is before the start of treatment {start}")
    if criteria == IRECIST:
        return pid, start, _i_row(record, line, source)
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


def read_timepoints_csv(
    path: str | Path, *, criteria: str = RECIST
) -> dict[str, tuple[dt.date, list[TimepointRow]]]:
    """Read a time-point table (CSV, header row); all or nothing, errors name line and field."""
    path = Path(path)
    source = path.name
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return read_timepoints(csv.DictReader(fh), source=source, criteria=criteria)


def read_timepoints(
    reader: Iterable[dict[str, str | None]], *, source: str, criteria: str = RECIST
) -> dict[str, tuple[dt.date, list[TimepointRow]]]:
    """Rows of dicts (a ``csv.DictReader``) grouped by patient, in date order."""
    return group_timepoints(enumerate(reader, start=2), source=source, criteria=criteria)


def group_timepoints(
    records: Iterable[tuple[int, dict[str, str | None]]], *, source: str, criteria: str = RECIST
) -> dict[str, tuple[dt.date, list[TimepointRow]]]:
    """Numbered records (line, dict of the columns) grouped by patient, in date order."""
    if criteria not in CRITERIA:
        raise ValidationError(
            f"Unknown criteria {criteria!r}; use {' or '.join(CRITERIA)}.",
            code="invalid_timepoints",
        )
    out: dict[str, tuple[dt.date, list[TimepointRow]]] = {}
    header_checked = False
    for line, record in records:
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
        pid, start, row = _row(record, line, source, criteria)
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


def _best(
    best: _bor.Best, dates: list[dt.date], names: dict[int, str] | None = None
) -> TimepointBest:
    return TimepointBest(
        (names or _NAME)[best.code],
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
    done, warnings = _after_complete_response(done)
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
            tuple(notes), tuple(warnings),
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
    by_line = {r.line: r for r in done}
    return TimepointPatient(
        patient_id,
        start_date,
        has_targets,
        tuple(by_line.get(r.line, r) for r in rows),
        bor_c if options.confirmation else bor_u,
        bor_u,
        bor_c,
        tuple(notes),
        tuple(warnings),
    )


FOOTNOTE_A = (
    "{resp} recorded on {date} after the CR of {cr}: after a true CR any disease is PD "
    "(RECIST 1.1 Table 3 footnote a), so this time point counts as PD; if the CR was doubtful, "
    "record it as PR in the source"
)


def _after_complete_response(done: list[TimepointRow]) -> tuple[list[TimepointRow], list[str]]:
    """RECIST 1.1 Table 3 footnote (a) applied: disease recorded after a CR (PR, SD or
    NON-CR/NON-PD before any PD) is PD at that time point, with a warning."""
    out: list[TimepointRow] = []
    warnings: list[str] = []
    cr: dt.date | None = None
    for r in done:
        if r.overall == "PD":
            out.append(r)
            cr = None
            continue
        if cr is not None and r.overall in ("PR", "SD", "NON-CR/NON-PD"):
            text = FOOTNOTE_A.format(resp=r.overall, date=r.date.isoformat(), cr=cr.isoformat())
            warnings.append(f"line {r.line}: {text}")
            out.append(
                TimepointRow(
                    r.line, r.date, r.target, r.non_target, r.new_lesions, "PD", text, r.components
                )
            )
            cr = None  # progression from here: later rows are after PD
            continue
        if r.overall == "CR" and cr is None:
            cr = r.date
        out.append(r)
    return out, warnings


def best_overall_response_irecist(
    patient_id: str,
    start_date: dt.date,
    rows: list[TimepointRow],
    options: IRecistOptions | None = None,
) -> TimepointPatient:
    """Best overall iRECIST response (iBOR) of one patient's recorded time points, with and
    without confirmation of iCR/iPR, and the confirmation-window checks of iUPD (Seymour 2017).
    """
    opts = options or IRecistOptions()
    ropts = opts.recist
    early = opts.confirm_min_days - opts.confirm_tolerance_days
    late = opts.confirm_max_days + opts.confirm_tolerance_days
    notes: list[str] = []
    warnings: list[str] = []
    done = [r for r in rows if r.overall != NOT_DONE]
    if len(done) < len(rows):
        notes.append(
            f"{len(rows) - len(done)} assessment(s) not done (ND): not counted, and they "
            "neither confirm nor break a confirmation"
        )
    episode: list[int] = []  # indices (in done) of the pending iUPD episode
    last_iupd: dt.date | None = None
    confirmed_at: int | None = None
    complete: dt.date | None = None
    for i, r in enumerate(done):
        o = r.overall
        if complete is not None and o in ("iPR", "iSD", "NON-iCR/NON-iUPD"):
            warnings.append(
                f"line {r.line}: {o} recorded on {r.date} after the iCR of {complete}: after a "
                "true complete response any disease is progression (RECIST 1.1 Table 3 footnote "
                "a, under iRECIST an iUPD to be confirmed); taken as recorded, check the reading"
            )
        if o == "iCR" and complete is None:
            complete = r.date
        if o in ("iUPD", "iCPD"):
            complete = None
        if episode:
            assert last_iupd is not None
            days = (r.date - last_iupd).days
            if o != "NE" and days > late:
                warnings.append(
                    f"line {r.line}: assessment {days} days after the iUPD of {last_iupd}: "
                    "iRECIST confirms iUPD at the next assessment 4-8 weeks later (more than "
                    f"{late} days here); used as recorded, check the schedule (Seymour 2017)"
                )
            if o != "NE" and days < early:
                warnings.append(
                    f"line {r.line}: {o} {days} days after the iUPD of {last_iupd}: iRECIST "
                    f"disregards a scan less than 4 weeks (< {early} days) after iUPD, unless "
                    "done for new symptoms and showing new lesions (EORTC iRECIST FAQ); taken "
                    "as recorded, check the reading"
                )
            if o == "iCPD":
                confirmed_at = i
                break
            if o == "iUPD":
                episode.append(i)
                last_iupd = r.date
            elif o != "NE":
                notes.append(
                    f"{o} on {r.date} after the iUPD of {done[episode[0]].date}: not confirmed, "
                    "the bar is reset (Seymour 2017)"
                )
                episode = []
        elif o == "iCPD":
            raise ValidationError(
                f"line {r.line}, field overall: iCPD on {r.date} for patient {patient_id} has no "
                "iUPD before it (since the last reset); iRECIST confirms an iUPD at the next "
                "assessment (Seymour 2017): record the first progression as iUPD.",
                code="invalid_timepoints",
            )
        elif o == "iUPD":
            episode = [i]
            last_iupd = r.date
    progression = None
    codes = [_I_CODE[r.overall] for r in done]
    if confirmed_at is not None:
        progression = done[episode[0]].date
        for i in episode:
            codes[i] = _bor.PD  # the confirmed iUPD is the progression, from its own date
    elif episode:
        notes.append(
            f"iUPD of {done[episode[0]].date} never confirmed: not progression (Seymour 2017)"
        )
    n = next((i + 1 for i, c in enumerate(codes) if c == _bor.PD), len(codes))
    if n < len(done):
        notes.append(
            f"{len(done) - n} assessment(s) after the progression (the iUPD that iCPD confirmed) "
            "not counted"
        )
    if n == 0:
        missing = TimepointBest(MISSING, None, "no assessment done: best overall response missing")
        return TimepointPatient(
            patient_id, start_date, True, tuple(rows), missing, missing, missing, tuple(notes),
            tuple(warnings), IRECIST, None,
        )  # fmt: skip
    dates = [r.date for r in done[:n]]
    considered = codes[:n]
    has_targets = not any(r.overall == "NON-iCR/NON-iUPD" for r in done) or any(
        r.overall in ("iPR", "iSD") for r in done
    )
    sd_from = start_date + dt.timedelta(days=ropts.min_sd_days)
    names = dict(_I_NAME)
    unconfirmed = _bor.best_unconfirmed(
        dates, considered, sd_from=sd_from, min_sd_days=ropts.min_sd_days, names=names
    )
    confirmed = _bor.best_confirmed(
        dates,
        considered,
        sd_from=sd_from,
        min_sd_days=ropts.min_sd_days,
        min_confirmation_days=ropts.min_confirmation_days,
        max_ne_between=ropts.max_ne_between,
        accept_sd_between=ropts.accept_sd_between,
        has_targets=has_targets,
        names=names,
    )
    bor_u, bor_c = _best(unconfirmed, dates, names), _best(confirmed, dates, names)
    return TimepointPatient(
        patient_id,
        start_date,
        has_targets,
        tuple(rows),
        bor_c if ropts.confirmation else bor_u,
        bor_u,
        bor_c,
        tuple(notes),
        tuple(warnings),
        IRECIST,
        progression,
    )


def evaluate_timepoints_csv(
    path: str | Path,
    options: RecistOptions | IRecistOptions | None = None,
    *,
    criteria: str = RECIST,
) -> list[TimepointPatient]:
    """Every patient of a time-point table, in the order first seen."""
    data = read_timepoints_csv(path, criteria=criteria)
    return evaluate_grouped(data, options, criteria=criteria, source=Path(path).name)


def evaluate_grouped(
    data: dict[str, tuple[dt.date, list[TimepointRow]]],
    options: RecistOptions | IRecistOptions | None = None,
    *,
    criteria: str = RECIST,
    source: str,
) -> list[TimepointPatient]:
    """Best overall response of every patient of grouped time points (see group_timepoints)."""
    out = []
    for pid, (start, rows) in data.items():
        try:
            if criteria == IRECIST:
                iopts = options if isinstance(options, IRecistOptions) else None
                if isinstance(options, RecistOptions):
                    iopts = IRecistOptions(recist=options)
                out.append(best_overall_response_irecist(pid, start, rows, iopts))
            else:
                ropts = options.recist if isinstance(options, IRecistOptions) else options
                out.append(best_overall_response(pid, start, rows, ropts))
        except ValidationError as exc:
            raise ValidationError(f"{source}, {exc.message}", code=exc.code) from None
    return out
