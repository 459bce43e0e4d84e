"""iRECIST: RECIST 1.1 for immunotherapy trials, with unconfirmed (iUPD) and confirmed (iCPD)
progression.

The first RECIST 1.1 progression (target, non-target or new lesions) is iUPD. The next assessment
at least 4 weeks later (less the protocol tolerance) either confirms it (iCPD), leaves it iUPD
(no further change), or resets the bar (it meets iSD, iPR or iCR with no new lesion present).
Confirmation needs, per category: a further increase of the target sum of at least 5 mm since the
iUPD assessment (sequential increases add up); any further increase of non-target disease; more new
lesions, or new-lesion-target sum up by at least 5 mm, or a new non-target lesion that increased;
or RECIST 1.1 progression in a category that was not progressing at iUPD.

New lesions are split into new-lesion targets (NLT: measurable at first appearance, non-nodal at
least 10 mm, nodes at least 15 mm short axis, at most 5 in all and 2 per organ, by order of
appearance) and new-lesion non-targets (NLNT). After a reset, new lesions already known trigger a
new iUPD only when their NLT sum grows by at least 20 % over its smallest value since the reset, or
an NLNT shows unequivocal progression; further new lesions always do.

References
----------
Seymour L et al. iRECIST: guidelines for response criteria for use in trials testing
immunotherapeutics. Lancet Oncol 2017;18:e143-e152 (Table 2 and text).
EORTC iRECIST FAQ: confirmation within 4 weeks; "How do new lesions define progression?"; "If
iUPD is driven by non-target disease, how is progression confirmed at the next assessment?".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set
from functools import cache

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist import _bor
from oncotrials.core.recist.baseline import NODE_ORGAN, units_to_mm
from oncotrials.core.recist.evaluate import (
    _MM5,
    _MM10,
    _overall,
    _Prepared,
    _Visit,
    _Where,
    counted_indices,
    prepare,
    recist_timepoints,
    to_best,
)
from oncotrials.core.recist.model import (
    UNITS_PER_MM,
    IRecistOptions,
    IRecistResult,
    IResponse,
    ITimepointResult,
    LesionStatus,
    PatientRecord,
    Response,
    TimepointResult,
)

_MM15 = 15 * UNITS_PER_MM

_I = {
    Response.CR: IResponse.ICR,
    Response.PR: IResponse.IPR,
    Response.SD: IResponse.ISD,
    Response.NON_CR_NON_PD: IResponse.NON_ICR_NON_IUPD,
    Response.NE: IResponse.NE,
}
_CODE = {
    IResponse.ICR: _bor.CR,
    IResponse.IPR: _bor.PR,
    IResponse.ISD: _bor.SD,
    IResponse.NON_ICR_NON_IUPD: _bor.NN,
    IResponse.IUPD: _bor.UPD,
    IResponse.ICPD: _bor.PD,
    IResponse.NE: _bor.NE,
}
_NAMES = {code: response for response, code in _CODE.items()}
_I_NAMES = {code: response.value for code, response in _NAMES.items()}

_GROWING = (LesionStatus.INCREASED, LesionStatus.UNEQUIVOCAL_PROGRESSION)

IUPD_START = (
    "iRECIST: first RECIST 1.1 progression ({cats}) → iUPD, to be confirmed at the next "
    "assessment 4-8 weeks later (Seymour 2017)"
)
ICPD = "iRECIST Table 2, previous iUPD: {reasons} → iCPD (iUPD of {start} confirmed)"
REMAINS = (
    "iRECIST Table 2, previous iUPD: progression not confirmed ({detail}) and no reset → "
    "remains iUPD (Seymour 2017)"
)
#: What confirmation needs, named when it is not met (Seymour 2017; EORTC iRECIST FAQ).
NOT_CONFIRMED = (
    "iCPD needs a further target-sum increase of at least 5 mm since the iUPD assessment, any "
    "further non-target increase, or new lesions growing (new-lesion target sum +5 mm, any "
    "new-lesion non-target increase) or more new lesions"
)
LATE = (
    "confirming scan {days} days after the iUPD assessment of {start}: iRECIST expects the next "
    "assessment 4-8 weeks after iUPD (> {limit} days here); the scan is used, check the schedule"
)
RESET = (
    "iRECIST: iUPD of {start} not confirmed; this assessment meets {resp} → reset, a later "
    "progression must again meet RECIST 1.1 (Seymour 2017)"
)
STILL_NE = "iRECIST: not all lesions evaluated; iUPD of {start} still awaits confirmation → NE"
EARLY = (
    "iRECIST: scan {days} days after iUPD (< {limit} days) is disregarded for confirmation "
    "(EORTC FAQ) → remains iUPD"
)
EARLY_CPD = (
    "iRECIST: scan {days} days after iUPD, done for clinical symptoms, shows further new "
    "lesions → iCPD (EORTC FAQ)"
)
AFTER_CPD = "iRECIST: progression confirmed on {date}; later assessments keep iCPD"
NO_PRIOR = "iRECIST Table 2, no previous iUPD: {rule}"


_NONE: frozenset[str] = frozenset()


@cache
def _no_prior(table_rule: str) -> str:
    return NO_PRIOR.format(rule=table_rule)


class _NewLesionBook:
    """New-lesion targets (NLT) and non-targets (NLNT) by order of first appearance."""

    def __init__(self) -> None:
        self.nlt: list[str] = []
        self.per_organ: dict[str, int] = {}
        self.first_seen: dict[str, dt.date] = {}
        self.ever: set[str] = set()

    def update(self, visit: _Visit) -> None:
        fresh = [
            lesion for lesion in visit.new if lesion.counted and lesion.lesion_id not in self.ever
        ]
        fresh.sort(key=lambda lesion: -(lesion.units or 0))
        for lesion in fresh:
            self.ever.add(lesion.lesion_id)
            self.first_seen[lesion.lesion_id] = visit.date
            size = lesion.units
            measurable = size is not None and size >= (_MM15 if lesion.nodal else _MM10)
            organ = NODE_ORGAN if lesion.nodal else lesion.organ
            if measurable and len(self.nlt) < 5 and self.per_organ.get(organ, 0) < 2:
                self.nlt.append(lesion.lesion_id)
                self.per_organ[organ] = self.per_organ.get(organ, 0) + 1

    def nlt_sum(self, visit: _Visit, where: _Where) -> int | None:
        if not self.nlt:
            return 0
        by_id = {lesion.lesion_id: lesion for lesion in visit.new}
        total = 0
        for lesion_id in self.nlt:
            lesion = by_id.get(lesion_id)
            if lesion is None or lesion.status is LesionStatus.NOT_EVALUATED:
                return None
            if lesion.status is LesionStatus.ABSENT:
                continue
            if lesion.units is None:
                raise ValidationError(
                    f"{where}, new lesion {lesion_id}, field diameter_mm: a new-lesion target "
                    "needs its diameter at every assessment (iRECIST); record it, or a status "
                    "(absent, not_evaluated)."
                )
            total += lesion.units
        return total

    def nlnt_growing(self, visit: _Visit, only: set[str] | None = None) -> bool:
        for lesion in visit.new:
            if lesion.lesion_id in self.nlt or not lesion.counted:
                continue
            if only is not None and lesion.lesion_id not in only:
                continue
            if lesion.status in _GROWING:
                return True
        return False


def evaluate_irecist(record: PatientRecord, options: IRecistOptions | None = None) -> IRecistResult:
    """Evaluate one patient under iRECIST.

    Parameters
    ----------
    record
        As for :func:`~oncotrials.core.recist.evaluate_recist`. Non-target statuses keep their
        RECIST 1.1 meaning (``unequivocal_progression`` compares with the nadir, so a non-target
        iUPD that is still unequivocal but no larger stays iUPD; ``present`` means it no longer
        is, which lets the bar reset); ``increased`` means larger than at the previous
        assessment, which is what confirms a non-target iUPD. For new non-target lesions,
        ``increased`` or ``unequivocal_progression`` means larger than before. Every new lesion
        once reported must be reported at each later assessment (``absent`` when it has gone).
    options
        :class:`IRecistOptions` (confirmation window, and the RECIST 1.1 options underneath).

    Returns
    -------
    IRecistResult
        iRECIST time-point responses beside the RECIST 1.1 ones, each naming its rule, and iBOR
        with and without confirmation of iCR/iPR. ``progression_date`` is the date of the iUPD
        that was confirmed; an iUPD never confirmed is not progression.

    References
    ----------
    Seymour L et al. Lancet Oncol 2017;18:e143-e152.
    """
    opts = options if options is not None else IRecistOptions()
    p = prepare(record)
    return _evaluate(p, opts)


def _evaluate(p: _Prepared, opts: IRecistOptions) -> IRecistResult:
    ropts = opts.recist
    tps = recist_timepoints(p, ropts)
    has_targets = bool(p.target_ids)
    limit = opts.confirm_min_days - opts.confirm_tolerance_days
    book = _NewLesionBook()
    in_iupd = False
    confirmed_on: dt.date | None = None
    cats: list[str] = []
    episode_start: dt.date | None = None
    last_iupd: dt.date | None = None
    ref_target = 0
    ref_nlt: int | None = None
    episode_new: set[str] = set()
    known_at_reset: set[str] = set()
    early_growth: set[str] = set()
    reset_nlt_nadir: int | None = None
    progression_date: dt.date | None = None
    out: list[ITimepointResult] = []
    for visit, tp in zip(p.visits, tps, strict=True):
        where = _Where(p.patient_id, visit.index, visit.date)
        missing = book.ever - {lesion.lesion_id for lesion in visit.new} if book.ever else None
        if missing:
            raise ValidationError(
                f"{where}, new lesion {sorted(missing)[0]}: reported earlier but missing here; "
                "iRECIST follows every new lesion, so record its status (absent, present, "
                "increased, unequivocal_progression, not_evaluated)."
            )
        counted = (
            {lesion.lesion_id for lesion in visit.new if lesion.counted} if visit.new else _NONE
        )
        if visit.new:
            book.update(visit)
        nlt_sum = book.nlt_sum(visit, where)
        overall: IResponse
        rule: str
        shown_cats: tuple[str, ...] = ()
        if confirmed_on is not None:
            overall, rule = IResponse.ICPD, AFTER_CPD.format(date=confirmed_on.isoformat())
        elif not in_iupd:
            triggers: list[str] = []
            if tp.target is Response.PD:
                triggers.append("target")
            if tp.non_target is Response.PD:
                triggers.append("non_target")
            if _new_lesion_trigger(counted, known_at_reset, nlt_sum, reset_nlt_nadir, book, visit):
                triggers.append("new_lesions")
            if triggers:
                in_iupd = True
                early_growth = set()
                cats = triggers
                episode_start = last_iupd = visit.date
                ref_target = visit.target_sum if visit.target_sum is not None else 0
                ref_nlt = nlt_sum
                episode_new = set(counted)
                overall, rule = IResponse.IUPD, IUPD_START.format(cats=", ".join(cats))
                shown_cats = tuple(cats)
            else:
                response, table_rule = _overall(tp.target, tp.non_target, False, has_targets)
                overall, rule = _I[response], _no_prior(table_rule)
                if known_at_reset and nlt_sum is not None:
                    reset_nlt_nadir = (
                        nlt_sum if reset_nlt_nadir is None else min(reset_nlt_nadir, nlt_sum)
                    )
        else:
            assert last_iupd is not None
            assert episode_start is not None
            days = (visit.date - last_iupd).days
            last_iupd_before = last_iupd.isoformat()
            shown_cats = tuple(cats)
            if days < limit:
                extra = counted - episode_new
                if visit.symptoms and extra:
                    overall, rule = IResponse.ICPD, EARLY_CPD.format(days=days)
                    confirmed_on, progression_date = visit.date, episode_start
                else:
                    overall, rule = IResponse.IUPD, EARLY.format(days=days, limit=limit)
                    # growth seen on this scan still happened: the next valid assessment
                    # compares with the iUPD assessment, not with this scan
                    if LesionStatus.INCREASED in visit.nt_status or tp.non_target is Response.PD:
                        early_growth.add("non_target")
                    if book.nlnt_growing(visit):
                        early_growth.add("new_lesions")
                out.append(ITimepointResult(visit.date, overall, rule, tp, shown_cats))
                continue
            reasons = _confirmation_reasons(
                cats,
                tp,
                visit,
                ref_target,
                ref_nlt,
                nlt_sum,
                counted,
                episode_new,
                book,
                known_at_reset,
                early_growth,
            )
            if reasons:
                overall = IResponse.ICPD
                rule = ICPD.format(reasons="; ".join(reasons), start=episode_start.isoformat())
                confirmed_on, progression_date = visit.date, episode_start
            else:
                response, _ = _overall(tp.target, tp.non_target, bool(counted), has_targets)
                if response is Response.NE:  # growth seen early still awaits a valid scan
                    overall = IResponse.NE
                    rule = STILL_NE.format(start=episode_start.isoformat())
                elif response is Response.PD:
                    detail = NOT_CONFIRMED
                    if "target" in cats and visit.target_sum is not None:
                        change = units_to_mm(abs(visit.target_sum - ref_target))
                        sign = "-" if visit.target_sum < ref_target else "+"
                        detail = (
                            f"target sum {sign}{change} mm since the iUPD assessment, "
                            f"< +5 mm; {NOT_CONFIRMED}"
                        )
                    overall, rule = IResponse.IUPD, REMAINS.format(detail=detail)
                    last_iupd = visit.date
                    episode_new |= counted
                    early_growth = set()
                else:
                    overall = _I[response]
                    rule = RESET.format(start=episode_start.isoformat(), resp=overall.value)
                    in_iupd = False
                    known_at_reset = set(book.ever)
                    reset_nlt_nadir = nlt_sum
                    cats = []
            late = opts.confirm_max_days + opts.confirm_tolerance_days
            if days > late:
                warnings = (LATE.format(days=days, start=last_iupd_before, limit=late),)
                out.append(ITimepointResult(visit.date, overall, rule, tp, shown_cats, warnings))
                continue
        out.append(ITimepointResult(visit.date, overall, rule, tp, shown_cats))
    return _summarise(p, opts, out, progression_date, confirmed_on)


def _new_lesion_trigger(
    counted: Set[str],
    known_at_reset: set[str],
    nlt_sum: int | None,
    reset_nlt_nadir: int | None,
    book: _NewLesionBook,
    visit: _Visit,
) -> bool:
    if counted - known_at_reset:
        return True
    if not known_at_reset or not counted:
        return False
    if nlt_sum is not None and reset_nlt_nadir is not None:
        growth = nlt_sum - reset_nlt_nadir
        if growth > 0 and growth * 5 >= reset_nlt_nadir:  # ≥ 20 % over the post-reset nadir
            return True
    return any(
        lesion.counted
        and lesion.lesion_id not in book.nlt
        and lesion.status is LesionStatus.UNEQUIVOCAL_PROGRESSION
        for lesion in visit.new
    )


def _confirmation_reasons(
    cats: list[str],
    tp: TimepointResult,
    visit: _Visit,
    ref_target: int,
    ref_nlt: int | None,
    nlt_sum: int | None,
    counted: Set[str],
    episode_new: set[str],
    book: _NewLesionBook,
    known_at_reset: set[str],
    early_growth: set[str],
) -> list[str]:
    """Why this assessment confirms the iUPD (empty when it does not).

    ``early_growth`` holds the categories that grew on a scan done too early to confirm; the
    growth counts now, since increases add up from the iUPD assessment.
    """
    target = tp.target
    non_target = tp.non_target
    nt_increased = LesionStatus.INCREASED in visit.nt_status
    reasons: list[str] = []
    if "target" in cats:
        s = visit.target_sum
        if s is not None and s - ref_target >= _MM5:
            reasons.append(f"target sum up {units_to_mm(s - ref_target)} mm since iUPD (≥ 5 mm)")
    elif target is Response.PD:
        reasons.append("RECIST 1.1 progression of target lesions, a new category")
    if "non_target" in cats:
        if nt_increased or "non_target" in early_growth:
            reasons.append("further increase of non-target disease")
    elif non_target is Response.PD:
        reasons.append("unequivocal non-target progression, a new category")
    elif "non_target" in early_growth and non_target is Response.NON_CR_NON_PD:
        # non-target progression seen on the early scan and still present: compared with the
        # iUPD assessment, the non-target category has progressed
        reasons.append("non-target progression since iUPD (seen on an early scan), a new category")
    if "new_lesions" in cats:
        if counted - episode_new:
            reasons.append("more new lesions")
        if nlt_sum is not None and ref_nlt is not None and nlt_sum - ref_nlt >= _MM5:
            reasons.append(f"new-lesion target sum up {units_to_mm(nlt_sum - ref_nlt)} mm (≥ 5 mm)")
        if book.nlnt_growing(visit) or "new_lesions" in early_growth:
            reasons.append("a new non-target lesion increased")
    elif counted - known_at_reset:
        reasons.append("new lesions, a new category")
    return reasons


def _summarise(
    p: _Prepared,
    opts: IRecistOptions,
    out: list[ITimepointResult],
    progression_date: dt.date | None,
    confirmed_on: dt.date | None,
) -> IRecistResult:
    ropts = opts.recist
    codes = [_CODE[tp.overall] for tp in out]
    if progression_date is not None:
        # the iUPD that was confirmed is progression from its own date (Seymour 2017 Table 3,
        # examples 6 and 7: iUPD then iCPD gives iBOR iCPD)
        for i, tp in enumerate(out):
            if tp.overall is IResponse.IUPD and tp.date >= progression_date:
                codes[i] = _bor.PD
    n = counted_indices(p, codes, (_bor.PD,))
    dates = [tp.date for tp in out[:n]]
    considered = codes[:n]
    sd_from = p.start_date + dt.timedelta(days=ropts.min_sd_days)
    unconfirmed = _bor.best_unconfirmed(
        dates, considered, sd_from=sd_from, min_sd_days=ropts.min_sd_days, names=_I_NAMES
    )
    confirmed = _bor.best_confirmed(
        dates,
        considered,
        sd_from=sd_from,
        min_sd_days=ropts.min_sd_days,
        min_confirmation_days=ropts.min_confirmation_days,
        max_ne_between=ropts.max_ne_between,
        accept_sd_between=ropts.accept_sd_between,
        has_targets=bool(p.target_ids),
        names=_I_NAMES,
    )
    bor_u = to_best(unconfirmed, dates, _NAMES)
    bor_c = to_best(confirmed, dates, _NAMES)
    chosen = confirmed if ropts.confirmation else unconfirmed
    response_date = None if chosen.first_response is None else dates[chosen.first_response]
    cutoff = progression_date
    last_adequate = None
    for i in range(n - 1, -1, -1):
        if considered[i] <= _bor.NN and (cutoff is None or dates[i] < cutoff):
            last_adequate = dates[i]
            break
    if confirmed_on is not None and (p.new_therapy_date and confirmed_on >= p.new_therapy_date):
        # confirmation after new therapy does not count (the patient left iRECIST follow-up)
        progression_date = confirmed_on = None
    return IRecistResult(
        p.patient_id,
        tuple(out),
        bor_c if ropts.confirmation else bor_u,
        bor_u,
        bor_c,
        response_date,
        progression_date,
        confirmed_on,
        last_adequate,
    )
