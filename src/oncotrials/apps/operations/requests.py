"""Care requests derived from a visit of a patient's calendar: which unit, how long, when the
samples are taken and how much it weighs.

A visit needs the day unit when it doses or samples: dosing alone is a standard chair visit;
a PK profile whose last sample fits in the unit's day is a PK-intensive chair visit; a profile
with samples beyond the day (12 h, 24 h) is a ward stay. A sampling-only visit (a trough) is a
short chair visit. Visits of the first cycle (the DLT period) and PK visits weigh 3 (reference
notes §1.3: "w = 3 for DLT-period and PK-intensive visits"), others 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

STANDARD_MIN = 120
SHORT_MIN = 30
PRE_MIN = 30  # labs and consultation before the "go"
PREP_MIN = 45  # pharmacy preparation
SETUP_MIN = 15
BED_DOSE_AT_MIN = 60
_TIMEPOINT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(h|hr|hours?|min|m|d|days?)\s*(post[- ]?dose)?\s*$")


def timepoint_minutes(text: str) -> int | None:
    """Minutes after the dose of a PK timepoint: "pre-dose" → 0, "1h" → 60, "30min" → 30,
    "1d" → 1440; None for a text that names no time."""
    t = text.strip().lower()
    if t in ("pre-dose", "predose", "pre dose", "trough", "eoi", "end of infusion"):
        return 0
    m = _TIMEPOINT.match(t)
    if m is None:
        return None
    value, unit = float(m.group(1)), m.group(2)
    factor = 60 if unit.startswith("h") else 1440 if unit.startswith("d") else 1
    return round(value * factor)


@dataclass(frozen=True, slots=True)
class Need:
    unit: str  # "chair" or "bed"
    kind: str
    duration_min: int
    pre_min: int
    prep_min: int
    setup_min: int
    dose_at_min: int
    sample_offsets: tuple[int, ...]
    weight: int


def need_of(procedures: Any, *, cycle: int | None, day_minutes: int) -> Need | None:
    """What a visit with these procedures needs, or None when it needs no chair or bed."""
    types = {p.type for p in procedures}
    offsets = sorted(
        {
            m
            for p in procedures
            if p.type == "pk"
            for tp in p.timepoints
            if (m := timepoint_minutes(tp)) is not None
        }
    )
    dosing = "dosing" in types
    if not dosing and not offsets:
        return None
    pk = len(offsets) >= 2
    weight = 3 if cycle == 1 or pk else 1
    prep = PREP_MIN if dosing else 0
    last = offsets[-1] if offsets else 0
    if dosing and PRE_MIN + prep + last + 30 > day_minutes:
        return Need(
            "bed",
            "pk24" if last <= 1440 else "pk_long",
            BED_DOSE_AT_MIN + last + 60,
            0,
            prep,
            0,
            BED_DOSE_AT_MIN,
            tuple(BED_DOSE_AT_MIN + o for o in offsets),
            3,
        )
    if dosing:
        duration = max(STANDARD_MIN, last + 30)
        kind = "pk_full" if pk else "standard"
        return Need("chair", kind, duration, PRE_MIN, prep, SETUP_MIN, 0, tuple(offsets), weight)
    short = max(SHORT_MIN, last + 15)
    return Need("chair", "short", short, 0, 0, SETUP_MIN, 0, tuple(offsets), weight)
