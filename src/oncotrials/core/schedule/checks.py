"""Rules a visit schedule must follow, reported as problems with stable codes.

The web layer turns each problem into a start-up system check (``oncotrials.E001`` and so on);
the CLI prints them. Codes never change meaning; new rules get new codes.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from oncotrials.core.schedule.io import build_schedule, schema_faults
from oncotrials.core.schedule.model import Procedure, Reference, VisitSchedule, Window

#: every problem code and what it means (errors ``E``, warnings ``W``)
PROBLEM_CODES: dict[str, str] = {
    "E001": "a visit lists a form that is not a known CRF form",
    "E002": "two visits share a code",
    "E003": "a window has a negative number of days",
    "E004": "the windows of two consecutive visits overlap, so a date cannot be told apart",
    "E005": "a cycle day lies outside the cycle (before day 1 or after the cycle length)",
    "E006": "the document does not match the format (JSON Schema)",
    "E007": "a cycle day is restricted to a cycle number that does not exist",
    "E008": "follow-up is declared without an end-of-treatment visit to count from",
    "E009": "the same cycle day is declared twice",
    "E010": "the reference is C1D1 but C1D1 is offset from it",
    "W001": "a visit has neither forms nor procedures",
    "W002": "the imaging interval is not a whole number of cycles",
}

Level = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: stable ``code``, ``message`` naming the visit, JSON ``path``.

    ``params`` holds the values the message names, so that an app can word the problem in the
    user's language from its code.
    """

    code: str
    message: str
    path: str
    visit: str | None = None
    params: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def level(self) -> Level:
        return "warning" if self.code.startswith("W") else "error"

    @property
    def is_error(self) -> bool:
        return self.level == "error"


@dataclass(frozen=True, slots=True)
class _Declared:
    """A declared visit (or cycle day) with the parts every rule reads."""

    label: str
    path: str
    windows: tuple[tuple[str, Window], ...]
    forms: tuple[str, ...]
    procedures: tuple[Procedure, ...]


def _declared(schedule: VisitSchedule) -> Iterator[_Declared]:
    for i, v in enumerate(schedule.visits):
        yield _Declared(v.code, f"$.visits[{i}]", (("window", v.window),), v.forms, v.procedures)
    if schedule.cycles is not None:
        for i, d in enumerate(schedule.cycles.days):
            windows: tuple[tuple[str, Window], ...] = (("window", d.window),)
            if d.first_cycle_window is not None:
                windows += (("first_cycle_window", d.first_cycle_window),)
            yield _Declared(d.label, f"$.cycles.days[{i}]", windows, d.forms, d.procedures)
    if schedule.imaging is not None:
        im = schedule.imaging
        label = f"{im.code}n"
        yield _Declared(label, "$.imaging", (("window", im.window),), im.forms, im.procedures)
    if schedule.end_of_treatment is not None:
        e = schedule.end_of_treatment
        yield _Declared(
            e.code, "$.end_of_treatment", (("window", e.window),), e.forms, e.procedures
        )
    if schedule.follow_up is not None:
        f = schedule.follow_up
        label = f"{f.code}n"
        yield _Declared(label, "$.follow_up", (("window", f.window),), f.forms, f.procedures)


def _codes(schedule: VisitSchedule) -> Iterator[tuple[str, str]]:
    """Every concrete visit code the schedule can produce, with the path that declares it."""
    for i, v in enumerate(schedule.visits):
        yield v.code, f"$.visits[{i}].code"
    if schedule.cycles is not None:
        c = schedule.cycles
        for i, d in enumerate(c.days):
            cycles = d.only_cycles if d.only_cycles is not None else range(1, c.last_cycle + 1)
            for n in sorted(set(cycles)):
                if 1 <= n <= c.last_cycle:
                    yield f"C{n}D{d.day}", f"$.cycles.days[{i}]"
    if schedule.imaging is not None:
        last = schedule.imaging.count or 200
        for n in range(1, last + 1):
            yield f"{schedule.imaging.code}{n}", "$.imaging.code"
    if schedule.end_of_treatment is not None:
        yield schedule.end_of_treatment.code, "$.end_of_treatment.code"
    if schedule.follow_up is not None:
        last = schedule.follow_up.count or 200
        for n in range(1, last + 1):
            yield f"{schedule.follow_up.code}{n}", "$.follow_up.code"


