"""Case report forms, framework-free: form declarations and their edit checks.

>>> from oncotrials.core.crf import STANDARD_FORMS, run_checks
"""

from __future__ import annotations

from oncotrials.core.crf.declarations import (
    FIELD_TYPES,
    RECORD_FORMS,
    STANDARD_DECLARATIONS,
    STANDARD_FORMS,
    DateCheck,
    DeclarationError,
    FieldSpec,
    FormSpec,
    Issue,
    Problem,
    declaration_problems,
    errors_of,
    form_spec_from_dict,
    run_checks,
    standard_problems,
)

__all__ = [
    "FIELD_TYPES",
    "RECORD_FORMS",
    "STANDARD_DECLARATIONS",
    "STANDARD_FORMS",
    "DateCheck",
    "DeclarationError",
    "FieldSpec",
    "FormSpec",
    "Issue",
    "Problem",
    "declaration_problems",
    "errors_of",
    "form_spec_from_dict",
    "run_checks",
    "standard_problems",
]
