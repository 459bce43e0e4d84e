from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from .models import Modification, QueryStatus, SignatureMeaning

NAME = r"^[A-Za-z0-9_.-]{1,63}$"


class CrfFieldSpecOut(Schema):
    name: str
    type: str
    label: str
    unit: str
    required: bool
    required_if_field: str | None
    min: Decimal | None
    max: Decimal | None
    expected_min: Decimal | None
    expected_max: Decimal | None
    choices: list[str]


class CrfFormSpecOut(Schema):
    name: str
    title: str
    kind: str
    owner: str
    fields: list[CrfFieldSpecOut]


class CrfIssueOut(Schema):
    field: str
    code: str
    message: str
    severity: str


class CrfFormOut(Schema):
    id: int | None
    registration_id: int
    visit_code: str
    form_name: str
    status: str
    version: int
    data: dict[str, Any]
    issues: list[CrfIssueOut]
    updated_at: dt.datetime | None
    updated_by: str | None


class CrfFormIn(Schema):
    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(default_factory=dict)
    version: int = Field(..., ge=0, le=2**31 - 1, description="The version you edited; 0 for new")
    complete: bool = False
    reason: str = Field("", max_length=500)


class CrfCasebookFormOut(Schema):
    name: str
    title: str
    kind: str
    status: str
    version: int | None
    open_queries: int
    records: int


class CrfVisitOut(Schema):
    code: str
    name: str
    target: dt.date
    earliest: dt.date
    latest: dt.date
    visit_status: str
    done_on: dt.date | None
    forms: list[CrfCasebookFormOut]


class CrfCasebookOut(Schema):
    registration_id: int
    patient: str
    trial: str
    visits: list[CrfVisitOut]
    signed: bool


class CrfLabIn(Schema):
    model_config = ConfigDict(extra="forbid")

    analyte: str = Field(..., min_length=1, max_length=40)
    value: float = Field(..., ge=0, le=1e8)
    unit: str = Field(..., min_length=1, max_length=32)
    sampled_on: dt.date
    lln: float | None = Field(None, ge=0, le=1e8)
    uln: float | None = Field(None, ge=0, le=1e8)
    visit_code: str = Field("", max_length=20)
    limit_unit: str = Field(
        "", max_length=32, description="Unit of lln/uln when not the value's (stored converted)"
    )


class CrfLabUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., ge=1, le=2**31 - 1)
    value: float = Field(..., ge=0, le=1e8)
    unit: str = Field(..., min_length=1, max_length=32)
    sampled_on: dt.date
    lln: float | None = Field(None, ge=0, le=1e8)
    uln: float | None = Field(None, ge=0, le=1e8)
    reason: str = Field(..., min_length=1, max_length=500)
    limit_unit: str = Field(
        "", max_length=32, description="Unit of lln/uln when not the value's (stored converted)"
    )


class CrfLabOut(Schema):
    id: int
    registration_id: int
    visit_code: str
    analyte: str
    analyte_label: str
    value: Decimal
    unit: str
    lln: Decimal | None
    uln: Decimal | None
    sampled_on: dt.date
    ctcae_version: str
    grade: int
    term: str
    rule: str
    criterion: str
    version: int


class CrfAdministrationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(..., min_length=1, max_length=200)
    dose: float = Field(..., ge=0, le=1e7)
    unit: str = Field(..., min_length=1, max_length=32)
    administered_on: dt.date
    modification: Modification = Modification.NONE
    modification_reason: str = Field("", max_length=300)
    visit_code: str = Field("", max_length=20)


class CrfEntryFormIn(CrfFormIn):
    kind: Literal["form"]
    visit_code: str = Field(..., min_length=1, max_length=20)
    form_name: str = Field(..., pattern=NAME)


class CrfEntryLabIn(CrfLabIn):
    kind: Literal["lab"]


class CrfEntryAdministrationIn(CrfAdministrationIn):
    kind: Literal["administration"]


class CrfEntriesIn(Schema):
    """Entries of one casebook saved together: all of them, or none (the error names the
    entry, from 1, and its field)."""

    model_config = ConfigDict(extra="forbid")

    entries: list[
        Annotated[
            CrfEntryFormIn | CrfEntryLabIn | CrfEntryAdministrationIn,
            Field(discriminator="kind"),
        ]
    ] = Field(..., min_length=1, max_length=1000)


class CrfEntryOut(Schema):
    kind: str
    id: int
    version: int


class CrfAdministrationUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., ge=1, le=2**31 - 1)
    agent: str = Field(..., min_length=1, max_length=200)
    dose: float = Field(..., ge=0, le=1e7)
    unit: str = Field(..., min_length=1, max_length=32)
    administered_on: dt.date
    modification: Modification = Modification.NONE
    modification_reason: str = Field("", max_length=300)
    reason: str = Field(..., min_length=1, max_length=500)


class CrfAdministrationOut(Schema):
    id: int
    registration_id: int
    visit_code: str
    agent: str
    dose: Decimal
    unit: str
    planned_dose: Decimal | None
    administered_on: dt.date
    modification: str
    modification_reason: str
    version: int


class CrfDoseIntensityOut(Schema):
    agent: str
    unit: str
    planned_dose: Decimal | None
    administrations: int
    actual_total: Decimal
    planned_total: Decimal | None
    relative_dose_intensity: Decimal | None
    delays: int
    reductions: int
    interruptions: int
    first_on: dt.date | None
    last_on: dt.date | None


class CrfRecordRefIn(Schema):
    model_config = ConfigDict(extra="forbid")

    record_type: str = Field(..., pattern=NAME, description='e.g. "crfs.forminstance"')
    record_id: int = Field(..., ge=1, le=2**62)


class CrfQueryIn(CrfRecordRefIn):
    field: str = Field("", max_length=63)
    text: str = Field(..., min_length=1, max_length=2000)


class CrfQueryAnswerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., min_length=1, max_length=2000)


class CrfQueryCloseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str = Field("", max_length=2000)
    reopen: bool = False


class CrfQueryEventOut(Schema):
    action: str
    text: str
    at: dt.datetime
    by: str | None


class CrfQueryOut(Schema):
    id: int
    record_type: str
    record_id: int
    record_version: int
    patient: str
    field: str
    text: str
    origin: str
    check_code: str
    status: QueryStatus
    raised_at: dt.datetime
    raised_by: str | None
    events: list[CrfQueryEventOut]


class CrfVerificationIn(CrfRecordRefIn):
    note: str = Field("", max_length=300)


class CrfVerificationOut(Schema):
    id: int
    record_type: str
    record_id: int
    record_version: int
    verified_at: dt.datetime
    verified_by: str
    note: str


class CrfSignatureIn(CrfRecordRefIn):
    meaning: SignatureMeaning
    password: str = Field(..., min_length=1, max_length=200)


class CrfSignatureOut(Schema):
    id: int
    record_type: str
    record_id: int
    record_version: int
    signer: str
    signer_name: str
    signed_at: dt.datetime
    meaning: str
    valid: bool


class CrfRecordStatusOut(Schema):
    record_type: str
    record_id: int
    version: int
    verified_current: bool
    signed_valid: bool
    queries: list[CrfQueryOut]
    verifications: list[CrfVerificationOut]
    signatures: list[CrfSignatureOut]