def _overlaps(schedule: VisitSchedule) -> Iterator[Problem]:
    """Consecutive visits of the main sequence (one-off visits and the first cycles' days)."""
    items: list[tuple[int, int, int, str, str]] = []  # target, earliest, latest, label, path
    for i, v in enumerate(schedule.visits):
        items.append(
            (
                v.offset_days,
                v.offset_days - v.window.before,
                v.offset_days + v.window.after,
                v.code,
                f"$.visits[{i}].window",
            )
        )
    if schedule.cycles is not None:
        c = schedule.cycles
        for n in range(1, min(c.last_cycle, 3) + 1):
            start = c.start_offset_days + (n - 1) * c.length_days
            for i, d in enumerate(c.days):
                if not d.in_cycle(n) or not 1 <= d.day <= c.length_days:
                    continue
                w = d.window_in(n)
                target = start + d.day - 1
                which = "first_cycle_window" if n == 1 and d.first_cycle_window else "window"
                items.append(
                    (
                        target,
                        target - w.before,
                        target + w.after,
                        f"C{n}D{d.day}",
                        f"$.cycles.days[{i}].{which}",
                    )
                )
    items.sort()
    seen: set[tuple[str, str]] = set()
    for (t1, _, late1, label1, path1), (t2, early2, _, label2, path2) in itertools.pairwise(items):
        if t1 == t2 and label1 == label2:
            continue
        if late1 >= early2:
            key = (path1, path2)  # one report per pair of declarations, not per cycle
            if key in seen:
                continue
            seen.add(key)
            yield Problem(
                "E004",
                f"Visits {label1} and {label2} have overlapping windows (day {late1} is the last "
                f"day for {label1}, day {early2} the first for {label2}); narrow a window so "
                "every date belongs to one visit.",
                path2,
                label2,
                {
                    "first": label1,
                    "second": label2,
                    "last_day": str(late1),
                    "first_day": str(early2),
                },
            )


