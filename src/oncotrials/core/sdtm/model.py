"""Plain input data for the SDTM mappers, and the tabulation datasets they produce.

The application selects a study's data into these frozen dataclasses (a notebook can build them
by hand); the mappers in :mod:`oncotrials.core.sdtm.domains` turn them into :class:`Dataset`
objects, and the writers serialise those. A patient enters only through its research identifier:
there is no field for a name, a birth date or a hospital number, so none can be exported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from oncotrials.core.recist import PatientRecord

#: SAS XPORT v5 limits (FDA Study Data Technical Conformance Guide, section 3.3.2).
MAX_NAME = 8
MAX_LABEL = 40
MAX_TEXT_BYTES = 200

TEXT, INTEGER, FLOAT, DATE = "text", "integer", "float", "date"
TYPES = (TEXT, INTEGER, FLOAT, DATE)


@dataclass(frozen=True, slots=True)
class Variable:
    """One SDTM variable: the same declaration drives the XPT, Dataset-JSON and Define-XML.

    ``type`` is the Define-XML DataType (text, integer, float, date); ``key`` its position in
    the dataset's natural key (Define ``KeySequence``); ``origin`` the Define origin type;
    ``method`` the derivation text of a derived variable.
    """

    name: str
    label: str
    type: str = TEXT
    role: str = "Record Qualifier"
    mandatory: bool = False
    key: int | None = None
    origin: str = "Collected"
    method: str = ""


@dataclass(frozen=True, slots=True)
class Dataset:
    """A tabulation dataset: metadata and rows (a tuple per row, in variable order).

    Values: text and date variables hold ``str`` ("" when missing), integer variables ``int``
    or ``None``, float variables :class:`~decimal.Decimal` or ``None``.
    """

    name: str
    label: str
    sdtm_class: str
    structure: str
    variables: tuple[Variable, ...]
    rows: tuple[tuple[Any, ...], ...]
    repeating: bool = True

    def column(self, name: str) -> list[Any]:
        i = [v.name for v in self.variables].index(name)
        return [row[i] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        names = [v.name for v in self.variables]
        return [dict(zip(names, row, strict=True)) for row in self.rows]


# --- The study as the application selects it ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Disposition:
    """A disposition event: ``kind`` is consent, end_of_treatment or end_of_study."""

    kind: str
    on: dt.date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Exposure:
    agent: str
    dose: Decimal
    unit: str
    on: dt.date
    visit: str = ""
    adjustment: str = ""  # reason the dose differs from the planned one


@dataclass(frozen=True, slots=True)
class AdverseEvent:
    """An adverse event graded with CTCAE (``ctcae_version`` such as "5.0")."""

    ref: int  # a stable order within the subject (the application's record number)
    term: str
    verbatim: str
    meddra_code: int | None
    soc: str
    grade: int | None
    ctcae_version: str
    onset: dt.date | None
    resolved: dt.date | None
    serious: bool = False
    seriousness: tuple[str, ...] = ()  # death, life_threatening, hospitalisation, ...
    attribution: str = ""  # worst causality over the study agents
    action: str = ""
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class LabResult:
    analyte: str  # the grading core's key (neutrophils, alt, ...)
    label: str
    value: Decimal
    unit: str
    lln: Decimal | None
    uln: Decimal | None
    on: dt.date
    grade: int | None
    toxicity: str = ""  # the CTCAE term the grade belongs to
    ctcae_version: str = "5.0"
    visit: str = ""


@dataclass(frozen=True, slots=True)
class VitalSign:
    test: str  # weight_kg, systolic_bp, diastolic_bp, heart_rate, temperature
    value: Decimal
    on: dt.date
    visit: str = ""


@dataclass(frozen=True, slots=True)
class TumourResponse:
    """The investigator's response at one follow-up (the computed one, or their override)."""

    on: dt.date
    overall: str
    target: str = ""
    non_target: str = ""
    new_lesions: bool = False
    sum_mm: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Tumours:
    """A subject's RECIST record (lesions and measurements) and the responses read from it."""

    record: PatientRecord
    criteria: str = "RECIST 1.1"
    responses: tuple[TumourResponse, ...] = ()
    best_response: str = ""
    baseline_sum_mm: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """One registered subject, known by its research identifier only."""

    research_id: str
    site: str
    country: str  # ISO 3166-1 alpha-3
    sex: str  # F, M, U (SDTM SEX codelist C66731); O is sent as U
    arm_code: str
    arm: str
    registered_on: dt.date
    age: int | None = None
    consent_on: dt.date | None = None
    death_on: dt.date | None = None
    dispositions: tuple[Disposition, ...] = ()
    exposures: tuple[Exposure, ...] = ()
    adverse_events: tuple[AdverseEvent, ...] = ()
    labs: tuple[LabResult, ...] = ()
    vitals: tuple[VitalSign, ...] = ()
    tumours: Tumours | None = None


@dataclass(frozen=True, slots=True)
class Study:
    """A data cut of one study: its identifier (STUDYID) and subjects."""

    study_id: str
    title: str
    subjects: tuple[Subject, ...]
    sponsor: str = ""
    notes: tuple[str, ...] = field(default=())
