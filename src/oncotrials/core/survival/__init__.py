"""Survival endpoints: PFS, OS and duration of response from dated events; Kaplan-Meier.

>>> from oncotrials.core.survival import derive_pfs, kaplan_meier
"""

from __future__ import annotations

from oncotrials.core.survival.endpoints import (
    EndpointTime,
    PfsRules,
    derive_dor,
    derive_os,
    derive_pfs,
)
from oncotrials.core.survival.km import KaplanMeierResult, SurvivalAt, kaplan_meier

__all__ = [
    "EndpointTime",
    "KaplanMeierResult",
    "PfsRules",
    "SurvivalAt",
    "derive_dor",
    "derive_os",
    "derive_pfs",
    "kaplan_meier",
]
