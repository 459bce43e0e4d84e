from __future__ import annotations

from django.db.models import QuerySet

from .access import scope_for
from .models import Actor, ApiToken, Membership, Site, User


def sites_for_user(*, user: Actor) -> QuerySet[Site]:
    scope = scope_for(user)
    if scope.is_admin:
        return Site.objects.all()
    return Site.objects.filter(pk__in=scope.site_ids)


def memberships_of(*, user: User) -> QuerySet[Membership]:
    """The account's own active memberships (who the user is, not what the user may see)."""
    return Membership.objects.active().filter(user=user).select_related("site")


def tokens_of(*, user: User) -> QuerySet[ApiToken]:
    """The account's own personal access tokens."""
    return ApiToken.objects.filter(user=user)


def tokens_listed(*, username: str | None = None) -> QuerySet[ApiToken]:
    """Every personal access token (for the platform's operator), or one user's."""
    tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
    return tokens if username is None else tokens.filter(user__username=username)
