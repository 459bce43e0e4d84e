"""API endpoints of the genomics app (mounted at /api/v1/): parse, authorise, call, render."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.schemas import ERRORS, Rendered, paged
from oncotrials.core.errors import PermissionDeniedError, ValidationError

from .models import CopyNumberSegment
from .schemas import (
    GenomicsAtlasOut,
    GenomicsCohortOut,
    GenomicsImportOut,
    GenomicsLohSampleOut,
    GenomicsReportOut,
    GenomicsResistanceOut,
    GenomicsSampleOut,
    GenomicsSegmentOut,
    GenomicsSerialPairOut,
    GenomicsTimelineSampleOut,
)
from .selectors import (
    AnnotatedAlteration,
    CohortQuery,
    TimelineSample,
    _core_segment,
    cohort_query,
    genomic_samples_visible_to,
    patient_copy_number,
    patient_for_genomics,
    patient_genomic_timeline,
    patient_segments,
    report_for_user,
    report_mutations,
    resistance_atlas_for_user,
    serial_pairs,
)
from .services import genomics_import_upload, may_import_anything

router = Router(tags=["genomics"])
MAX_MAP_BYTES = 5_000_000


def _map_text(upload: UploadedFile | None) -> str | None:
    if upload is None:
        return None
    if upload.size and upload.size > MAX_MAP_BYTES:
        raise ValidationError(gettext("The patient map is larger than 5 MB."), field="patient_map")
    try:
        return str(upload.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationError(
            gettext("The patient map is not UTF-8 text."), field="patient_map"
        ) from None


@router.post("/genomics/imports", response={201: GenomicsImportOut, **ERRORS})
def genomics_imports_create(
    request: HttpRequest,
    file: File[UploadedFile | None] = None,
    patient_map: File[UploadedFile | None] = None,
    assay: Form[str] = "",
    limit_of_detection: Form[str] = "",
) -> Any:
    """Import a MAF, VCF, JSON report or zipped cBioPortal study (multipart), all or nothing.

    ``limit_of_detection`` declares the assay's LoD (``0.002`` or ``0.2%``) for reports that do
    not declare it themselves.
    """
    if not may_import_anything(request.user):
        raise PermissionDeniedError(
            gettext(
                "Only molecular biologists, data managers and administrators import genomic files."
            )
        )
    if file is None:
        raise ValidationError(
            gettext("Send the genomic file in the multipart field 'file'."), field="file"
        )
    result = genomics_import_upload(
        name=file.name or "upload",
        chunks=file.chunks(),
        by=acting_user(request.user),
        patient_map_text=_map_text(patient_map),
        assay=assay[:100],
        limit_of_detection=limit_of_detection.strip() or None,
    )
    return Status(201, result.as_dict())


def _sample_doc(s: Any) -> dict[str, Any]:
    return {
        "id": s.pk,
        "sample_id": s.sample_id,
        "kind": s.kind,
        "timepoint": s.timepoint,
        "collected_on": s.collected_on,
        "tumour_fraction": s.tumour_fraction,
        "oncotree_code": s.oncotree_code,
        "therapy": s.therapy,
    }


def _alteration_doc(a: AnnotatedAlteration) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "gene": a.gene,
        "label": a.label,
        "detail": a.detail,
        "tier": a.tier,
        "evidence": [
            {
                "source": e.entry.source,
                "level": e.entry.level,
                "tumour": e.entry.tumour,
                "tumour_match": e.tumour_match,
                "drugs": list(e.entry.drugs),
                "citation": e.entry.citation,
                "resistance": e.entry.resistance,
            }
            for e in (a.annotation.evidence if a.annotation else ())
        ],
        "origin": a.origin,
        "oncogenicity": a.oncogenicity,
        "reported": a.reported,
    }


def _timeline_doc(t: TimelineSample) -> dict[str, Any]:
    return {
        "sample": _sample_doc(t.sample),
        "assays": [r.assay for r in t.reports],
        "alterations": [_alteration_doc(a) for a in t.alterations],
        "not_detected": [
            {
                "assay": nd.report.assay,
                "limit_of_detection": nd.limit_of_detection,
                "genes": nd.genes,
            }
            for nd in t.not_detected
        ],
    }


OriginParam = Literal["", "somatic", "germline", "unknown"]


@router.get("/genomics/reports/{report_id}", response={200: GenomicsReportOut, **ERRORS})
def genomics_report(request: HttpRequest, report_id: int, origin: OriginParam = "") -> Any:
    """One report: its sample, matched normal (or tumour-only) and mutations with their
    origin, oncogenicity and reported flag; ``origin`` keeps one origin only."""
    report = report_for_user(user=request.user, report_id=report_id)
    return {
        "id": report.pk,
        "sample": _sample_doc(report.sample),
        "normal_sample": report.normal_sample.sample_id if report.normal_sample else None,
        "tumour_only": report.tumour_only,
        "assay": report.assay,
        "panel": report.panel,
        "lab": report.lab,
        "reported_on": report.reported_on,
        "genome_build": report.genome_build,
        "superseded": report.superseded,
        "mutations": [_alteration_doc(a) for a in report_mutations(report=report, origin=origin)],
    }


@router.get(
    "/genomics/patients/{patient_id}/samples", response={200: list[GenomicsSampleOut], **ERRORS}
)
def genomics_patient_samples(request: HttpRequest, patient_id: int) -> Any:
    patient = patient_for_genomics(user=request.user, patient_id=patient_id)
    samples = (
        genomic_samples_visible_to(request.user)
        .filter(patient=patient)
        .order_by("collected_on", "pk")
    )
    return [_sample_doc(s) for s in samples]


@router.get(
    "/genomics/patients/{patient_id}/timeline",
    response={200: list[GenomicsTimelineSampleOut], **ERRORS},
)
def genomics_patient_timeline(
    request: HttpRequest, patient_id: int, origin: OriginParam = ""
) -> Any:
    """The patient's samples over time with their alterations, ESCAT tier and evidence;
    ``origin`` keeps the alterations of one origin (somatic, germline, unknown)."""
    patient = patient_for_genomics(user=request.user, patient_id=patient_id)
    return [
        _timeline_doc(t)
        for t in patient_genomic_timeline(patient=patient, user=request.user, origin=origin)
    ]


def _segment_doc(g: CopyNumberSegment) -> dict[str, Any]:
    core = _core_segment(g, g.sample.sample_id)
    return {
        "id": g.pk,
        "sample": g.sample_id,
        "sample_id": g.sample.sample_id,
        "report_id": g.report_id,
        "chromosome": g.chromosome,
        "start": g.start,
        "end": g.end,
        "num_markers": g.num_markers,
        "log2_ratio": g.log2_ratio,
        "total_cn": g.total_cn,
        "minor_cn": g.minor_cn,
        "loh_declared": g.loh,
        "loh": core.is_loh,
    }


@router.get(
    "/genomics/patients/{patient_id}/segments",
    response={200: list[GenomicsSegmentOut], **ERRORS},
)
@paged
def genomics_patient_segments(
    request: HttpRequest,
    patient_id: int,
    sample: int | None = None,
    report_id: int | None = None,
    loh: bool | None = None,
) -> Any:
    """Copy-number segments of the patient's current reports, in file order per report
    (``sample``: one sample's id; ``report_id``: one report; ``loh``: only the segments with,
    or without, loss of heterozygosity). Paged: ``{"items": [...], "count": n}`` with
    ``?page=`` and ``?page_size=``."""
    patient = patient_for_genomics(user=request.user, patient_id=patient_id)
    qs = patient_segments(patient=patient, user=request.user, loh=loh)
    if sample is not None:
        qs = qs.filter(sample_id=sample)
    if report_id is not None:
        qs = qs.filter(report_id=report_id)
    return Rendered(qs.select_related("sample"), _segment_doc)


def _loh_segment_doc(g: Any) -> dict[str, Any]:
    return {
        "chromosome": g.chromosome,
        "start": g.start,
        "end": g.end,
        "log2_ratio": g.log2_ratio,
        "total_cn": g.total_cn,
        "minor_cn": g.minor_cn,
    }


@router.get(
    "/genomics/patients/{patient_id}/loh", response={200: list[GenomicsLohSampleOut], **ERRORS}
)
def genomics_patient_loh(request: HttpRequest, patient_id: int) -> Any:
    """Loss of heterozygosity per sample with segments: the LOH segments and the mutated
    genes that lie in them (``assessed`` is false when no segment carries allele-specific
    copy numbers or an LOH flag)."""
    patient = patient_for_genomics(user=request.user, patient_id=patient_id)
    return [
        {
            "sample": c.sample.pk,
            "sample_id": c.sample.sample_id,
            "genome_build": c.genome_build.value if c.genome_build else None,
            "segments": len(c.segments),
            "assessed": c.has_allelic,
            "loh_segments": [_loh_segment_doc(g) for g in c.loh_segments],
            "loh_megabases": round(c.loh_megabases, 3),
            "genes": [
                {
                    "gene": x.gene,
                    "label": x.label,
                    "chromosome": x.chromosome,
                    "position": x.position,
                    "segment": _loh_segment_doc(x.segment),
                }
                for x in c.loh_genes
            ],
        }
        for c in patient_copy_number(patient=patient, user=request.user)
    ]


AlterationKind = Literal["mutation", "cna", "sv"]
TierParam = Literal[
    "", "I-A", "I-B", "I-C", "II-A", "II-B", "III-A", "III-B", "IV-A", "IV-B", "V", "X"
]
TimepointParam = Literal["", "baseline", "on_treatment", "progression", "unknown"]
ClassParam = Literal[
    "",
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "In_Frame_Del",
    "In_Frame_Ins",
    "Missense_Mutation",
    "Nonsense_Mutation",
    "Splice_Site",
    "Translation_Start_Site",
    "Nonstop_Mutation",
    "Targeted_Region",
    "De_novo_Start_InFrame",
    "De_novo_Start_OutOfFrame",
    "Silent",
    "Intron",
    "3'UTR",
    "3'Flank",
    "5'UTR",
    "5'Flank",
    "IGR",
    "RNA",
    "Splice_Region",
    "Fusion",
    "Unknown",
]


@router.get("/genomics/cohort", response={200: GenomicsCohortOut, **ERRORS})
def genomics_cohort(
    request: HttpRequest,
    kind: AlterationKind = "mutation",
    gene: str = "",
    alteration: str = "",
    variant_class: ClassParam = "",
    tumour: str = "",
    tier: TierParam = "",
    timepoint: TimepointParam = "",
    include_silent: bool = False,
    limit: int = 500,
) -> Any:
    """Alterations matching the query among the patients you may see (current reports).

    Criteria combine with AND; without any criterion the answer is empty. ``tumour`` is an
    OncoTree code and selects its whole subtree; an unknown code answers 404.
    """
    query = CohortQuery(
        kind=kind,
        gene=gene[:40],
        alteration=alteration[:100],
        variant_class=variant_class,
        tumour=tumour[:20],
        tier=tier,
        timepoint=timepoint,
        include_silent=include_silent,
    )
    if not (query.gene or query.alteration or query.tumour or query.tier or query.variant_class):
        return {"n_alterations": 0, "n_samples": 0, "n_patients": 0, "truncated": False, "rows": []}
    result = cohort_query(user=request.user, query=query, limit=max(1, min(limit, 5000)))
    return {
        "n_alterations": result.n_alterations,
        "n_samples": result.n_samples,
        "n_patients": result.n_patients,
        "truncated": result.truncated,
        "rows": result.rows,
    }


@router.get(
    "/genomics/patients/{patient_id}/resistance", response={200: GenomicsResistanceOut, **ERRORS}
)
def genomics_patient_resistance(request: HttpRequest, patient_id: int, drug: str = "") -> Any:
    """Every serial pair of the patient's reported samples (each against the one before and
    against the reference baseline), classified under the therapy received in between; the
    top-level fields repeat the reference baseline against the latest progression sample."""
    patient = patient_for_genomics(user=request.user, patient_id=patient_id)
    series = serial_pairs(patient=patient, drug=drug[:200], user=request.user)
    if not series.pairs:
        raise ValidationError(
            gettext("Patient %(research_id)s has no two reported samples to compare.")
            % {"research_id": patient.research_id},
            field="timepoint",
        )
    head = series.headline()
    rep = head.report if head is not None else None
    return {
        "patient": patient.research_id,
        "baseline_sample": rep.baseline_sample if rep else None,
        "progression_sample": rep.progression_sample if rep else None,
        "drugs": list(rep.drugs) if rep else [],
        "therapy_source": rep.therapy_source if rep else "",
        "targets": sorted(rep.targets) if rep else [],
        "acquired": GenomicsSerialPairOut.resolve_acquired(head) if head else [],
        "not_detected": GenomicsSerialPairOut.resolve_not_detected(head) if head else [],
        "pairs": series.pairs,
    }


@router.get("/genomics/resistance-atlas", response={200: GenomicsAtlasOut, **ERRORS})
def genomics_resistance_atlas(request: HttpRequest, drug: str = "", tumour: str = "") -> Any:
    """Patients per (mechanism, gene) of acquired resistance, across the patients you see."""
    atlas = resistance_atlas_for_user(user=request.user, drug=drug[:200], tumour=tumour[:20])
    return {
        "rows": [{"mechanism": m, "gene": g, "patients": n} for (m, g), n in atlas.counts.items()],
        "by_drug": [
            {
                "drug": r.drug,
                "mechanism": r.mechanism,
                "gene": r.gene,
                "patients": [p.patient.research_id for p in r.patients],
            }
            for r in atlas.by_drug
        ],
        "patients_evaluated": len(atlas.series),
        "skipped": atlas.skipped,
    }
