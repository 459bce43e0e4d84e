"""Unit operations: a site's chairs, beds, rooms and isolators, its opening hours, nurse
staffing and closures; the care requests that need them (from the patients' visit calendars or
entered by hand); the bookings that place them; and the accrual plans that forecasts read."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.access import Target
from oncotrials.apps.accounts.models import Site


class ResourceKind(models.TextChoices):
    CHAIR = "chair", _("Infusion chair")
    BED = "bed", _("Ward bed")
    ROOM = "room", _("Consultation room")
    ISOLATOR = "isolator", _("Pharmacy isolator")


class Resource(models.Model):
    """One chair, bed, room or pharmacy isolator of a site."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="resources")
    kind = models.CharField(max_length=16, choices=ResourceKind.choices)
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=120, blank=True)
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["site", "kind", "code"]
        constraints = [
            models.UniqueConstraint(fields=["site", "code"], name="resource_code_unique_per_site")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_kind_display()})"

    def access_target(self) -> Target:
        return Target(frozenset({self.site_id}))


class UnitCalendar(models.Model):
    """Opening hours of a site's day unit, ward and pharmacy (local times, Monday to Friday)."""

    site = models.OneToOneField(Site, on_delete=models.PROTECT, related_name="unit_calendar")
    chair_open = models.TimeField(default=dt.time(8, 0))
    chair_close = models.TimeField(default=dt.time(19, 0))
    pharmacy_open = models.TimeField(default=dt.time(8, 0))
    pharmacy_close = models.TimeField(default=dt.time(17, 0))
    bed_admit_from = models.TimeField(default=dt.time(8, 0))
    bed_admit_to = models.TimeField(default=dt.time(12, 0))
    ward_open = models.TimeField(default=dt.time(7, 0), help_text=_("Ward opens Monday"))
    ward_close = models.TimeField(default=dt.time(20, 0), help_text=_("Ward closes Friday"))
    ward_day_sampling = models.PositiveSmallIntegerField(default=2)
    ward_night_sampling = models.PositiveSmallIntegerField(default=1)
    night_from = models.TimeField(default=dt.time(21, 0))
    version = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"Unit calendar of {self.site}"


class NurseShift(models.Model):
    """From ``starts`` to ``ends`` on weekdays, ``nurses`` nurses are on duty in the day unit."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="nurse_shifts")
    starts = models.TimeField()
    ends = models.TimeField()
    nurses = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["site", "starts"]

    def __str__(self) -> str:
        return f"{self.starts:%H:%M}-{self.ends:%H:%M}: {self.nurses} nurses"


class Closure(models.Model):
    """A day the unit is closed (public holiday, works)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="closures")
    on = models.DateField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["site", "on"]
        constraints = [models.UniqueConstraint(fields=["site", "on"], name="closure_once_a_day")]

    def __str__(self) -> str:
        return f"{self.on}: {self.reason}"


class Unit(models.TextChoices):
    CHAIR = "chair", _("Day-unit chair")
    BED = "bed", _("Ward bed")


class RequestSource(models.TextChoices):
    CALENDAR = "calendar", _("Visit calendar")
    MANUAL = "manual", _("Entered by hand")


class RequestStatus(models.TextChoices):
    OPEN = "open", _("To schedule")
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")


