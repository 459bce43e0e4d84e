"""Adverse-event grading: CTCAE lab grading and term catalogue, ASTCT CRS/ICANS, DLT rules.

>>> from oncotrials.core.grading import grade_lab
>>> grade_lab("ANC", "0.7", "10^9/L").grade
3
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from oncotrials.core.grading.astct import (
        AstctGrade,
        Consciousness,
        CrsAssessment,
        IcansAssessment,
        IceItems,
        MotorFindings,
        OxygenDevice,
        RaisedIcp,
        Seizure,
        grade_assessments,
        grade_crs,
        grade_icans,
        ice_score,
    )
    from oncotrials.core.grading.catalogue import CtcaeCatalogue, CtcaeTerm, load_catalogue
    from oncotrials.core.grading.ctcae import ANALYTES, LabGrade, criteria_for, grade_lab
    from oncotrials.core.grading.dlt import (
        DltRules,
        EventDecision,
        Outcome,
        SubjectDecision,
        dlt_rules_from_dict,
        evaluate_file,
        evaluate_subject,
        load_dlt_rules,
        subjects_from_dict,
    )
    from oncotrials.core.grading.labs import (
        LabBatch,
        LabRowError,
        LabRowGrade,
        grade_lab_batch,
        grade_lab_csv,
        grade_lab_file,
    )

# Imported on first use (PEP 562): the DLT rules need jsonschema and YAML, which grading one
# lab value or one CRS assessment does not.
_EXPORTS: dict[str, str] = {
    "AstctGrade": "oncotrials.core.grading.astct",
    "Consciousness": "oncotrials.core.grading.astct",
    "CrsAssessment": "oncotrials.core.grading.astct",
    "IcansAssessment": "oncotrials.core.grading.astct",
    "IceItems": "oncotrials.core.grading.astct",
    "MotorFindings": "oncotrials.core.grading.astct",
    "OxygenDevice": "oncotrials.core.grading.astct",
    "RaisedIcp": "oncotrials.core.grading.astct",
    "Seizure": "oncotrials.core.grading.astct",
    "grade_assessments": "oncotrials.core.grading.astct",
    "grade_crs": "oncotrials.core.grading.astct",
    "grade_icans": "oncotrials.core.grading.astct",
    "ice_score": "oncotrials.core.grading.astct",
    "CtcaeCatalogue": "oncotrials.core.grading.catalogue",
    "CtcaeTerm": "oncotrials.core.grading.catalogue",
    "load_catalogue": "oncotrials.core.grading.catalogue",
    "ANALYTES": "oncotrials.core.grading.ctcae",
    "LabGrade": "oncotrials.core.grading.ctcae",
    "criteria_for": "oncotrials.core.grading.ctcae",
    "grade_lab": "oncotrials.core.grading.ctcae",
    "DltRules": "oncotrials.core.grading.dlt",
    "EventDecision": "oncotrials.core.grading.dlt",
    "Outcome": "oncotrials.core.grading.dlt",
    "SubjectDecision": "oncotrials.core.grading.dlt",
    "dlt_rules_from_dict": "oncotrials.core.grading.dlt",
    "evaluate_file": "oncotrials.core.grading.dlt",
    "evaluate_subject": "oncotrials.core.grading.dlt",
    "load_dlt_rules": "oncotrials.core.grading.dlt",
    "subjects_from_dict": "oncotrials.core.grading.dlt",
    "LabBatch": "oncotrials.core.grading.labs",
    "LabRowError": "oncotrials.core.grading.labs",
    "LabRowGrade": "oncotrials.core.grading.labs",
    "grade_lab_batch": "oncotrials.core.grading.labs",
    "grade_lab_csv": "oncotrials.core.grading.labs",
    "grade_lab_file": "oncotrials.core.grading.labs",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "ANALYTES",
    "AstctGrade",
    "Consciousness",
    "CrsAssessment",
    "CtcaeCatalogue",
    "CtcaeTerm",
    "DltRules",
    "EventDecision",
    "IcansAssessment",
    "IceItems",
    "LabBatch",
    "LabGrade",
    "LabRowError",
    "LabRowGrade",
    "MotorFindings",
    "Outcome",
    "OxygenDevice",
    "RaisedIcp",
    "Seizure",
    "SubjectDecision",
    "criteria_for",
    "dlt_rules_from_dict",
    "evaluate_file",
    "evaluate_subject",
    "grade_assessments",
    "grade_crs",
    "grade_icans",
    "grade_lab",
    "grade_lab_batch",
    "grade_lab_csv",
    "grade_lab_file",
    "ice_score",
    "load_catalogue",
    "load_dlt_rules",
    "subjects_from_dict",
]
