"""API schemas of the genomics app (class names prefixed: OpenAPI keys components by name)."""

from __future__ import annotations

import datetime as dt

from ninja import Schema


class GenomicsImportOut(Schema):
    source: str
    format: str
    reports_created: int
    reports_unchanged: int
    reports_superseded: int
    reports_reinstated: int
    samples_created: int
    mutations: int
    copy_numbers: int
    structural_variants: int
    biomarkers: int
    segments: int
    notices: list[str]


class GenomicsSampleOut(Schema):
    id: int
    sample_id: str
    kind: str
    timepoint: str
    collected_on: dt.date | None
    tumour_fraction: float | None
    oncotree_code: str
    therapy: str


class GenomicsEvidenceOut(Schema):
    source: str
    level: str
    tumour: str | None
    tumour_match: str
    drugs: list[str]
    citation: str
    resistance: bool


class GenomicsAlterationOut(Schema):
    kind: str
    gene: str
    label: str
    detail: str
    tier: str
    evidence: list[GenomicsEvidenceOut]
    origin: str  # somatic, germline, unknown
    oncogenicity: str  # OncoKB class slug: oncogenic ... unknown
    reported: bool | None  # the laboratory reported it; False: filtered; None: not said


class GenomicsReportOut(Schema):
    id: int
    sample: GenomicsSampleOut
    normal_sample: str | None
    tumour_only: bool
    assay: str
    panel: str
    lab: str
    reported_on: dt.date | None
    genome_build: str
    superseded: bool
    mutations: list[GenomicsAlterationOut]


class GenomicsNotDetectedOut(Schema):
    """Covered genes of a report without a call: not detected (below the LoD), not absent."""

    assay: str
    limit_of_detection: float | None
    genes: list[str]


class GenomicsTimelineSampleOut(Schema):
    sample: GenomicsSampleOut
    assays: list[str]
    alterations: list[GenomicsAlterationOut]
    not_detected: list[GenomicsNotDetectedOut] = []


class GenomicsCohortRowOut(Schema):
    research_id: str
    patient_id: int
    diagnosis: str
    sample_id: str
    timepoint: str
    collected_on: dt.date | None
    gene: str
    alteration: str
    variant_class: str
    vaf: float | None
    tier: str


class GenomicsCohortOut(Schema):
    n_alterations: int
    n_samples: int
    n_patients: int
    truncated: bool
    rows: list[GenomicsCohortRowOut]


class GenomicsAcquiredOut(Schema):
    gene: str
    label: str
    mechanism: str
    reason: str
    possible_clonal_haematopoiesis: bool


class GenomicsUndetectedOut(Schema):
    label: str
    reason: str


class GenomicsResistanceOut(Schema):
    patient: str
    baseline_sample: str
    progression_sample: str
    drugs: list[str]
    therapy_source: str
    targets: list[str]
    acquired: list[GenomicsAcquiredOut]
    # Baseline events a progression sample does not show where absence is no evidence.
    not_detected: list[GenomicsUndetectedOut] = []


class GenomicsAtlasRowOut(Schema):
    mechanism: str
    gene: str
    patients: int


class GenomicsAtlasOut(Schema):
    rows: list[GenomicsAtlasRowOut]
    patients_evaluated: int
    skipped: list[str]


class GenomicsSegmentOut(Schema):
    id: int
    sample: int
    sample_id: str
    report_id: int
    chromosome: str
    start: int
    end: int
    num_markers: int | None
    log2_ratio: float
    total_cn: int | None
    minor_cn: int | None
    loh_declared: bool | None
    loh: bool | None


class GenomicsLohSegmentOut(Schema):
    chromosome: str
    start: int
    end: int
    log2_ratio: float
    total_cn: int | None
    minor_cn: int | None


class GenomicsLohGeneOut(Schema):
    gene: str
    label: str
    chromosome: str
    position: int
    segment: GenomicsLohSegmentOut


class GenomicsLohSampleOut(Schema):
    sample: int
    sample_id: str
    genome_build: str | None
    segments: int
    assessed: bool
    loh_segments: list[GenomicsLohSegmentOut]
    loh_megabases: float
    genes: list[GenomicsLohGeneOut]
