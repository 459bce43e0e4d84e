"""A patient's calendar: the visits expected from the schedule, with target dates and status.

Pure date arithmetic on a declared :class:`~oncotrials.core.schedule.model.VisitSchedule`, the
reference date, the visits done so far and today's date: no database, no clock.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import enum
import re
from collections.abc import Mapping
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


def patient_calendar(
    schedule: VisitSchedule,
    *,
    start: dt.date,
    today: dt.date,
    done: Mapping[str, dt.date] | None = None,
    end_of_treatment: dt.date | None = None,
    horizon_days: int = 90,
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
        The end-of-treatment date, if treatment has ended: cycles and imaging due after it are
        dropped, and the end-of-treatment and follow-up visits are expected from it.
    horizon_days
        How far past today open-ended series (cycles until end of treatment, imaging, follow-up
        without a count) are listed.
    """
    done_visits = dict(done or {})
    for code, when in done_visits.items():
        if not isinstance(when, dt.date) or isinstance(when, dt.datetime):
            raise ValidationError(
                f"done.{code}: expected a date; got {when!r}.", field=f"done.{code}"
            )
        if when > today:
            raise ValidationError(
                f"done.{code}: {when.isoformat()} is after today ({today.isoformat()}); a visit "
                "cannot be done in the future.",
                field=f"done.{code}",
            )
    if end_of_treatment is not None and end_of_treatment > today:
        raise ValidationError(
            f"end_of_treatment: {end_of_treatment.isoformat()} is after today "
            f"({today.isoformat()}); record it once treatment has ended.",
            field="end_of_treatment",
        )
    if horizon_days < 0:
        raise ValidationError(
            f"horizon_days: must be >= 0; got {horizon_days}.", field="horizon_days"
        )
    limit = today + dt.timedelta(days=horizon_days)
    plan = _plan(schedule, start, done_visits, end_of_treatment, limit)
    visits = []
    for p in sorted(plan, key=lambda p: p.target):  # stable: declaration order on a tie
        earliest = p.target - dt.timedelta(days=p.window.before)
        latest = p.target + dt.timedelta(days=p.window.after)
        done_on = done_visits.get(p.code)
        if done_on is not None:
            status = (
                VisitStatus.DONE
                if earliest <= done_on <= latest
                else VisitStatus.DONE_OUT_OF_WINDOW
            )
        elif today > latest:
            status = VisitStatus.OVERDUE
        elif today >= earliest:
            status = VisitStatus.DUE
        else:
            status = VisitStatus.UPCOMING
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
            )
        )
    known = {p.code for p in plan}
    unscheduled = tuple(
        sorted(((c, d) for c, d in done_visits.items() if c not in known), key=lambda item: item[1])
    )
    return PatientCalendar(start, today, end_of_treatment, tuple(visits), unscheduled)
