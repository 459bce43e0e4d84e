"""Input and output schemas of the tumour-board API (class names unique project-wide)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import ConfigDict

from oncotrials.apps.genomics.schemas import GenomicsSerialPairOut

from .models import MeetingStatus, RecommendationKind

MAX_ID = 2**31 - 1


class MtbMeetingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(..., min_length=1, max_length=32, description="Site code")
    held_on: dt.date
    title: str = Field("", max_length=200)
    chair: str | None = Field(None, max_length=150, description="Username of the chair")
    attendees: list[str] = Field(default_factory=list, max_length=100)


class MtbMeetingUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., ge=1, le=MAX_ID)
    status: MeetingStatus | None = None
    title: str | None = Field(None, max_length=200)
    chair: str | None = Field(None, max_length=150, description="Username; empty string: none")
    attendees: list[str] | None = Field(None, max_length=100)
    reason: str = Field("", max_length=1000)


class MtbMeetingOut(Schema):
    id: int
    site: str
    held_on: dt.date
    title: str
    status: MeetingStatus
    chair: str | None
    attendees: list[str]
    version: int


class MtbReportOut(Schema):
    id: int
    sample: str
    assay: str
    reported_on: dt.date | None
    imported_at: dt.datetime


class MtbCaseOut(Schema):
    id: int
    meeting_id: int
    patient_id: int
    research_id: str
    added_by_hand: bool
    reason: str
    actionable: bool | None
    notes: str
    reports: list[MtbReportOut]
    version: int


class MtbCaseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    patient_id: int = Field(..., ge=1, le=MAX_ID)
    reason: str = Field(..., min_length=1, max_length=500)


class MtbCaseUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., ge=1, le=MAX_ID)
    actionable: bool | None = None
    set_actionable: bool = Field(
        False, description="Apply `actionable` (null: follow the ESCAT tiers)"
    )
    notes: str | None = Field(None, max_length=4000)
    reason: str = Field("", max_length=1000)


class MtbPriorLineOut(Schema):
    line: int
    agents: list[str]
    setting: str
    started_on: dt.date
    ended_on: dt.date | None
    best_response: str
    stop_reason: str


class MtbClinicalSummaryOut(Schema):
    research_id: str
    site: str
    diagnosis: str
    diagnosis_name: str
    age: int | None
    sex: str
    ecog: str | None
    prior_lines: int | None
    journey: str
    prior_therapy_lines: list[MtbPriorLineOut]


class MtbAlterationOut(Schema):
    sample: str
    kind: str
    gene: str
    label: str
    tier: str
    detail: str
    evidence: list[str]


class MtbMatchOut(Schema):
    trial: str
    cohort: str
    dose_level: str | None
    open: bool
    slots_available: int | None


class MtbSignatureOut(Schema):
    signed: bool
    valid: bool
    name: str
    at: dt.datetime | None
    meaning: str


class MtbReferralStateOut(Schema):
    state: str
    on: dt.date | None
    detail: str


class MtbRecommendationOut(Schema):
    id: int
    case_id: int
    kind: RecommendationKind
    trial_id: int | None
    cohort_id: int | None
    therapy: str
    rationale: str
    version: int
    signature: MtbSignatureOut
    referral_id: int | None
    referral_state: MtbReferralStateOut | None


class MtbCaseDetailOut(Schema):
    case: MtbCaseOut
    summary: MtbClinicalSummaryOut
    alterations: list[MtbAlterationOut]
    serial_pairs: list[GenomicsSerialPairOut]
    actionable: bool
    matches: list[MtbMatchOut] | None
    recommendations: list[MtbRecommendationOut]


class MtbRecommendationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: RecommendationKind
    rationale: str = Field(..., min_length=1, max_length=4000)
    trial_id: int | None = Field(None, ge=1, le=MAX_ID)
    cohort_id: int | None = Field(None, ge=1, le=MAX_ID)
    therapy: str = Field("", max_length=200)


class MtbRecommendationUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., ge=1, le=MAX_ID)
    reason: str = Field(..., min_length=1, max_length=1000)
    kind: RecommendationKind | None = None
    rationale: str | None = Field(None, min_length=1, max_length=4000)
    trial_id: int | None = Field(None, ge=1, le=MAX_ID)
    cohort_id: int | None = Field(None, ge=1, le=MAX_ID)
    therapy: str | None = Field(None, max_length=200)


class MtbSignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    meaning: str = Field(..., min_length=1, max_length=200)
    password: str = Field(..., min_length=1, max_length=200)


class MtbReferralOut(Schema):
    id: int
    patient_id: int
    research_id: str
    trial: str
    cohort: str | None
    opened_on: dt.date
    recommendation_id: int
    state: MtbReferralStateOut


class MtbFunnelRowOut(Schema):
    site: str
    site_name: str
    screened: int
    actionable: int
    referred: int
    included: int
    median_days_to_inclusion: float | None


class MtbFunnelOut(Schema):
    date_from: dt.date | None
    date_to: dt.date | None
    rows: list[MtbFunnelRowOut]
    total: MtbFunnelRowOut
