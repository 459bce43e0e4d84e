"""The account's own pages: the session's remaining time and the personal API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from oncotrials.core.errors import NotFoundError, OncotrialsError

from .access import acting_user
from .middleware import session_remaining, session_touch
from .models import TokenScope
from .selectors import tokens_of
from .services import token_create, token_revoke

MAX_TOKEN_DAYS = 365


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


@login_required
@require_http_methods(["GET", "POST"])
def tokens_page(request: HttpRequest) -> HttpResponse:
    """The user's own personal access tokens: list (created, expiry, last use), create, revoke."""
    user = acting_user(request.user)
    created: dict[str, Any] | None = None
    error = ""
    if request.method == "POST":
        try:
            days = int(request.POST.get("days", "") or settings.API_TOKEN_DAYS)
        except ValueError:
            days = 0
        if not 1 <= days <= MAX_TOKEN_DAYS:
            error = _("Days before it expires: a whole number from 1 to %(max)d.") % {
                "max": MAX_TOKEN_DAYS
            }
        else:
            try:
                token, raw = token_create(
                    user=user,
                    name=request.POST.get("name", "")[:100],
                    scope=request.POST.get("scope", TokenScope.READ_WRITE),
                    expires_at=timezone.now() + dt.timedelta(days=days),
                )
                created = {"token": token, "raw": raw}
            except OncotrialsError as exc:
                error = exc.message
    now = timezone.now()
    labels = {"active": _("Active"), "expired": _("Expired"), "revoked": _("Revoked")}
    rows = [
        {"token": t, "state": (state := t.state(now)), "state_label": labels[state]}
        for t in tokens_of(user=user)
    ]
    return render(
        request,
        "accounts/tokens.html",
        {
            "rows": rows,
            "created": created,
            "error": error,
            "scopes": TokenScope.choices,
            "default_days": settings.API_TOKEN_DAYS,
            "max_days": MAX_TOKEN_DAYS,
        },
        status=422 if error else 200,
    )


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of one's tokens (an administrator: anyone's)."""
    try:
        token = token_revoke(token_id=token_id, user=acting_user(request.user))
    except NotFoundError:
        raise Http404("No such token.") from None
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("account-tokens")
