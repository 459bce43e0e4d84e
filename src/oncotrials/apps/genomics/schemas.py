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


class GenomicsTimelineSampleOut(Schema):
    sample: GenomicsSampleOut
    assays: list[str]
    alterations: list[GenomicsAlterationOut]


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
