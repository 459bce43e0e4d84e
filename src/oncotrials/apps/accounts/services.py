"""Writes for users, memberships and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone

from oncotrials.apps.audit.services import audit_record
from oncotrials.core.errors import ConflictError, NotFoundError, ValidationError

from .access import forget_scope
from .models import ApiToken, Membership, Role, Site, User

TOKEN_PREFIX = "otk_"  # noqa: S105 - a public marker, not a secret


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str = "",
    by: User | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    validate_password: bool = True,
    staff: bool = False,
    password_hash: str = "",
) -> User:
    """Create a user with ``password``, or with ``password_hash`` (a hash of Django's hashers,
    ``make_password``: accounts provisioned together with one password, e.g. the demo's, are
    hashed once; ``password`` must then be empty)."""
    username = username.strip()
    if not username:
        raise ValidationError("username must not be empty.", field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise ConflictError(f"A user {username!r} already exists.")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_staff=staff,
        is_superuser=staff,
    )
    if password_hash:
        if password:
            raise ValidationError("Give a password or its hash, not both.", field="password_hash")
        try:
            identify_hasher(password_hash)
        except ValueError:
            raise ValidationError(
                "password_hash is not a hash of a known hasher (make_password).",
                field="password_hash",
            ) from None
        user.password = password_hash
    else:
        if validate_password:
            try:
                password_validation.validate_password(password, user)
            except DjangoValidationError as exc:
                raise ValidationError(" ".join(exc.messages), field="password") from None
        user.set_password(password)
    user.save()
    audit_record(
        action="create",
        instance=user,
        changes={"username": [None, username], "is_staff": [None, staff]},
        by=by,
    )
    return user


@transaction.atomic
def membership_grant(
    *,
    user: User,
    role: str,
    site: Site,
    by: User | None = None,
    trial: Any = None,
    valid_to: Any = None,
) -> Membership:
    if role not in Role.values:
        raise ValidationError(
            f"role must be one of {', '.join(Role.values)}; got {role!r}.", field="role"
        )
    if role == Role.SPONSOR_MONITOR and trial is None:
        raise ValidationError(
            "A sponsor monitor's membership must name the trial monitored.", field="trial"
        )
    m = Membership.objects.create(user=user, role=role, site=site, trial=trial, valid_to=valid_to)
    forget_scope(user)
    audit_record(
        action="grant",
        instance=m,
        changes={
            "user": [None, user.username],
            "role": [None, role],
            "site": [None, site.code],
            "trial": [None, getattr(trial, "pk", None)],
        },
        by=by,
    )
    return m


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(
    *, user: User, name: str, by: User | None = None, expires_at: Any = None
) -> tuple[ApiToken, str]:
    """Create a personal access token; returns it and the raw secret, which is never stored."""
    if not name.strip():
        raise ValidationError("A token needs a name (what it is for).", field="name")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError("expires_at must lie in the future.", field="expires_at")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        digest=_digest(raw),
        expires_at=expires_at,
    )
    audit_record(
        action="create", instance=token, changes={"name": [None, token.name]}, by=by or user
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token_id: int, user: User) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFoundError(f"No token {token_id} of yours.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action="revoke", instance=token, by=user)
    return token


def token_authenticate(raw: str) -> User | None:
    """The active user behind a raw token, or None (unknown, revoked, expired, inactive)."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(raw)).first()
    now = timezone.now()
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
