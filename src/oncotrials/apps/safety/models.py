"""Adverse events (CTCAE), CRS/ICANS assessments (ASTCT), SAE reports, DLT review, toxicity board."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RecordStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    COMPLETE = "complete", _("Complete")


class Seriousness(models.TextChoices):
    DEATH = "death", _("Results in death")
    LIFE_THREATENING = "life_threatening", _("Life-threatening")
    HOSPITALISATION = "hospitalisation", _("Requires or prolongs hospitalisation")
    DISABILITY = "disability", _("Persistent or significant disability")
    CONGENITAL_ANOMALY = "congenital_anomaly", _("Congenital anomaly or birth defect")
    IMPORTANT_MEDICAL_EVENT = "important_medical_event", _("Important medical event")


class Attribution(models.TextChoices):
    UNRELATED = "unrelated", _("Unrelated")
    UNLIKELY = "unlikely", _("Unlikely")
    POSSIBLE = "possible", _("Possible")
    PROBABLE = "probable", _("Probable")
    DEFINITE = "definite", _("Definite")


class ActionTaken(models.TextChoices):
    NONE = "none", _("Dose not changed")
    REDUCED = "reduced", _("Dose reduced")
    INTERRUPTED = "interrupted", _("Drug interrupted")
    WITHDRAWN = "withdrawn", _("Drug withdrawn")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class AeOutcome(models.TextChoices):
    RECOVERED = "recovered", _("Recovered/resolved")
    RECOVERED_WITH_SEQUELAE = "recovered_with_sequelae", _("Recovered with sequelae")
    RECOVERING = "recovering", _("Recovering/resolving")
    NOT_RECOVERED = "not_recovered", _("Not recovered/not resolved")
    FATAL = "fatal", _("Fatal")
    UNKNOWN = "unknown", _("Unknown")


class AdverseEvent(models.Model):
    """One adverse event of a registered patient, graded with CTCAE v5.0."""

    registration = models.ForeignKey(
        "subjects.Registration", on_delete=models.PROTECT, related_name="adverse_events"
    )
    term = models.CharField(max_length=200)
    meddra_code = models.PositiveIntegerField()
    soc = models.CharField(max_length=200)
    ctcae_version = models.CharField(max_length=8, default="5.0")
    verbatim = models.CharField(max_length=500, blank=True)
    grade = models.PositiveSmallIntegerField(null=True, blank=True)
    onset_date = models.DateField(null=True, blank=True)
    resolution_date = models.DateField(null=True, blank=True)
    seriousness = models.JSONField(default=list, blank=True)  # list of Seriousness values
    serious = models.BooleanField(default=False, db_index=True)
    attribution = models.JSONField(default=dict, blank=True)  # agent -> Attribution value
    action_taken = models.CharField(max_length=20, choices=ActionTaken.choices, blank=True)
    outcome = models.CharField(max_length=32, choices=AeOutcome.choices, blank=True)
    immune_related = models.BooleanField(default=False, db_index=True)
    expected = models.BooleanField(
        default=True, help_text=_("Listed in the reference safety information")
    )
    supportive_care = models.BooleanField(default=False)
    due_to_progression = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=RecordStatus.choices, default=RecordStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    # SAE clock: when the site became aware the event is serious; a follow-up due after news.
    sae_aware_at = models.DateTimeField(null=True, blank=True)
    sae_followup_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)
    first_completed_at = models.DateTimeField(null=True, blank=True)
    # Voided (entered in error), never deleted: it stays visible, struck through, with its reason,
    # and is left out of counts, summaries and the DLT review.
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["registration_id", "onset_date", "pk"]
        indexes = [models.Index(fields=["registration", "status"])]

    def __str__(self) -> str:
        grade = f" G{self.grade}" if self.grade else ""
        return f"AE {self.pk}: {self.term}{grade}"

    @property
    def voided(self) -> bool:
        return self.voided_at is not None


class AstctScale(models.TextChoices):
    CRS = "ASTCT_CRS", _("Cytokine release syndrome (ASTCT)")
    ICANS = "ASTCT_ICANS", _("ICANS (ASTCT)")


class AstctAssessment(models.Model):
    """One CRS or ICANS assessment: the findings as entered and the ASTCT grade computed from them."""

    registration = models.ForeignKey(
        "subjects.Registration", on_delete=models.PROTECT, related_name="astct_assessments"
    )
    scale = models.CharField(max_length=12, choices=AstctScale.choices)
    assessed_at = models.DateTimeField()
    parameters = models.JSONField()
    grade = models.PositiveSmallIntegerField()
    rule = models.TextField()
    decided_by = models.JSONField(default=list)
    ice_score = models.PositiveSmallIntegerField(null=True, blank=True)
    attribution = models.CharField(max_length=12, choices=Attribution.choices, blank=True)
    version = models.PositiveIntegerField(default=1)
    recorded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["registration_id", "scale", "assessed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_scale_display()} grade {self.grade} at {self.assessed_at:%Y-%m-%d %H:%M}"


class SaeReportKind(models.TextChoices):
    INITIAL = "initial", _("Initial report")
    FOLLOW_UP = "follow_up", _("Follow-up report")


class SaeReport(models.Model):
    """A report of a serious adverse event sent to the sponsor."""

    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="sae_reports"
    )
    kind = models.CharField(max_length=10, choices=SaeReportKind.choices)
    sequence = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["adverse_event_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["adverse_event", "sequence"], name="sae_report_sequence_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.sequence} for AE {self.adverse_event_id}"

    @property
    def late(self) -> bool:
        return self.sent_at > self.due_at


class DltRuleSet(models.Model):
    """A trial's DLT definition (docs/formats/dlt-rules.md), checked by the core loader on save."""

    trial = models.OneToOneField(
        "trials.Trial", on_delete=models.CASCADE, related_name="dlt_rule_set"
    )
    document = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"DLT rules of {self.trial}"


class DltCaseStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CONFIRMED = "confirmed", _("Confirmed DLT")
    REJECTED = "rejected", _("Rejected (not a DLT)")


# The event key of a patient-level declaration that the patient is not evaluable for DLT.
NOT_EVALUABLE_KEY = "NOT-EVALUABLE"


class DltCase(models.Model):
    """An event the DLT rules propose as a DLT (or leave pending), awaiting adjudication.

    The DLT cases and their signed adjudication are the one record of DLTs: the patient's DLT
    outcome, and so the escalation counts, follow from them (``dlt_review.dlt_statuses_for``).
    In a trial in escalation without DLT rules, a grade >= 3 AE possibly related or more in the
    DLT window is proposed as ``pending`` for adjudication."""

    registration = models.ForeignKey(
        "subjects.Registration", on_delete=models.PROTECT, related_name="dlt_cases"
    )
    event_key = models.CharField(max_length=64)  # "AE-12", "ASTCT_CRS"
    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="dlt_cases"
    )
    term = models.CharField(max_length=200)
    worst_grade = models.PositiveSmallIntegerField(null=True, blank=True)
    onset_day = models.IntegerField(null=True, blank=True)
    proposed_outcome = models.CharField(max_length=16)  # core Outcome: dlt / pending
    rule_id = models.CharField(max_length=100, blank=True)
    reason = models.TextField()
    rules_version = models.PositiveIntegerField()
    evaluated_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=DltCaseStatus.choices, default=DltCaseStatus.PROPOSED
    )
    adjudication_reason = models.TextField(blank=True)
    signed_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_meaning = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["registration_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "event_key"], name="dlt_case_event_unique"
            )
        ]

    def __str__(self) -> str:
        return f"DLT case {self.pk}: {self.term} ({self.status})"


class ToxicityBoardMeeting(models.Model):
    """A multidisciplinary meeting reviewing novel-drug toxicities at one site."""

    site = models.ForeignKey(
        "accounts.Site", on_delete=models.PROTECT, related_name="toxicity_meetings"
    )
    held_on = models.DateField()
    title = models.CharField(max_length=200)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.held_on})"


class ToxicityBoardCase(models.Model):
    meeting = models.ForeignKey(
        ToxicityBoardMeeting, on_delete=models.CASCADE, related_name="cases"
    )
    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, related_name="toxicity_cases"
    )
    why = models.CharField(max_length=200)
    recommendation = models.TextField(blank=True)
    recommended_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recommended_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["meeting_id", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "adverse_event"], name="toxicity_case_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.adverse_event} at {self.meeting}"
