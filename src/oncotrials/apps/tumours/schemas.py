"""API schemas of tumour assessments (class names prefixed ``Tumour`` to stay unique in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict, WithJsonSchema

# Millimetres as an exact decimal: a JSON number (read through its shortest decimal text) or a
# decimal string such as "23.50". Ranges are checked by the services, with messages naming the
# lesion and field.
Millimetres = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": r"^[0-9]{1,4}(\.[0-9]{1,2})?$"},
            ],
            "description": "millimetres, exact to 0.01",
        }
    ),
]


class TumourSettingsOut(Schema):
    trial_id: int
    criteria: str
    confirmation_required: bool
    version: int


class TumourSettingsIn(Schema):
    model_config = ConfigDict(extra="forbid")

    criteria: str = Field(..., max_length=20, description="recist1.1 or irecist")
    confirmation_required: bool = False
    version: int = Field(0, ge=0, description="the version edited; 0 when none was stored")
    reason: str = Field("", max_length=500)


class TumourLesionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    lesion_id: str = Field(..., max_length=40)
    organ: str = Field(..., max_length=100)
    role: str = Field(..., max_length=20, description="target or non_target")
    nodal: bool = False
    method: str = Field("CT", max_length=20, description="CT, MRI, caliper, chest_xray")
    kind: str = Field("soft_tissue", max_length=30)
    slice_thickness_mm: Millimetres | None = None
    diameter_mm: Millimetres | None = Field(
        None, description="longest diameter (short axis for a node), mm, exact to 0.01"
    )


class TumourLesionOut(Schema):
    id: int
    lesion_id: str
    organ: str
    role: str
    nodal: bool
    method: str
    kind: str
    slice_thickness_mm: Decimal | None
    baseline_diameter_mm: Decimal | None


class TumourBaselineIn(Schema):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    method: str = Field("CT", max_length=20)
    lesions: list[TumourLesionIn] = Field(..., max_length=60)
    complete: bool = True
    version: int | None = Field(None, description="the version edited; omit on first entry")
    reason: str = Field("", max_length=500)


class TumourMeasurementIn(Schema):
    model_config = ConfigDict(extra="forbid")

    lesion_id: str = Field(..., max_length=40)
    diameter_mm: Millimetres | None = None
    status: str = Field("", max_length=30)


class TumourNewLesionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    lesion_id: str = Field(..., max_length=40)
    organ: str = Field("", max_length=100)
    nodal: bool = False
    diameter_mm: Millimetres | None = None
    status: str = Field("present", max_length=30)
    equivocal: bool = False


class TumourAssessmentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    method: str = Field("CT", max_length=20)
    measurements: list[TumourMeasurementIn] = Field(..., max_length=60)
    new_lesions: list[TumourNewLesionIn] = Field(default_factory=list, max_length=60)
    tumour_markers_normal: bool | None = None
    clinical_symptoms: bool = False
    complete: bool = True


class TumourAssessmentUpdateIn(TumourAssessmentIn):
    version: int
    reason: str = Field("", max_length=500)


class TumourMeasurementOut(Schema):
    lesion_id: str
    diameter_mm: Decimal | None
    status: str


class TumourNewLesionOut(Schema):
    lesion_id: str
    organ: str
    nodal: bool
    diameter_mm: Decimal | None
    status: str
    equivocal: bool


class TumourAssessmentOut(Schema):
    id: int
    registration_id: int
    kind: str
    date: dt.date
    method: str
    status: str
    version: int
    tumour_markers_normal: bool | None
    clinical_symptoms: bool
    measurements: list[TumourMeasurementOut]
    new_lesions: list[TumourNewLesionOut]


class TumourTimepointOut(Schema):
    assessment_id: int
    date: dt.date
    computed: str
    rule: str
    target: str
    target_rule: str
    non_target: str
    non_target_rule: str
    new_lesions: bool
    sum_mm: Decimal | None
    change_from_baseline_pct: Decimal | None
    change_from_nadir_pct: Decimal | None
    override: str | None
    override_reason: str | None
    effective: str


class TumourBorOut(Schema):
    computed: str
    date: dt.date | None
    rule: str
    unconfirmed: str
    unconfirmed_rule: str
    confirmed: str
    confirmed_rule: str
    override: str | None
    override_reason: str | None
    effective: str


class TumourResponsesOut(Schema):
    registration_id: int
    criteria: str | None
    confirmation_required: bool | None
    timepoints: list[TumourTimepointOut]
    bor: TumourBorOut | None
    response_date: dt.date | None
    progression_date: dt.date | None


class TumourOverrideIn(Schema):
    model_config = ConfigDict(extra="forbid")

    assessment_id: int | None = Field(None, description="omit to override the BOR")
    response: str = Field(..., max_length=20)
    reason: str = Field(..., max_length=1000)


class TumourOverrideOut(Schema):
    id: int
    registration_id: int
    assessment_id: int | None
    response: str
    computed_response: str
    computed_rule: str
    reason: str
    created_by: str = Field(..., alias="created_by.username")
    created_at: dt.datetime


class TumourEfficacyPatientOut(Schema):
    research_id: str
    registration_id: int
    bor: str | None
    best_change_pct: Decimal | None
    pfs_days: int | None
    pfs_event: bool | None
    pfs_rule: str | None


class TumourEfficacyOut(Schema):
    trial_id: int
    patients: list[TumourEfficacyPatientOut]
    pfs_n: int
    pfs_events: int
    pfs_median_months: float | None
    pfs_one_year: float | None
