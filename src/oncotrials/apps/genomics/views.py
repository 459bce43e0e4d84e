"""Web pages of the genomics app: cohort query, oncoprint, patient timeline, resistance, upload."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from oncotrials.apps.accounts.access import acting_user
from oncotrials.core.errors import NotFoundError, OncotrialsError, ValidationError
from oncotrials.core.genomics.actionability import ESCAT_TIERS
from oncotrials.core.genomics.model import VariantClass

from .models import Origin, Timepoint
from .selectors import (
    ALTERATION_KINDS,
    CNA_CALLS,
    CohortQuery,
    cohort_query,
    oncoprint,
    patient_copy_number,
    patient_for_genomics,
    patient_genomic_timeline,
    report_for_user,
    report_mutations,
    resistance_atlas_for_user,
    serial_pairs,
)
from .services import genomics_import_upload, may_import_anything, may_import_for

MAX_MAP_BYTES = 5_000_000


def _query_from(request: HttpRequest) -> CohortQuery:
    g = request.GET
    return CohortQuery(
        kind=g.get("kind", "mutation")[:10] or "mutation",
        gene=g.get("gene", "")[:40],
        alteration=g.get("alteration", "")[:100],
        variant_class=g.get("variant_class", "")[:40],
        tumour=g.get("tumour", "")[:20],
        tier=g.get("tier", "")[:8],
        timepoint=g.get("timepoint", "")[:16],
    )


def _choices() -> dict[str, Any]:
    return {
        "kinds": ALTERATION_KINDS,
        "tiers": ESCAT_TIERS,
        "timepoints": Timepoint.choices,
        "classes": [v.value for v in VariantClass],
        "cna_calls": list(CNA_CALLS),
    }


@login_required
def cohort(request: HttpRequest) -> HttpResponse:
    """The cohort query page; with htmx, only the result table."""
    query = _query_from(request)
    context: dict[str, Any] = {
        "q": query,
        **_choices(),
        "may_import": may_import_anything(request.user),
    }
    status = 200
    if any((query.gene, query.alteration, query.tumour, query.tier, query.variant_class)):
        try:
            context["result"] = cohort_query(user=request.user, query=query)
        except OncotrialsError as exc:
            context["error"] = exc.message
            status = 422  # a form filter that names nothing known
    template = (
        "genomics/_partials/cohort_results.html"
        if getattr(request, "htmx", False)
        else "genomics/cohort.html"
    )
    return render(request, template, context, status=status)


# Each kind of cell: a letter shown in the cell and a name for screen readers and the legend
# (meaning never rests on colour alone).
ONCOPRINT_KINDS: dict[str, tuple[str, Any]] = {
    "missense": ("M", _("missense")),
    "truncating": ("T", _("truncating")),
    "inframe": ("I", _("in-frame")),
    "other": ("O", _("other")),
    "amp": ("A", _("amplification")),
    "homdel": ("D", _("deep deletion")),
    "fusion": ("F", _("fusion")),
}


def oncoprint_rows(grid: list[tuple[str, int, list[list[str]]]]) -> list[dict[str, Any]]:
    """The grid with, per cell, its CSS classes, its letters and its spoken names."""
    return [
        {
            "gene": gene,
            "n": n,
            "cells": [
                {
                    "classes": " ".join(classes),
                    "glyph": "".join(ONCOPRINT_KINDS[c][0] for c in classes),
                    "label": ", ".join(str(ONCOPRINT_KINDS[c][1]) for c in classes),
                }
                for classes in row
            ],
        }
        for gene, n, row in grid
    ]


@login_required
def oncoprint_view(request: HttpRequest) -> HttpResponse:
    query = _query_from(request)
    context: dict[str, Any] = {"q": query, "querystring": request.GET.urlencode()}
    status = 200
    try:
        context["print"] = oncoprint(user=request.user, query=query)
        context["rows"] = oncoprint_rows(context["print"].grid())
        context["kinds"] = [(k, glyph, name) for k, (glyph, name) in ONCOPRINT_KINDS.items()]
    except OncotrialsError as exc:
        context["error"] = exc.message
        status = 422
    return render(request, "genomics/oncoprint.html", context, status=status)


def _patient(request: HttpRequest, patient_id: int) -> Any:
    try:
        return patient_for_genomics(user=request.user, patient_id=patient_id)
    except NotFoundError:
        raise Http404("No such patient.") from None


@login_required
def patient_genomics(request: HttpRequest, patient_id: int) -> HttpResponse:
    """A patient's samples over time with their alterations, ESCAT tier and evidence."""
    patient = _patient(request, patient_id)
    origin = request.GET.get("origin", "")[:10]
    context: dict[str, Any] = {
        "patient": patient,
        "may_import": may_import_for(request.user, patient),
        "origin": origin,
        "origins": Origin.choices,
        "copy_number": patient_copy_number(patient=patient, user=request.user),
    }
    status = 200
    try:
        context["timeline"] = patient_genomic_timeline(
            patient=patient, user=request.user, origin=origin
        )
    except ValidationError as exc:
        context["error"], status = exc.message, 422
    return render(request, "genomics/patient.html", context, status=status)


