from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import ConfigDict


class EscalationDoseStateOut(Schema):
    level: int
    dose_level_id: int
    treated: int
    evaluable: int
    dlts: int
    pending: int


class EscalationRecommendationOut(Schema):
    action: str
    next_dose_level_id: int | None
    reason: str
    rule: str
    eliminated_levels: list[int]


class EscalationStateOut(Schema):
    cohort_id: int
    design: str
    current_dose_level_id: int
    doses: list[EscalationDoseStateOut]
    recommendation: EscalationRecommendationOut


class EscalationDecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(..., pattern="^(escalate|stay|de-escalate|eliminate|suspend|stop)$")
    next_dose_level_id: int | None = None
    meaning: str = Field(..., min_length=1, max_length=200)
    password: str = Field(..., min_length=1, max_length=200)
    deviation_reason: str = Field("", max_length=2000)


class EscalationDecisionOut(Schema):
    id: int
    decided_at: dt.datetime
    recommended_action: str
    decided_action: str
    next_dose_level_id: int | None
    deviation_reason: str
    signed_name: str
    signature_meaning: str


class DltOutcomeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(..., pattern="^(pending|dlt|no_dlt|not_evaluable)$")
    assessed_on: dt.date
    reason: str = Field("", max_length=2000)


class DltOutcomeOut(Schema):
    registration_id: int
    outcome: str
    assessed_on: dt.date
    reason: str
