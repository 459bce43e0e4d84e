"""API schemas of the genomics app (class names prefixed: OpenAPI keys components by name)."""

from __future__ import annotations

import datetime as dt
from typing import Any

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


class GenomicsSerialPairOut(Schema):
    """One serial pair (``genomics.selectors.SerialPair``): two samples, the therapy received
    in between and what was acquired; ``problem`` says why a pair is not classified."""

    earlier_sample: str
    earlier_timepoint: str
    earlier_collected_on: dt.date | None
    later_sample: str
    later_timepoint: str
    later_collected_on: dt.date | None
    consecutive: bool
    from_baseline: bool
    drugs: list[str]
    targets: list[str]
    therapy_source: str
    acquired: list[GenomicsAcquiredOut]
    # Earlier events the later sample does not show where absence is no evidence.
    not_detected: list[GenomicsUndetectedOut]
    problem: str

    @staticmethod
    def resolve_earlier_sample(obj: Any) -> str:
        return str(obj.earlier.sample_id)

    @staticmethod
    def resolve_earlier_timepoint(obj: Any) -> str:
        return str(obj.earlier.timepoint)

    @staticmethod
    def resolve_earlier_collected_on(obj: Any) -> dt.date | None:
        return obj.earlier.collected_on  # type: ignore[no-any-return]

    @staticmethod
    def resolve_later_sample(obj: Any) -> str:
        return str(obj.later.sample_id)

    @staticmethod
    def resolve_later_timepoint(obj: Any) -> str:
        return str(obj.later.timepoint)

    @staticmethod
    def resolve_later_collected_on(obj: Any) -> dt.date | None:
        return obj.later.collected_on  # type: ignore[no-any-return]

    @staticmethod
    def resolve_drugs(obj: Any) -> list[str]:
        return list(obj.drugs)

    @staticmethod
    def resolve_targets(obj: Any) -> list[str]:
        return sorted(obj.report.targets) if obj.report is not None else []

    @staticmethod
    def resolve_therapy_source(obj: Any) -> str:
        return str(obj.report.therapy_source) if obj.report is not None else ""

    @staticmethod
    def resolve_acquired(obj: Any) -> list[dict[str, Any]]:
        if obj.report is None:
            return []
        return [
            {
                "gene": a.gene,
                "label": a.label,
                "mechanism": a.mechanism.value,
                "reason": a.reason,
                "possible_clonal_haematopoiesis": a.possible_clonal_haematopoiesis,
            }
            for a in obj.report.acquired
        ]

    @staticmethod
    def resolve_not_detected(obj: Any) -> list[dict[str, str]]:
        if obj.report is None:
            return []
        return [{"label": u.label, "reason": u.reason} for u in obj.report.not_detected]


class GenomicsResistanceOut(Schema):
    """The reference baseline against the latest progression sample (null fields without such
    a pair), and every serial pair."""

    patient: str
    baseline_sample: str | None
    progression_sample: str | None
    drugs: list[str]
    therapy_source: str
    targets: list[str]
    acquired: list[GenomicsAcquiredOut]
    # Baseline events a progression sample does not show where absence is no evidence.
    not_detected: list[GenomicsUndetectedOut] = []
    pairs: list[GenomicsSerialPairOut]


class GenomicsAtlasRowOut(Schema):
    mechanism: str
    gene: str
    patients: int


class GenomicsAtlasDrugRowOut(Schema):
    drug: str
    mechanism: str
    gene: str
    patients: list[str]  # research ids, each once


class GenomicsAtlasOut(Schema):
    rows: list[GenomicsAtlasRowOut]
    by_drug: list[GenomicsAtlasDrugRowOut]
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
