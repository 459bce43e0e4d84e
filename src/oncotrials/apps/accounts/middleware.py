from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.utils import timezone, translation
from django.utils.translation import ngettext

from .access import scope_for
from .models import Site


class SiteTimezoneMiddleware:
    """Show times in the time zone of the user's (first) site, and in the user's language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tz_name = settings.DEFAULT_SITE_TIME_ZONE
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            site_ids = sorted(scope_for(user).site_ids)
            if site_ids:
                tz_name = (
                    Site.objects.filter(pk=site_ids[0]).values_list("time_zone", flat=True).first()
                    or tz_name
                )
            lang = getattr(user, "language", "")
            if lang and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
                translation.activate(lang)
                request.LANGUAGE_CODE = lang
        timezone.activate(zoneinfo.ZoneInfo(tz_name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# The time of the session's last request (seconds since the epoch), kept in the session.
LAST_ACTIVITY_KEY = "oncotrials_last_activity"
# A request refreshes the time at most this often: one session write per half-minute, not per request.
TOUCH_EVERY = 30
# Asking how long the session has left is not activity (the page's warning asks it).
SESSION_STATUS_PATH = "/account/session/"


def session_remaining(request: HttpRequest) -> int:
    """Seconds before the signed-in session ends for inactivity (0: it has ended)."""
    last = request.session.get(LAST_ACTIVITY_KEY)
    if last is None:
        return int(settings.SESSION_IDLE_TIMEOUT)
    return max(0, int(settings.SESSION_IDLE_TIMEOUT - (time.time() - float(last))))


def session_touch(request: HttpRequest) -> None:
    request.session[LAST_ACTIVITY_KEY] = time.time()


class IdleSessionMiddleware:
    """End a browser session after ``SESSION_IDLE_TIMEOUT`` seconds without a request.

    The user is logged out (the logout is audited with the reason) and sent to the login page
    with a message; an htmx request is redirected with ``HX-Redirect``; an API call made with the
    session continues unauthenticated (401). Requests with an API token carry no session and are
    not concerned. The absolute lifetime (``SESSION_COOKIE_AGE`` from the login) is set at login.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None or SESSION_KEY not in session:
            return self.get_response(request)
        last = session.get(LAST_ACTIVITY_KEY)
        now = time.time()
        if last is not None and now - float(last) >= settings.SESSION_IDLE_TIMEOUT:
            expired = self._expire(request)
            if expired is not None:
                return expired
            return self.get_response(request)
        status_read = request.path == SESSION_STATUS_PATH and request.method == "GET"
        if not status_read and (last is None or now - float(last) >= TOUCH_EVERY):
            session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)

    def _expire(self, request: HttpRequest) -> HttpResponse | None:
        minutes = max(1, round(settings.SESSION_IDLE_TIMEOUT / 60))
        request.oncotrials_logout_reason = f"idle for {minutes} min"  # type: ignore[attr-defined]
        logout(request)
        if request.path.startswith("/api/"):
            return None  # the API answers 401 for an unauthenticated call
        messages.info(
            request,
            ngettext(
                "You were logged out after %(minutes)d minute without activity.",
                "You were logged out after %(minutes)d minutes without activity.",
                minutes,
            )
            % {"minutes": minutes},
        )
        login_url = resolve_url(settings.LOGIN_URL)
        if request.method == "GET" and request.path != SESSION_STATUS_PATH:
            login_url += "?" + urlencode({"next": request.get_full_path()})
        if request.path == SESSION_STATUS_PATH:
            return JsonResponse({"remaining": 0, "login_url": login_url})
        if request.headers.get("HX-Request") == "true":
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login_url
            return response
        return HttpResponseRedirect(login_url)
