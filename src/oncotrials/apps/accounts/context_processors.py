from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .access import scope_for
from .models import Role


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The roles the user holds, for role-aware navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_roles": set(), "nav_is_admin": False}
    scope = scope_for(user)
    labels = dict(Role.choices)
    return {
        "idle_timeout": settings.SESSION_IDLE_TIMEOUT,
        "idle_warning": settings.SESSION_IDLE_WARNING,
        "nav_roles": sorted(str(labels.get(r, r)) for r in scope.roles()),
        "nav_is_admin": scope.is_admin,
    }
