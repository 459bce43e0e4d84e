"""CDISC ODM 1.3.2: study metadata and clinical data for other EDCs, and ODM metadata read as
form declarations.

>>> from oncotrials.core.odm import odm_files, forms_from_odm
"""

from __future__ import annotations

from .model import (
    Audit,
    FormRecord,
    OdmStudy,
    Query,
    Signed,
    Site,
    Subject,
    Value,
    study_from_json,
    study_to_json,
)
from .read import OdmImportError, forms_from_odm
from .write import Events, odm_bytes, odm_files, odm_oid_errors, odm_root, odm_schema_errors

__all__ = [
    "Audit",
    "Events",
    "FormRecord",
    "OdmImportError",
    "OdmStudy",
    "Query",
    "Signed",
    "Site",
    "Subject",
    "Value",
    "forms_from_odm",
    "odm_bytes",
    "odm_files",
    "odm_oid_errors",
    "odm_root",
    "odm_schema_errors",
    "study_from_json",
    "study_to_json",
]
