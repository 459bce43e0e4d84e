"""Web pages of PDX models: the list, and a model's page with its passages, QC, growth curves
(server-side SVG with the data table) and mRECIST table. Everything is read through the
selectors (visibility follows the model's specimen) and computed on each read."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from oncotrials.apps.accounts.access import Action, acting_user, may, sites_where
from oncotrials.apps.accounts.view_helpers import form_refused
from oncotrials.core.biobank.lineage import IN_STOCK
from oncotrials.core.errors import NotFoundError, OncotrialsError, PermissionDeniedError

from .forms_pdx import (
    ArmForm,
    EngraftmentForm,
    MeasurementsForm,
    PassageForm,
    PdxModelForm,
    ValidationForm,
)
from .plots_pdx import growth_svg
from .selectors import specimen_get_for_user, specimens_visible_to
from .selectors_pdx import (
    pdx_export,
    pdx_model_get_for_user,
    pdx_model_summary,
    pdx_models_for_user,
    pdx_status,
)
from .services_pdx import (
    GRAFTABLE,
    pdx_arm_create,
    pdx_engraftment_record,
    pdx_measurements_record,
    pdx_model_create,
    pdx_passage_add,
    pdx_validation_add,
)


def _model(request: HttpRequest, pdx_model_id: int):  # type: ignore[no-untyped-def]
    try:
        return pdx_model_get_for_user(user=request.user, pdx_model_id=pdx_model_id)
    except NotFoundError:
        raise Http404("No such PDX model.") from None


@login_required
@require_GET
def pdx_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:60]
    models = list(pdx_models_for_user(user=request.user, q=q).prefetch_related("passages")[:500])
    rows = [(m, pdx_status(m)) for m in models]
    may_create = bool(sites_where(request.user, Action.HANDLE_SPECIMENS))
    return render(
        request, "biobank/pdx_list.html", {"rows": rows, "q": q, "may_create": may_create}
    )


def _graftable(request: HttpRequest) -> Any:
    """Specimens the user may see that a model could be grown from (the service checks the
    rest: rights on the specimen, consent, dates)."""
    return (
        specimens_visible_to(request.user)
        .filter(status__in=sorted(IN_STOCK), specimen_type__in=sorted(GRAFTABLE))
        .select_related("patient")
        .order_by("label")
    )


@login_required
@require_http_methods(["GET", "POST"])
def pdx_new(request: HttpRequest) -> HttpResponse:
    """A technician starts a model from a consented specimen (the same service as the API)."""
    if not sites_where(request.user, Action.HANDLE_SPECIMENS):
        return HttpResponse(_("You may not start PDX models."), status=403)
    form = PdxModelForm(request.POST or None, specimens=_graftable(request))
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = dict(form.cleaned_data)
            chosen = data.pop("specimen")
            try:
                specimen = specimen_get_for_user(user=request.user, specimen_id=chosen.pk)
                pdx = pdx_model_create(specimen=specimen, by=acting_user(request.user), **data)
            except PermissionDeniedError as exc:
                return HttpResponse(exc.message, status=403)
            except OncotrialsError as exc:
                form_refused(form, exc)
            else:
                messages.success(request, _("PDX model %(m)s started.") % {"m": pdx.model_id})
                return redirect("pdx-detail", pdx_model_id=pdx.pk)
    return render(request, "biobank/pdx_new.html", {"form": form}, status=status)


def _engraft(form: Any, pdx: Any, by: Any) -> str:
    d = form.cleaned_data
    p = pdx_engraftment_record(
        passage=d["passage"], mice_engrafted=d["mice_engrafted"], reason=d["reason"], by=by
    )
    return _("Engraftment of P%(n)d recorded.") % {"n": p.number}


def _passage(form: Any, pdx: Any, by: Any) -> str:
    d = dict(form.cleaned_data)
    p = pdx_passage_add(by=by, **d)
    return _("Passage P%(n)d recorded.") % {"n": p.number}


def _arm(form: Any, pdx: Any, by: Any) -> str:
    arm = pdx_arm_create(by=by, **form.cleaned_data)
    return _("Arm %(a)s created.") % {"a": arm.name}


def _measure(form: Any, pdx: Any, by: Any) -> str:
    d = form.cleaned_data
    try:
        made = pdx_measurements_record(arm=d["arm"], rows=d["rows"], by=by)
    except OncotrialsError as exc:
        row = exc.extra.get("row")
        if isinstance(row, int) and 1 <= row <= len(d["lines"]):
            exc.extra = {"field": "table"}
            exc.message = _("Line %(n)d: %(m)s") % {"n": d["lines"][row - 1], "m": exc.message}
        elif exc.extra.get("field") not in form.fields:
            exc.extra = {**exc.extra, "field": "table"}
        raise
    return _("%(n)d measurements recorded.") % {"n": len(made)}


def _validate(form: Any, pdx: Any, by: Any) -> str:
    qc = pdx_validation_add(pdx_model=pdx, by=by, **form.cleaned_data)
    return _("Quality control %(t)s recorded.") % {"t": qc.technique}


# form name -> (form class, the call of its service)
_FORMS: dict[str, tuple[type, Any]] = {
    "engraftment": (EngraftmentForm, _engraft),
    "passage": (PassageForm, _passage),
    "arm": (ArmForm, _arm),
    "measurements": (MeasurementsForm, _measure),
    "validation": (ValidationForm, _validate),
}


@login_required
@require_http_methods(["GET", "POST"])
def pdx_detail(request: HttpRequest, pdx_model_id: int) -> HttpResponse:
    """A model's page; a technician of its specimen's site records engraftment, passages, arms,
    measurements and quality controls here (each form calls the service the API calls)."""
    pdx = _model(request, pdx_model_id)
    may_write = may(request.user, Action.HANDLE_SPECIMENS, on=pdx.specimen)
    forms_ = {name: cls(pdx=pdx, prefix=name) for name, (cls, _call) in _FORMS.items()}
    status = 200
    if request.method == "POST":
        if not may_write:
            return HttpResponse(_("You may not record PDX work on this model."), status=403)
        name = request.POST.get("form", "")
        if name not in _FORMS:
            return HttpResponse(_("Unknown form; nothing was saved."), status=400)
        cls, call = _FORMS[name]
        form = cls(request.POST, pdx=pdx, prefix=name)
        forms_[name] = form
        status = 422
        if form.is_valid():
            try:
                done = call(form, pdx, acting_user(request.user))
            except PermissionDeniedError as exc:
                return HttpResponse(exc.message, status=403)
            except OncotrialsError as exc:
                form_refused(form, exc)
            else:
                messages.success(request, done)
                return redirect("pdx-detail", pdx_model_id=pdx.pk)
    summary = pdx_model_summary(pdx)
    data_rows = [
        {"arm": g.arm, "mouse": m.label, "day": day, "volume": volume}
        for g in summary["growth"]
        for m in g.mice
        for day, volume in m.points
    ]
    return render(
        request,
        "biobank/pdx_detail.html",
        {
            "pdx": pdx,
            **summary,
            "data_rows": data_rows,
            "may_write": may_write,
            "forms": forms_,
        },
        status=status,
    )


@login_required
@require_GET
def pdx_growth_plot(request: HttpRequest, pdx_model_id: int) -> HttpResponse:
    pdx = _model(request, pdx_model_id)
    response = HttpResponse(
        growth_svg(pdx.model_id, pdx_model_summary(pdx)["growth"]),
        content_type="image/svg+xml; charset=utf-8",
    )
    if request.GET.get("download") == "1":
        response["Content-Disposition"] = f'attachment; filename="{pdx.model_id}-growth.svg"'
    return response


@login_required
@require_GET
def pdx_export_zip(request: HttpRequest) -> HttpResponse:
    """The CancerModels submission of the models you may see, as a zip of TSV files, with the
    dictionary check's issues (if any) in ``issues.txt``."""
    provider = "ONCOTRIALS"
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        paths, issues = pdx_export(user=request.user, directory=directory, provider=provider)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in paths:
                archive.write(path, f"{provider}/{path.relative_to(directory).as_posix()}")
            if issues:
                archive.writestr(f"{provider}/issues.txt", "\n".join(str(i) for i in issues) + "\n")
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="cancermodels-submission.zip"'
    return response
