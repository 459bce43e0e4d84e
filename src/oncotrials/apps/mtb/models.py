"""Tumour-board meetings, cases, recommendations and referrals.

A :class:`MtbMeeting` of one site lists :class:`MtbCase` rows, one per patient, each with the
genomic reports it discusses (a report is *discussed* once it is on a case). A case holds the
board's :class:`MtbRecommendation` rows; each is signed by an investigator or the meeting's chair,
and the signature keeps a fingerprint of what was signed, so that any later change of the
recommendation invalidates it. A signed trial-referral recommendation opens an
:class:`MtbReferral`, whose state is read from the patient journey (screenings, registrations),
never typed again.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", pgettext_lazy("meeting status", "Held")
    CLOSED = "closed", _("Closed")


MEETING_TRANSITIONS: dict[str, frozenset[str]] = {
    MeetingStatus.PLANNED: frozenset({MeetingStatus.HELD}),
    MeetingStatus.HELD: frozenset({MeetingStatus.CLOSED}),
    MeetingStatus.CLOSED: frozenset(),
}


class MtbMeeting(models.Model):
    """One molecular tumour board meeting of one site."""

    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="mtb_meetings")
    held_on = models.DateField()
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=8, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED
    )
    chair = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attendees = models.ManyToManyField("accounts.User", blank=True, related_name="+")
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["site", "held_on"], name="mtb_meeting_site_day")]

    def __str__(self) -> str:
        return f"{self.title or 'Tumour board'} ({self.held_on:%Y-%m-%d})"


class MtbCase(models.Model):
    """A patient on a meeting's agenda, with the new reports that brought them there."""

    meeting = models.ForeignKey(MtbMeeting, on_delete=models.CASCADE, related_name="cases")
    patient = models.ForeignKey(
        "subjects.Patient", on_delete=models.PROTECT, related_name="mtb_cases"
    )
    reports: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "genomics.GenomicReport", through="MtbCaseReport", related_name="mtb_cases", blank=True
    )
    added_by_hand = models.BooleanField(default=False)
    reason = models.CharField(max_length=500, blank=True)
    # The board's documented actionability: None follows the ESCAT tiers (I or II: actionable).
    actionable = models.BooleanField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["meeting_id", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "patient"], name="mtb_case_once_per_meeting")
        ]

    def __str__(self) -> str:
        return f"{self.patient} at {self.meeting}"


class MtbCaseReport(models.Model):
    """A genomic report discussed in a case (each report is discussed once)."""

    case = models.ForeignKey(MtbCase, on_delete=models.CASCADE, related_name="case_reports")
    report = models.OneToOneField(
        "genomics.GenomicReport", on_delete=models.PROTECT, related_name="mtb_case_report"
    )

    def __str__(self) -> str:
        return f"report {self.report_id} in case {self.case_id}"


class RecommendationKind(models.TextChoices):
    TRIAL_REFERRAL = "trial_referral", _("Trial referral")
    APPROVED_THERAPY = "approved_therapy", _("Approved therapy")
    OFF_LABEL_THERAPY = "off_label_therapy", _("Off-label therapy")
    GERMLINE_TESTING = "germline_testing", _("Germline testing")
    REBIOPSY = "rebiopsy", _("Re-biopsy")
    NO_ACTION = "no_action", _("No action")


class MtbRecommendation(models.Model):
    """One recommendation of the board for a case, with its rationale and signature."""

    case = models.ForeignKey(MtbCase, on_delete=models.CASCADE, related_name="recommendations")
    kind = models.CharField(max_length=20, choices=RecommendationKind.choices)
    trial = models.ForeignKey(
        "trials.Trial", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cohort = models.ForeignKey(
        "trials.Cohort", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    therapy = models.CharField(max_length=200, blank=True)
    rationale = models.TextField()
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    signed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_name = models.CharField(max_length=300, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_meaning = models.CharField(max_length=200, blank=True)
    signed_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["case_id", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="trial_referral") | models.Q(trial__isnull=False),
                name="mtb_referral_names_its_trial",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.case}"


class MtbReferral(models.Model):
    """A patient referred to a trial by a signed recommendation. Its state is read from the
    patient journey (``selectors.referral_state``); only the opening and a withdrawal are kept."""

    recommendation = models.OneToOneField(
        MtbRecommendation, on_delete=models.PROTECT, related_name="referral"
    )
    patient = models.ForeignKey(
        "subjects.Patient", on_delete=models.PROTECT, related_name="mtb_referrals"
    )
    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="+")
    cohort = models.ForeignKey(
        "trials.Cohort", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_on = models.DateField()
    opened_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.patient} referred to {self.trial}"
