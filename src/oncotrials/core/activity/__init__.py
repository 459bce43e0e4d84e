"""Activity reports of an early-phase unit (screened, included, delays, occupancy, share of
patients in studies with its stated denominator).

>>> from oncotrials.core.activity import activity_report
"""

from __future__ import annotations

from .report import (
    DENOMINATORS,
    ActivityReport,
    Delay,
    InclusionRow,
    OccupancyRow,
    PatientRow,
    ScreeningRow,
    SlotRow,
    activity_report,
)

__all__ = [
    "DENOMINATORS",
    "ActivityReport",
    "Delay",
    "InclusionRow",
    "OccupancyRow",
    "PatientRow",
    "ScreeningRow",
    "SlotRow",
    "activity_report",
]
