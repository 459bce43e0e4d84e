from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe


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


_HEADING = re.compile(rb"<h[1-4][^>]*>(.*?)</h[1-4]>", re.S | re.I)


class FragmentDocumentMiddleware:
    """A page part that htmx loads (a panel, a table) opened directly, e.g. from the browser's
    history or a bookmark, is served inside the full page: with the document's language, a
    title (its first heading) and the navigation (WCAG 3.1.1 and 2.4.2). htmx requests get the
    bare part as before."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.method != "GET"
            or request.headers.get("HX-Request")
            or response.status_code != 200
            or response.streaming
            or response.has_header("Content-Disposition")
            or not response.get("Content-Type", "").startswith("text/html")
            or request.path.startswith(("/api/", "/admin/", "/static/"))
        ):
            return response
        body = response.content
        if b"<html" in body[:2000].lower() or not body.strip():
            return response
        charset = response.charset or "utf-8"
        heading = _HEADING.search(body)
        title = strip_tags(heading.group(1).decode(charset, "replace")).strip() if heading else ""
        response.content = render_to_string(
            "fragment_page.html",
            # the part is this server's own rendered (already escaped) HTML
            {"fragment": mark_safe(body.decode(charset, "replace")), "fragment_title": title},  # noqa: S308
            request=request,
        ).encode(charset)
        return response
