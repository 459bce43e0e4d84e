from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class ExportFormatOut(Schema):
    name: str
    label: str
    description: str


class DataCutFileOut(Schema):
    format: str
    name: str
    sha256: str
    bytes: int


class DataCutOut(Schema):
    id: int
    name: str
    trial_id: int
    trial: str
    created_at: dt.datetime
    created_by: str
    reason: str
    formats: list[str]
    sites: list[str]
    subjects: int
    files: list[DataCutFileOut]


class DataCutIn(Schema):
    trial_id: int = Field(ge=1, le=2**31 - 1)
    name: str = Field(min_length=1, max_length=100)
    formats: list[str] = Field(min_length=1, max_length=10)
    reason: str = Field("", max_length=300)
