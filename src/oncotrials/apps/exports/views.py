"""Web pages of data cuts: list and make cuts, see a cut's files and download them."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.errors import NotFoundError, OncotrialsError

from .api import download
from .forms import DataCutForm
from .registry import formats_all
from .selectors import (
    cut_summary,
    data_cut_get_for_user,
    data_cuts_for_user,
    trials_exportable_by,
)
from .services import check_may_export, data_cut_create, data_cut_files, zip_bytes


def _cut(request: HttpRequest, cut_id: int) -> Any:
    try:
        return data_cut_get_for_user(user=request.user, cut_id=cut_id)
    except NotFoundError:
        raise Http404("No such data cut.") from None


def _files(cut: Any, fmt: str, user: Any) -> dict[str, bytes]:
    """The cut's files of one format, or the HTTP answer that says why not."""
    try:
        check_may_export(user, cut)
        return data_cut_files(cut=cut, fmt=fmt, by=user)
    except OncotrialsError as exc:
        if exc.status == 403:
            raise PermissionDenied(exc.message) from None
        if exc.status in (404, 422):
            raise Http404(exc.message) from None
        raise


@login_required
@require_http_methods(["GET", "POST"])
def exports_index(request: HttpRequest) -> HttpResponse:
    """The data cuts you may see, and the form that makes one."""
    trials = trials_exportable_by(request.user)
    form = DataCutForm(request.POST or None, trials=trials)
    if request.method == "POST":
        if not trials:
            raise PermissionDenied(_("Your role does not allow you to make data cuts."))
        if form.is_valid():
            try:
                trial = trial_get_for_user(user=request.user, trial_id=form.cleaned_data["trial"])
                cut = data_cut_create(
                    trial=trial,
                    name=form.cleaned_data["name"],
                    formats=form.cleaned_data["formats"],
                    by=acting_user(request.user),
                    reason=form.cleaned_data["reason"],
                )
            except OncotrialsError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Data cut made."))
                return redirect("exports-cut", cut_id=cut.pk)
    cuts = [cut_summary(c) for c in data_cuts_for_user(user=request.user)[:200]]
    return render(
        request,
        "exports/index.html",
        {"cuts": cuts, "form": form, "can_cut": bool(trials), "formats": formats_all()},
        status=422 if form.is_bound else 200,
    )


@login_required
@require_GET
def exports_cut(request: HttpRequest, cut_id: int) -> HttpResponse:
    cut = _cut(request, cut_id)
    return render(request, "exports/cut.html", {"cut": cut_summary(cut)})


@login_required
@require_GET
def exports_cut_archive(request: HttpRequest, cut_id: int, fmt: str) -> HttpResponse:
    cut = _cut(request, cut_id)
    user = acting_user(request.user)
    files = _files(cut, fmt, user)
    folder = f"{cut.trial.protocol_code}-{cut.name}-{fmt}".replace(" ", "_")
    return download(zip_bytes(files, cut=cut, folder=folder), f"{folder}.zip")


@login_required
@require_GET
def exports_cut_file(request: HttpRequest, cut_id: int, fmt: str, filename: str) -> HttpResponse:
    cut = _cut(request, cut_id)
    user = acting_user(request.user)
    files = _files(cut, fmt, user)
    if filename not in files:
        raise Http404("No such file in this data cut.")
    return download(files[filename], filename)
