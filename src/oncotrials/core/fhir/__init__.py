"""FHIR R4 / mCODE exchange over plain data: a study's bundle, and reading FHIR resources back.

>>> from oncotrials.core.fhir import bundle_json, read_resources
"""

from __future__ import annotations

from .bundle import bundle_dict, bundle_json, resource_id
from .model import Study, study_from_json, study_to_json

__all__ = [
    "Study",
    "bundle_dict",
    "bundle_json",
    "resource_id",
    "study_from_json",
    "study_to_json",
]