class CareRequest(models.Model):
    """A visit that needs a chair or a bed: its window of days, its durations in minutes, the
    PK sampling offsets (minutes after the start, or after the dose for a bed stay), the
    pharmacy preparation and its priority weight (3 for DLT-period and PK visits, else 1)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="care_requests")
    trial = models.ForeignKey(
        "trials.Trial", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    registration = models.ForeignKey(
        "subjects.Registration",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="care_requests",
    )
    label = models.CharField(max_length=60, help_text=_("Patient and visit, e.g. P-0042 C1D1"))
    visit_code = models.CharField(max_length=20, blank=True)
    unit = models.CharField(max_length=8, choices=Unit.choices)
    kind = models.CharField(max_length=20, default="standard")
    earliest = models.DateField()
    latest = models.DateField()
    target = models.DateField()
    duration_min = models.PositiveIntegerField()
    pre_min = models.PositiveIntegerField(default=0, help_text=_("Assessment before the 'go'"))
    prep_min = models.PositiveIntegerField(default=0, help_text=_("Pharmacy preparation"))
    setup_min = models.PositiveIntegerField(default=15)
    dose_at_min = models.PositiveIntegerField(default=0, help_text=_("Bed stays: dose after"))
    sample_offsets = models.JSONField(default=list, blank=True)
    weight = models.PositiveSmallIntegerField(default=1)
    source = models.CharField(max_length=10, choices=RequestSource.choices)
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["target", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "visit_code", "target"],
                condition=models.Q(registration__isnull=False),
                name="care_request_once_per_visit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_unit_display()}, {self.target})"

    @property
    def ref(self) -> str:
        """The id in a week instance: C or B (the unit) and the primary key."""
        return f"{'C' if self.unit == Unit.CHAIR else 'B'}{self.pk}"


class BookingStatus(models.TextChoices):
    ACTIVE = "active", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    RELEASED = "released", _("Released by a re-plan")


class Booking(models.Model):
    """Where and when a request is placed: a start (aware UTC), optionally a resource, and the
    start of its pharmacy preparation. A cancelled booking stays, with who, when and why."""

    request = models.OneToOneField(CareRequest, on_delete=models.CASCADE, related_name="booking")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="bookings")
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, null=True, blank=True, related_name="bookings"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    prep_starts_at = models.DateTimeField(null=True, blank=True)
    booked_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    booked_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=10, choices=BookingStatus.choices, default=BookingStatus.ACTIVE
    )
    status_reason = models.CharField(max_length=500, blank=True)
    status_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]

    def __str__(self) -> str:
        return f"{self.request.label} at {self.starts_at:%Y-%m-%d %H:%M}"

    def access_target(self) -> Target:
        return Target(frozenset({self.site_id}))


class AccrualPlan(models.Model):
    """The plan a forecast weighs against the data: a target, a planned duration from a start
    date, the prior certainty (Gajewski's P) and the other centres of a multicentre trial
    (``external_centres``: [{"name", "opens_on", "recruited"}], planned ones in the future)."""

    trial = models.ForeignKey("trials.Trial", on_delete=models.CASCADE, related_name="+")
    cohort = models.ForeignKey(
        "trials.Cohort", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    target = models.PositiveIntegerField()
    starts_on = models.DateField()
    duration_months = models.FloatField()
    certainty = models.FloatField(default=0.5)
    external_centres = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["trial", "cohort"]
        constraints = [
            models.UniqueConstraint(
                fields=["trial", "cohort"], name="accrual_plan_once_per_cohort"
            ),
            models.UniqueConstraint(
                fields=["trial"],
                condition=models.Q(cohort__isnull=True),
                name="accrual_plan_once_per_trial",
            ),
        ]

    def __str__(self) -> str:
        return f"Accrual plan of {self.trial}" + (f" / {self.cohort}" if self.cohort_id else "")


class PlanStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Solving")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    SAVED = "saved", _("Bookings saved")


class PlanKind(models.TextChoices):
    PLAN = "plan", _("Plan of the week")
    REPLAN = "replan", _("Re-plan of the rest of the week")


class PlanRun(models.Model):
    """One solve of a site's week: the instance it read, its progress and its plan. A re-plan
    also keeps the bookings it started from (``previous``), the reasons given for moving locked
    bookings and the moves it proposes."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="plan_runs")
    kind = models.CharField(max_length=8, choices=PlanKind.choices, default=PlanKind.PLAN)
    previous = models.JSONField(default=dict, blank=True)
    reasons = models.JSONField(default=dict, blank=True)
    moves = models.JSONField(default=list, blank=True)
    monday = models.DateField()
    time_limit = models.PositiveIntegerField(default=60)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.QUEUED)
    instance = models.JSONField(default=dict)
    progress = models.JSONField(default=list, blank=True)  # [[seconds, objective, bound], ...]
    objective = models.IntegerField(null=True, blank=True)
    first_fit_objective = models.IntegerField(null=True, blank=True)
    lower_bound = models.FloatField(null=True, blank=True)
    unscheduled = models.JSONField(default=list, blank=True)
    solution = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Plan of {self.site} for the week of {self.monday} ({self.status})"

    def access_target(self) -> Target:
        return Target(frozenset({self.site_id}))

    @property
    def finished(self) -> bool:
        return self.status in (PlanStatus.DONE, PlanStatus.FAILED, PlanStatus.SAVED)
