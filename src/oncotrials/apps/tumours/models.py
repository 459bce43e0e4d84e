"""Tumour assessments: the trial's response criteria, baseline lesions, follow-up measurements,
the responses computed by the RECIST 1.1 / iRECIST engine, and investigators' overrides.

Diameters are exact decimals in millimetres (0.01 mm), never binary floats: the engine compares
sums in integer hundredths so that "exactly -30 %" falls where the paper puts it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from oncotrials.apps.trials.history import HistoryManager


class Criteria(models.TextChoices):
    RECIST_11 = "recist1.1", _("RECIST 1.1")
    IRECIST = "irecist", _("iRECIST")


class TumourAssessmentSettings(models.Model):
    """How a trial reads tumour response (the protocol's choice)."""

    trial = models.OneToOneField(
        "trials.Trial", on_delete=models.CASCADE, related_name="tumour_settings"
    )
    criteria = models.CharField(max_length=10, choices=Criteria.choices, default=Criteria.RECIST_11)
    confirmation_required = models.BooleanField(
        default=False, help_text=_("Headline best overall response requires CR/PR confirmation")
    )
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        verbose_name_plural = "tumour assessment settings"

    def __str__(self) -> str:
        return f"{self.get_criteria_display()} for {self.trial}"


class LesionRole(models.TextChoices):
    TARGET = "target", _("Target")
    NON_TARGET = "non_target", _("Non-target")


class ImagingMethod(models.TextChoices):
    CT = "CT", _("CT")
    MRI = "MRI", _("MRI")
    CALIPER = "caliper", _("Caliper (clinical)")
    CHEST_XRAY = "chest_xray", _("Chest X-ray")


class LesionKind(models.TextChoices):
    SOFT_TISSUE = "soft_tissue", _("Soft tissue")
    LYTIC_BONE = "lytic_bone", _("Lytic bone (soft-tissue component)")
    CYSTIC = "cystic", _("Cystic")
    BLASTIC_BONE = "blastic_bone", _("Blastic bone")
    LEPTOMENINGEAL = "leptomeningeal", _("Leptomeningeal")
    ASCITES = "ascites", _("Ascites")
    PLEURAL_EFFUSION = "pleural_effusion", _("Pleural effusion")
    PERICARDIAL_EFFUSION = "pericardial_effusion", _("Pericardial effusion")
    INFLAMMATORY_BREAST = "inflammatory_breast", _("Inflammatory breast")
    LYMPHANGITIC = "lymphangitic", _("Lymphangitic")
    ABDOMINAL_MASS_EXAM = "abdominal_mass_exam", _("Abdominal mass (exam)")
    PREVIOUSLY_IRRADIATED = "previously_irradiated", _("Previously irradiated")


class LesionStatus(models.TextChoices):
    ABSENT = "absent", _("Absent")
    PRESENT = "present", _("Present")
    TOO_SMALL = "too_small", _("Too small to measure")
    INCREASED = "increased", _("Increased")
    UNEQUIVOCAL_PROGRESSION = "unequivocal_progression", _("Unequivocal progression")
    NOT_EVALUATED = "not_evaluated", _("Not evaluated")


class AssessmentKind(models.TextChoices):
    BASELINE = "baseline", _("Baseline")
    FOLLOW_UP = "follow_up", _("Follow-up")


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    COMPLETE = "complete", _("Complete")


class Assessment(models.Model):
    """One imaging time point of a registration: the baseline or a follow-up.

    Only complete assessments enter the response evaluation. Once completed, every change needs a
    reason; ``version`` guards against lost updates.
    """

    registration = models.ForeignKey(
        "subjects.Registration", on_delete=models.PROTECT, related_name="tumour_assessments"
    )
    kind = models.CharField(max_length=10, choices=AssessmentKind.choices)
    date = models.DateField()
    method = models.CharField(max_length=10, choices=ImagingMethod.choices, default="CT")
    tumour_markers_normal = models.BooleanField(null=True, blank=True)
    clinical_symptoms = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.COMPLETE
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["registration", "date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "date"], name="tumour_assessment_date_once"
            ),
            models.UniqueConstraint(
                fields=["registration"],
                condition=models.Q(kind="baseline"),
                name="tumour_baseline_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date.isoformat()} of registration {self.registration_id}"


class Lesion(models.Model):
    """A lesion recorded at baseline (target or non-target)."""

    registration = models.ForeignKey(
        "subjects.Registration", on_delete=models.PROTECT, related_name="lesions"
    )
    lesion_id = models.CharField(max_length=20)
    organ = models.CharField(max_length=60)
    role = models.CharField(max_length=12, choices=LesionRole.choices)
    nodal = models.BooleanField(default=False)
    method = models.CharField(max_length=10, choices=ImagingMethod.choices, default="CT")
    kind = models.CharField(
        max_length=24, choices=LesionKind.choices, default=LesionKind.SOFT_TISSUE
    )
    slice_thickness_mm = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    baseline_diameter_mm = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True
    )
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["registration", "role", "lesion_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "lesion_id"], name="tumour_lesion_id_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lesion_id} ({self.organ})"


class LesionMeasurement(models.Model):
    """A baseline lesion seen again at a follow-up: a diameter, or a status."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="measurements"
    )
    lesion = models.ForeignKey(Lesion, on_delete=models.PROTECT, related_name="measurements")
    diameter_mm = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=24, choices=LesionStatus.choices, blank=True)
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["assessment", "lesion__lesion_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "lesion"], name="tumour_measurement_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lesion.lesion_id} @ {self.assessment.date.isoformat()}"


class NewLesion(models.Model):
    """A lesion absent at baseline, seen at a follow-up."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="new_lesions")
    lesion_id = models.CharField(max_length=20)
    organ = models.CharField(max_length=60, blank=True)
    nodal = models.BooleanField(default=False)
    diameter_mm = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    status = models.CharField(
        max_length=24, choices=LesionStatus.choices, default=LesionStatus.PRESENT
    )
    equivocal = models.BooleanField(default=False)
    history = HistoricalRecords(history_manager=HistoryManager)

    class Meta:
        ordering = ["assessment", "lesion_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "lesion_id"], name="tumour_new_lesion_once"
            ),
        ]

    def __str__(self) -> str:
        return f"new {self.lesion_id} @ {self.assessment.date.isoformat()}"


