"""RECIST 1.1 evaluation of one patient: time-point responses and best overall response.

References
----------
Eisenhauer EA et al. New response evaluation criteria in solid tumours: revised RECIST guideline
(version 1.1). Eur J Cancer 2009;45:228-247. Section 4.3 (response criteria), Table 1 (target
disease), Table 2 (non-target disease only), Table 3 and section 4.4 (confirmation).
EORTC RECIST FAQ: "Managing PR when TP measurements change slightly over time" (continuing PR);
"Does a new lesion always result in PD?" (reappearance after CR).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist import _bor
from oncotrials.core.recist.baseline import (
    _UNITS,
    _UnitError,
    select_targets,
    to_units,
    units_to_mm,
)
from oncotrials.core.recist.model import (
    UNITS_PER_MM,
    BestOverallResponse,
    IResponse,
    LesionStatus,
    Millimetres,
    NewLesion,
    PatientRecord,
    RecistOptions,
    RecistResult,
    Response,
    TimepointResult,
)

_MM5 = 5 * UNITS_PER_MM
_MM10 = 10 * UNITS_PER_MM

_ABSENT = LesionStatus.ABSENT
_PRESENT = LesionStatus.PRESENT
_TOO_SMALL = LesionStatus.TOO_SMALL
_INCREASED = LesionStatus.INCREASED
_UNEQUIVOCAL = LesionStatus.UNEQUIVOCAL_PROGRESSION
_NOT_EVALUATED = LesionStatus.NOT_EVALUATED

_CODE = {
    Response.CR: _bor.CR,
    Response.PR: _bor.PR,
    Response.SD: _bor.SD,
    Response.NON_CR_NON_PD: _bor.NN,
    Response.PD: _bor.PD,
    Response.NE: _bor.NE,
}
_RESPONSE = {code: response for response, code in _CODE.items()}

# Rows of RECIST 1.1 Table 1 (target disease, with or without non-target disease).
T1_CR = "RECIST 1.1 Table 1 row 1: target CR, non-target CR (or none), no new lesion → CR"
T1_CR_NN = "RECIST 1.1 Table 1 row 2: target CR, non-target non-CR/non-PD, no new lesion → PR"
T1_CR_NE = "RECIST 1.1 Table 1 row 3: target CR, non-target not evaluated, no new lesion → PR"
T1_PR = "RECIST 1.1 Table 1 row 4: target PR, non-target non-PD or not all evaluated → PR"
T1_SD = "RECIST 1.1 Table 1 row 5: target SD, non-target non-PD or not all evaluated → SD"
T1_NE = "RECIST 1.1 Table 1 row 6: target not all evaluated, non-target non-PD → NE"
T1_T_PD = "RECIST 1.1 Table 1 row 7: target PD → PD"
T1_NT_PD = "RECIST 1.1 Table 1 row 8: non-target PD → PD"
T1_NEW = "RECIST 1.1 Table 1 row 9: new lesion → PD"
# Rows of RECIST 1.1 Table 2 (non-target disease only).
T2_CR = "RECIST 1.1 Table 2 row 1: non-target CR, no new lesion → CR"
T2_NN = "RECIST 1.1 Table 2 row 2: non-target non-CR/non-PD, no new lesion → NON-CR/NON-PD"
T2_NE = "RECIST 1.1 Table 2 row 3: non-target not all evaluated, no new lesion → NE"
T2_PD = "RECIST 1.1 Table 2 row 4: unequivocal non-target PD → PD"
T2_NEW = "RECIST 1.1 Table 2 row 5: new lesion → PD"

TR_PD = "target: sum ≥ 20 % and ≥ 5 mm above nadir → PD (RECIST 1.1 4.3.1)"
TR_PD_PARTIAL = (
    "target: not all evaluated, but the evaluated lesions alone are ≥ 20 % and ≥ 5 mm above "
    "nadir → PD (RECIST 1.1 4.3.1)"
)
TR_NE = "target: not all target lesions evaluated → NE (RECIST 1.1 4.3.1)"
TR_REAPPEAR = "target: a lesion reappeared after CR of all baseline disease → PD (EORTC FAQ)"
TR_CR = "target: all non-nodal targets gone and every nodal target < 10 mm → CR (RECIST 1.1 4.3.1)"
#: A treatment start this many days before the baseline scan is refused (dates swapped or a
#: wrong year): a scan taken weeks into treatment is not a baseline.
MAX_START_BEFORE_BASELINE_DAYS = 28

TR_PR = "target: sum ≥ 30 % below baseline → PR (RECIST 1.1 4.3.1)"
TR_CONT_PR = (
    "target: < 30 % below baseline but PD not met after a previous PR/CR → PR "
    "(continuing PR, EORTC FAQ; option continuing_pr)"
)
TR_SD = "target: neither PR (vs baseline) nor PD (vs nadir) → SD (RECIST 1.1 4.3.1)"
NT_PD = "non-target: unequivocal progression → PD (RECIST 1.1 4.3.2)"
NT_REAPPEAR = "non-target: a lesion reappeared after CR of all baseline disease → PD (EORTC FAQ)"
NT_NE = "non-target: not all non-target lesions evaluated → NE"
NT_CR = "non-target: all gone, nodes < 10 mm, tumour markers normal → CR (RECIST 1.1 4.3.2)"
NT_NN = "non-target: persistence of a lesion or of a raised tumour marker → NON-CR/NON-PD"


@dataclass(slots=True)
class _NewObs:
    lesion_id: str
    organ: str
    nodal: bool
    units: int | None
    status: LesionStatus
    counted: bool


@dataclass(slots=True)
class _Visit:
    index: int
    date: dt.date
    target_units: list[int | None]
    target_sum: int | None
    partial_sum: int
    nt_status: list[LesionStatus]
    nt_normal: list[bool]
    new: list[_NewObs]
    markers_normal: bool | None
    symptoms: bool


@dataclass(slots=True)
class _Prepared:
    patient_id: str
    start_date: dt.date
    new_therapy_date: dt.date | None
    target_ids: tuple[str, ...]
    target_nodal: tuple[bool, ...]
    non_target_ids: tuple[str, ...]
    base_sum: int
    visits: list[_Visit]
    notes: tuple[str, ...]


def prepare(record: PatientRecord) -> _Prepared:
    """Check a record and turn its diameters into exact integers; errors name record and field."""
    pid = record.patient_id
    if not pid:
        raise ValidationError("A patient record has an empty patient_id; give every record one.")
    selection = select_targets(record.baseline.lesions, patient_id=pid)
    targets = selection.targets
    target_ids = tuple(lesion.lesion_id for lesion in targets)
    target_nodal = tuple(lesion.nodal for lesion in targets)
    nt_ids = tuple(lesion.lesion_id for lesion in selection.non_targets)
    nt_nodal = tuple(lesion.nodal for lesion in selection.non_targets)
    base_sum = 0
    for lesion in targets:
        base_sum += to_units(lesion.diameter_mm)  # type: ignore[arg-type]  # checked measurable
    t_index = {lesion_id: i for i, lesion_id in enumerate(target_ids)}
    nt_index = {lesion_id: i for i, lesion_id in enumerate(nt_ids)}
    n_t = len(target_ids)
    n_nt = len(nt_ids)
    base_date = record.baseline.date
    unit_cache = _UNITS
    visits: list[_Visit] = []
    seen_dates: set[dt.date] = set()
    for a_index, assessment in enumerate(record.assessments):
        date = assessment.date
        where = _Where(pid, a_index, date)  # formatted only for an error message
        if date <= base_date:
            raise ValidationError(
                f"{where}, field date: on or before the baseline date {base_date.isoformat()}; "
                "follow-up measurements must come after baseline. Check the dates."
            )
        if date in seen_dates:
            raise ValidationError(
                f"{where}, field date: two assessments share this date; merge them into one."
            )
        seen_dates.add(date)
        # -1 marks a lesion not yet seen in this assessment; None one not evaluated
        t_units: list[int | None] = [-1] * n_t
        nt_status: list[LesionStatus | None] = [None] * n_nt
        nt_normal = [False] * n_nt
        for obs in assessment.lesions:
            lesion_id = obs.lesion_id
            status = obs.status
            ti = t_index.get(lesion_id)
            if ti is not None:
                if t_units[ti] != -1:
                    raise _duplicate(where, lesion_id)
                value = obs.diameter_mm
                if value is not None:
                    try:
                        units = (
                            unit_cache[value] if value.__class__ is not bool else to_units(value)
                        )
                    except (KeyError, TypeError):
                        units = _checked_units(value, where, lesion_id)
                    if status is None or status is _PRESENT:
                        t_units[ti] = units
                    elif status is _ABSENT and units == 0:
                        t_units[ti] = 0
                    else:
                        raise ValidationError(
                            f"{where}, lesion {lesion_id}: diameter_mm {value} and status "
                            f"{status.value} disagree; give the measurement, or the status alone.",
                            code="recist_diameter_and_status",
                            date=date.isoformat(),
                            lesion_id=lesion_id,
                            diameter_mm=str(value),
                            status=status.value,
                            field="status",
                        )
                elif status is _ABSENT:
                    t_units[ti] = 0
                elif status is _TOO_SMALL:
                    t_units[ti] = _MM5  # EORTC: present but too small to measure → 5 mm
                elif status is _NOT_EVALUATED:
                    t_units[ti] = None
                elif status is None:
                    raise ValidationError(
                        f"{where}, target lesion {lesion_id}: neither diameter_mm nor status; "
                        "record the diameter or a status (absent, too_small, not_evaluated)."
                    )
                else:
                    raise ValidationError(
                        f"{where}, target lesion {lesion_id}, field status: {status.value} "
                        "applies to non-target and new lesions; a target takes diameter_mm or "
                        "one of absent, too_small, not_evaluated."
                    )
                continue
            ni = nt_index.get(lesion_id)
            if ni is None:
                raise ValidationError(
                    f"{where}, lesion {lesion_id}, field lesion_id: not a baseline lesion; "
                    "record lesions that appeared after baseline under new_lesions."
                )
            if nt_status[ni] is not None:
                raise _duplicate(where, lesion_id)
            if status is None:
                raise ValidationError(
                    f"{where}, non-target lesion {lesion_id}, field status: missing; record "
                    "absent, present, increased, unequivocal_progression or not_evaluated."
                )
            normal = status is _ABSENT
            if obs.diameter_mm is not None:
                units = _checked_units(obs.diameter_mm, where, lesion_id)
                if nt_nodal[ni] and units < _MM10 and status is not _UNEQUIVOCAL:
                    normal = True  # a node under 10 mm short axis is no longer pathological
            nt_status[ni] = _PRESENT if status is _TOO_SMALL else status
            nt_normal[ni] = normal
        if -1 in t_units:
            missing = target_ids[t_units.index(-1)]
            raise ValidationError(
                f"{where}, target lesion {missing}: missing from this assessment; record its "
                "diameter_mm or a status (absent, too_small, not_evaluated)."
            )
        if None in nt_status:
            missing = nt_ids[nt_status.index(None)]
            raise ValidationError(
                f"{where}, non-target lesion {missing}: missing from this assessment; record "
                "its status (absent, present, increased, unequivocal_progression, not_evaluated)."
            )
        new = _new_lesions(assessment.new_lesions, where, t_index, nt_index)
        if n_t and None in t_units:
            target_sum = None
            partial = sum(u for u in t_units if u is not None)
        else:
            target_sum = partial = sum(t_units)  # type: ignore[arg-type]
        visits.append(
            _Visit(
                a_index,
                date,
                t_units,
                target_sum,
                partial,
                nt_status,  # type: ignore[arg-type]  # every entry was set above
                nt_normal,
                new,
                assessment.tumour_markers_normal,
                assessment.clinical_symptoms,
            )
        )
    visits.sort(key=lambda visit: visit.date)
    if record.start_date < base_date - dt.timedelta(days=MAX_START_BEFORE_BASELINE_DAYS):
        raise ValidationError(
            f"Patient {pid}, field start_date: {record.start_date.isoformat()} is "
            f"{(base_date - record.start_date).days} days before the baseline scan "
            f"({base_date.isoformat()}); the baseline assessment precedes treatment (RECIST 1.1 "
            f"section 3.2: as close as possible to, and never more than 4 weeks before, the "
            f"start of treatment), so this is not a baseline. Check the dates.",
            code="recist_baseline_after_start",
            start_date=record.start_date.isoformat(),
            baseline_date=base_date.isoformat(),
            days=(base_date - record.start_date).days,
            field="date",
        )
    if record.start_date > base_date + dt.timedelta(days=366):
        raise ValidationError(
            f"Patient {pid}, field start_date: {record.start_date.isoformat()} is more than a "
            f"year after the baseline scan ({base_date.isoformat()}); check the dates."
        )
    return _Prepared(
        pid,
        record.start_date,
        record.new_therapy_date,
        target_ids,
        target_nodal,
        nt_ids,
        base_sum,
        visits,
        selection.notes,
    )


class _Where:
    """Where a follow-up record is, formatted only when an error needs it."""

    __slots__ = ("date", "index", "pid")

    def __init__(self, pid: str, index: int, date: dt.date) -> None:
        self.pid, self.index, self.date = pid, index, date

    def __str__(self) -> str:
        return f"Patient {self.pid}, assessment {self.index + 1} ({self.date.isoformat()})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _checked_units(value: Millimetres, where: _Where, lesion_id: str) -> int:
    try:
        return to_units(value)
    except _UnitError as exc:
        raise ValidationError(f"{where}, lesion {lesion_id}, field diameter_mm: {exc}.") from None


def _duplicate(where: _Where, lesion_id: str) -> ValidationError:
    return ValidationError(
        f"{where}, lesion {lesion_id}, field lesion_id: recorded twice in this assessment; "
        "keep one observation per lesion."
    )


def _new_lesions(
    lesions: tuple[NewLesion, ...], where: _Where, t_index: dict[str, int], nt_index: dict[str, int]
) -> list[_NewObs]:
    out: list[_NewObs] = []
    if not lesions:
        return out
    ids: set[str] = set()
    for lesion in lesions:
        lesion_id: str = lesion.lesion_id
        if lesion_id in t_index or lesion_id in nt_index:
            raise ValidationError(
                f"{where}, new lesion {lesion_id}, field lesion_id: the id of a baseline lesion; "
                "give new lesions ids of their own."
            )
        if lesion_id in ids:
            raise _duplicate(where, lesion_id)
        ids.add(lesion_id)
        value = lesion.diameter_mm
        units: int | None = None
        if value is not None:
            try:
                units = to_units(value)
            except _UnitError as exc:
                raise ValidationError(
                    f"{where}, new lesion {lesion_id}, field diameter_mm: {exc}."
                ) from None
        nodal: bool = lesion.nodal
        status: LesionStatus = lesion.status
        if status is _TOO_SMALL:
            status = _PRESENT
        if nodal and units is None and status is not _ABSENT and status is not _NOT_EVALUATED:
            raise ValidationError(
                f"{where}, new lesion {lesion_id}, field diameter_mm: a new lymph node counts "
                "only with a short axis ≥ 10 mm; record its short axis."
            )
        counted = (
            status is not _ABSENT
            and status is not _NOT_EVALUATED
            and not lesion.equivocal
            and not (nodal and units is not None and units < _MM10)
        )
        organ: str = lesion.organ
        out.append(_NewObs(lesion_id, organ.strip().lower(), nodal, units, status, counted))
    return out


def recist_timepoints(p: _Prepared, options: RecistOptions) -> list[TimepointResult]:
    """RECIST 1.1 response at every assessment, in date order."""
    has_targets = bool(p.target_ids)
    has_nt = bool(p.non_target_ids)
    base = p.base_sum
    nadir = base
    nodal = p.target_nodal
    continuing = options.continuing_pr
    reappear_rule = options.reappearance_after_cr_is_pd
    ever_response = False
    prev_cr = False
    prev_units: list[int | None] | None = None
    prev_nt_normal: list[bool] | None = None
    out: list[TimepointResult] = []
    base_mm = units_to_mm(base) if has_targets else None
    for visit in p.visits:
        target: Response | None = None
        t_rule: str | None = None
        if has_targets:
            s = visit.target_sum
            if s is None:
                increase = visit.partial_sum - nadir
                if increase >= _MM5 and increase * 5 >= nadir:
                    target, t_rule = Response.PD, TR_PD_PARTIAL
                else:
                    target, t_rule = Response.NE, TR_NE
            else:
                increase = s - nadir
                units = visit.target_units
                if increase >= _MM5 and increase * 5 >= nadir:  # +20 %: 100·Δ ≥ 20·nadir
                    target, t_rule = Response.PD, TR_PD
                elif (
                    reappear_rule
                    and prev_cr
                    and prev_units is not None
                    and _reappeared(units, prev_units, nodal)
                ):
                    target, t_rule = Response.PD, TR_REAPPEAR
                elif _all_gone(units, nodal):
                    target, t_rule = Response.CR, TR_CR
                elif (base - s) * 10 >= 3 * base:  # -30 %: 100·(base-s) ≥ 30·base
                    target, t_rule = Response.PR, TR_PR
                elif continuing and ever_response:
                    target, t_rule = Response.PR, TR_CONT_PR
                else:
                    target, t_rule = Response.SD, TR_SD
        non_target: Response | None = None
        nt_rule: str | None = None
        if has_nt:
            statuses = visit.nt_status
            if _UNEQUIVOCAL in statuses:
                non_target, nt_rule = Response.PD, NT_PD
            elif (
                reappear_rule
                and prev_cr
                and prev_nt_normal is not None
                and any(
                    was and not now
                    for was, now in zip(prev_nt_normal, visit.nt_normal, strict=True)
                )
                and all(s is not _NOT_EVALUATED for s in statuses)
            ):
                non_target, nt_rule = Response.PD, NT_REAPPEAR
            elif _NOT_EVALUATED in statuses:
                non_target, nt_rule = Response.NE, NT_NE
            elif all(visit.nt_normal) and visit.markers_normal is not False:
                non_target, nt_rule = Response.CR, NT_CR
            else:
                non_target, nt_rule = Response.NON_CR_NON_PD, NT_NN
        elif not has_targets:  # pragma: no cover - select_targets refuses empty baselines
            raise ValidationError(f"Patient {p.patient_id}: no baseline lesion.")
        new = False
        for lesion in visit.new:
            if lesion.counted:
                new = True
                break
        overall, rule = _overall(target, non_target, new, has_targets)
        s = visit.target_sum
        out.append(
            TimepointResult(
                visit.date,
                target,
                non_target,
                new,
                overall,
                rule,
                t_rule,
                nt_rule,
                None if s is None or not has_targets else units_to_mm(s),
                units_to_mm(nadir) if has_targets else None,
                base_mm,
            )
        )
        if target is Response.PR or target is Response.CR:
            ever_response = True
        if visit.target_sum is not None and visit.target_sum < nadir:
            nadir = visit.target_sum
        # "CR at the previous assessment" for the reappearance rule: all baseline disease gone,
        # whether or not a new lesion made the overall response PD (else adding a new lesion
        # could hide a later reappearance and improve the iRECIST response)
        prev_cr = (target is None or target is Response.CR) and (
            non_target is None or non_target is Response.CR
        )
        prev_units = visit.target_units
        prev_nt_normal = visit.nt_normal
    return out


def _all_gone(units: list[int | None], nodal: tuple[bool, ...]) -> bool:
    for value, is_node in zip(units, nodal, strict=True):
        if is_node:
            if value is None or value >= _MM10:
                return False
        elif value != 0:
            return False
    return True


def _reappeared(units: list[int | None], prev: list[int | None], nodal: tuple[bool, ...]) -> bool:
    for value, before, is_node in zip(units, prev, nodal, strict=True):
        if value is None or before is None:
            continue
        if is_node:
            if before < _MM10 <= value:
                return True
        elif before == 0 and value > 0:
            return True
    return False


def _overall(
    target: Response | None, non_target: Response | None, new: bool, has_targets: bool
) -> tuple[Response, str]:
    if has_targets:
        if target is Response.PD:
            return Response.PD, T1_T_PD
        if non_target is Response.PD:
            return Response.PD, T1_NT_PD
        if new:
            return Response.PD, T1_NEW
        if target is Response.CR:
            if non_target is None or non_target is Response.CR:
                return Response.CR, T1_CR
            if non_target is Response.NE:
                return Response.PR, T1_CR_NE
            return Response.PR, T1_CR_NN
        if target is Response.PR:
            return Response.PR, T1_PR
        if target is Response.SD:
            return Response.SD, T1_SD
        return Response.NE, T1_NE
    if non_target is Response.PD:
        return Response.PD, T2_PD
    if new:
        return Response.PD, T2_NEW
    if non_target is Response.CR:
        return Response.CR, T2_CR
    if non_target is Response.NE:
        return Response.NE, T2_NE
    return Response.NON_CR_NON_PD, T2_NN


def _mm(units: int | None) -> Decimal | None:
    return None if units is None else units_to_mm(units)


def counted_indices(p: _Prepared, overall: list[int], progression_codes: tuple[int, ...]) -> int:
    """Number of leading visits that count towards BOR: before new therapy, up to first PD."""
    stop = p.new_therapy_date
    n = 0
    for visit, code in zip(p.visits, overall, strict=True):
        if stop is not None and visit.date >= stop:
            break
        n += 1
        if code in progression_codes:
            break
    return n


def evaluate_prepared(p: _Prepared, options: RecistOptions) -> RecistResult:
    tps = recist_timepoints(p, options)
    codes = [_CODE[tp.overall] for tp in tps]
    n = counted_indices(p, codes, (_bor.PD,))
    dates = [visit.date for visit in p.visits[:n]]
    considered = codes[:n]
    sd_from = p.start_date + dt.timedelta(days=options.min_sd_days)
    unconfirmed = _bor.best_unconfirmed(
        dates, considered, sd_from=sd_from, min_sd_days=options.min_sd_days
    )
    confirmed = _bor.best_confirmed(
        dates,
        considered,
        sd_from=sd_from,
        min_sd_days=options.min_sd_days,
        min_confirmation_days=options.min_confirmation_days,
        max_ne_between=options.max_ne_between,
        accept_sd_between=options.accept_sd_between,
        has_targets=bool(p.target_ids),
    )
    bor_u = to_best(unconfirmed, dates, _RESPONSE)
    bor_c = to_best(confirmed, dates, _RESPONSE)
    chosen = confirmed if options.confirmation else unconfirmed
    response_date = None if chosen.first_response is None else dates[chosen.first_response]
    progression_date = None
    if n and considered[-1] == _bor.PD:
        progression_date = _progression_date(p, n - 1, tps[n - 1])
    last_adequate = None
    for i in range(n - 1, -1, -1):
        if considered[i] != _bor.NE and considered[i] != _bor.PD:
            last_adequate = dates[i]
            break
    base = p.base_sum
    timepoints = tuple(tps)
    return RecistResult(
        p.patient_id,
        p.target_ids,
        p.non_target_ids,
        units_to_mm(base) if base else None,
        timepoints,
        bor_c if options.confirmation else bor_u,
        bor_u,
        bor_c,
        response_date,
        progression_date,
        last_adequate,
        p.notes,
    )


def to_best(
    best: _bor.Best, dates: list[dt.date], names: Mapping[int, Response | IResponse]
) -> BestOverallResponse:
    return BestOverallResponse(
        names[best.code],
        None if best.index is None else dates[best.index],
        best.rule,
        None if best.confirmed_by is None else dates[best.confirmed_by],
    )


def _progression_date(p: _Prepared, index: int, tp: TimepointResult) -> dt.date:
    """Date of progression; a new lesion first seen as equivocal dates it from that scan."""
    visit = p.visits[index]
    if tp.target is Response.PD or tp.non_target is Response.PD:
        return visit.date
    counted = {lesion.lesion_id for lesion in visit.new if lesion.counted}
    for earlier in p.visits[:index]:
        for lesion in earlier.new:
            if lesion.lesion_id in counted and lesion.status is not _ABSENT:
                return earlier.date
    return visit.date


def evaluate_recist(record: PatientRecord, options: RecistOptions | None = None) -> RecistResult:
    """Evaluate one patient under RECIST 1.1.

    Parameters
    ----------
    record
        Baseline lesions (with roles, or none for automatic target selection) and follow-up
        assessments.
    options
        Protocol choices; :class:`RecistOptions` defaults when omitted.

    Returns
    -------
    RecistResult
        Per-assessment responses, each naming the RECIST 1.1 Table 1/2 row and the target and
        non-target rules that decided it, and the best overall response with and without
        confirmation.

    Raises
    ------
    ValidationError
        For a record that breaks a rule of RECIST 1.1 or of the input format; the message names
        the patient, the assessment, the lesion and the field.

    References
    ----------
    Eisenhauer EA et al. Eur J Cancer 2009;45:228-247 (RECIST 1.1).
    """
    opts = options if options is not None else RecistOptions()
    return evaluate_prepared(prepare(record), opts)
