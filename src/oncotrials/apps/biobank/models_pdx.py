"""Patient-derived xenograft models (PDX-MI, Meehan et al., Cancer Res 2017) grown from a specimen.

A model (PDX-MI "Model creation") comes from one biobank specimen; its passages (P0 the first
engraftment) are cohorts of mice with an implant date and a take count (engraftment); QC records
(PDX-MI "Model QC": STR, histology, WES concordance) validate it against the patient tumour;
treatment arms are drug studies on mice of one passage, with caliper measurements over time.

Nothing derived is stored: the engraftment rate, the volume of a caliper reading's day, the
mRECIST of a mouse or an arm are computed from these rows by ``oncotrials.core.biobank.pdx``.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from oncotrials.apps.accounts.access import Target

__all__ = [
    "Accessibility",
    "EngraftmentType",
    "PdxMeasurement",
    "PdxModel",
    "PdxMouse",
    "PdxPassage",
    "PdxTreatmentArm",
    "PdxValidation",
    "QcResult",
    "SampleState",
]


class EngraftmentType(models.TextChoices):
    HETEROTOPIC = "heterotopic", _("Heterotopic")
    ORTHOTOPIC = "orthotopic", _("Orthotopic")


class SampleState(models.TextChoices):
    FRESH = "fresh", pgettext_lazy("PDX", "Fresh")
    FROZEN = "frozen", pgettext_lazy("PDX", "Frozen")


class Accessibility(models.TextChoices):
    """CancerModels dictionary 1.0, sharing.accessibility."""

    ACADEMIA = "academia", _("Academia")
    INDUSTRY = "industry", _("Industry")
    BOTH = "academia and industry", _("Academia and industry")


class QcResult(models.TextChoices):
    PASSED = "passed", pgettext_lazy("PDX", "Passed")
    FAILED = "failed", pgettext_lazy("PDX", "Failed")
    NOT_DETERMINED = "not_determined", pgettext_lazy("PDX", "Not determined")


class PdxModel(models.Model):
    """A PDX model grown from a specimen (its ``model_id`` is the CancerModels model_id)."""

    model_id = models.CharField(max_length=40, unique=True)
    specimen = models.ForeignKey(
        "biobank.Specimen", on_delete=models.PROTECT, related_name="pdx_models"
    )
    host_strain_name = models.CharField(max_length=60)
    host_strain_nomenclature = models.CharField(max_length=120)
    engraftment_site = models.CharField(max_length=80)
    engraftment_type = models.CharField(max_length=12, choices=EngraftmentType.choices)
    sample_type = models.CharField(max_length=60, default="tissue fragment")
    sample_state = models.CharField(
        max_length=8, choices=SampleState.choices, default=SampleState.FRESH
    )
    diagnosis = models.CharField(max_length=200)
    primary_site = models.CharField(max_length=80)
    tumour_type = models.CharField(max_length=16, default="primary")
    publications = models.CharField(max_length=200, blank=True)
    accessibility = models.CharField(
        max_length=24, choices=Accessibility.choices, default=Accessibility.ACADEMIA
    )
    contact_name = models.CharField(max_length=120)
    contact_email = models.EmailField()
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["model_id"]

    def __str__(self) -> str:
        return self.model_id

    def access_target(self) -> Target:
        return self.specimen.access_target()


class PdxPassage(models.Model):
    """One passage: mice implanted on a date, how many took (engraftment)."""

    pdx_model = models.ForeignKey(PdxModel, on_delete=models.PROTECT, related_name="passages")
    number = models.PositiveSmallIntegerField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    implanted_on = models.DateField()
    mice_implanted = models.PositiveSmallIntegerField()
    mice_engrafted = models.PositiveSmallIntegerField(null=True, blank=True)
    host_strain_nomenclature = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pdx_model", "number"]
        constraints = [
            models.UniqueConstraint(fields=["pdx_model", "number"], name="pdx_passage_once"),
            models.CheckConstraint(condition=Q(mice_implanted__gt=0), name="pdx_passage_mice"),
            models.CheckConstraint(
                condition=Q(mice_engrafted__isnull=True)
                | Q(mice_engrafted__lte=models.F("mice_implanted")),
                name="pdx_engrafted_within_implanted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pdx_model.model_id} P{self.number}"


class PdxValidation(models.Model):
    """A QC of the model against the patient tumour (PDX-MI model_validation)."""

    pdx_model = models.ForeignKey(PdxModel, on_delete=models.PROTECT, related_name="validations")
    technique = models.CharField(max_length=80)
    description = models.CharField(max_length=500)
    passages_tested = models.CharField(max_length=40)
    result = models.CharField(max_length=16, choices=QcResult.choices)
    performed_on = models.DateField()
    host_strain_nomenclature = models.CharField(max_length=120)

    class Meta:
        ordering = ["pdx_model", "performed_on", "id"]

    def __str__(self) -> str:
        return f"{self.pdx_model.model_id} {self.technique}"


class PdxTreatmentArm(models.Model):
    """A drug study on mice of one passage; day 0 is ``started_on``."""

    pdx_model = models.ForeignKey(PdxModel, on_delete=models.PROTECT, related_name="arms")
    passage = models.ForeignKey(PdxPassage, on_delete=models.PROTECT, related_name="arms")
    name = models.CharField(max_length=80)
    treatment_name = models.CharField(max_length=120, help_text=_("'untreated' for controls"))
    dose = models.CharField(max_length=40, blank=True, help_text=_("e.g. 30.0mg/kg"))
    route = models.CharField(max_length=60, blank=True)
    schedule = models.CharField(max_length=80, blank=True)
    started_on = models.DateField()
    is_control = models.BooleanField(default=False)

    class Meta:
        ordering = ["pdx_model", "-is_control", "name"]
        constraints = [
            models.UniqueConstraint(fields=["pdx_model", "name"], name="pdx_arm_name_once")
        ]

    def __str__(self) -> str:
        return f"{self.pdx_model.model_id} {self.name}"


class PdxMouse(models.Model):
    """One host mouse of an arm (its ear tag or cage label)."""

    arm = models.ForeignKey(PdxTreatmentArm, on_delete=models.PROTECT, related_name="mice")
    label = models.CharField(max_length=40)

    class Meta:
        ordering = ["arm", "label"]
        constraints = [models.UniqueConstraint(fields=["arm", "label"], name="pdx_mouse_once")]

    def __str__(self) -> str:
        return self.label


class PdxMeasurement(models.Model):
    """A tumour measurement of one mouse on one day: caliper diameters, or a volume.

    With diameters the volume is computed (``V = L × W² / 2``, stated in ``formula``), never
    typed; without them ``volume_mm3`` is the volume measured otherwise (imaging).
    """

    mouse = models.ForeignKey(PdxMouse, on_delete=models.PROTECT, related_name="measurements")
    measured_on = models.DateField()
    length_mm = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    width_mm = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    volume_mm3 = models.DecimalField(max_digits=12, decimal_places=3)
    formula = models.CharField(max_length=100)

    class Meta:
        ordering = ["mouse", "measured_on"]
        constraints = [
            models.UniqueConstraint(fields=["mouse", "measured_on"], name="pdx_measure_once_a_day"),
            models.CheckConstraint(condition=Q(volume_mm3__gte=0), name="pdx_volume_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.mouse} {self.measured_on}: {self.volume_mm3} mm³"
