"""One error hierarchy for the whole platform.

Every error carries a stable ``code`` (for machines), a ``message`` that says what was received
and what to do (for people), and an optional ``extra`` mapping. The API answers
``{"code": ..., "message": ..., "extra": {...}}``; the CLI prints the message on one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class OncotrialsError(Exception):
    """Base of every error the platform raises on purpose."""

    code: str = "error"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extra: Mapping[str, Any] = extra

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "extra": dict(self.extra)}


def inner_refusal(exc: OncotrialsError) -> dict[str, Any]:
    """The values by which a refusal that wraps ``exc``'s message in its own ("Cohort 'A':
    ...") names it: its code (``inner_code``) and values (``inner``), so that an application
    words the wrapped refusal in its user's language too."""
    return {"inner_code": exc.code, "inner": dict(exc.extra)}


class ValidationError(OncotrialsError):
    """Input that breaks a documented rule: a value out of range, a missing field."""

    code = "invalid"
    status = 422


class NotFoundError(OncotrialsError):
    """Something that does not exist, or that the caller may not see."""

    code = "not_found"
    status = 404


class PermissionDeniedError(OncotrialsError):
    """The caller may see the object but not do this to it."""

    code = "forbidden"
    status = 403


class ConflictError(OncotrialsError):
    """A stale write or a contested allocation lost the race."""

    code = "conflict"
    status = 409
