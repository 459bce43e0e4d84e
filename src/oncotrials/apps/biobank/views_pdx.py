"""Web pages of PDX models: the list, and a model's page with its passages, QC, growth curves
(server-side SVG with the data table) and mRECIST table. Everything is read through the
selectors (visibility follows the model's specimen) and computed on each read."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from oncotrials.core.errors import NotFoundError

from .plots_pdx import growth_svg
from .selectors_pdx import (
    pdx_export,
    pdx_model_get_for_user,
    pdx_model_summary,
    pdx_models_for_user,
    pdx_status,
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
    return render(request, "biobank/pdx_list.html", {"rows": rows, "q": q})


@login_required
@require_GET
def pdx_detail(request: HttpRequest, pdx_model_id: int) -> HttpResponse:
    pdx = _model(request, pdx_model_id)
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
        {"pdx": pdx, **summary, "data_rows": data_rows},
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
