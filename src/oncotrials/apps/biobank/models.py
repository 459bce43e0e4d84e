"""Specimens and their lineage, storage containers, chain of custody, shipments and sequencing
runs (OpenSpecimen's domain model, MIABIS vocabularies; see ``oncotrials.core.biobank``).

Nothing here is ever deleted: depletion, distribution and disposal are states, every move and
hand-over is a ``CustodyEvent``. Quantities are exact decimals in a controlled unit.

PDX models live in ``models_pdx`` (imported at the end of this module).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.access import Target
from oncotrials.apps.accounts.models import Site
from oncotrials.apps.genomics.models import GenomicReport
from oncotrials.apps.subjects.models import Patient, Registration, VisitRecord
from oncotrials.core.biobank.lineage import TYPE_CHOICES, Lineage, Status
from oncotrials.core.biobank.units import UNIT_CHOICES


class CollectionProcedure(models.TextChoices):
    CORE_NEEDLE = "core_needle", _("Core needle biopsy")
    FNA = "fna", _("Fine-needle aspiration")
    SURGICAL = "surgical", _("Surgical resection")
    BLOOD_DRAW = "blood_draw", _("Blood draw")
    MARROW_ASPIRATE = "marrow_aspirate", _("Bone marrow aspiration")
    OTHER = "other", _("Other")


class Laterality(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    BILATERAL = "bilateral", _("Bilateral")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
    UNKNOWN = "unknown", _("Unknown")


class Pathology(models.TextChoices):
    MALIGNANT = "malignant", _("Malignant")
    NON_MALIGNANT = "non_malignant", _("Non-malignant")
    NOT_SPECIFIED = "not_specified", _("Not specified")


class StorageTemperature(models.TextChoices):
    """MIABIS-SAMPLE-03 storage temperature."""

    RT = "RT", _("Room temperature")
    T2_10 = "2to10", _("2 °C to 10 °C")
    M18_35 = "-18to-35", _("−18 °C to −35 °C")
    M60_85 = "-60to-85", _("−60 °C to −85 °C")
    BELOW_135 = "<-135", _("Below −135 °C")
    LN_VAPOUR = "LN_vapour", _("Liquid nitrogen, vapour phase")
    LN_LIQUID = "LN_liquid", _("Liquid nitrogen, liquid phase")
    OTHER = "other", _("Other")


BRAKING_CHOICES = [("on", _("Brake on")), ("off", _("Brake off"))]


class ContainerKind(models.TextChoices):
    FREEZER = "freezer", _("Freezer")
    RACK = "rack", _("Rack")
    BOX = "box", _("Box")


class Container(models.Model):
    """A freezer, a rack in it, or a box (rows × columns of positions) in a rack."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=ContainerKind.choices)
    name = models.CharField(max_length=60)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    temperature = models.CharField(
        max_length=12, choices=StorageTemperature.choices, default=StorageTemperature.M60_85
    )
    rows = models.PositiveSmallIntegerField(default=0)
    columns = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)  # bumped on every store into the box

    class Meta:
        ordering = ["site", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "parent", "name"], name="container_name_once"),
            models.CheckConstraint(
                condition=Q(kind="box", rows__gt=0, columns__gt=0) | ~Q(kind="box"),
                name="box_has_positions",
            ),
            models.CheckConstraint(
                condition=Q(kind="freezer", parent__isnull=True) | ~Q(kind="freezer"),
                name="freezer_is_top_level",
            ),
        ]

    def __str__(self) -> str:
        return self.path()

    def path(self) -> str:
        parts = [self.name]
        node = self.parent
        while node is not None:
            parts.append(node.name)
            node = node.parent
        return " / ".join(reversed(parts))

    def access_target(self) -> Target:
        return Target(frozenset({self.site_id}))


