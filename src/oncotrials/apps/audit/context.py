"""Who is acting and through which channel, for the current request or command."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from oncotrials.apps.accounts.models import Actor


@dataclass(frozen=True)
class AuditContext:
    channel: str = "system"
    # The request's user (possibly anonymous, resolved lazily); None outside a request.
    user: Actor | None = None


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "oncotrials_audit_context",
    default=AuditContext(),  # noqa: B039 - frozen dataclass, immutable
)


def current() -> AuditContext:
    return _current.get()


@contextmanager
def audit_context(*, channel: str, user: Actor | None = None) -> Iterator[None]:
    token = _current.set(AuditContext(channel=channel, user=user))
    try:
        yield
    finally:
        _current.reset(token)
