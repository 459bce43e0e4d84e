"""Adverse-event grading: CTCAE lab grading and term catalogue, ASTCT CRS/ICANS, DLT rules.

>>> from oncotrials.core.grading import grade_lab
>>> grade_lab("ANC", "0.7", "10^9/L").grade
3
"""

from __future__ import annotations

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
from oncotrials.core.grading.labs import LabRowGrade, grade_lab_csv, grade_lab_file

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
    "LabGrade",
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
    "grade_lab_csv",
    "grade_lab_file",
    "ice_score",
    "load_catalogue",
    "load_dlt_rules",
    "subjects_from_dict",
]