class Specimen(models.Model):
    """A primary specimen, an aliquot or a derivative (``parent`` set for the last two)."""

    label = models.CharField(max_length=40, unique=True)
    barcode = models.CharField(max_length=64, unique=True)
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="specimens")
    registration = models.ForeignKey(
        Registration, null=True, blank=True, on_delete=models.PROTECT, related_name="specimens"
    )
    visit = models.ForeignKey(
        VisitRecord, null=True, blank=True, on_delete=models.PROTECT, related_name="specimens"
    )
    lineage = models.CharField(
        max_length=8, choices=[(v.value, v.value.capitalize()) for v in Lineage]
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    specimen_type = models.CharField(max_length=16, choices=TYPE_CHOICES)
    anatomic_site = models.CharField(max_length=80, blank=True, help_text=_("ICD-O-3 topography"))
    laterality = models.CharField(
        max_length=16, choices=Laterality.choices, default=Laterality.NOT_APPLICABLE
    )
    pathology = models.CharField(
        max_length=16, choices=Pathology.choices, default=Pathology.NOT_SPECIFIED
    )
    unit = models.CharField(max_length=8, choices=UNIT_CHOICES)
    initial_quantity = models.DecimalField(max_digits=14, decimal_places=6)
    available_quantity = models.DecimalField(max_digits=14, decimal_places=6)
    # What this specimen took from its parent, in the parent's unit (children only).
    parent_consumed = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    # What was used directly (assays, sections) rather than by children, in its own unit.
    consumed_quantity = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    concentration_ng_ul = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True
    )
    status = models.CharField(
        max_length=16,
        choices=[(v.value, v.value.replace("_", " ").capitalize()) for v in Status],
        default=Status.AVAILABLE,
    )
    status_reason = models.CharField(max_length=200, blank=True)
    collected_at = models.DateTimeField()
    collection_procedure = models.CharField(
        max_length=16, choices=CollectionProcedure.choices, blank=True
    )
    received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    # Pre-analytics (raw values; the SPREC code is derived from them, see core.biobank.sprec).
    warm_ischaemia_min = models.PositiveIntegerField(null=True, blank=True)
    cold_ischaemia_min = models.PositiveIntegerField(null=True, blank=True)
    fixative = models.CharField(max_length=12, blank=True)
    fixation_hours = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    container_type = models.CharField(max_length=12, blank=True, help_text=_("Primary tube"))
    precentrifugation_delay_min = models.PositiveIntegerField(null=True, blank=True)
    precentrifugation_temp = models.CharField(max_length=8, blank=True)
    centrifugations = models.PositiveSmallIntegerField(null=True, blank=True)
    postcentrifugation_delay_min = models.PositiveIntegerField(null=True, blank=True)
    # Each spin's settings as recorded, in fixed units (core.biobank.centrifugation); the second
    # is kept only when ``centrifugations`` is 2.
    centrifuge_temp_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    centrifuge_g = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    centrifuge_min = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    centrifuge_braking = models.CharField(max_length=3, choices=BRAKING_CHOICES, blank=True)
    second_centrifuge_temp_c = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True
    )
    second_centrifuge_g = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    second_centrifuge_min = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True
    )
    second_centrifuge_braking = models.CharField(max_length=3, choices=BRAKING_CHOICES, blank=True)
    storage_temperature = models.CharField(
        max_length=12, choices=StorageTemperature.choices, blank=True
    )
    tumour_cellularity_pct = models.PositiveSmallIntegerField(null=True, blank=True)
    necrosis_pct = models.PositiveSmallIntegerField(null=True, blank=True)
    freeze_thaw_cycles = models.PositiveSmallIntegerField(default=0)
    # Storage position (empty when not stored).
    box = models.ForeignKey(
        Container, null=True, blank=True, on_delete=models.PROTECT, related_name="specimens"
    )
    row = models.PositiveSmallIntegerField(null=True, blank=True)
    column = models.PositiveSmallIntegerField(null=True, blank=True)
    checked_out = models.BooleanField(default=False)
    # Consent withdrawal flagged this specimen's data: no new analyses.
    data_use_blocked = models.CharField(max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["patient", "collected_at", "label"]
        constraints = [
            models.CheckConstraint(
                condition=Q(initial_quantity__gt=0), name="specimen_initial_positive"
            ),
            models.CheckConstraint(
                condition=Q(available_quantity__gte=0)
                & Q(available_quantity__lte=F("initial_quantity")),
                name="specimen_available_within_initial",
            ),
            models.CheckConstraint(
                condition=(Q(lineage="new") & Q(parent__isnull=True))
                | (~Q(lineage="new") & Q(parent__isnull=False)),
                name="specimen_lineage_has_parent",
            ),
            models.CheckConstraint(
                condition=(Q(box__isnull=True) & Q(row__isnull=True) & Q(column__isnull=True))
                | (Q(box__isnull=False) & Q(row__gte=1) & Q(column__gte=1)),
                name="specimen_position_complete",
            ),
            models.CheckConstraint(
                condition=Q(box__isnull=True) | ~Q(status__in=["distributed", "disposed"]),
                name="specimen_gone_holds_no_position",
            ),
            models.UniqueConstraint(
                fields=["box", "row", "column"],
                condition=Q(box__isnull=False),
                name="one_specimen_per_position",
            ),
        ]
        indexes = [models.Index(fields=["patient", "specimen_type"])]

    def __str__(self) -> str:
        return self.label

    def access_target(self) -> Target:
        """The patient's site, and the trial of its registration when it has one."""
        trials = frozenset({self.registration.trial_id}) if self.registration_id else frozenset()  # type: ignore[union-attr]
        return Target(frozenset({self.patient.site_id}), trials)

    @property
    def position_label(self) -> str:
        if self.box_id is None or self.row is None or self.column is None:
            return ""
        return f"{chr(ord('A') + self.row - 1)}{self.column}"


class CustodyKind(models.TextChoices):
    COLLECTED = "collected", _("Collected")
    RECEIVED = "received", _("Received")
    ALIQUOTED = "aliquoted", _("Aliquoted")
    DERIVED = "derived", _("Derived")
    STORED = "stored", _("Stored")
    MOVED = "moved", _("Moved")
    CHECKED_OUT = "checked_out", _("Checked out")
    CHECKED_IN = "checked_in", _("Checked in")
    CONSUMED = "consumed", _("Used")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Received at destination")
    DISPOSAL_PENDING = "disposal_pending", _("Pending disposal")
    DISPOSED = "disposed", _("Disposed")


class CustodyEvent(models.Model):
    """One link of a specimen's chain of custody (append-only; also in the audit trail)."""

    specimen = models.ForeignKey(Specimen, on_delete=models.PROTECT, related_name="custody")
    kind = models.CharField(max_length=20, choices=CustodyKind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_location = models.CharField(max_length=200, blank=True)
    to_location = models.CharField(max_length=200, blank=True)
    custodian = models.CharField(max_length=200, blank=True, help_text=_("Who holds it after"))
    quantity = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    shipment = models.ForeignKey(
        "Shipment", null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["specimen", "at", "id"]

    def __str__(self) -> str:
        return f"{self.specimen} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class ShipmentStatus(models.TextChoices):
    PREPARING = "preparing", _("Preparing")
    SHIPPED = "shipped", _("Shipped")
    RECEIVED = "received", _("Received")
    CANCELLED = "cancelled", _("Cancelled")


class Shipment(models.Model):
    """Specimens sent to a partner under a distribution purpose (with its manifest)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=40, unique=True)
    recipient = models.CharField(max_length=200)
    purpose = models.CharField(max_length=24)  # a core.biobank.consent.Use
    courier = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=12, choices=ShipmentStatus.choices, default=ShipmentStatus.PREPARING
    )
    created_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    flagged = models.CharField(max_length=300, blank=True, help_text=_("Why it must be stopped"))
    specimens = models.ManyToManyField(Specimen, related_name="shipments", blank=True)

    class Meta:
        ordering = ["-created_at", "reference"]

    def __str__(self) -> str:
        return self.reference

    def access_target(self) -> Target:
        return Target(frozenset({self.site_id}))


class Assay(models.TextChoices):
    PANEL = "panel", _("Targeted panel")
    WES = "wes", _("Whole exome")
    RNA_SEQ = "rna_seq", _("RNA-seq")
    CFDNA = "cfdna", _("cfDNA panel")
    SCRNA_SEQ = "scrna_seq", _("Single-cell RNA-seq")
    CTC = "ctc", _("CTC analysis")


class RunStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    SEQUENCED = "sequenced", _("Sequenced")
    QC_PASSED = "qc_passed", _("QC passed")
    QC_FAILED = "qc_failed", _("QC failed")


class SequencingRun(models.Model):
    """A library of one specimen sequenced on one run, its QC and the report it produced."""

    specimen = models.ForeignKey(Specimen, on_delete=models.PROTECT, related_name="runs")
    assay = models.CharField(max_length=12, choices=Assay.choices)
    panel = models.CharField(max_length=100, blank=True)
    library_id = models.CharField(max_length=60)
    run_id = models.CharField(max_length=60)
    instrument = models.CharField(max_length=60, blank=True)
    sequenced_on = models.DateField(null=True, blank=True)
    input_ng = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    mean_coverage = models.DecimalField(max_digits=10, decimal_places=1, null=True, blank=True)
    tumour_fraction = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    purity = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.PLANNED)
    report = models.ForeignKey(
        GenomicReport, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    data_use_blocked = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["specimen", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run_id", "library_id"], name="library_once_per_run"),
            models.CheckConstraint(
                condition=Q(tumour_fraction__isnull=True)
                | (Q(tumour_fraction__gte=0) & Q(tumour_fraction__lte=1)),
                name="run_tumour_fraction_in_0_1",
            ),
            models.CheckConstraint(
                condition=Q(purity__isnull=True) | (Q(purity__gte=0) & Q(purity__lte=1)),
                name="run_purity_in_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_assay_display()} {self.library_id} on {self.run_id}"


class ConsentCascade(models.Model):
    """What the withdrawal of one translational consent tier did, in its one transaction."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    consent_id = models.PositiveIntegerField()
    tier = models.CharField(max_length=40)
    withdrawn_on = models.DateField()
    at = models.DateTimeField()
    specimens_pending_disposal = models.JSONField(default=list)
    shipments_flagged = models.JSONField(default=list)
    runs_flagged = models.JSONField(default=list)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.tier} withdrawn for {self.patient}"


# PDX models (PDX-MI) are declared in models_pdx.py and imported here, in later migrations.
from .models_pdx import *  # noqa: E402, F403
