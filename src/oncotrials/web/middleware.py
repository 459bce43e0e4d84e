from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (Django 5.2 has no CSP)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


class RejectNulCharactersMiddleware:
    """API text may not contain NUL characters: PostgreSQL cannot store them, so they would turn
    into a server error. Answer 422 in the API's error shape before anything runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and self._has_nul(request):
            from django.http import JsonResponse

            return JsonResponse(
                {
                    "code": "invalid",
                    "message": "Text cannot contain NUL (\\u0000) characters.",
                    "extra": {},
                },
                status=422,
            )
        return self.get_response(request)

    @staticmethod
    def _has_nul(request: HttpRequest) -> bool:
        if "\x00" in request.path or any(
            "\x00" in k or "\x00" in v for k, vs in request.GET.lists() for v in [k, *vs]
        ):
            return True
        if request.content_type == "application/json" and request.method in {
            "POST",
            "PUT",
            "PATCH",
        }:
            return b"\\u0000" in request.body.lower() or b"\x00" in request.body
        return False
