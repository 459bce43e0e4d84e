from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.utils.translation import gettext
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.schema import DjangoGetter
from pydantic import (
    AfterValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationInfo,
    model_validator,
)


def _to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(gettext("give a time zone (e.g. 2026-11-22T09:30:00Z or +01:00)"))
    return value.astimezone(dt.UTC)


# Every date-time a client sends: aware, stored in UTC (whatever offset it came with).
UtcDateTime = Annotated[dt.datetime, AfterValidator(_to_utc)]


class InputSchema(Schema):
    """A request body that forbids unknown fields, validated once.

    ninja validates such a schema twice: the values themselves (for the unknown fields), then
    through its getter of model attributes (for resolvers and ORM objects). A JSON body is a
    dict and an input has no resolvers: the first validation is the whole of it."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if isinstance(values, dict) and not cls._ninja_resolvers:
            return handler(values)
        handler(values)  # unknown fields are refused whatever the values are
        return handler(DjangoGetter(values, cls, info.context))


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
    expires_at: UtcDateTime | None = Field(
        None, description="Default: ONCOTRIALS_API_TOKEN_DAYS (90) days from now."
    )
    scope: Literal["read", "read_write"] = "read_write"


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
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


#: The error answers every API operation documents, in the ``ErrorOut`` shape (one table for
#: every router: ``response={200: Out, **ERRORS}``).
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# ----------------------------------------------------------------------------- paged lists

#: Lists that grow with the unit's activity answer one page: ``{"items": [...], "count": n}``,
#: ``?page=2&page_size=200`` (at most 500 a page).
API_PAGE_SIZE = 100
API_MAX_PAGE_SIZE = 500
API_MAX_PAGE = 10_000_000


class ApiPage(PageNumberPagination):
    """``?page=`` (from 1) and ``?page_size=`` (default 100, at most 500); the answer is
    ``{"items": [...], "count": <total>}``. A page number beyond ``API_MAX_PAGE`` answers 422
    (an offset past 64-bit integers would otherwise reach the database)."""

    class Input(PageNumberPagination.Input):
        page: int = Field(1, ge=1, le=API_MAX_PAGE)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("page_size", API_PAGE_SIZE)
        kwargs.setdefault("max_page_size", API_MAX_PAGE_SIZE)
        super().__init__(**kwargs)


def paged(func: Callable[..., Any]) -> Callable[..., Any]:
    """``@paginate(ApiPage)`` for endpoints of modules with postponed annotations.

    Ninja reads the wrapped view's annotations in the pagination module's namespace, where our
    aliases (``OptionalId``...) are unknown; resolving them first, in the view's own module,
    keeps every parameter's type.
    """
    func.__annotations__ = typing.get_type_hints(func, include_extras=True)
    view: Callable[..., Any] = paginate(ApiPage)(func)
    return view


class Rendered:
    """A queryset whose page is rendered item by item (``render(obj) -> dict``) only once
    sliced: a paged endpoint that shapes its items by hand renders one page, not the list."""

    def __init__(self, queryset: QuerySet[Any], render: Callable[[Any], Any]) -> None:
        self.queryset, self.render = queryset, render

    def all(self) -> Rendered:
        return self

    def count(self) -> int:
        return self.queryset.count()

    def __getitem__(self, page: slice) -> list[Any]:
        return [self.render(obj) for obj in self.queryset[page]]
