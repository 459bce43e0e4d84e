"""Writes for users, memberships and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.audit.services import audit_record
from oncotrials.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

from .access import forget_scope, scope_for, scope_from_memberships
from .models import ApiToken, Membership, Role, SigningThrottle, Site, TokenScope, User
from .prepared import PreparedRead

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
        raise ValidationError(gettext("username must not be empty."), field="username")
    if User.objects.filter(username__iexact=username).exists():
        raise ConflictError(
            gettext("A user %(username)s already exists.") % {"username": repr(username)}
        )
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
            raise ValidationError(
                gettext("Give a password or its hash, not both."), field="password_hash"
            )
        try:
            identify_hasher(password_hash)
        except ValueError:
            raise ValidationError(
                gettext("password_hash is not a hash of a known hasher (make_password)."),
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
            gettext("role must be one of %(allowed)s; got %(role)s.")
            % {"allowed": ", ".join(Role.values), "role": repr(role)},
            field="role",
        )
    if role == Role.SPONSOR_MONITOR and trial is None:
        raise ValidationError(
            gettext("A sponsor monitor's membership must name the trial monitored."), field="trial"
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
    *,
    user: User,
    name: str,
    by: User | None = None,
    expires_at: Any = None,
    scope: str = TokenScope.READ_WRITE,
) -> tuple[ApiToken, str]:
    """Create a personal access token; returns it and the raw secret, which is never stored.

    Without ``expires_at`` it expires after ``API_TOKEN_DAYS`` days."""
    if not name.strip():
        raise ValidationError(gettext("A token needs a name (what it is for)."), field="name")
    if scope not in TokenScope.values:
        raise ValidationError(
            gettext("scope must be one of %(allowed)s; got %(scope)s.")
            % {"allowed": ", ".join(TokenScope.values), "scope": repr(scope)},
            field="scope",
        )
    now = timezone.now()
    if expires_at is None:
        expires_at = now + dt.timedelta(days=settings.API_TOKEN_DAYS)
    elif expires_at <= now:
        raise ValidationError(gettext("expires_at must lie in the future."), field="expires_at")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        scope=scope,
        prefix=raw[: len(TOKEN_PREFIX) + 6],
        digest=_digest(raw),
        expires_at=expires_at,
    )
    audit_record(
        action="create",
        instance=token,
        changes={
            "name": [None, token.name],
            "scope": [None, token.scope],
            "expires_at": [None, token.expires_at],
        },
        by=by or user,
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token_id: int, user: User | None) -> ApiToken:
    """Revoke a token: one's own, or any user's for an administrator; ``user=None`` is the
    platform's operator at the command line (any token)."""
    tokens = ApiToken.objects.select_for_update().select_related("user")
    if user is not None and not scope_for(user).is_admin:
        tokens = tokens.filter(user=user)
    token = tokens.filter(pk=token_id).first()
    if token is None:
        raise NotFoundError(gettext("No token %(token_id)s of yours.") % {"token_id": token_id})
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action="revoke", instance=token, by=user)
    return token


def _token_read(digest: str) -> QuerySet[ApiToken]:
    return ApiToken.objects.select_related("user").filter(digest=digest).order_by("pk")


def _token_read_with_memberships(digest: str, now: dt.datetime) -> QuerySet[ApiToken]:
    """PostgreSQL: the token, its user and the user's active memberships at ``now`` (as
    ``role|site id|trial id`` texts), in one query."""
    from django.contrib.postgres.aggregates import ArrayAgg

    text: CharField[str, str] = CharField()
    memberships = (
        Membership.objects.active(now)
        .filter(user_id=OuterRef("user_id"))
        .order_by()
        .values("user_id")
        .annotate(
            rows=ArrayAgg(
                Concat(
                    "role",
                    Value("|"),
                    Cast("site_id", text),
                    Value("|"),
                    Coalesce(Cast("trial_id", text), Value("")),
                    output_field=text,
                )
            )
        )
        .values("rows")
    )
    return _token_read(digest).annotate(_memberships=Subquery(memberships))


# Read on every API request: compiled once per connection (see prepared).
_TOKEN = PreparedRead(lambda digest: _token_read(digest)[:1], text=("digest",))
_TOKEN_WITH_MEMBERSHIPS = PreparedRead(
    lambda digest, now: _token_read_with_memberships(digest, now)[:1],
    text=("digest",),
    at=("now",),
)


