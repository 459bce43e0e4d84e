"""RECIST 1.1 and iRECIST: lesion selection, time-point response, best overall response.

>>> from oncotrials.core.recist import evaluate_recist, evaluate_irecist
"""

from __future__ import annotations

from oncotrials.core.recist.baseline import (
    Measurability,
    Selection,
    measurability,
    select_targets,
)
from oncotrials.core.recist.evaluate import evaluate_recist
from oncotrials.core.recist.irecist import evaluate_irecist
from oncotrials.core.recist.model import (
    Assessment,
    Baseline,
    BaselineLesion,
    BestOverallResponse,
    IRecistOptions,
    IRecistResult,
    IResponse,
    ITimepointResult,
    LesionKind,
    LesionObservation,
    LesionRole,
    LesionStatus,
    Method,
    NewLesion,
    PatientRecord,
    RecistOptions,
    RecistResult,
    Response,
    TimepointResult,
)

__all__ = [
    "Assessment",
    "Baseline",
    "BaselineLesion",
    "BestOverallResponse",
    "IRecistOptions",
    "IRecistResult",
    "IResponse",
    "ITimepointResult",
    "LesionKind",
    "LesionObservation",
    "LesionRole",
    "LesionStatus",
    "Measurability",
    "Method",
    "NewLesion",
    "PatientRecord",
    "RecistOptions",
    "RecistResult",
    "Response",
    "Selection",
    "TimepointResult",
    "evaluate_irecist",
    "evaluate_recist",
    "measurability",
    "select_targets",
]
