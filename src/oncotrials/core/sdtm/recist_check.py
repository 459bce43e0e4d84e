"""Recompute RECIST 1.1 from third-party SDTM TU/TR and compare it with the evaluator's RS.

Reading (one evaluator at a time, ``TUEVAL``/``TREVAL``/``RSEVAL`` and optionally ``--EVALID``):

- TU ``TUTESTCD = TUMIDENT`` gives the lesions: ``TUORRES`` TARGET / NON-TARGET at baseline, NEW
  later; ``TULNKID`` is the lesion, which TR's ``TRLNKID`` names.
- TR: a target lesion's size is ``LDIAM``; a lymph node's is its short axis, ``SAXIS`` (or, as in
  the pharmaverse data, ``LPERP`` for a lesion located in a LYMPH NODE). ``TUMSTATE`` gives the
  state of non-target and new lesions. A target with no size at a visit is not evaluated.
- Visits: the baseline is the visit of the TU identification; every later TR visit is an
  assessment, dated by ``TRDTC``. A partial date (``2014-02``) is read as the first day of its
  month, and said so.
- ``DM.RFSTDTC`` starts treatment (for the minimum duration of stable disease); without DM, the
  baseline date.

Each time point is compared with the evaluator's ``OVRLRESP`` at the same visit; a disagreement is
explained with the recomputed sums and the RECIST rule that decided.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist import (
    Assessment,
    Baseline,
    BaselineLesion,
    LesionObservation,
    LesionRole,
    LesionStatus,
    NewLesion,
    PatientRecord,
    RecistOptions,
    evaluate_recist,
)
from oncotrials.core.recist.model import TimepointResult

STATES = {
    "ABSENT": LesionStatus.ABSENT,
    "PRESENT": LesionStatus.PRESENT,
    "UNEQUIVOCAL PROGRESSION": LesionStatus.UNEQUIVOCAL_PROGRESSION,
    "NOT EVALUATED": LesionStatus.NOT_EVALUATED,
    "NOT DONE": LesionStatus.NOT_EVALUATED,
}


@dataclass(frozen=True, slots=True)
class Imported:
    record: PatientRecord
    visits: dict[dt.date, str]  # assessment date -> VISIT
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Agreement:
    subject: str
    visit: str
    date: dt.date | None
    reported: str
    recomputed: str
    explanation: str = ""

    @property
    def agrees(self) -> bool:
        return self.reported == self.recomputed


@dataclass(frozen=True, slots=True)
class AgreementReport:
    rows: tuple[Agreement, ...]
    not_evaluable: dict[str, str]  # subject -> why the data could not be evaluated
    notes: tuple[str, ...]

    @property
    def agreed(self) -> int:
        return sum(r.agrees for r in self.rows)

    def crosstab(self) -> dict[tuple[str, str], int]:
        return dict(Counter((r.reported, r.recomputed) for r in self.rows))


def _date(text: str, where: str, notes: list[str]) -> dt.date:
    value = (text or "").strip()[:10]
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        if len(value) == 7:
            notes.append(f"{where}: partial date {value} read as {value}-01.")
            return dt.date.fromisoformat(value + "-01")
        if len(value) == 4:
            notes.append(f"{where}: partial date {value} read as {value}-01-01.")
            return dt.date(int(value), 1, 1)
    except ValueError:
        pass
    raise ValidationError(
        f"{where}: date {text!r} is not an ISO 8601 date.",
        code="sdtm_date_iso_date",
        where=str(where),
        text=repr(text),
    )


def _mm(row: dict[str, Any], where: str) -> Decimal | None:
    value = row.get("TRSTRESN")
    if value in (None, ""):
        value = row.get("TRSTRESC") or row.get("TRORRES")
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValidationError(
            f"{where}: size {value!r} is not a number.",
            code="sdtm_size_number",
            where=str(where),
            value=repr(value),
        ) from exc


def _mine(row: dict[str, Any], prefix: str, evaluator: str, evaluator_id: str) -> bool:
    if str(row.get(f"{prefix}EVAL", "")).upper() != evaluator.upper():
        return False
    return not evaluator_id or str(row.get(f"{prefix}EVALID", "")).upper() == evaluator_id.upper()


def _size(rows: list[dict[str, Any]], lesion: str, nodal: bool, where: str) -> Decimal | None:
    """A target lesion's size at a visit: LDIAM, or a lymph node's short axis (SAXIS, or LPERP
    as the pharmaverse data record it)."""
    tests = ("SAXIS", "LPERP") if nodal else ("LDIAM",)
    for test in tests:
        for r in rows:
            if r.get("TRLNKID") == lesion and r.get("TRTESTCD") == test:
                return _mm(r, where)
    return None


def _state(rows: list[dict[str, Any]], lesion: str) -> LesionStatus | None:
    for r in rows:
        if r.get("TRLNKID") == lesion and r.get("TRTESTCD") == "TUMSTATE":
            text = str(r.get("TRSTRESC") or r.get("TRORRES") or "").upper()
            return STATES.get(text, LesionStatus.NOT_EVALUATED)
    return None


def _equivocal(rows: list[dict[str, Any]], lesion: str) -> bool:
    """A new lesion recorded as EQUIVOCAL does not count yet (RECIST 1.1 section 4.3.2)."""
    return any(
        r.get("TRLNKID") == lesion
        and r.get("TRTESTCD") == "TUMSTATE"
        and str(r.get("TRSTRESC") or r.get("TRORRES") or "").upper() == "EQUIVOCAL"
        for r in rows
    )


def import_tumours(
    tu: Iterable[dict[str, Any]],
    tr: Iterable[dict[str, Any]],
    dm: Iterable[dict[str, Any]] = (),
    *,
    evaluator: str = "INVESTIGATOR",
    evaluator_id: str = "",
) -> dict[str, Imported]:
    """RECIST records per USUBJID from SDTM TU and TR rows (dicts of variable -> value)."""
    starts = {str(r["USUBJID"]): r.get("RFSTDTC") or r.get("RFXSTDTC") or "" for r in dm}
    lesions: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for n, row in enumerate(tu, start=1):
        if row.get("TUTESTCD") != "TUMIDENT" or not _mine(row, "TU", evaluator, evaluator_id):
            continue
        for col in ("USUBJID", "TULNKID", "TUORRES"):
            if not row.get(col):
                raise ValidationError(
                    f"TU record {n}: {col} is empty.",
                    code="sdtm_tu_record_empty",
                    n=str(n),
                    col=str(col),
                )
        lesions[str(row["USUBJID"])][str(row["TULNKID"])] = row
    by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in tr:
        if _mine(row, "TR", evaluator, evaluator_id):
            by_subject[str(row.get("USUBJID", ""))].append(row)
    out: dict[str, Imported] = {}
    for subject in sorted(lesions):
        notes: list[str] = []
        ids = lesions[subject]
        nodal = {k: "LYMPH NODE" in str(r.get("TULOC", "")).upper() for k, r in ids.items()}
        visits: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in by_subject.get(subject, []):
            visits[str(row.get("VISIT") or row.get("TRDTC"))].append(row)
        dated = []
        for visit, rows in visits.items():
            on = _date(str(rows[0].get("TRDTC", "")), f"{subject} {visit}", notes)
            dated.append((on, visit, rows))
        dated.sort(key=lambda x: (x[0], x[1]))
        base_visits = {str(r.get("VISIT", "")) for r in ids.values() if r["TUORRES"] != "NEW"}
        base = next((d for d in dated if d[1] in base_visits), dated[0] if dated else None)
        if base is None:
            raise ValidationError(
                f"{subject}: lesions in TU but no TR measurement.",
                code="sdtm_lesions_tu_but_tr",
                subject=str(subject),
            )

        baseline = []
        for lid, row in sorted(ids.items()):
            kind = str(row["TUORRES"]).upper()
            if kind == "NEW":
                continue
            role = LesionRole.TARGET if kind == "TARGET" else LesionRole.NON_TARGET
            diameter = (
                _size(base[2], lid, nodal[lid], f"{subject} {base[1]} {lid}")
                if role == "target"
                else None
            )
            baseline.append(
                BaselineLesion(
                    lid, str(row.get("TULOC", "")).lower(), diameter, nodal=nodal[lid], role=role
                )
            )
        assessments = []
        visit_names: dict[dt.date, str] = {}
        for on, visit, rows in dated:
            if on <= base[0]:
                continue
            obs = []
            for lesion in baseline:
                where = f"{subject} {visit} {lesion.lesion_id}"
                if lesion.role == LesionRole.TARGET:
                    value = _size(rows, lesion.lesion_id, lesion.nodal, where)
                    obs.append(
                        LesionObservation(lesion.lesion_id, value)
                        if value is not None
                        else LesionObservation(lesion.lesion_id, status=LesionStatus.NOT_EVALUATED)
                    )
                else:
                    st = _state(rows, lesion.lesion_id)
                    obs.append(
                        LesionObservation(lesion.lesion_id, status=st or LesionStatus.NOT_EVALUATED)
                    )
            new = []
            for lid, row in ids.items():
                if str(row["TUORRES"]).upper() == "NEW":
                    st = _state(rows, lid)
                    if (st is not None and st != LesionStatus.ABSENT) or str(
                        row.get("VISIT")
                    ) == visit:
                        new.append(
                            NewLesion(
                                lid,
                                str(row.get("TULOC", "")).lower(),
                                equivocal=_equivocal(rows, lid),
                            )
                        )
            assessments.append(Assessment(on, tuple(obs), tuple(new)))
            visit_names[on] = visit
        start_text = starts.get(subject, "")
        start = _date(start_text, f"{subject} RFSTDTC", notes) if start_text else base[0]
        record = PatientRecord(
            subject, start, Baseline(base[0], tuple(baseline)), tuple(assessments)
        )
        out[subject] = Imported(record, visit_names, tuple(notes))
    return out


def _explain(tp: TimepointResult, reported: str) -> str:
    parts = [f"recomputed {tp.overall.value} ({tp.rule})"]
    if tp.sum_mm is not None:
        text = f"sum of diameters {tp.sum_mm} mm"
        if tp.baseline_sum_mm is not None:
            text += f", {tp.change_from_baseline_pct} % from baseline {tp.baseline_sum_mm} mm"
        if tp.nadir_mm:
            text += f", {tp.change_from_nadir_pct} % from nadir {tp.nadir_mm} mm"
        elif tp.nadir_mm is not None:
            text += ", up from a nadir of 0 mm (disease reappeared after complete response)"
        parts.append(text)
    else:
        parts.append("not every target lesion measured")
    target = tp.target.value if tp.target else "none"
    non_target = tp.non_target.value if tp.non_target else "none"
    parts.append(
        f"target {target}, non-target {non_target}, new lesion {'yes' if tp.new_lesions else 'no'}"
    )
    hint = {
        "PD": "PD needs the sum up by 20 % and 5 mm from the nadir, unequivocal non-target "
        "progression or a new lesion",
        "PR": "PR needs the sum 30 % below baseline",
        "CR": "CR needs every non-nodal target gone and every node under 10 mm",
    }.get(reported)
    if hint:
        parts.append(f"the reported {reported}: {hint}")
    return "; ".join(parts) + "."


def recist_agreement(
    tu: Sequence[dict[str, Any]],
    tr: Sequence[dict[str, Any]],
    rs: Sequence[dict[str, Any]],
    dm: Sequence[dict[str, Any]] = (),
    *,
    evaluator: str = "INVESTIGATOR",
    evaluator_id: str = "",
    options: RecistOptions | None = None,
) -> AgreementReport:
    """RECIST 1.1 recomputed from TU/TR beside the evaluator's overall responses in RS."""
    imported = import_tumours(tu, tr, dm, evaluator=evaluator, evaluator_id=evaluator_id)
    reported: dict[tuple[str, str], tuple[str, str]] = {}
    for row in rs:
        if row.get("RSTESTCD") == "OVRLRESP" and _mine(row, "RS", evaluator, evaluator_id):
            key = (str(row["USUBJID"]), str(row.get("VISIT", "")))
            reported[key] = (
                str(row.get("RSSTRESC") or row.get("RSORRES") or ""),
                str(row.get("RSDTC", "")),
            )
    rows: list[Agreement] = []
    not_evaluable: dict[str, str] = {}
    notes: list[str] = []
    for subject, imp in imported.items():
        notes.extend(imp.notes)
        try:
            result = evaluate_recist(imp.record, options or RecistOptions())
        except ValidationError as exc:
            not_evaluable[subject] = exc.message
            continue
        for tp in result.timepoints:
            visit = imp.visits[tp.date]
            said, _when = reported.pop((subject, visit), ("", ""))
            if not said:
                notes.append(f"{subject} {visit}: no {evaluator} OVRLRESP in RS.")
                continue
            computed = tp.overall.value
            rows.append(
                Agreement(
                    subject,
                    visit,
                    tp.date,
                    said,
                    computed,
                    "" if said == computed else _explain(tp, said),
                )
            )
    for (subject, visit), (said, _when) in sorted(reported.items()):
        if subject not in not_evaluable:
            rows.append(
                Agreement(
                    subject,
                    visit,
                    None,
                    said,
                    "",
                    "no TR measurements at this visit to recompute from.",
                )
            )
    return AgreementReport(tuple(rows), not_evaluable, tuple(notes))