class ResponseEvaluation(models.Model):
    """The engine's reading of one registration, recomputed whenever its assessments change."""

    registration = models.OneToOneField(
        "subjects.Registration", on_delete=models.CASCADE, related_name="response_evaluation"
    )
    criteria = models.CharField(max_length=10, choices=Criteria.choices)
    confirmation_required = models.BooleanField()
    bor = models.CharField(max_length=20)
    bor_date = models.DateField(null=True, blank=True)
    bor_rule = models.TextField()
    bor_unconfirmed = models.CharField(max_length=20)
    bor_unconfirmed_rule = models.TextField()
    bor_confirmed = models.CharField(max_length=20)
    bor_confirmed_rule = models.TextField()
    confirmed_by = models.DateField(null=True, blank=True)
    response_date = models.DateField(null=True, blank=True)
    progression_date = models.DateField(null=True, blank=True)
    last_adequate_date = models.DateField(null=True, blank=True)
    baseline_sum_mm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    target_ids = models.JSONField(default=list)
    non_target_ids = models.JSONField(default=list)
    notes = models.JSONField(default=list)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"BOR {self.bor} for registration {self.registration_id}"


class TimepointResponse(models.Model):
    """The computed response at one follow-up and the rule (table row) that decided it."""

    evaluation = models.ForeignKey(
        ResponseEvaluation, on_delete=models.CASCADE, related_name="timepoints"
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="computed_responses"
    )
    date = models.DateField()
    overall = models.CharField(max_length=20)
    rule = models.TextField()
    target = models.CharField(max_length=20, blank=True)
    target_rule = models.TextField(blank=True)
    non_target = models.CharField(max_length=20, blank=True)
    non_target_rule = models.TextField(blank=True)
    new_lesions = models.BooleanField(default=False)
    recist_overall = models.CharField(max_length=20, blank=True)
    sum_mm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    nadir_mm = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    change_from_baseline_pct = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True
    )
    change_from_nadir_pct = models.DecimalField(
        max_digits=8, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["evaluation", "date"]

    def __str__(self) -> str:
        return f"{self.overall} on {self.date.isoformat()}"


class ResponseOverride(models.Model):
    """An investigator's reading that differs from the computed one; both are kept.

    ``assessment`` empty means the best overall response. The latest override of a time point
    (or of the BOR) is the one in force; earlier ones stay as history.
    """

    registration = models.ForeignKey(
        "subjects.Registration", on_delete=models.PROTECT, related_name="response_overrides"
    )
    assessment = models.ForeignKey(
        Assessment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="response_overrides",
    )
    response = models.CharField(max_length=20)
    computed_response = models.CharField(max_length=20)
    computed_rule = models.TextField()
    reason = models.TextField()
    created_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["registration", "created_at", "id"]

    def __str__(self) -> str:
        what = self.assessment.date.isoformat() if self.assessment_id else "BOR"  # type: ignore[union-attr]
        return f"override {what}: {self.computed_response} → {self.response}"
