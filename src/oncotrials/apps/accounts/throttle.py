"""Login throttling by name at an address, and by address alone (django-axes handler).

``AXES_LOCKOUT_PARAMETERS`` is ``[["username", "ip_address"], "ip_address"]``:

- a user name is locked *at one client address* after ``AXES_FAILURE_LIMIT`` failures, so that
  nobody elsewhere can lock someone out of their account by typing wrong passwords under their
  name;
- a client address is locked for every name after ``LOGIN_FAILURE_LIMIT_PER_ADDRESS`` failures
  (higher), which slows password spraying (one password tried under many names) from one address.

django-axes has one failure limit; this handler scales the count of each parameter to it, so that
a parameter reaches the limit exactly when its own count reaches its own threshold. A successful
login forgets only the failures of that name at that address, never the address's other failures.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` proxies that each
    append the address they saw to ``X-Forwarded-For``, the one the outermost proxy saw (what a
    client writes itself into the header, further left, is never trusted)."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "") or "")
    if count <= 0 or not forwarded:
        return remote
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    if not hops:
        return remote
    return hops[-count] if len(hops) >= count else hops[0]


def _threshold(parameter: str | list[str], limit: int) -> int:
    if parameter == "ip_address" or parameter == ["ip_address"]:
        return max(1, int(settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS))
    return limit


class LoginThrottleHandler(AxesDatabaseHandler):  # type: ignore[misc]
    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        limit = get_failure_limit(request, credentials)
        parameters = get_lockout_parameters(request, credentials)
        worst = 0
        for parameter, attempts in zip(
            parameters, self.get_user_attempts(request, credentials), strict=True
        ):
            count = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            # count * limit // threshold reaches ``limit`` exactly when count reaches threshold.
            worst = max(worst, count * limit // _threshold(parameter, limit))
        return worst

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(
            username=username,
            ip_address=getattr(request, "axes_ip_address", None) or client_ip(request),
        ).delete()
        return int(count)
