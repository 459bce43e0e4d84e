from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import audit_context


class AuditContextMiddleware:
    """Marks every request's writes with their channel (web, API or admin) and user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        channel = "api" if path.startswith("/api/") else "admin" if "/admin/" in path else "web"
        user = getattr(request, "user", None)
        with audit_context(channel=channel, user=user):
            return self.get_response(request)
