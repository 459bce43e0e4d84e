from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import ConfigDict

from .models import ReferralSource, RegistrationStatus, ScreeningKind, ScreeningOutcome, Sex


class PatientOut(Schema):
    id: int
    research_id: str
    site: str = Field(..., alias="site.code")
    sex: Sex
    year_of_birth: int
    diagnosis: str
    referral_source: ReferralSource
    referral_date: dt.date


class PatientIn(Schema):
    model_config = ConfigDict(extra="forbid")

    site: str = Field(..., min_length=1, max_length=32)
    family_name: str = Field(..., min_length=1, max_length=100)
    given_name: str = Field(..., min_length=1, max_length=100)
    birth_date: dt.date
    hospital_number: str = Field(..., min_length=1, max_length=40)
    sex: Sex
    referral_source: ReferralSource
    referral_date: dt.date
    referred_by: str = Field("", max_length=200)
    diagnosis: str = Field("", max_length=20)


class IdentityOut(Schema):
    family_name: str
    given_name: str
    birth_date: dt.date
    hospital_number: str
    phone: str
    email: str


class ConsentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    form_id: int
    signed_on: dt.date
    options_granted: dict[str, bool] = Field(default_factory=dict)


class ConsentOut(Schema):
    id: int
    form_id: int
    signed_on: dt.date
    options_granted: dict[str, bool]
    withdrawn_on: dt.date | None
    withdrawal_scope: list[str]


class WithdrawIn(Schema):
    model_config = ConfigDict(extra="forbid")

    on: dt.date
    scope: list[str] = Field(default_factory=list, max_length=4)
    reason: str = Field(..., min_length=1, max_length=2000)


class ScreeningIn(Schema):
    model_config = ConfigDict(extra="forbid")

    trial_id: int
    kind: ScreeningKind
    started_on: dt.date
    cohort_id: int | None = None


class ScreeningCloseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    outcome: ScreeningOutcome
    closed_on: dt.date
    failure_reason: str = Field("", max_length=32)
    notes: str = Field("", max_length=5000)


class ScreeningOut(Schema):
    id: int
    trial_id: int
    cohort_id: int | None
    kind: ScreeningKind
    started_on: dt.date
    outcome: ScreeningOutcome
    failure_reason: str
    closed_on: dt.date | None


class RegistrationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    cohort_id: int
    dose_level_id: int | None = None
    registered_on: dt.date
    dose_override_reason: str = Field(
        "",
        max_length=500,
        description="an investigator's reason for a dose level other than the one the "
        "escalation allows for the next patient (audited)",
    )


class RandomisationIn(Schema):
    model_config = ConfigDict(extra="forbid")

    trial_id: int
    registered_on: dt.date
    levels: dict[str, str] = Field(
        default_factory=dict,
        description="the patient's level of each stratification factor of the scheme",
    )


class RegistrationOut(Schema):
    id: int
    trial_id: int
    cohort_id: int | None = Field(..., description="null when the arm is blinded for you")
    dose_level_id: int | None
    registered_on: dt.date
    status: RegistrationStatus
    status_date: dt.date
    status_reason: str


class RegistrationStatusIn(Schema):
    model_config = ConfigDict(extra="forbid")

    status: RegistrationStatus
    on: dt.date
    reason: str = Field("", max_length=200)