@login_required
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """One report: its sample, matched normal (or tumour-only), mutations by origin."""
    try:
        report = report_for_user(user=request.user, report_id=report_id)
    except NotFoundError:
        raise Http404("No such genomic report.") from None
    origin = request.GET.get("origin", "")[:10]
    context: dict[str, Any] = {
        "report": report,
        "patient": report.sample.patient,
        "origin": origin,
        "origins": Origin.choices,
    }
    status = 200
    try:
        mutations = report_mutations(report=report, origin=origin)
    except ValidationError as exc:
        mutations, context["error"], status = [], exc.message, 422
    context["acquired"] = [m for m in mutations if m.origin != Origin.GERMLINE]
    context["germline"] = [m for m in mutations if m.origin == Origin.GERMLINE]
    return render(request, "genomics/report.html", context, status=status)


@login_required
def patient_segments_plot(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The copy-number plot of one of the patient's samples, ``?sample=<id>`` (SVG;
    ``&download=1`` to save it)."""
    from . import plots  # matplotlib loads on the first plot, not with the URLconf

    patient = _patient(request, patient_id)
    wanted = request.GET.get("sample", "")
    found = next(
        (
            c
            for c in patient_copy_number(patient=patient, user=request.user)
            if str(c.sample.pk) == wanted
        ),
        None,
    )
    if found is None:
        raise Http404("No segments for this sample.")
    title = f"{patient.research_id} · {found.sample.sample_id}"
    response = HttpResponse(
        plots.segments_svg(found.segments, build=found.genome_build, title=title),
        content_type="image/svg+xml; charset=utf-8",
    )
    name = f"{patient.research_id}-{found.sample.sample_id}-segments.svg".replace('"', "")
    disposition = "attachment" if request.GET.get("download") == "1" else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def patient_resistance(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Every serial pair of the patient's reported samples, classified."""
    patient = _patient(request, patient_id)
    drug = request.GET.get("drug", "")[:200]
    context: dict[str, Any] = {"patient": patient, "drug": drug}
    status = 200
    try:
        context["series"] = serial_pairs(patient=patient, drug=drug, user=request.user)
    except OncotrialsError as exc:
        context["error"] = exc.message
        status = exc.status
    return render(request, "genomics/resistance.html", context, status=status)


@login_required
def atlas(request: HttpRequest) -> HttpResponse:
    drug = request.GET.get("drug", "")[:200]
    tumour = request.GET.get("tumour", "")[:20]
    context: dict[str, Any] = {"drug": drug, "tumour": tumour}
    status = 200
    try:
        context["atlas"] = resistance_atlas_for_user(user=request.user, drug=drug, tumour=tumour)
    except OncotrialsError as exc:
        context["error"] = exc.message
        status = 422
    return render(request, "genomics/atlas.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """Upload a genomic file (htmx with an upload progress bar); all or nothing."""
    if not may_import_anything(request.user):
        raise PermissionDenied(
            "Only molecular biologists, data managers and administrators import genomic files."
        )
    if request.method == "GET":
        return render(request, "genomics/upload.html", {})
    context: dict[str, Any] = {}
    status = 200
    upload_file = request.FILES.get("file")
    try:
        if upload_file is None:
            raise _invalid(gettext("Choose a file to import."), "file")
        map_file = request.FILES.get("patient_map")
        map_text = None
        if map_file is not None:
            if map_file.size and map_file.size > MAX_MAP_BYTES:
                raise _invalid(gettext("The patient map is larger than 5 MB."), "patient_map")
            try:
                map_text = map_file.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise _invalid(
                    gettext("The patient map is not UTF-8 text."), "patient_map"
                ) from None
        context["result"] = genomics_import_upload(
            name=upload_file.name or "upload",
            chunks=upload_file.chunks(),
            by=acting_user(request.user),
            patient_map_text=map_text,
            assay=request.POST.get("assay", "")[:100],
            limit_of_detection=request.POST.get("limit_of_detection", "").strip() or None,
        )
    except OncotrialsError as exc:
        context["error"] = exc.message
        context["issues"] = list(exc.extra.get("issues", []))[:50]
        status = exc.status
    template = (
        "genomics/_partials/upload_result.html"
        if getattr(request, "htmx", False)
        else "genomics/upload.html"
    )
    return render(request, template, context, status=status)


def _invalid(message: str, field: str) -> OncotrialsError:
    return ValidationError(message, field=field)
