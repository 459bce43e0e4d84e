"""Case report forms, lab results, drug administrations, and the generic data-cleaning records
(queries, source-data verification, signatures) that attach to any versioned clinical record."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from oncotrials.core.numbers import plain

USER = settings.AUTH_USER_MODEL


class TrialFormDeclaration(models.Model):
    """A trial-specific form declared as JSON (see ``oncotrials.core.crf.declarations``);
    overrides a standard form of the same name."""

    trial = models.ForeignKey(
        "trials.Trial", on_delete=models.CASCADE, related_name="form_declarations"
    )
    name = models.CharField(max_length=63)
    document = models.JSONField()
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trial", "name"], name="crfs_form_declared_once")
        ]

    def __str__(self) -> str:
        return f"{self.trial} form {self.name}"


class FormStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    COMPLETE = "complete", _("Complete")


class FormInstance(models.Model):
    """One form of one visit of one registration: its data and the state of its edit checks."""

    registration = models.ForeignKey(
        "subjects.Registration", on_delete=models.PROTECT, related_name="form_instances"
    )
    visit_code = models.CharField(max_length=20)
    form_name = models.CharField(max_length=63)
    data = models.JSONField(default=dict)
    issues = models.JSONField(default=list)  # [{field, code, message, severity}]
    status = models.CharField(max_length=10, choices=FormStatus.choices, default=FormStatus.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    first_completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["registration", "visit_code", "form_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "visit_code", "form_name"], name="crfs_form_once_per_visit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.registration.patient.research_id} {self.visit_code} {self.form_name}"


class LabResult(models.Model):
    """One analyte result with its reference range, graded with CTCAE when saved."""

    registration = models.ForeignKey(
        "subjects.Registration", on_delete=models.PROTECT, related_name="lab_results"
    )
    visit_code = models.CharField(max_length=20, blank=True)
    analyte = models.CharField(max_length=32)  # the core's canonical key (alt, neutrophils...)
    analyte_label = models.CharField(max_length=100)
    value = models.DecimalField(max_digits=16, decimal_places=6)
    unit = models.CharField(max_length=32)
    lln = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    uln = models.DecimalField(max_digits=16, decimal_places=6, null=True, blank=True)
    sampled_on = models.DateField()
    ctcae_version = models.CharField(max_length=4, default="5.0")
    grade = models.PositiveSmallIntegerField()
    term = models.CharField(max_length=200, blank=True)
    rule = models.TextField(blank=True)
    criterion = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["registration", "-sampled_on", "analyte", "-id"]

    def __str__(self) -> str:
        return f"{self.analyte_label} {plain(self.value)} {self.unit} ({self.sampled_on})"


class Modification(models.TextChoices):
    NONE = "none", _("None")
    DELAY = "delay", _("Delay")
    REDUCTION = "reduction", _("Dose reduction")
    INTERRUPTION = "interruption", _("Interruption")


class DrugAdministration(models.Model):
    """One administration of a study agent (or one held/interrupted planned administration)."""

    registration = models.ForeignKey(
        "subjects.Registration", on_delete=models.PROTECT, related_name="administrations"
    )
    visit_code = models.CharField(max_length=20, blank=True)
    agent = models.CharField(max_length=200)
    dose = models.DecimalField(max_digits=12, decimal_places=4)
    unit = models.CharField(max_length=32)
    planned_dose = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    administered_on = models.DateField()
    modification = models.CharField(
        max_length=16, choices=Modification.choices, default=Modification.NONE
    )
    modification_reason = models.CharField(max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["registration", "administered_on", "agent", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(dose__gte=0), name="crfs_dose_non_negative")
        ]

    def __str__(self) -> str:
        return f"{self.agent} {plain(self.dose)} {self.unit} on {self.administered_on}"


# ----------------------------------------------------------------------------- generic records


class RecordLink(models.Model):
    """Abstract: points at any clinical record with a ``version`` field, and denormalises the
    patient and registration so that work lists filter by the caller's memberships."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    patient = models.ForeignKey("subjects.Patient", on_delete=models.PROTECT, related_name="+")
    registration = models.ForeignKey(
        "subjects.Registration", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    record_version = models.PositiveIntegerField()

    class Meta:
        abstract = True


class QueryStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class QueryOrigin(models.TextChoices):
    MANUAL = "manual", _("Manual")
    EDIT_CHECK = "edit_check", _("Edit check")


class DataQuery(RecordLink):
    """A question about one field of one record, answered by the site and closed by its raiser."""

    field = models.CharField(max_length=63, blank=True)
    text = models.TextField()
    origin = models.CharField(max_length=12, choices=QueryOrigin.choices)
    check_code = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    raised_at = models.DateTimeField()
    raised_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta(RecordLink.Meta):
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="crfs_query_record"),
            models.Index(fields=["status"], name="crfs_query_status"),
        ]

    def __str__(self) -> str:
        return f"query #{self.pk} on {self.field or 'record'} ({self.status})"


class QueryEvent(models.Model):
    """The trail of one query: raised, answered, re-opened, closed."""

    query = models.ForeignKey(DataQuery, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=16)
    text = models.TextField(blank=True)
    at = models.DateTimeField()
    by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} on query #{self.query_id}"


class SourceVerification(RecordLink):
    """A monitor's statement that a record (at one version) matches the source documents."""

    verified_at = models.DateTimeField()
    verified_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta(RecordLink.Meta):
        ordering = ["-verified_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="crfs_sdv_record")]

    def __str__(self) -> str:
        return f"SDV of {self.content_type_id}:{self.object_id} v{self.record_version}"


class SignatureMeaning(models.TextChoices):
    REVIEWED = "reviewed", _("I have reviewed these data and confirm them")
    APPROVED = "approved", _("I approve these data as accurate and complete")
    AUTHOR = "author", _("I am the author of these data")


class Signature(RecordLink):
    """An investigator's electronic signature of a record or a casebook. It holds the
    fingerprint of what was signed; any later change of the record invalidates it."""

    signer = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    signer_name = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=16, choices=SignatureMeaning.choices)
    fingerprint = models.CharField(max_length=64)

    class Meta(RecordLink.Meta):
        ordering = ["-signed_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="crfs_sig_record")]

    def __str__(self) -> str:
        return f"signed by {self.signer_name} at {self.signed_at:%Y-%m-%d %H:%M} ({self.meaning})"
