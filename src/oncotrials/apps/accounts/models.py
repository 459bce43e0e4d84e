"""Users, sites and memberships: who may see and do what, where, and for how long."""

from __future__ import annotations

import zoneinfo
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from .access import Scope


class Role(models.TextChoices):
    INVESTIGATOR = "investigator", _("Investigator")
    RESEARCH_NURSE = "research_nurse", _("Research nurse")
    CRA = "cra", _("Clinical research associate")
    DATA_MANAGER = "data_manager", _("Data manager")
    BIOSTATISTICIAN = "biostatistician", _("Biostatistician")
    PHARMACOVIGILANCE = "pharmacovigilance", _("Pharmacovigilance")
    MOLECULAR_BIOLOGIST = "molecular_biologist", _("Molecular biologist")
    TUMOUR_BOARD_COORDINATOR = "tumour_board_coordinator", _("Tumour-board coordinator")
    BIOBANK_TECHNICIAN = "biobank_technician", _("Biobank technician")
    SPONSOR_MONITOR = "sponsor_monitor", _("Sponsor monitor")
    UNIT_MANAGER = "unit_manager", _("Unit manager")
    ADMINISTRATOR = "administrator", _("Administrator")


def _validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            gettext("Unknown time zone %(value)s; use an IANA name such as Europe/Paris.")
            % {"value": repr(value)}
        )


class User(AbstractUser):
    """A person who logs in. Identity only: what they may do comes from memberships."""

    language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, default="en", help_text=_("Interface language")
    )

    # Not a field: the grants that ``access.scope_for`` resolves once and keeps on the instance
    # (one request's user) until ``access.forget_scope`` drops them.
    _oncotrials_scope: Scope

    class Meta:
        ordering = ["username"]


class Site(models.Model):
    """A centre taking part in trials (the main centre, a partner centre)."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text=_("ISO 3166 alpha-2"))
    time_zone = models.CharField(
        max_length=64, default="Europe/Paris", validators=[_validate_time_zone]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self, at: object = None) -> MembershipQuerySet:
        now = at or timezone.now()
        return self.filter(
            models.Q(valid_from__lte=now),
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=now),
        )


class Membership(models.Model):
    """Ties a user to a role at a site, optionally for one trial only, for a period."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="memberships")
    trial = models.ForeignKey(
        "trials.Trial",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        help_text=_("Leave empty for every trial of the site."),
    )
    valid_from = models.DateTimeField(default=timezone.now)
    valid_to = models.DateTimeField(null=True, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["user__username", "site__name", "role"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gt=models.F("valid_from")),
                name="membership_period_positive",
            ),
            models.CheckConstraint(
                condition=~models.Q(role="sponsor_monitor") | models.Q(trial__isnull=False),
                name="monitor_membership_names_a_trial",
            ),
        ]

    def __str__(self) -> str:
        scope = f" / {self.trial}" if self.trial_id else ""
        return f"{self.user} — {self.get_role_display()} @ {self.site}{scope}"


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class ApiToken(models.Model):
    """A personal access token. Only a SHA-256 digest is stored; the token is shown once.

    Every token expires (``API_TOKEN_DAYS`` by default); a read-only token is refused any
    write; no token can create tokens (that needs the password, through a session)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(
        max_length=16, choices=TokenScope.choices, default=TokenScope.READ_WRITE
    )
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def state(self, at: object = None) -> str:
        """active, expired or revoked."""
        now = at or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:  # type: ignore[operator]
            return "expired"
        return "active"


# Whoever asks: a signed-in user, or the anonymous user of a request that is not signed in
# (every rule then grants nothing). Selectors and access checks take an ``Actor``; services
# that store who did something take a ``User`` (see ``access.acting_user``).
Actor = User | AnonymousUser


class SigningThrottle(models.Model):
    """Wrong passwords entered to sign electronically, per user: after
    ``SIGNATURE_FAILURE_LIMIT`` within ``SIGNATURE_FAILURE_WINDOW`` the user cannot sign until
    ``locked_until``, even with the right password (21 CFR 11.300(d))."""

    user = models.OneToOneField(
        User, on_delete=models.CASCADE, primary_key=True, related_name="signing_throttle"
    )
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"signing of {self.user_id}: {self.failures} failure(s)"
