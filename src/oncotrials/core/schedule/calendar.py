"""A patient's calendar: the visits expected from the schedule, with target dates and status.

Pure date arithmetic on a declared :class:`~oncotrials.core.schedule.model.VisitSchedule`, the
reference date, the visits done so far and today's date: no database, no clock.

The calendar is the one place where a visit's status is decided. Besides the visits recorded as
done, it reconciles what else is known of the patient (see :func:`patient_calendar`): the
screening before registration, the end of treatment and the end of study, visits marked not done
or not applicable, and the records other modules hold (adverse events, tumour assessments, form
data) dated within a visit's window.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import enum
import re
from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from oncotrials.core.errors import ValidationError
from oncotrials.core.schedule.model import (
    Procedure,
    VisitKind,
    VisitSchedule,
    Window,
)


class VisitStatus(str, enum.Enum):
    DONE = "done"
    DONE_OUT_OF_WINDOW = "done_out_of_window"
    DUE = "due"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"
    NOT_DONE = "not_done"
    NOT_APPLICABLE = "not_applicable"


DONE_STATUSES = frozenset({VisitStatus.DONE, VisitStatus.DONE_OUT_OF_WINDOW})
CLOSED_STATUSES = DONE_STATUSES | {VisitStatus.NOT_DONE, VisitStatus.NOT_APPLICABLE}

#: Evidence kinds of this form (``visit:C1D8``) attest a visit by its code, whatever its forms.
VISIT_EVIDENCE_PREFIX = "visit:"


@dataclass(frozen=True, slots=True)
class ExpectedVisit:
    """One expected visit: target date, window (``earliest``..``latest``) and status."""

    code: str
    kind: VisitKind
    target: dt.date
    earliest: dt.date
    latest: dt.date
    status: VisitStatus
    done_on: dt.date | None = None
    cycle: int | None = None
    day: int | None = None
    name: str = ""
    forms: tuple[str, ...] = ()
    procedures: tuple[Procedure, ...] = ()
    source: str = ""
    recorded_forms: tuple[str, ...] = ()

    @property
    def closed(self) -> bool:
        """Done, or marked not done / not applicable: nothing more is expected of it."""
        return self.status in CLOSED_STATUSES

    @property
    def days_from_target(self) -> int | None:
        """Done date minus target date (negative: early); ``None`` if not done."""
        return None if self.done_on is None else (self.done_on - self.target).days

    @property
    def out_of_window(self) -> bool:
        return self.status is VisitStatus.DONE_OUT_OF_WINDOW


@dataclass(frozen=True, slots=True)
class PatientCalendar:
    """Expected visits in date order, and done visits the schedule does not know."""

    start: dt.date
    today: dt.date
    end_of_treatment: dt.date | None
    visits: tuple[ExpectedVisit, ...]
    unscheduled: tuple[tuple[str, dt.date], ...]

    def with_status(self, *statuses: VisitStatus) -> tuple[ExpectedVisit, ...]:
        return tuple(v for v in self.visits if v.status in statuses)

    @property
    def overdue(self) -> tuple[ExpectedVisit, ...]:
        return self.with_status(VisitStatus.OVERDUE)

    @property
    def due(self) -> tuple[ExpectedVisit, ...]:
        return self.with_status(VisitStatus.DUE)

    @property
    def out_of_window(self) -> tuple[ExpectedVisit, ...]:
        return self.with_status(VisitStatus.DONE_OUT_OF_WINDOW)

    def visit(self, code: str) -> ExpectedVisit:
        for v in self.visits:
            if v.code == code:
                return v
        raise KeyError(code)


def add_months(date: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    index = date.month - 1 + months
    year, month = date.year + index // 12, index % 12 + 1
    return date.replace(
        year=year, month=month, day=min(date.day, _calendar.monthrange(year, month)[1])
    )


@dataclass(frozen=True, slots=True)
class _Planned:
    code: str
    kind: VisitKind
    target: dt.date
    window: Window
    cycle: int | None
    day: int | None
    name: str
    forms: tuple[str, ...]
    procedures: tuple[Procedure, ...]
    screening: bool = False


def _last_done_index(done: Mapping[str, dt.date], prefix: str) -> int:
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    found = [int(m.group(1)) for code in done if (m := pattern.match(code))]
    return max(found, default=0)


def _last_done_cycle(done: Mapping[str, dt.date]) -> int:
    found = [int(m.group(1)) for code in done if (m := re.match(r"^C(\d+)D\d+$", code))]
    return max(found, default=0)


def _plan(
    schedule: VisitSchedule,
    start: dt.date,
    done: Mapping[str, dt.date],
    eot: dt.date | None,
    limit: dt.date,
) -> list[_Planned]:
    plan: list[_Planned] = []
    for v in schedule.visits:
        plan.append(
            _Planned(
                v.code,
                VisitKind.VISIT,
                start + dt.timedelta(days=v.offset_days),
                v.window,
                None,
                None,
                v.name,
                v.forms,
                v.procedures,
                screening=v.offset_days < 0,
            )
        )
    c1d1 = start
    cycles = schedule.cycles
    if cycles is not None:
        c1d1 = start + dt.timedelta(days=cycles.start_offset_days)
        last_done = _last_done_cycle(done)
        length = dt.timedelta(days=cycles.length_days)
        d1_target = c1d1
        for n in range(1, cycles.last_cycle + 1):
            if n > 1:
                previous = done.get(f"C{n - 1}D1") if cycles.reanchor else None
                d1_target = (previous or d1_target) + length
            if n > last_done:
                if eot is not None and d1_target > eot:
                    break
                if cycles.count is None and eot is None and d1_target > limit:
                    break
            actual_d1 = done.get(f"C{n}D1") if cycles.reanchor else None
            anchor = actual_d1 or d1_target
            for d in cycles.days:
                if not d.in_cycle(n):
                    continue
                target = d1_target if d.day == 1 else anchor + dt.timedelta(days=d.day - 1)
                plan.append(
                    _Planned(
                        f"C{n}D{d.day}",
                        VisitKind.CYCLE,
                        target,
                        d.window_in(n),
                        n,
                        d.day,
                        d.name,
                        d.forms,
                        d.procedures,
                    )
                )
    imaging = schedule.imaging
    if imaging is not None:
        anchor = done.get("C1D1", c1d1) if cycles is not None else c1d1
        last_done = _last_done_index(done, imaging.code)
        step = dt.timedelta(weeks=imaging.every_weeks)
        k = 1
        while imaging.count is None or k <= imaging.count:
            target = anchor + k * step
            if k > last_done and (
                (eot is not None and target > eot)
                or (eot is None and imaging.count is None and target > limit)
            ):
                break
            plan.append(
                _Planned(
                    f"{imaging.code}{k}",
                    VisitKind.IMAGING,
                    target,
                    imaging.window,
                    None,
                    None,
                    "",
                    imaging.forms,
                    imaging.procedures,
                )
            )
            k += 1
    if eot is not None and schedule.end_of_treatment is not None:
        e = schedule.end_of_treatment
        plan.append(
            _Planned(
                e.code,
                VisitKind.END_OF_TREATMENT,
                eot + dt.timedelta(days=e.offset_days),
                e.window,
                None,
                None,
                "",
                e.forms,
                e.procedures,
            )
        )
        f = schedule.follow_up
        if f is not None:
            last_done = _last_done_index(done, f.code)
            k = 1
            while f.count is None or k <= f.count:
                target = add_months(eot, k * f.every_months)
                if f.count is None and k > last_done and target > limit:
                    break
                plan.append(
                    _Planned(
                        f"{f.code}{k}",
                        VisitKind.FOLLOW_UP,
                        target,
                        f.window,
                        None,
                        None,
                        "",
                        f.forms,
                        f.procedures,
                    )
                )
                k += 1
    return plan


def _cycle_spans(
    plan: list[_Planned], schedule: VisitSchedule
) -> dict[int, tuple[dt.date, dt.date]]:
    """Cycle number -> (first day, last day) of the cycle: from its day 1 to the eve of the next."""
    firsts: dict[int, dt.date] = {}
    for p in plan:
        if p.kind is VisitKind.CYCLE and p.cycle is not None:
            opened = p.target - dt.timedelta(days=p.window.before)
            firsts[p.cycle] = min(firsts.get(p.cycle, opened), opened)
    length = schedule.cycles.length_days if schedule.cycles is not None else 0
    spans = {}
    for n, first in firsts.items():
        following = firsts.get(n + 1)
        last = (
            (following - dt.timedelta(days=1))
            if following
            else first + dt.timedelta(days=length - 1)
        )
        spans[n] = (first, max(first, last))
    return spans


def _first_within(dates: Sequence[dt.date], earliest: dt.date, latest: dt.date) -> dt.date | None:
    """The first of the sorted ``dates`` within [earliest, latest] (a binary search)."""
    i = bisect_left(dates, earliest)
    return dates[i] if i < len(dates) and dates[i] <= latest else None


def patient_calendar(
    schedule: VisitSchedule,
    *,
    start: dt.date,
    today: dt.date,
    done: Mapping[str, dt.date] | None = None,
    end_of_treatment: dt.date | None = None,
    horizon_days: int = 90,
    registered_on: dt.date | None = None,
    screening_on: dt.date | None = None,
    off_study: dt.date | None = None,
    marked: Mapping[str, VisitStatus] | None = None,
    evidence: Mapping[str, Iterable[dt.date]] | None = None,
    per_cycle: Collection[str] = (),
) -> PatientCalendar:
    """Expected visits of one patient, each with its target date, window and status.

    Parameters
    ----------
    schedule
        The trial's schedule.
    start
        The reference date: C1D1 (planned or actual) or the registration date, as the schedule's
        ``reference`` says.
    today
        The date statuses are computed for (``due``: today is inside the window; ``overdue``:
        the window has closed; ``upcoming``: it has not opened).
    done
        Visits done so far, code → date (``{"SCR": date(2026, 1, 2), "C1D1": ...}``). A visit
        done outside its window is ``done_out_of_window``; codes the schedule does not produce
        are returned as ``unscheduled``.
    end_of_treatment
        The end-of-treatment date, if treatment has ended: cycle and imaging visits due after it
        are not expected (unless they were done), and the end-of-treatment and follow-up visits
        are expected from it.
    horizon_days
        How far past today open-ended series (cycles until end of treatment, imaging, follow-up
        without a count) are listed.
    registered_on
        The registration date. Once registered, the screening visits (those before day 0 of the
        reference) are done: the registration attests the screening, on ``screening_on`` (the
        day screening closed) or else on the registration date. They are never overdue.
    screening_on
        The day the screening that led to the registration closed.
    off_study
        The day the patient went off study: no visit after it is expected.
    marked
        Visits marked ``not_done`` or ``not_applicable`` (with a reason, kept by the caller),
        code → status. A visit also recorded as done stays done.
    evidence
        What other records say, kind → dates. A kind named after a form (``adverse_events``,
        ``recist``) is evidence for the visits listing that form: a date within a visit's window
        makes the visit done on that date (``source`` names the kind). A kind
        ``visit:<code>`` attests the visit of that code (form data, labs, doses recorded for it).
    per_cycle
        Form kinds kept per cycle rather than per visit (the adverse-event log): such a form of a
        cycle visit is recorded (``recorded_forms``) when evidence falls anywhere in the cycle;
        other forms need evidence within the visit's window.
    """
    done_visits = dict(done or {})
    for code, when in done_visits.items():
        if not isinstance(when, dt.date) or isinstance(when, dt.datetime):
            raise ValidationError(
                f"done.{code}: expected a date; got {when!r}.",
                code="schedule_done_not_date",
                field=f"done.{code}",
                visit=code,
                value=repr(when),
            )
        if when > today:
            raise ValidationError(
                f"done.{code}: {when.isoformat()} is after today ({today.isoformat()}); a visit "
                "cannot be done in the future.",
                code="schedule_done_future",
                field=f"done.{code}",
                visit=code,
                date=when.isoformat(),
                today=today.isoformat(),
            )
    if end_of_treatment is not None and end_of_treatment > today:
        raise ValidationError(
            f"end_of_treatment: {end_of_treatment.isoformat()} is after today "
            f"({today.isoformat()}); record it once treatment has ended.",
            code="schedule_end_of_treatment_future",
            field="end_of_treatment",
            date=end_of_treatment.isoformat(),
            today=today.isoformat(),
        )
    if horizon_days < 0:
        raise ValidationError(
            f"horizon_days: must be >= 0; got {horizon_days}.",
            code="schedule_horizon_negative",
            field="horizon_days",
            value=str(horizon_days),
        )
    marks = dict(marked or {})
    for code, mark in marks.items():
        if mark not in (VisitStatus.NOT_DONE, VisitStatus.NOT_APPLICABLE):
            raise ValidationError(
                f"marked.{code}: a visit is marked not_done or not_applicable; got {mark!r}.",
                code="schedule_mark_unknown",
                field=f"marked.{code}",
                visit=code,
                value=repr(mark),
            )
    # Records dated in the future are not evidence of anything yet.
    proofs = {k: sorted(d for d in dates if d <= today) for k, dates in (evidence or {}).items()}
    limit = today + dt.timedelta(days=horizon_days)
    plan = _plan(schedule, start, done_visits, end_of_treatment, limit)
    spans = _cycle_spans(plan, schedule)
    visits = []
    for p in sorted(plan, key=lambda p: p.target):  # stable: declaration order on a tie
        earliest = p.target - dt.timedelta(days=p.window.before)
        latest = p.target + dt.timedelta(days=p.window.after)
        done_on = done_visits.get(p.code)
        source = "visit" if done_on is not None else ""
        if done_on is None and p.screening and registered_on is not None:
            done_on, source = screening_on or registered_on, "screening"
        if done_on is None:
            attested = proofs.get(VISIT_EVIDENCE_PREFIX + p.code)
            if attested:
                done_on, source = attested[0], "forms"
        if done_on is None:
            for form in p.forms:
                found = _first_within(proofs.get(form, ()), earliest, latest)
                if found is not None and (done_on is None or found < done_on):
                    done_on, source = found, form
        recorded = []
        for form in p.forms:
            lo, hi = earliest, latest
            if form in per_cycle and p.cycle is not None and p.cycle in spans:
                lo, hi = spans[p.cycle]
            if _first_within(proofs.get(form, ()), lo, hi) is not None:
                recorded.append(form)
        if done_on is not None:
            status = (
                VisitStatus.DONE
                if source == "screening" or earliest <= done_on <= latest
                else VisitStatus.DONE_OUT_OF_WINDOW
            )
        elif p.code in marks:
            status = marks[p.code]
        elif today > latest:
            status = VisitStatus.OVERDUE
        elif today >= earliest:
            status = VisitStatus.DUE
        else:
            status = VisitStatus.UPCOMING
        if done_on is None and status is not VisitStatus.NOT_DONE:
            # Not expected: treatment visits after the end of treatment, anything after the
            # end of study.
            after_eot = (
                end_of_treatment is not None
                and p.kind in (VisitKind.CYCLE, VisitKind.IMAGING)
                and p.target > end_of_treatment
            )
            if after_eot or (off_study is not None and p.target > off_study):
                continue
        visits.append(
            ExpectedVisit(
                p.code,
                p.kind,
                p.target,
                earliest,
                latest,
                status,
                done_on,
                p.cycle,
                p.day,
                p.name,
                p.forms,
                p.procedures,
                source,
                tuple(recorded),
            )
        )
    known = {p.code for p in plan}
    unscheduled = tuple(
        sorted(((c, d) for c, d in done_visits.items() if c not in known), key=lambda item: item[1])
    )
    return PatientCalendar(start, today, end_of_treatment, tuple(visits), unscheduled)
