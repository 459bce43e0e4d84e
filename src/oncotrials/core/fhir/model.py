"""Plain input data of the FHIR mapper: a study and its subjects as the application selects them.

A patient enters only through its research identifier, sex and year of birth: there is no field
for a name, a full birth date or a hospital number, so none can be exported. The text stored in a
data cut is this data as canonical JSON (``study_to_json``), read back exactly by
``study_from_json``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal

from oncotrials.core.sdtm.snapshot import from_plain, to_plain


@dataclass(frozen=True, slots=True)
class Arm:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """A signed informed consent; ``withdrawn_on`` ends it."""

    ref: str
    signed_on: dt.date
    form: str
    withdrawn_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The primary cancer: an OncoTree code and its name."""

    oncotree: str
    name: str
    diagnosed_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class StageGroup:
    """An overall stage group as the medical-history form records it (I, II, III or IV)."""

    group: str
    on: dt.date


@dataclass(frozen=True, slots=True)
class Performance:
    """An ECOG performance status (0-5)."""

    ref: str
    value: int
    on: dt.date


@dataclass(frozen=True, slots=True)
class Variant:
    """A somatic small variant of a genomic report: HGVS c. and p., VAF as a fraction."""

    ref: str
    gene: str
    on: dt.date | None = None
    hgvsc: str = ""
    hgvsp: str = ""
    transcript: str = ""
    vaf: Decimal | None = None
    sample: str = ""


@dataclass(frozen=True, slots=True)
class SpecimenRecord:
    """A biobank specimen: ``ref`` is its label; ``parent`` the label of the specimen it was
    aliquoted or derived from."""

    ref: str
    specimen_type: str
    type_label: str
    status: str
    collected_on: dt.date
    parent: str = ""
    body_site: str = ""


@dataclass(frozen=True, slots=True)
class AdverseEventRecord:
    """A complete adverse event graded with CTCAE (``ctcae_version``)."""

    ref: str
    term: str
    grade: int | None
    ctcae_version: str
    onset: dt.date | None
    serious: bool
    outcome: str = ""
    meddra_code: str = ""
    resolved: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Administration:
    ref: str
    agent: str
    dose: Decimal | None
    unit: str
    on: dt.date


@dataclass(frozen=True, slots=True)
class Subject:
    research_id: str
    sex: str  # F, M, O, U
    status: str  # registration status
    registered_on: dt.date
    arm_code: str
    birth_year: int | None = None
    status_on: dt.date | None = None
    consent: ConsentRecord | None = None
    diagnosis: Diagnosis | None = None
    stage: StageGroup | None = None
    performance: tuple[Performance, ...] = ()
    variants: tuple[Variant, ...] = ()
    specimens: tuple[SpecimenRecord, ...] = ()
    adverse_events: tuple[AdverseEventRecord, ...] = ()
    administrations: tuple[Administration, ...] = ()


@dataclass(frozen=True, slots=True)
class Study:
    study_id: str
    title: str
    status: str  # trial status
    phase: str
    sponsor: str = ""
    arms: tuple[Arm, ...] = ()
    subjects: tuple[Subject, ...] = ()


def study_to_json(study: Study) -> str:
    """The canonical JSON text of the study's data (sorted keys, no spaces)."""
    return json.dumps(to_plain(study), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def study_from_json(text: str) -> Study:
    """The study stored by :func:`study_to_json`."""
    result = from_plain(Study, json.loads(text))
    assert isinstance(result, Study)
    return result
