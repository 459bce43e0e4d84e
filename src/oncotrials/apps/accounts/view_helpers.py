"""Small helpers shared by the apps' page views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden

from oncotrials.core.errors import NotFoundError, PermissionDeniedError

View = Callable[..., HttpResponse]


def visible_or_404(view: View) -> View:
    """Turn NotFoundError into 404 and PermissionDeniedError into 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFoundError:
            raise Http404("Not found.") from None
        except PermissionDeniedError as exc:
            return HttpResponseForbidden(exc.message)

    return wrapped


def int_or_none(value: str | None) -> int | None:
    """A query-string integer, or None when absent or not a number."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None
