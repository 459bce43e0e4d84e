from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

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
