"""API endpoints of the genomics app (mounted at /api/v1/): parse, authorise, call, render."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.schemas import ERRORS
from oncotrials.core.errors import PermissionDeniedError, ValidationError

from .models import Sample
from .schemas import (
    GenomicsAtlasOut,
    GenomicsCohortOut,
    GenomicsImportOut,
    GenomicsResistanceOut,
    GenomicsSampleOut,
    GenomicsSerialPairOut,
    GenomicsTimelineSampleOut,
)
from .selectors import (
    CohortQuery,
    TimelineSample,
    cohort_query,
    patient_for_genomics,
    patient_genomic_timeline,
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
        raise ValidationError("The patient map is larger than 5 MB.", field="patient_map")
    try:
        return str(upload.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationError("The patient map is not UTF-8 text.", field="patient_map") from None


@router.post("/genomics/imports", response={201: GenomicsImportOut, **ERRORS})
def genomics_imports_create(
    request: HttpRequest,
    file: File[UploadedFile | None] = None,
    patient_map: File[UploadedFile | None] = None,
    assay: Form[str] = "",
) -> Any:
    """Import a MAF, VCF, JSON report or zipped cBioPortal study (multipart), all or nothing."""
    if not may_import_anything(request.user):
        raise PermissionDeniedError(
            "Only molecular biologists, data managers and administrators import genomic files."
        )
    if file is None:
        raise ValidationError("Send the genomic file in the multipart field 'file'.", field="file")
    result = genomics_import_upload(
        name=file.name or "upload",
        chunks=file.chunks(),
        by=acting_user(request.user),
        patient_map_text=_map_text(patient_map),
        assay=assay[:100],
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


def _timeline_doc(t: TimelineSample) -> dict[str, Any]:
    return {
        "sample": _sample_doc(t.sample),
        "assays": [r.assay for r in t.reports],
        "alterations": [
            {
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
            }
            for a in t.alterations
        ],
    }


@router.get(
    "/genomics/patients/{patient_id}/samples", response={200: list[GenomicsSampleOut], **ERRORS}
)
def genomics_patient_samples(request: HttpRequest, patient_id: int) -> Any:
    patient = patient_for_genomics(user=request.user, patient_id=patient_id)
    samples = Sample.objects.filter(patient=patient).order_by("collected_on", "pk")
    return [_sample_doc(s) for s in samples]


@router.get(
    "/genomics/patients/{patient_id}/timeline",
    response={200: list[GenomicsTimelineSampleOut], **ERRORS},
)
def genomics_patient_timeline(request: HttpRequest, patient_id: int) -> Any:
    """The patient's samples over time with their alterations, ESCAT tier and evidence."""
    patient = patient_for_genomics(user=request.user, patient_id=patient_id)
    return [_timeline_doc(t) for t in patient_genomic_timeline(patient=patient)]


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
            f"Patient {patient.research_id} has no two reported samples to compare.",
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
