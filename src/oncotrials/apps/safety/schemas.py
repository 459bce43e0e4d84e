from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict

from oncotrials.apps.accounts.schemas import InputSchema, UtcDateTime

from .models import (
    ActionTaken,
    AeOutcome,
    AstctScale,
    Attribution,
    DltCaseStatus,
    RecordStatus,
    SaeReportKind,
    Seriousness,
)


class SafetyAdverseEventFields(InputSchema):
    term: str = Field("", max_length=200)
    meddra_code: int | None = Field(None, ge=1, le=99_999_999)
    verbatim: str = Field("", max_length=500)
    grade: int | None = Field(None, ge=1, le=5)
    onset_date: dt.date | None = None
    resolution_date: dt.date | None = None
    seriousness: list[Seriousness] = Field(default_factory=list, max_length=6)
    attribution: dict[str, Attribution] = Field(default_factory=dict)
    action_taken: ActionTaken | None = None
    outcome: AeOutcome | None = None
    immune_related: bool = False
    expected: bool = True
    supportive_care: bool = False
    due_to_progression: bool = False
    awareness_at: UtcDateTime | None = None
    complete: bool = False


class SafetyAdverseEventIn(SafetyAdverseEventFields):
    registration_id: int = Field(..., ge=1, le=2**31 - 1)


class SafetyAdverseEventUpdateIn(SafetyAdverseEventFields):
    version: int = Field(..., ge=1, le=2**31 - 1)
    reason: str = Field("", max_length=1000)


class SafetyAdverseEventDeleteIn(InputSchema):
    version: int = Field(..., ge=1, le=2**31 - 1)
    reason: str = Field(..., min_length=1, max_length=1000)


class SafetyAdverseEventOut(Schema):
    id: int
    registration_id: int
    patient: str = Field(..., alias="registration.patient.research_id")
    trial: str = Field(..., alias="registration.trial.protocol_code")
    term: str
    meddra_code: int
    soc: str
    ctcae_version: str
    verbatim: str
    grade: int | None
    grade_definition: str | None = None
    onset_date: dt.date | None
    resolution_date: dt.date | None
    seriousness: list[str]
    serious: bool
    attribution: dict[str, str]
    action_taken: str
    outcome: str
    immune_related: bool
    expected: bool
    supportive_care: bool
    due_to_progression: bool
    status: RecordStatus
    version: int
    sae_aware_at: dt.datetime | None
    sae_followup_due_at: dt.datetime | None
    voided_at: dt.datetime | None = None
    void_reason: str = ""
    issues: list[str] = Field(default_factory=list)
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_grade_definition(obj: Any) -> str | None:
        from oncotrials.core.grading import load_catalogue

        if obj.grade is None:
            return None
        return load_catalogue().by_meddra(obj.meddra_code).grades.get(obj.grade)

    @staticmethod
    def resolve_issues(obj: Any) -> list[str]:
        from .services import completion_issues

        return [] if obj.status == RecordStatus.COMPLETE else completion_issues(obj)


class SafetyTermOut(Schema):
    term: str
    meddra_code: int
    soc: str
    grades: dict[int, str | None]


class SafetySaeReportIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: SaeReportKind
    sent_at: UtcDateTime
    notes: str = Field("", max_length=2000)


class SafetySaeReportOut(Schema):
    id: int
    adverse_event_id: int
    kind: str
    sequence: int
    due_at: dt.datetime
    sent_at: dt.datetime
    late: bool
    notes: str


class SafetySaeDueOut(Schema):
    adverse_event_id: int
    patient: str
    trial: str
    term: str
    kind: str
    due_at: dt.datetime
    overdue: bool
    hours_left: float


class SafetyAstctIn(Schema):
    model_config = ConfigDict(extra="forbid")

    scale: AstctScale
    assessed_at: dt.datetime
    parameters: dict[str, Any] = Field(default_factory=dict)
    attribution: Attribution | None = None


class SafetyAstctOut(Schema):
    id: int
    registration_id: int
    scale: str
    assessed_at: dt.datetime
    parameters: dict[str, Any]
    grade: int
    rule: str
    decided_by: list[str]
    ice_score: int | None
    attribution: str
    version: int


class SafetyDltRulesIn(Schema):
    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] | str
    version: int | None = Field(None, ge=1, le=2**31 - 1)
    reason: str = Field("", max_length=1000)


class SafetyDltRulesOut(Schema):
    trial_id: int
    document: dict[str, Any]
    version: int
    updated_at: dt.datetime


class SafetyDltCaseOut(Schema):
    id: int
    registration_id: int
    patient: str = Field(..., alias="registration.patient.research_id")
    event_key: str
    adverse_event_id: int | None
    term: str
    worst_grade: int | None
    onset_day: int | None
    proposed_outcome: str
    rule_id: str
    reason: str
    rules_version: int
    evaluated_at: dt.datetime
    status: DltCaseStatus
    adjudication_reason: str
    signed_name: str
    signed_at: dt.datetime | None
    signature_meaning: str
    version: int


class SafetyDltEvaluationOut(Schema):
    outcome: str
    rule_id: str | None
    reason: str
    dosing_outcome: str | None
    cases: list[SafetyDltCaseOut]


class SafetyDltAdjudicateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    decision: str = Field(..., pattern="^(confirm|reject)$")
    reason: str = Field(..., min_length=1, max_length=2000)
    meaning: str = Field(..., min_length=1, max_length=200)
    password: str = Field(..., min_length=1, max_length=200)
    version: int = Field(..., ge=1, le=2**31 - 1)


class SafetyAeSummaryRowOut(Schema):
    term: str
    soc: str
    by_grade: list[int]
    any: int
    grade3plus: int


class SafetyAeSummaryOut(Schema):
    patients: int
    rows: list[SafetyAeSummaryRowOut]


class SafetyDltTableRowOut(Schema):
    cohort: str
    level: int
    dose: str
    treated: int
    evaluable: int
    dlts: int
    pending: int
    dlt_terms: list[str]


class SafetyMeetingIn(Schema):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(..., min_length=1, max_length=32)
    held_on: dt.date
    title: str = Field(..., min_length=1, max_length=200)


class SafetyMeetingOut(Schema):
    id: int
    site: str = Field(..., alias="site.code")
    held_on: dt.date
    title: str


class SafetyBoardCaseOut(Schema):
    id: int
    meeting_id: int
    adverse_event_id: int
    why: str
    recommendation: str
    recommended_at: dt.datetime | None
    version: int


class SafetyRecommendationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    recommendation: str = Field(..., min_length=1, max_length=4000)
    version: int = Field(..., ge=1, le=2**31 - 1)
    reason: str = Field("", max_length=1000)
