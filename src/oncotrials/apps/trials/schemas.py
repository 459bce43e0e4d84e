from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import ConfigDict

from .models import CohortKind, Modality, Phase, SponsorType, TrialStatus


class DoseLevelOut(Schema):
    id: int
    level: int
    agent: str
    dose: Decimal
    unit: str
    schedule: str


class DoseLevelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    level: int = Field(..., ge=-10, le=100)
    agent: str = Field(..., min_length=1, max_length=200)
    dose: float = Field(..., ge=0, le=1e7, description="Dose amount (stored exactly to 4 decimals)")
    unit: str = Field(..., min_length=1, max_length=32)
    schedule: str = Field("", max_length=200)


class CohortOut(Schema):
    id: int
    code: str
    name: str
    kind: CohortKind
    description: str
    target_accrual: int | None
    is_open: bool
    dose_levels: list[DoseLevelOut]


class CohortIn(Schema):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=200)
    kind: CohortKind
    description: str = Field("", max_length=5000)
    target_accrual: int | None = Field(None, ge=0, le=100000)
    is_open: bool = True


class StatusChangeOut(Schema):
    from_status: str
    to_status: str
    changed_at: dt.datetime
    reason: str


class TrialSummaryOut(Schema):
    id: int
    protocol_code: str
    title: str
    short_title: str
    phase: Phase
    modality: Modality
    status: TrialStatus
    sponsor: str
    tumour_types: list[str]
    targets: list[str]
    sites: list[str]
    version: int

    @staticmethod
    def resolve_sites(obj: object) -> list[str]:
        return sorted(s.code for s in obj.sites.all())  # type: ignore[attr-defined]


class EligibilityCriterion(Schema):
    model_config = ConfigDict(extra="allow")

    kind: str = Field(..., pattern="^(inclusion|exclusion)$")
    text: str = Field(..., min_length=1, max_length=2000)


class TrialOut(TrialSummaryOut):
    eligibility: list[EligibilityCriterion]
    eu_ct_number: str
    nct_number: str
    sponsor_type: SponsorType
    cohorts: list[CohortOut]
    status_history: list[StatusChangeOut]


class TrialIn(Schema):
    model_config = ConfigDict(extra="forbid")

    protocol_code: str = Field(..., min_length=1, max_length=50)
    title: str = Field(..., min_length=1, max_length=500)
    short_title: str = Field("", max_length=120)
    eu_ct_number: str = Field("", max_length=20)
    nct_number: str = Field("", max_length=11)
    sponsor: str = Field(..., min_length=1, max_length=200)
    sponsor_type: SponsorType
    phase: Phase
    modality: Modality
    tumour_types: list[str] = Field(default_factory=list, max_length=50)
    targets: list[str] = Field(default_factory=list, max_length=50)
    eligibility: list[EligibilityCriterion] = Field(default_factory=list, max_length=200)
    sites: list[str] = Field(..., min_length=1, description="Participating site codes")


class TrialPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    expected_version: int = Field(..., ge=1)
    reason: str = Field(..., min_length=1, max_length=2000)
    title: str | None = Field(None, min_length=1, max_length=500)
    short_title: str | None = Field(None, max_length=120)
    eu_ct_number: str | None = Field(None, max_length=20)
    nct_number: str | None = Field(None, max_length=11)
    sponsor: str | None = Field(None, min_length=1, max_length=200)
    tumour_types: list[str] | None = Field(None, max_length=50)
    targets: list[str] | None = Field(None, max_length=50)
    eligibility: list[EligibilityCriterion] | None = Field(None, max_length=200)


class StatusIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: TrialStatus
    reason: str = Field(..., min_length=1, max_length=2000)
