"""Time-to-event endpoints from dated events: PFS, OS and duration of response.

Each derivation returns the time in days, whether the event was observed, and the rule that
decided it, so a data manager can check every censoring.

PFS censoring follows the FDA guidance table (Clinical Trial Endpoints for the Approval of Cancer
Drugs and Biologics, 2007; updated 2018), each row a switch in :class:`PfsRules`:

====================================================  =========================================
Situation                                             Outcome
====================================================  =========================================
No baseline tumour assessment                         censored at start (day 0)
Progression documented (between visits or not)        event at the first date PD was documented
Death before any progression                          event at death
No progression, no death                              censored at the last adequate assessment
New anticancer therapy before progression             censored at the last adequate assessment
                                                      before the new therapy
Death or progression after >= 2 missed visits         censored at the last adequate assessment
                                                      before the gap
====================================================  =========================================

"Missed visits" is measured from the last adequate assessment: the event is after ``n`` missed
visits when it falls more than ``n x visit_interval_days + visit_window_days`` after it. Without a
visit interval the rule cannot apply and is off. The EMA approach (event counted whatever the
gap, progression at the scheduled visit) is ``PfsRules(max_missed_visits=None)``.

References
----------
U.S. FDA. Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics. Guidance for
Industry, December 2018, Table (PFS censoring).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from oncotrials.core.errors import ValidationError


@dataclass(frozen=True, slots=True)
class PfsRules:
    """Switches for the PFS (and DoR) censoring rows.

    Parameters
    ----------
    censor_at_new_therapy
        Censor at the last adequate assessment before a new anticancer therapy (FDA). ``False``
        keeps following the patient for progression.
    max_missed_visits
        Censor an event that comes after this many missed visits (FDA: 2). ``None`` disables it.
    visit_interval_days
        Protocol interval between tumour assessments; needed by the missed-visit rule.
    visit_window_days
        Tolerance added to the missed-visit gap (a scan a few days late is not a missed visit).
    censor_without_baseline
        Censor at day 0 when there is no baseline tumour assessment (FDA).
    """

    censor_at_new_therapy: bool = True
    max_missed_visits: int | None = 2
    visit_interval_days: int | None = None
    visit_window_days: int = 7
    censor_without_baseline: bool = True


@dataclass(frozen=True, slots=True)
class EndpointTime:
    """One subject's time to event (days from ``start_date`` to ``end_date``)."""

    subject_id: str
    endpoint: str
    start_date: dt.date
    end_date: dt.date
    days: int
    event: bool
    rule: str


NO_BASELINE = "no baseline tumour assessment: censored at start (FDA PFS table)"
PD_EVENT = "progression documented: event at the first date it was documented (FDA PFS table)"
DEATH_EVENT = "death before any documented progression: event at death (FDA PFS table)"
NO_EVENT = "no progression and no death: censored at the last adequate assessment"
NO_EVENT_NO_SCAN = "no progression, no death and no assessment after start: censored at start"
NEW_THERAPY = (
    "new anticancer therapy before progression: censored at the last adequate assessment before "
    "it (FDA PFS table; option censor_at_new_therapy)"
)
MISSED = (
    "{what} after {n} or more missed visits: censored at the last adequate assessment before the "
    "gap (FDA PFS table; option max_missed_visits)"
)


