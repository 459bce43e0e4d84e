"""Web pages of the biobank: the specimen list with a barcode scan field, a specimen's lineage
tree and custody timeline, a box map, the custody check and a patient's serial samples."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from oncotrials.apps.accounts.access import Action, acting_user, may
from oncotrials.apps.accounts.view_helpers import form_refused, list_page
from oncotrials.apps.subjects.selectors import patient_get_for_user
from oncotrials.core.biobank.lineage import TYPE_CHOICES, Lineage, Status
from oncotrials.core.errors import NotFoundError, OncotrialsError, PermissionDeniedError

from .forms import PreAnalyticsForm
from .selectors import (
    box_get_for_user,
    box_map,
    broken_schedules_of,
    containers_visible_to,
    custody_check,
    custody_of,
    lineage_tree,
    location_for,
    serial_samples,
    specimen_by_barcode,
    specimen_get_for_user,
    specimens_for_user,
    sprec_elements_of,
    storage_visible,
    timepoints_of,
)
from .services import specimen_pre_analytics_record


@login_required
@require_GET
def specimen_list(request: HttpRequest) -> HttpResponse:
    """Specimens you may see, filtered; a scanned barcode opens its specimen."""
    scan = request.GET.get("scan", "").strip()[:64]
    error = ""
    if scan:
        try:
            return redirect(
                "biobank-specimen",
                specimen_id=specimen_by_barcode(user=request.user, barcode=scan).pk,
            )
        except NotFoundError:
            error = _("No specimen with barcode %(code)s that you may see.") % {"code": scan}
    q = request.GET.get("q", "").strip()[:64]
    kind = request.GET.get("type", "")[:16]
    status = request.GET.get("status", "")[:16]
    page, _query = list_page(
        request, specimens_for_user(user=request.user, q=q, specimen_type=kind, status=status)
    )
    items = list(page.object_list)
    tps = timepoints_of(items, user=request.user)
    rows = [(s, tps[s.pk], location_for(request.user, s)) for s in items]
    boxes = containers_visible_to(request.user).filter(kind="box").select_related("parent__parent")
    return render(
        request,
        "biobank/specimen_list.html",
        {
            "rows": rows,
            "broken_schedules": broken_schedules_of(items, user=request.user),
            "page": page,
            "q": q,
            "type": kind,
            "status": status,
            "scan": scan,
            "error": error,
            "types": TYPE_CHOICES,
            "statuses": [(s.value, s.value.replace("_", " ").capitalize()) for s in Status],
            "boxes": boxes,
        },
    )


@login_required
@require_GET
def specimen_detail(request: HttpRequest, specimen_id: int) -> HttpResponse:
    try:
        s = specimen_get_for_user(user=request.user, specimen_id=specimen_id)
    except NotFoundError:
        raise Http404("No such specimen.") from None
    return render(
        request,
        "biobank/specimen_detail.html",
        {
            "s": s,
            "timepoint": timepoints_of([s], user=request.user)[s.pk],
            "broken_schedules": broken_schedules_of([s], user=request.user),
            "location": location_for(request.user, s),
            "show_storage": storage_visible(request.user, s.patient.site_id),
            "sprec": sprec_elements_of(s),
            "may_record_pre_analytics": s.lineage == Lineage.NEW
            and may(request.user, Action.HANDLE_SPECIMENS, on=s),
            "tree": lineage_tree(specimen=s, user=request.user),
            "custody": custody_of(s),
            "runs": s.runs.select_related("report").order_by("created_at"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def specimen_pre_analytics(request: HttpRequest, specimen_id: int) -> HttpResponse:
    """A technician of the specimen's site records or corrects its pre-analytical conditions
    (the same service as the API); the SPREC code is derived from them on every read."""
    try:
        s = specimen_get_for_user(user=request.user, specimen_id=specimen_id)
    except NotFoundError:
        raise Http404("No such specimen.") from None
    if not may(request.user, Action.HANDLE_SPECIMENS, on=s):
        return HttpResponse(_("You may not record pre-analytics of this specimen."), status=403)
    form = PreAnalyticsForm(request.POST or None, specimen=s)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                specimen_pre_analytics_record(
                    specimen=s,
                    values=form.values(),
                    reason=form.cleaned_data["reason"],
                    by=acting_user(request.user),
                )
            except PermissionDeniedError as exc:
                return HttpResponse(exc.message, status=403)
            except OncotrialsError as exc:
                form_refused(form, exc)
            else:
                messages.success(request, _("Pre-analytics of %(s)s recorded.") % {"s": s.label})
                return redirect("biobank-specimen", specimen_id=s.pk)
    return render(
        request,
        "biobank/specimen_pre_analytics.html",
        {"s": s, "form": form, "sprec": sprec_elements_of(s)},
        status=status,
    )


@login_required
@require_GET
def box_detail(request: HttpRequest, box_id: int) -> HttpResponse:
    try:
        box = box_get_for_user(user=request.user, box_id=box_id)
    except NotFoundError:
        raise Http404("No such box.") from None
    grid = box_map(box, request.user)
    rows = [(chr(ord("A") + i), cells) for i, cells in enumerate(grid)]
    used = sum(1 for cells in grid for c in cells if c is not None)
    return render(
        request,
        "biobank/box.html",
        {
            "box": box,
            "rows": rows,
            "columns": range(1, box.columns + 1),
            "used": used,
            "capacity": box.rows * box.columns,
        },
    )


@login_required
@require_GET
def custody_check_page(request: HttpRequest) -> HttpResponse:
    return render(request, "biobank/custody_check.html", {"gaps": custody_check(user=request.user)})


@login_required
@require_GET
def serial_samples_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    try:
        patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    except NotFoundError:
        raise Http404("No such patient.") from None
    view = serial_samples(patient=patient, user=request.user)
    broken = broken_schedules_of([r.specimen for r in view.rows], user=request.user)
    return render(
        request,
        "biobank/serial_samples.html",
        {"view": view, "patient": patient, "broken_schedules": broken},
    )
