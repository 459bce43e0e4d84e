"""Logins, logouts, failed logins and lockouts go into the audit trail.

Connected from ``AccountsConfig.ready``. A failed login names the user when the name exists,
else the attempted name (object type ``accounts.login``); every event carries the client address
as django-axes resolves it (``AXES_IPWARE_*`` settings behind a proxy).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.helpers import get_client_ip_address, get_cool_off
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest
from django.utils import timezone

from oncotrials.apps.audit.services import audit_record

from .middleware import session_touch
from .models import User

LOGIN_OBJECT_TYPE = "accounts.login"  # a login attempt under a name that names no user


def request_channel(request: HttpRequest | None) -> str:
    path = getattr(request, "path", "") or ""
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    return str(address or "")


def _record_about_name(
    *, action: str, username: str, request: HttpRequest | None, changes: dict[str, Any]
) -> None:
    user = User.objects.filter(username=username).first() if username else None
    common: dict[str, Any] = {
        "action": action,
        "changes": changes,
        "channel": request_channel(request),
    }
    if user is not None:
        audit_record(instance=user, **common)
    else:
        name = (username or "(no name)")[:150]
        audit_record(object_type=LOGIN_OBJECT_TYPE, object_id=name, object_repr=name, **common)


def on_logged_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        # The absolute lifetime counts from the login; activity only defers the idle timeout.
        request.session.set_expiry(
            timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
        )
        session_touch(request)
    audit_record(
        action="login",
        instance=user,
        changes={"ip_address": [None, client_address(request)]},
        by=user,
        channel=request_channel(request),
    )


def on_logged_out(
    sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any
) -> None:
    if user is None or not isinstance(user, User):
        return
    audit_record(
        action="logout",
        instance=user,
        changes={"ip_address": [None, client_address(request)]},
        reason=getattr(request, "oncotrials_logout_reason", "") or "logged out",
        by=user,
        channel=request_channel(request),
    )


def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get(User.USERNAME_FIELD) or credentials.get("username") or "")
    _record_about_name(
        action="login_failed",
        username=username,
        request=request,
        changes={"ip_address": [None, client_address(request)]},
    )


def on_locked_out(
    sender: Any,
    request: HttpRequest | None,
    username: str | None,
    ip_address: str | None,
    **kwargs: Any,
) -> None:
    cool_off = get_cool_off(request)
    until = (
        (timezone.now() + cool_off).isoformat(timespec="seconds")
        if cool_off
        else "an administrator unlocks"
    )
    _record_about_name(
        action="lockout",
        username=username or "",
        request=request,
        changes={
            "ip_address": [None, ip_address or client_address(request)],
            "locked_until": [None, until],
        },
    )


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="oncotrials-audit-login")
    user_logged_out.connect(on_logged_out, dispatch_uid="oncotrials-audit-logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="oncotrials-audit-login-failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="oncotrials-audit-lockout")
