from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .access import scope_for
from .models import ApiToken, Membership, Site


def sites_for_user(*, user: Any) -> QuerySet[Site]:
    scope = scope_for(user)
    if scope.is_admin:
        return Site.objects.all()
    return Site.objects.filter(pk__in=scope.site_ids)


def memberships_of(*, user: Any) -> QuerySet[Membership]:
    return Membership.objects.active().filter(user=user).select_related("site")


def tokens_of(*, user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)
