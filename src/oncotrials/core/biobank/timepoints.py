"""A specimen's timepoint relative to treatment, derived when read (never stored).

Day 1 is the first dose (SDTM RFXSTDTC; study day has no day 0, as in SDTMIG 4.4.4), cycle/day
labels follow the protocol's cycle length (C1D15 is day 15 of a 21-day cycle 1), and the
clinical context is baseline (before the first dose), on treatment, at progression (within a
window around the RECIST progression date) or post-progression.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class Context(StrEnum):
    BASELINE = "baseline"
    ON_TREATMENT = "on_treatment"
    AT_PROGRESSION = "at_progression"
    POST_PROGRESSION = "post_progression"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Timepoint:
    context: Context
    study_day: int | None  # 1 = first dose; negative before it; never 0
    label: str  # "Baseline (D-3)", "C1D15", "Progression (D+120)", "Unknown"

    @property
    def genomics_timepoint(self) -> str:
        """The genomic sample timepoint vocabulary (baseline / on_treatment / progression)."""
        return {
            Context.BASELINE: "baseline",
            Context.ON_TREATMENT: "on_treatment",
            Context.AT_PROGRESSION: "progression",
            Context.POST_PROGRESSION: "progression",
        }.get(self.context, "unknown")


def study_day(on: dt.date, first_dose: dt.date) -> int:
    """SDTM study day: date − first dose + 1 on or after it, date − first dose before it."""
    delta = (on - first_dose).days
    return delta + 1 if delta >= 0 else delta


def derive_timepoint(
    collected_on: dt.date | None,
    *,
    first_dose: dt.date | None,
    progression_on: dt.date | None = None,
    cycle_days: int | None = 21,
    progression_window_days: int = 28,
) -> Timepoint:
    """Timepoint of a specimen collected on ``collected_on``.

    ``progression_on`` is the RECIST progression date; a specimen collected within
    ``progression_window_days`` of it (either side, and on or after the first dose) is "at
    progression", later ones are "post-progression". ``cycle_days=None`` says the cycle length is
    not known (the protocol's schedule cannot be read): an on-treatment specimen is then labelled
    by its study day only ("D15"), never by a guessed cycle.
    """
    if cycle_days is not None and cycle_days < 1:
        raise ValueError(f"cycle_days must be at least 1; got {cycle_days}.")
    if collected_on is None or first_dose is None:
        return Timepoint(Context.UNKNOWN, None, "Unknown")
    day = study_day(collected_on, first_dose)
    if progression_on is not None and day >= 1:
        offset = (collected_on - progression_on).days
        if abs(offset) <= progression_window_days:
            return Timepoint(Context.AT_PROGRESSION, day, f"Progression (D{day})")
        if offset > progression_window_days:
            return Timepoint(Context.POST_PROGRESSION, day, f"Post-progression (D{day})")
    if day < 1:
        return Timepoint(Context.BASELINE, day, f"Baseline (D{day})")
    if cycle_days is None:
        return Timepoint(Context.ON_TREATMENT, day, f"D{day}")
    cycle, cday = divmod(day - 1, cycle_days)
    return Timepoint(Context.ON_TREATMENT, day, f"C{cycle + 1}D{cday + 1}")
