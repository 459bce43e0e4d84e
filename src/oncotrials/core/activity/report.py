"""The activity report of an early-phase unit: plain aggregates over dated events.

The app selects the rows (what the user may see, the year asked for) and passes them here as
plain tuples; every figure carries its definition (reference notes §4.1: a KPI is a count over
timestamped events, and "the share of patients in trials" means nothing without its denominator).

Definitions:

- *screened*: screening episodes started in the year; *included*: registrations dated in the
  year; both by the trial's phase, the patient's site and the trial;
- *screen failures*: closed screening episodes of the year with the outcome "failed", by reason;
- *delays* (calendar days): referral → consent, consent → C1D1 (the screening duration) and
  referral → C1D1, for patients whose C1D1 falls in the year; median and interquartile range
  (quartiles by linear interpolation, numpy's default);
- *slot turnaround*: days from a slot booking to its confirmation, for bookings of the year;
- *occupancy*: booked ÷ available hours per unit (chairs, beds) over the year's bookings;
- *share in a study*: patients with an inclusion in the year ÷ the denominator the user chose:
  ``new_patients`` (patients referred to the unit in the year) or ``treated`` (all patients the
  unit treated in the year, a figure the user gives from the hospital's records).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from oncotrials.core.errors import ValidationError


@dataclass(frozen=True, slots=True)
class ScreeningRow:
    patient: int
    trial: str
    phase: str
    site: str
    started_on: dt.date
    outcome: str  # "ongoing", "eligible", "failed", ...
    failure_reason: str
    closed_on: dt.date | None


@dataclass(frozen=True, slots=True)
class InclusionRow:
    patient: int
    trial: str
    phase: str
    site: str
    registered_on: dt.date
    c1d1: dt.date | None
    referral_on: dt.date | None
    consent_on: dt.date | None


@dataclass(frozen=True, slots=True)
class PatientRow:
    patient: int
    site: str
    referral_on: dt.date


@dataclass(frozen=True, slots=True)
class SlotRow:
    booked_on: dt.date
    confirmed_on: dt.date | None


@dataclass(frozen=True, slots=True)
class OccupancyRow:
    unit: str  # "chair" or "bed"
    available_hours: float
    booked_hours: float


DENOMINATORS = {
    "new_patients": "new patients referred to the unit in the year",
    "treated": "all patients the unit treated in the year (figure given by the user)",
}


@dataclass(frozen=True, slots=True)
class Delay:
    name: str
    n: int
    median: float | None
    q1: float | None
    q3: float | None


@dataclass(frozen=True)
class ActivityReport:
    year: int
    by_phase: list[tuple[str, int, int]]  # phase, screened, included
    by_site: list[tuple[str, int, int]]
    by_trial: list[tuple[str, str, int, int]]  # trial, phase, screened, included
    screen_failures: list[tuple[str, int, float]]  # reason, count, share of failures
    screen_failure_rate: float | None  # failed ÷ closed screenings
    delays: list[Delay]
    slot_turnaround: Delay
    occupancy: list[tuple[str, float, float, float | None]]  # unit, available, booked, share
    share_numerator: int
    share_denominator: int | None
    share_definition: str
    definitions: dict[str, str] = field(default_factory=dict)

    @property
    def share(self) -> float | None:
        if not self.share_denominator:
            return None
        return self.share_numerator / self.share_denominator

    def tables(self) -> dict[str, tuple[list[str], list[list[Any]]]]:
        """Every table as (header, rows), for CSV, Excel and JSON."""
        d = [*self.delays, self.slot_turnaround]
        share = self.share
        return {
            "by_phase": (["phase", "screened", "included"], [list(r) for r in self.by_phase]),
            "by_site": (["site", "screened", "included"], [list(r) for r in self.by_site]),
            "by_trial": (
                ["trial", "phase", "screened", "included"],
                [list(r) for r in self.by_trial],
            ),
            "screen_failures": (
                ["reason", "count", "share"],
                [[r, n, round(s, 4)] for r, n, s in self.screen_failures],
            ),
            "delays": (
                ["delay", "n", "median_days", "q1_days", "q3_days"],
                [[x.name, x.n, x.median, x.q1, x.q3] for x in d],
            ),
            "occupancy": (
                ["unit", "available_hours", "booked_hours", "utilisation"],
                [[u, a, b, None if s is None else round(s, 4)] for u, a, b, s in self.occupancy],
            ),
            "share_in_study": (
                ["numerator", "denominator", "share", "definition"],
                [
                    [
                        self.share_numerator,
                        self.share_denominator,
                        None if share is None else round(share, 4),
                        self.share_definition,
                    ]
                ],
            ),
        }


def _quartiles(values: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")  # numpy's "linear"
    return q[1], q[0], q[2]


def _delay(name: str, values: Iterable[int]) -> Delay:
    v = sorted(float(x) for x in values)
    med, q1, q3 = _quartiles(v)
    return Delay(name, len(v), med, q1, q3)


def activity_report(
    *,
    year: int,
    screenings: Iterable[ScreeningRow],
    inclusions: Iterable[InclusionRow],
    patients: Iterable[PatientRow],
    slots: Iterable[SlotRow] = (),
    occupancy: Iterable[OccupancyRow] = (),
    denominator: str = "new_patients",
    treated_total: int | None = None,
    failure_labels: Mapping[str, str] | None = None,
) -> ActivityReport:
    if denominator not in DENOMINATORS:
        raise ValidationError(
            f"The denominator must be one of {', '.join(DENOMINATORS)}; got {denominator!r}.",
            field="denominator",
        )
    if denominator == "treated" and (treated_total is None or treated_total <= 0):
        raise ValidationError(
            "With the denominator 'treated', give the number of patients the unit treated in "
            "the year (a positive whole number).",
            field="treated_total",
        )
    labels = failure_labels or {}

    def in_year(d: dt.date | None) -> bool:
        return d is not None and d.year == year

    screened: dict[str, Counter[str]] = {"phase": Counter(), "site": Counter(), "trial": Counter()}
    included: dict[str, Counter[str]] = {"phase": Counter(), "site": Counter(), "trial": Counter()}
    phase_of: dict[str, str] = {}
    failures: Counter[str] = Counter()
    closed = 0
    for s in screenings:
        phase_of[s.trial] = s.phase
        if in_year(s.started_on):
            screened["phase"][s.phase] += 1
            screened["site"][s.site] += 1
            screened["trial"][s.trial] += 1
        if in_year(s.closed_on) and s.outcome not in ("ongoing", "pending", ""):
            closed += 1
            if s.outcome == "failed":
                failures[labels.get(s.failure_reason, s.failure_reason or "not given")] += 1
    waits: dict[str, list[int]] = defaultdict(list)
    included_patients: set[int] = set()
    for r in inclusions:
        phase_of[r.trial] = r.phase
        if in_year(r.registered_on):
            included["phase"][r.phase] += 1
            included["site"][r.site] += 1
            included["trial"][r.trial] += 1
            included_patients.add(r.patient)
        if in_year(r.c1d1):
            assert r.c1d1 is not None
            if r.referral_on is not None and r.consent_on is not None:
                waits["referral → consent"].append((r.consent_on - r.referral_on).days)
            if r.consent_on is not None:
                waits["consent → C1D1"].append((r.c1d1 - r.consent_on).days)
            if r.referral_on is not None:
                waits["referral → C1D1"].append((r.c1d1 - r.referral_on).days)
    new_patients = sum(1 for p in patients if in_year(p.referral_on))

    def table(key: str) -> list[tuple[str, int, int]]:
        names = sorted(set(screened[key]) | set(included[key]))
        return [(n, screened[key][n], included[key][n]) for n in names]

    trials = sorted(set(screened["trial"]) | set(included["trial"]))
    total_failed = sum(failures.values())
    occ = []
    per_unit: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for o in occupancy:
        per_unit[o.unit][0] += o.available_hours
        per_unit[o.unit][1] += o.booked_hours
    for unit, (avail, booked) in sorted(per_unit.items()):
        occ.append((unit, round(avail, 2), round(booked, 2), booked / avail if avail else None))
    denominator_value = new_patients if denominator == "new_patients" else treated_total
    return ActivityReport(
        year=year,
        by_phase=table("phase"),
        by_site=table("site"),
        by_trial=[
            (t, phase_of.get(t, ""), screened["trial"][t], included["trial"][t]) for t in trials
        ],
        screen_failures=[
            (reason, n, n / total_failed) for reason, n in sorted(failures.items(), key=_by_count)
        ],
        screen_failure_rate=total_failed / closed if closed else None,
        delays=[
            _delay(name, waits[name])
            for name in ("referral → consent", "consent → C1D1", "referral → C1D1")
        ],
        slot_turnaround=_delay(
            "slot booked → confirmed",
            (
                (s.confirmed_on - s.booked_on).days
                for s in slots
                if in_year(s.booked_on) and s.confirmed_on is not None
            ),
        ),
        occupancy=occ,
        share_numerator=len(included_patients),
        share_denominator=denominator_value,
        share_definition=(
            f"patients with at least one inclusion in a study in {year} ÷ "
            f"{DENOMINATORS[denominator]}"
        ),
        definitions={
            "screened": "screening episodes started in the year",
            "included": "registrations dated in the year",
            "screen_failure_rate": "screenings closed as failed ÷ screenings closed in the year",
            "delays": "calendar days, for patients whose C1D1 falls in the year; median (IQR)",
            "slot_turnaround": "days from a slot booking to its confirmation",
            "occupancy": "booked ÷ available hours of the unit's chairs and beds",
        },
    )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
