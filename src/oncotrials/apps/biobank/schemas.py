from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema
from pydantic import ConfigDict

from oncotrials.apps.accounts.schemas import UtcDateTime


class BiobankSpecimenOut(Schema):
    id: int
    label: str
    barcode: str
    patient_id: int
    registration_id: int | None
    lineage: str
    parent_id: int | None
    specimen_type: str
    anatomic_site: str
    laterality: str
    pathology: str
    unit: str
    initial_quantity: Decimal
    available_quantity: Decimal
    status: str
    collected_at: UtcDateTime
    position: str = ""
    timepoint: str = ""
    sprec: str = ""


class BiobankSpecimenIn(Schema):
    model_config = ConfigDict(extra="forbid")

    patient_id: int = Field(ge=1)
    registration_id: int | None = Field(None, ge=1)
    specimen_type: str = Field(max_length=16)
    quantity: Decimal
    unit: str = Field(max_length=8)
    collected_at: dt.datetime
    received_at: dt.datetime | None = None
    anatomic_site: str = Field("", max_length=80)
    laterality: str = Field("not_applicable", max_length=16)
    pathology: str = Field("not_specified", max_length=16)
    procedure: str = Field("", max_length=16)
    pre_analytics: dict[str, str | int | float | None] = Field(default_factory=dict)


class BiobankAliquotIn(Schema):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=500)
    quantity: Decimal
    unit: str = Field(max_length=8)


class BiobankDeriveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    specimen_type: str = Field(max_length=16)
    consumed: Decimal
    consumed_unit: str = Field(max_length=8)
    quantity: Decimal
    unit: str = Field(max_length=8)
    concentration_ng_ul: Decimal | None = None


class BiobankStoreIn(Schema):
    model_config = ConfigDict(extra="forbid")

    box_id: int = Field(ge=1)
    row: int = Field(ge=1, le=26)
    column: int = Field(ge=1, le=26)


class BiobankCustodyOut(Schema):
    kind: str
    at: UtcDateTime
    from_location: str
    to_location: str
    custodian: str
    quantity: Decimal | None
    note: str


class BiobankGapOut(Schema):
    specimen_id: int
    label: str
    gaps: list[str]


class BiobankRunOut(Schema):
    id: int
    specimen_id: int
    assay: str
    library_id: str
    run_id: str
    mean_coverage: Decimal | None
    tumour_fraction: Decimal | None
    purity: Decimal | None
    status: str
    report_id: int | None
    data_use_blocked: str


class BiobankPreAnalyticsIn(Schema):
    """Pre-analytical values to record on a primary specimen; a value given as null or "" is
    cleared (not recorded), a field left out is kept. Settings may carry their unit ("4 °C",
    "2000 x g", "10 min")."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, str | int | float | None] = Field(..., max_length=40)
    reason: str = Field("", max_length=500)


class BiobankSprecElementOut(Schema):
    element: str
    code: str
    meaning: str


class BiobankPreAnalyticsOut(Schema):
    specimen_id: int
    values: dict[str, str | int | float | None]
    sprec: str
    elements: list[BiobankSprecElementOut]
