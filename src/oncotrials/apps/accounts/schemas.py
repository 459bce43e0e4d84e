from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict


def _to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("give a time zone (e.g. 2026-11-22T09:30:00Z or +01:00)")
    return value.astimezone(dt.UTC)


# Every date-time a client sends: aware, stored in UTC (whatever offset it came with).
UtcDateTime = Annotated[dt.datetime, AfterValidator(_to_utc)]


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
    expires_at: UtcDateTime | None = None


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
