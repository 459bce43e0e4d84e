"""The clinical-genomic database: samples, reports and the alterations they hold.

A :class:`Sample` belongs to a research patient (``subjects.Patient``). A :class:`GenomicReport`
is what one assay said about one sample; re-importing identical content is recognised by its
``content_hash`` and changes nothing, while new content for the same sample and assay supersedes
the earlier report (kept, flagged). Alterations carry their sample and patient as well as their
report so that cohort queries need no join to reach the visibility filter.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from oncotrials.apps.subjects.models import Patient
from oncotrials.core.genomics.model import fusion_label


class SampleKind(models.TextChoices):
    TISSUE = "tissue", _("Tissue")
    CFDNA = "cfdna", _("cfDNA (liquid biopsy)")
    BLOOD = "blood", _("Blood (germline)")
    UNKNOWN = "unknown", _("Unknown")


class Timepoint(models.TextChoices):
    BASELINE = "baseline", _("Baseline")
    ON_TREATMENT = "on_treatment", _("On treatment")
    PROGRESSION = "progression", _("Progression")
    UNKNOWN = "unknown", _("Unknown")


class Origin(models.TextChoices):
    SOMATIC = "somatic", _("Somatic")
    GERMLINE = "germline", _("Germline")
    UNKNOWN = "unknown", _("Origin not stated")


class Oncogenicity(models.TextChoices):
    """OncoKB's oncogenicity classes, stored as slugs (labels in OncoKB's spelling)."""

    ONCOGENIC = "oncogenic", _("Oncogenic")
    LIKELY_ONCOGENIC = "likely_oncogenic", _("Likely Oncogenic")
    VUS = "vus", _("VUS")
    LIKELY_NEUTRAL = "likely_neutral", _("Likely Neutral")
    INCONCLUSIVE = "inconclusive", _("Inconclusive")
    UNKNOWN = "unknown", _("Unknown")


class Sample(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="genomic_samples")
    sample_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=8, choices=SampleKind.choices, default=SampleKind.UNKNOWN)
    collected_on = models.DateField(null=True, blank=True)
    timepoint = models.CharField(
        max_length=16, choices=Timepoint.choices, default=Timepoint.UNKNOWN
    )
    tumour_fraction = models.FloatField(null=True, blank=True)
    oncotree_code = models.CharField(max_length=20, blank=True)
    therapy = models.CharField(
        max_length=200, blank=True, help_text=_("Therapy received before this sample")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["patient", "collected_on", "sample_id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "sample_id"], name="sample_id_per_patient"),
        ]

    def __str__(self) -> str:
        return self.sample_id


class GenomicReport(models.Model):
    sample = models.ForeignKey(Sample, on_delete=models.PROTECT, related_name="reports")
    assay = models.CharField(max_length=100)
    panel = models.CharField(max_length=100, blank=True)
    covered_genes = models.JSONField(
        null=True, blank=True, help_text=_("Genes the assay covers; empty for exome/genome")
    )
    lab = models.CharField(max_length=200, blank=True)
    limit_of_detection = models.FloatField(
        null=True,
        blank=True,
        help_text=_("Lowest VAF (a fraction: 0.002 is 0.2 %) the assay reliably detects"),
    )
    reported_on = models.DateField(null=True, blank=True)
    version = models.CharField(max_length=40, blank=True)
    genome_build = models.CharField(max_length=8, blank=True)
    content_hash = models.CharField(max_length=64)
    source_file = models.CharField(max_length=255)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField()
    superseded = models.BooleanField(default=False)
    # The same patient's normal (germline) sample the tumour was compared with; null: the
    # report is tumour-only (or is itself the report of a normal sample).
    normal_sample = models.ForeignKey(
        Sample, null=True, blank=True, on_delete=models.PROTECT, related_name="normal_for"
    )

    class Meta:
        ordering = ["sample", "imported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["sample", "content_hash"], name="report_content_once_per_sample"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assay} report of {self.sample}"

    @property
    def tumour_only(self) -> bool:
        """A tumour sample's report without a matched normal: germline calls are not excluded."""
        return self.normal_sample_id is None and self.sample.kind != SampleKind.BLOOD

    @property
    def limit_of_detection_percent(self) -> str:
        """The declared limit of detection as a percentage (``0.2``), '' when not declared."""
        lod = self.limit_of_detection
        return "" if lod is None else f"{lod * 100:g}"


