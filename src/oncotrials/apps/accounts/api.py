from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Router, Status

from oncotrials.core.errors import PermissionDeniedError

from .access import acting_user, scope_for
from .schemas import ErrorOut, MeOut, SiteOut, TokenCreatedOut, TokenIn, TokenOut
from .selectors import memberships_of, sites_for_user, tokens_of
from .services import token_create, token_revoke

router = Router(tags=["accounts"])


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    user = acting_user(request.user)
    return {
        "id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "is_admin": scope_for(user).is_admin,
        "memberships": list(memberships_of(user=user)),
    }


@router.get("/sites", response=list[SiteOut])
def sites(request: HttpRequest) -> object:
    return sites_for_user(user=request.user)


@router.get("/tokens", response=list[TokenOut])
def tokens(request: HttpRequest) -> object:
    return tokens_of(user=acting_user(request.user))


@router.post("/tokens", response={201: TokenCreatedOut, 403: ErrorOut, 422: ErrorOut})
def tokens_create(request: HttpRequest, payload: TokenIn) -> Status[dict[str, object]]:
    """Create a token: only in a session opened with the password, never with a token."""
    if getattr(request, "oncotrials_token", None) is not None:
        raise PermissionDeniedError(
            gettext(
                "A personal access token cannot create tokens; log in with your password and "
                "create it from your account's API tokens page or this endpoint in that "
                "session."
            )
        )
    user = acting_user(request.user)
    token, raw = token_create(
        user=user, name=payload.name, expires_at=payload.expires_at, scope=payload.scope
    )
    out = TokenOut.from_orm(token).dict()
    return Status(201, {**out, "token": raw})


@router.delete("/tokens/{token_id}", response={200: TokenOut, 404: ErrorOut})
def tokens_revoke(request: HttpRequest, token_id: int) -> object:
    return token_revoke(token_id=token_id, user=acting_user(request.user))