def check_schedule(
    schedule: VisitSchedule, *, known_forms: Collection[str] | None = None
) -> list[Problem]:
    """Every rule the schedule breaks, errors and warnings, in declaration order.

    ``known_forms``: the CRF form names that exist; ``None`` skips the form check (E001).
    """
    problems: list[Problem] = []
    declared = list(_declared(schedule))
    for item in declared:
        for window_field, window in item.windows:
            for side in ("before", "after"):
                value = getattr(window, side)
                if value < 0:
                    problems.append(
                        Problem(
                            "E003",
                            f"Visit {item.label} has a negative window: {window_field}.{side} is "
                            f"{value}; give the number of days allowed {side} the target (>= 0).",
                            f"{item.path}.{window_field}.{side}",
                            item.label,
                            {
                                "reason": f"E003_{side}",
                                "visit": item.label,
                                "field": window_field,
                                "value": str(value),
                            },
                        )
                    )
        if known_forms is not None:
            for j, form in enumerate(item.forms):
                if form not in known_forms:
                    problems.append(
                        Problem(
                            "E001",
                            f"Visit {item.label} lists an unknown form {form!r}.",
                            f"{item.path}.forms[{j}]",
                            item.label,
                            {"visit": item.label, "form": repr(form)},
                        )
                    )
        if not item.forms and not item.procedures:
            problems.append(
                Problem(
                    "W001",
                    f"Visit {item.label} has neither forms nor procedures.",
                    item.path,
                    item.label,
                    {"visit": item.label},
                )
            )

    first_seen: dict[str, str] = {}
    reported: set[str] = set()
    for code, path in _codes(schedule):
        earlier = first_seen.get(code)
        if earlier is not None and earlier.startswith("$.cycles") and path.startswith("$.cycles"):
            continue  # a cycle day declared twice is E009
        if earlier is not None and code not in reported:
            reported.add(code)
            problems.append(
                Problem(
                    "E002",
                    f"Visit code {code!r} is used twice ({first_seen[code]} and {path}); "
                    "every visit needs its own code.",
                    path,
                    code,
                    {"visit": repr(code), "first": first_seen[code], "second": path},
                )
            )
        first_seen.setdefault(code, path)

    cycles = schedule.cycles
    if cycles is not None:
        days_seen: dict[int, int] = {}
        for i, d in enumerate(cycles.days):
            if not 1 <= d.day <= cycles.length_days:
                problems.append(
                    Problem(
                        "E005",
                        f"Visit {d.label} is on day {d.day} of a {cycles.length_days}-day cycle; "
                        f"cycle days run from 1 to {cycles.length_days}.",
                        f"$.cycles.days[{i}].day",
                        d.label,
                        {
                            "visit": d.label,
                            "day": str(d.day),
                            "length": str(cycles.length_days),
                        },
                    )
                )
            for n in d.only_cycles or ():
                if n < 1 or n > cycles.last_cycle:
                    problems.append(
                        Problem(
                            "E007",
                            f"Visit {d.label} is restricted to cycle {n}, but cycles run from 1 "
                            f"to {cycles.last_cycle}.",
                            f"$.cycles.days[{i}].only_cycles",
                            d.label,
                            {"visit": d.label, "cycle": str(n), "last": str(cycles.last_cycle)},
                        )
                    )
            if d.day in days_seen and _same_cycles(
                cycles.days[days_seen[d.day]].only_cycles, d.only_cycles
            ):
                problems.append(
                    Problem(
                        "E009",
                        f"Cycle day {d.day} is declared twice (days[{days_seen[d.day]}] and "
                        f"days[{i}]); merge their forms and procedures.",
                        f"$.cycles.days[{i}].day",
                        d.label,
                        {"day": str(d.day), "first": str(days_seen[d.day]), "second": str(i)},
                    )
                )
            days_seen.setdefault(d.day, i)
        if schedule.reference is Reference.C1D1 and cycles.start_offset_days != 0:
            problems.append(
                Problem(
                    "E010",
                    f"The reference is C1D1 but cycles.start_offset_days is "
                    f"{cycles.start_offset_days}; use 0, or make registration the reference.",
                    "$.cycles.start_offset_days",
                    "C1D1",
                    {"offset": str(cycles.start_offset_days)},
                )
            )
        if schedule.imaging is not None and (7 * schedule.imaging.every_weeks) % cycles.length_days:
            problems.append(
                Problem(
                    "W002",
                    f"Imaging every {schedule.imaging.every_weeks} weeks is not a whole number of "
                    f"{cycles.length_days}-day cycles, so scans will not fall on cycle visits.",
                    "$.imaging.every_weeks",
                    f"{schedule.imaging.code}n",
                    {
                        "weeks": str(schedule.imaging.every_weeks),
                        "length": str(cycles.length_days),
                    },
                )
            )
    if schedule.follow_up is not None and schedule.end_of_treatment is None:
        problems.append(
            Problem(
                "E008",
                "Follow-up is declared but there is no end_of_treatment visit; follow-up counts "
                "from the end-of-treatment date, so declare end_of_treatment.",
                "$.follow_up",
                f"{schedule.follow_up.code}n",
            )
        )
    problems.extend(_overlaps(schedule))
    return problems


def _same_cycles(a: tuple[int, ...] | None, b: tuple[int, ...] | None) -> bool:
    if a is None or b is None:
        return True
    return bool(set(a) & set(b))


def check_schedule_document(
    data: Any, *, known_forms: Collection[str] | None = None
) -> list[Problem]:
    """Check a parsed YAML/JSON document: structural faults (E006), or else every rule."""
    faults = schema_faults(data)
    if faults:
        return [
            Problem(
                "E006",
                f"{path}: {message}. See docs/formats/visit-schedule.md.",
                path,
                params={"path": path, "problem": message, "doc": "docs/formats/visit-schedule.md"},
            )
            for path, message in faults
        ]
    return check_schedule(build_schedule(data), known_forms=known_forms)