class _Alteration(models.Model):
    # No database-level foreign-key constraints on these bulk tables: the import service is
    # their only writer and inserts, in its own transaction, ids it has just read or created.
    # PostgreSQL would otherwise run three deferred trigger checks per row at commit, which
    # costs more than the COPY itself (millions of rows per import). Django still applies
    # on_delete. Only the report is indexed (reads of a sample or a patient go through their
    # reports); sample and patient are kept on each row so that cohort queries filter by
    # visibility and timepoint without a join through the report.
    report = models.ForeignKey(
        GenomicReport, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    sample = models.ForeignKey(
        Sample, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    escat_tier = models.CharField(max_length=8, blank=True)
    # False once the report is superseded: queries filter on the row, without a join.
    current = models.BooleanField(default=True)

    class Meta:
        abstract = True


class Mutation(_Alteration):
    gene = models.CharField(max_length=40)
    protein_change = models.CharField(max_length=255, blank=True, help_text=_("p.G12C form"))
    protein_change_raw = models.CharField(max_length=255, blank=True)
    hgvsc = models.CharField(max_length=255, blank=True)
    variant_class = models.CharField(max_length=32)
    chromosome = models.CharField(max_length=8, blank=True)
    start = models.BigIntegerField(null=True, blank=True)
    end = models.BigIntegerField(null=True, blank=True)
    ref = models.CharField(max_length=255, blank=True)
    alt = models.CharField(max_length=255, blank=True)
    vaf = models.FloatField(null=True, blank=True)
    depth = models.IntegerField(null=True, blank=True)
    alt_count = models.IntegerField(null=True, blank=True)
    consequence = models.CharField(max_length=255, blank=True)
    normal_sample_id = models.CharField(max_length=64, blank=True)
    # MAF Mutation_Status (Somatic, Germline, LOH, ...): '' when the file does not say.
    mutation_status = models.CharField(max_length=40, blank=True)
    transcript_id = models.CharField(max_length=64, blank=True)
    # From mutation_status (LOH: germline); a blood sample's calls are germline when unstated.
    origin = models.CharField(max_length=8, choices=Origin.choices, default=Origin.UNKNOWN)
    oncogenicity = models.CharField(
        max_length=16, choices=Oncogenicity.choices, default=Oncogenicity.UNKNOWN
    )
    # True: the laboratory reported it; False: called but filtered out; null: not said.
    reported = models.BooleanField(null=True, blank=True)

    class Meta:
        # The cohort index on (gene, protein_change) is created by migration 0002: on
        # PostgreSQL it covers current rows and includes the columns the visibility, class and
        # tier filters read, so that counting matches needs no visit to the table.
        indexes = [
            # Few rows have a tier: a partial index stays small and cheap to maintain.
            models.Index(
                fields=["escat_tier"], name="mutation_tier", condition=~models.Q(escat_tier="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gene} {self.protein_change or self.variant_class}"


class CopyNumberAlteration(_Alteration):
    gene = models.CharField(max_length=40)
    call = models.SmallIntegerField(help_text=_("-2 deep deletion … 2 amplification"))
    copy_number = models.FloatField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["gene", "call"], name="cna_gene_call")]

    def __str__(self) -> str:
        return f"{self.gene} {self.call:+d}"


class StructuralVariant(_Alteration):
    gene1 = models.CharField(max_length=40, blank=True)
    gene2 = models.CharField(max_length=40, blank=True)
    chromosome1 = models.CharField(max_length=8, blank=True)
    position1 = models.BigIntegerField(null=True, blank=True)
    chromosome2 = models.CharField(max_length=8, blank=True)
    position2 = models.BigIntegerField(null=True, blank=True)
    in_frame = models.BooleanField(null=True, blank=True)
    sv_class = models.CharField(max_length=20, blank=True)
    event_info = models.CharField(max_length=200, blank=True)
    dna_support = models.BooleanField(null=True, blank=True)
    rna_support = models.BooleanField(null=True, blank=True)
    somatic = models.BooleanField(default=True)
    # Exon of each breakpoint and the transcript it is numbered on (null/'' when not reported).
    site1_exon = models.PositiveSmallIntegerField(null=True, blank=True)
    site2_exon = models.PositiveSmallIntegerField(null=True, blank=True)
    site1_transcript = models.CharField(max_length=64, blank=True)
    site2_transcript = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["gene1"], name="sv_gene1"),
            models.Index(fields=["gene2"], name="sv_gene2"),
        ]

    def __str__(self) -> str:
        return f"{self.gene1 or '?'}::{self.gene2 or '?'}"

    @property
    def label(self) -> str:
        """``EML4 (exon 13) :: ALK (exon 20)``, or ``EML4::ALK`` without exons."""
        return fusion_label(self.gene1, self.site1_exon, self.gene2, self.site2_exon)


class BiomarkerKind(models.TextChoices):
    TMB = "TMB", _("Tumour mutational burden")
    MSI = "MSI", _("Microsatellite instability")
    HRD = "HRD", _("Homologous recombination deficiency")
    SIGNATURE = "SIGNATURE", _("Mutational signature")


class Biomarker(_Alteration):
    kind = models.CharField(max_length=10, choices=BiomarkerKind.choices)
    value = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=40, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=40, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "status"], name="biomarker_kind_status")]

    def __str__(self) -> str:
        return f"{self.kind} {self.status or self.value}"


class CopyNumberSegment(models.Model):
    """A copy-number segment of a report (SEG ``seg.mean``, with allele-specific copy numbers
    and a loss-of-heterozygosity flag when the file carries them).

    Written in bulk by the import service like the alterations (no database-level foreign-key
    constraints, sample and patient kept on the row; see ``_Alteration``).
    """

    report = models.ForeignKey(
        GenomicReport, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    sample = models.ForeignKey(
        Sample, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    current = models.BooleanField(default=True)
    chromosome = models.CharField(max_length=2, help_text=_("1-22, X or Y"))
    start = models.BigIntegerField()
    end = models.BigIntegerField()
    num_markers = models.IntegerField(null=True, blank=True)
    log2_ratio = models.FloatField(help_text=_("Mean log2 copy ratio of the segment"))
    total_cn = models.SmallIntegerField(null=True, blank=True, help_text=_("Total copy number"))
    minor_cn = models.SmallIntegerField(
        null=True, blank=True, help_text=_("Minor allele copy number")
    )
    loh = models.BooleanField(
        null=True, blank=True, help_text=_("Loss of heterozygosity as the file declared it")
    )

    class Meta:
        ordering = ["report", "pk"]

    def __str__(self) -> str:
        return f"{self.chromosome}:{self.start}-{self.end} {self.log2_ratio:+.2f}"