def token_resolve(raw: str) -> ApiToken | None:
    """The active token behind a raw secret (with its user), or None (unknown, revoked, expired,
    inactive user). Marks it used (at most once a minute). On PostgreSQL the user's memberships
    are read with it: the request's scope (``access.scope_for``) costs no second query."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    if connection.vendor == "postgresql":
        token = _TOKEN_WITH_MEMBERSHIPS.first(digest=_digest(raw), now=now)
    else:
        token = _TOKEN.first(digest=_digest(raw))
    if token is None or token.state(now) != "active" or not token.user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    if hasattr(token, "_memberships"):  # read with it (PostgreSQL); None: no membership
        rows: list[str] = token._memberships or []
        token.user._oncotrials_scope = scope_from_memberships(
            token.user, [_membership_row(r) for r in rows]
        )
    return token


def _membership_row(text: str) -> tuple[str, int, int | None]:
    """A membership as read with a token: ``role|site id|trial id`` (none: empty)."""
    role, site_id, trial_id = text.split("|")
    return role, int(site_id), int(trial_id) if trial_id else None


def token_authenticate(raw: str) -> User | None:
    """The active user behind a raw token, or None (unknown, revoked, expired, inactive)."""
    token = token_resolve(raw)
    return token.user if token is not None else None


# ------------------------------------------------------------------ e-signature re-authentication

# Within ``signing_checks_remembered()``: the passwords already checked right in it, as a keyed
# digest of (stored hash, password), never the password itself. A check's answer depends on the
# stored hash and the password alone (the hash carries its own salt), so accounts that share one
# stored hash (the demo's, hashed once) share one check.
_SIGNING_CHECKED: ContextVar[set[bytes] | None] = ContextVar("signing_checked", default=None)


@contextmanager
def signing_checks_remembered() -> Iterator[None]:
    """Check each signer's password once within the block, not once per signature.

    For a batch that signs many records as a few users in one go (the demo load): the password
    hash (PBKDF2, about a third of a second of CPU each) is computed on a user's first signature;
    a later signature with the same password against the same stored hash (the same user, or an
    account given that very hash) is accepted without hashing it again. A wrong password is always checked and
    counted, the lock is always honoured, and nothing is remembered once the block ends. Never
    used around web requests: there every signature checks the password.
    """
    token = _SIGNING_CHECKED.set(set())
    try:
        yield
    finally:
        _SIGNING_CHECKED.reset(token)


def _signing_check_key(user: User, password: str) -> bytes:
    message = f"{user.password}\0{password}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).digest()


def _signing_password_ok(user: User, password: str) -> bool:
    checked = _SIGNING_CHECKED.get()
    if checked is not None and _signing_check_key(user, password) in checked:
        return True
    ok = user.check_password(password)
    if ok and checked is not None:
        # After the check: ``check_password`` may have upgraded the stored hash.
        checked.add(_signing_check_key(user, password))
    return ok


def signing_reauthenticate(*, user: User, password: str) -> None:
    """Check the password a user enters to sign electronically (21 CFR 11.200(a)(1)).

    Each wrong password is recorded in the audit trail (``signature_password_failed``); after
    ``SIGNATURE_FAILURE_LIMIT`` of them within ``SIGNATURE_FAILURE_WINDOW`` the user cannot sign
    for ``SIGNATURE_LOCK_TIME`` (``signature_locked``), and every attempt meanwhile is refused
    unchecked, the right password included (``signature_refused``). Raises
    ``PermissionDeniedError`` (``field="password"``, so that a form shows it beside the
    password) when the signature must not be applied.

    Call it before the signing transaction: what it records is committed in its own transaction
    so that the failure stays recorded when the signing service raises.
    """
    now = timezone.now()
    with transaction.atomic():
        SigningThrottle.objects.get_or_create(user=user)
        throttle = SigningThrottle.objects.select_for_update().get(user=user)
        if throttle.locked_until is not None and throttle.locked_until > now:
            until = throttle.locked_until
            audit_record(
                action="signature_refused",
                instance=user,
                changes={"locked_until": [None, until.isoformat(timespec="seconds")]},
                reason="signing is locked after repeated wrong passwords",
                by=user,
            )
            message = gettext(
                "Signing is locked until %(until)s UTC after repeated wrong passwords: the "
                "signature was not applied."
            ) % {"until": f"{until:%Y-%m-%d %H:%M}"}
        elif _signing_password_ok(user, password or ""):
            if throttle.failures or throttle.locked_until is not None:
                throttle.failures, throttle.window_started_at, throttle.locked_until = 0, None, None
                throttle.save()
            return
        else:
            started = throttle.window_started_at
            if started is None or now - started > settings.SIGNATURE_FAILURE_WINDOW:
                throttle.failures, throttle.window_started_at = 0, now
            throttle.failures += 1
            limit = settings.SIGNATURE_FAILURE_LIMIT
            audit_record(
                action="signature_password_failed",
                instance=user,
                changes={"failures": [throttle.failures - 1, throttle.failures]},
                reason=f"wrong password when signing ({throttle.failures} of {limit})",
                by=user,
            )
            message = gettext("The password does not match: the signature was not applied.")
            if throttle.failures >= limit:
                throttle.locked_until = now + settings.SIGNATURE_LOCK_TIME
                throttle.failures, throttle.window_started_at = 0, None
                audit_record(
                    action="signature_locked",
                    instance=user,
                    changes={
                        "locked_until": [None, throttle.locked_until.isoformat(timespec="seconds")]
                    },
                    reason=f"{limit} wrong passwords when signing",
                    by=user,
                )
                message = gettext(
                    "The password does not match (%(n)d wrong passwords): signing is locked "
                    "until %(until)s UTC. The signature was not applied."
                ) % {"n": limit, "until": f"{throttle.locked_until:%Y-%m-%d %H:%M}"}
            throttle.save()
    raise PermissionDeniedError(message, field="password")
