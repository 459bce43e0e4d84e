from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import ConfigDict


class SiteOut(Schema):
    id: int
    code: str
    name: str
    city: str
    country: str
    time_zone: str


class MembershipOut(Schema):
    role: str
    site: str = Field(..., alias="site.code")
    trial_id: int | None
    valid_from: dt.datetime
    valid_to: dt.datetime | None


class MeOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    language: str
    is_admin: bool
    memberships: list[MembershipOut]


class TokenIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=100)
    expires_at: dt.datetime | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class TokenCreatedOut(TokenOut):
    token: str


class ErrorOut(Schema):
    code: str
    message: str
    extra: dict[str, object]
