"""The account's own pages: the session's remaining time and the personal API tokens."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.views.decorators.http import require_http_methods

from .middleware import session_remaining, session_touch


@require_http_methods(["GET", "POST"])
def session_status(request: HttpRequest) -> HttpResponse:
    """GET: seconds left before the idle timeout (reading it is not activity).
    POST: the user is still there ("Stay signed in"): the idle time starts again."""
    if not request.user.is_authenticated:
        return JsonResponse(
            {"remaining": 0, "login_url": resolve_url(settings.LOGIN_URL)}, status=401
        )
    if request.method == "POST":
        session_touch(request)
    return JsonResponse(
        {
            "remaining": session_remaining(request),
            "timeout": settings.SESSION_IDLE_TIMEOUT,
            "warning": settings.SESSION_IDLE_WARNING,
        }
    )