def derive_pfs(
    *,
    subject_id: str,
    start_date: dt.date,
    assessment_dates: Sequence[dt.date],
    progression_date: dt.date | None = None,
    death_date: dt.date | None = None,
    new_therapy_date: dt.date | None = None,
    has_baseline_assessment: bool = True,
    rules: PfsRules | None = None,
    endpoint: str = "PFS",
) -> EndpointTime:
    """Progression-free survival of one subject, with the censoring rule that decided it.

    Parameters
    ----------
    subject_id
        Named in the result and in error messages.
    start_date
        Randomisation, or first dose in a single-arm trial.
    assessment_dates
        Dates of adequate tumour assessments after start (responses other than NE).
    progression_date
        First date progression was documented (RECIST 1.1 PD, or the iUPD later confirmed).
    death_date
        Death from any cause.
    new_therapy_date
        Start of a further anticancer therapy.
    rules
        :class:`PfsRules`; the FDA defaults when omitted.

    Raises
    ------
    ValidationError
        When a date comes before ``start_date``; the message names the subject and the field.
    """
    rules = rules if rules is not None else PfsRules()
    who = f"Subject {subject_id}"
    _not_before(who, "progression_date", progression_date, start_date)
    _not_before(who, "death_date", death_date, start_date)
    _not_before(who, "new_therapy_date", new_therapy_date, start_date)
    for i, date in enumerate(assessment_dates):
        _not_before(who, f"assessment_dates[{i}]", date, start_date)
    if rules.censor_without_baseline and not has_baseline_assessment:
        return _result(subject_id, endpoint, start_date, start_date, False, NO_BASELINE)
    candidates = [d for d in (progression_date, death_date) if d is not None]
    event_date = min(candidates) if candidates else None
    if (
        rules.censor_at_new_therapy
        and new_therapy_date is not None
        and (event_date is None or new_therapy_date <= event_date)
    ):
        last = _last_before(assessment_dates, new_therapy_date, start_date)
        return _result(subject_id, endpoint, start_date, last, False, NEW_THERAPY)
    if event_date is None:
        last = _last_before(assessment_dates, None, start_date)
        rule = NO_EVENT if last != start_date else NO_EVENT_NO_SCAN
        return _result(subject_id, endpoint, start_date, last, False, rule)
    is_pd = progression_date is not None and progression_date == event_date
    last = _last_before(assessment_dates, event_date, start_date)
    if rules.max_missed_visits is not None and rules.visit_interval_days is not None:
        allowed = rules.max_missed_visits * rules.visit_interval_days + rules.visit_window_days
        if (event_date - last).days > allowed:
            what = "progression" if is_pd else "death"
            rule = MISSED.format(what=what, n=rules.max_missed_visits)
            return _result(subject_id, endpoint, start_date, last, False, rule)
    return _result(
        subject_id, endpoint, start_date, event_date, True, PD_EVENT if is_pd else DEATH_EVENT
    )


def derive_dor(
    *,
    subject_id: str,
    response_date: dt.date | None,
    assessment_dates: Sequence[dt.date],
    progression_date: dt.date | None = None,
    death_date: dt.date | None = None,
    new_therapy_date: dt.date | None = None,
    rules: PfsRules | None = None,
) -> EndpointTime | None:
    """Duration of response: from the first date CR/PR was met to progression or death.

    Defined for responders only: returns ``None`` when ``response_date`` is ``None``. Censoring
    follows the PFS rules, counted from the response date.
    """
    if response_date is None:
        return None
    if progression_date is not None and progression_date < response_date:
        raise ValidationError(
            f"Subject {subject_id}, field progression_date: {progression_date.isoformat()} is "
            f"before the response date {response_date.isoformat()}; a response ends at "
            "progression, so check both dates."
        )
    later = [d for d in assessment_dates if d >= response_date]
    return derive_pfs(
        subject_id=subject_id,
        start_date=response_date,
        assessment_dates=later,
        progression_date=progression_date,
        death_date=death_date,
        new_therapy_date=new_therapy_date
        if new_therapy_date is None or new_therapy_date >= response_date
        else None,
        rules=rules,
        endpoint="DoR",
    )


def derive_os(
    *,
    subject_id: str,
    start_date: dt.date,
    death_date: dt.date | None,
    last_known_alive_date: dt.date | None,
) -> EndpointTime:
    """Overall survival: event at death from any cause, else censored when last known alive."""
    who = f"Subject {subject_id}"
    _not_before(who, "death_date", death_date, start_date)
    _not_before(who, "last_known_alive_date", last_known_alive_date, start_date)
    if death_date is not None:
        return _result(subject_id, "OS", start_date, death_date, True, "death: event")
    if last_known_alive_date is None:
        raise ValidationError(
            f"{who}: neither death_date nor last_known_alive_date; OS needs one of them to "
            "know how long the subject was followed."
        )
    return _result(
        subject_id,
        "OS",
        start_date,
        last_known_alive_date,
        False,
        "alive: censored at the last date known alive",
    )


def _result(
    subject_id: str, endpoint: str, start: dt.date, end: dt.date, event: bool, rule: str
) -> EndpointTime:
    return EndpointTime(subject_id, endpoint, start, end, (end - start).days, event, rule)


def _not_before(who: str, field: str, date: dt.date | None, start: dt.date) -> None:
    if date is not None and date < start:
        raise ValidationError(
            f"{who}, field {field}: {date.isoformat()} is before the start date "
            f"{start.isoformat()}; dates of events must be on or after the start."
        )


def _last_before(dates: Sequence[dt.date], limit: dt.date | None, start: dt.date) -> dt.date:
    """Last assessment strictly before ``limit`` (on or before it when there is no limit)."""
    last = start
    for date in dates:
        if (limit is None or date < limit) and date > last:
            last = date
    return last
