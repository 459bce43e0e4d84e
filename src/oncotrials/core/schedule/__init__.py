"""Visit schedules: typed declarations, rule checks with stable codes, and patient calendars.

>>> import datetime as dt
>>> from oncotrials.core.schedule import CycleDay, CycleSpec, VisitSchedule, Window, patient_calendar
>>> schedule = VisitSchedule(
...     trial="T1",
...     cycles=CycleSpec(length_days=21, count=2, days=(CycleDay(1, Window(0, 1)), CycleDay(8))),
... )
>>> cal = patient_calendar(schedule, start=dt.date(2026, 1, 5), today=dt.date(2026, 1, 12))
>>> [(v.code, v.target.isoformat(), v.status.value) for v in cal.visits][:2]
[('C1D1', '2026-01-05', 'overdue'), ('C1D8', '2026-01-12', 'due')]
"""

from __future__ import annotations

from oncotrials.core.schedule.calendar import (
    CLOSED_STATUSES,
    DONE_STATUSES,
    VISIT_EVIDENCE_PREFIX,
    ExpectedVisit,
    PatientCalendar,
    VisitStatus,
    add_months,
    patient_calendar,
)
from oncotrials.core.schedule.checks import (
    PROBLEM_CODES,
    Problem,
    check_schedule,
    check_schedule_document,
)
from oncotrials.core.schedule.io import (
    build_schedule,
    load_schedule,
    read_schedule_file,
    visit_schedule_schema,
)
from oncotrials.core.schedule.model import (
    CycleDay,
    CycleSpec,
    EndOfTreatmentSpec,
    FollowUpSpec,
    ImagingSpec,
    Procedure,
    Reference,
    VisitKind,
    VisitSchedule,
    VisitSpec,
    Window,
)

__all__ = [
    "CLOSED_STATUSES",
    "DONE_STATUSES",
    "PROBLEM_CODES",
    "VISIT_EVIDENCE_PREFIX",
    "CycleDay",
    "CycleSpec",
    "EndOfTreatmentSpec",
    "ExpectedVisit",
    "FollowUpSpec",
    "ImagingSpec",
    "PatientCalendar",
    "Problem",
    "Procedure",
    "Reference",
    "VisitKind",
    "VisitSchedule",
    "VisitSpec",
    "VisitStatus",
    "Window",
    "add_months",
    "build_schedule",
    "check_schedule",
    "check_schedule_document",
    "load_schedule",
    "patient_calendar",
    "read_schedule_file",
    "visit_schedule_schema",
]
