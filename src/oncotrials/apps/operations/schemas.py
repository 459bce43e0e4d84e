"""API shapes of unit operations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict


class ResourceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    site_id: int
    kind: str = Field(..., pattern="^(chair|bed|room|isolator)$")
    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field("", max_length=120)


class ResourceOut(Schema):
    id: int
    site_id: int
    kind: str
    code: str
    name: str
    active: bool


class CareRequestIn(Schema):
    model_config = ConfigDict(extra="forbid")

    site_id: int
    label: str = Field(..., min_length=1, max_length=60)
    unit: str = Field(..., description="chair or bed")
    earliest: dt.date
    latest: dt.date
    target: dt.date
    duration_min: int
    pre_min: int = 0
    prep_min: int = 0
    setup_min: int = 15
    dose_at_min: int = 0
    sample_offsets: list[int] = []
    weight: int = 1


class CareRequestOut(Schema):
    id: int
    ref: str
    site_id: int
    label: str
    unit: str
    kind: str
    earliest: dt.date
    latest: dt.date
    target: dt.date
    duration_min: int
    weight: int
    source: str
    status: str


class BookingOut(Schema):
    id: int
    request_id: int
    site_id: int
    status: str
    resource: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    prep_starts_at: dt.datetime | None


class IntervalOut(Schema):
    median: float | None
    lower: float | None
    upper: float | None
    median_date: dt.date | None
    lower_date: dt.date | None
    upper_date: dt.date | None


class AccrualForecastOut(Schema):
    trial_id: int
    protocol_code: str
    cohort_id: int | None
    start: dt.date
    target: int
    duration_months: float
    certainty: float
    plan_saved: bool
    accrued: int | None
    gajewski: IntervalOut | None
    poisson_gamma_open_centres: IntervalOut | None
    poisson_gamma_simulated: IntervalOut | None
    alpha: float | None
    beta: float | None
    ramp_up: str | None
    problem: str


class AccrualPlanIn(Schema):
    model_config = ConfigDict(extra="forbid")

    cohort_id: int | None = None
    target: int
    starts_on: dt.date
    duration_months: float
    certainty: float = 0.5
    external_centres: list[dict[str, str | int]] = []
    reason: str = ""


class PlanRunIn(Schema):
    model_config = ConfigDict(extra="forbid")

    site_id: int
    week: dt.date
    time_limit: int = Field(60, ge=1, le=600)


class BookingCancelIn(Schema):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(..., min_length=1, max_length=500)


class ReplanIn(Schema):
    """Re-plan the rest of a week from the bookings in force. ``reasons`` maps a locked
    booking's request (``C12``: a PK visit on a fixed day) to the reason it may move."""

    model_config = ConfigDict(extra="forbid")

    site_id: int
    week: dt.date
    reasons: dict[str, str] = Field(default_factory=dict)
    time_limit: int = Field(10, ge=1, le=600)


class PlanRunOut(Schema):
    id: int
    kind: str
    site_id: int
    monday: dt.date
    status: str
    time_limit: int
    requests: int
    objective: int | None
    first_fit_objective: int | None
    lower_bound: float | None
    unscheduled: list[str]
    progress: list[list[float]]
    solution: dict[str, list[int]]
    moves: list[dict[str, Any]]
    error: str
