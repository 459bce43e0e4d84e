"""Web pages of tumour assessments: per patient, and the efficacy page of a trial."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oncotrials.apps.subjects.selectors import patient_get_for_user, roles_for_patient
from oncotrials.apps.trials.selectors import trial_get_for_user, trials_visible_to
from oncotrials.core.errors import NotFoundError, OncotrialsError

from .api import svg_response
from .models import Assessment, Criteria
from .plots import PLOTS
from .selectors import (
    assessments_of,
    efficacy_data,
    lesions_of,
    pfs_summary,
    registration_get_for_user,
    responses_of,
)
from .services import IRECIST_RESPONSES, OVERRIDERS, RECIST_RESPONSES, response_override


def _trial(request: HttpRequest, trial_id: int) -> Any:
    try:
        return trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None


@login_required
@require_GET
def patient_tumours(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Baseline lesions, follow-ups, computed responses with their rule, BOR and overrides."""
    try:
        patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    except NotFoundError:
        raise Http404("No such patient.") from None
    may_override = bool(roles_for_patient(request.user, patient) & OVERRIDERS)
    sections = []
    for reg in patient.registrations.select_related("trial", "cohort").order_by("registered_on"):
        data = responses_of(reg)
        ev = data["evaluation"]
        irecist = ev is not None and ev.criteria == Criteria.IRECIST
        assessments = list(assessments_of(reg))
        sections.append(
            {
                "registration": reg,
                "lesions": list(lesions_of(reg)),
                "baseline": next((a for a in assessments if a.kind == "baseline"), None),
                "follow_ups": [a for a in assessments if a.kind == "follow_up"],
                "responses": data,
                "choices": IRECIST_RESPONSES if irecist else RECIST_RESPONSES,
            }
        )
    return render(
        request,
        "tumours/patient_tumours.html",
        {"patient": patient, "sections": sections, "may_override": may_override},
    )


@login_required
@require_POST
def override_create(request: HttpRequest, registration_id: int) -> HttpResponse:
    try:
        reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    except NotFoundError:
        raise Http404("No such registration.") from None
    assessment = None
    raw = request.POST.get("assessment_id", "")
    if raw:
        assessment = Assessment.objects.filter(
            pk=int(raw) if raw.isdigit() else 0, registration=reg
        ).first()
        if assessment is None:
            raise Http404("No such assessment.")
    try:
        response_override(
            registration=reg,
            assessment=assessment,
            response=request.POST.get("response", "")[:20],
            reason=request.POST.get("reason", "")[:1000],
            by=request.user,
        )
    except OncotrialsError as exc:
        messages.error(request, exc.message)
        status = exc.status
        if status == 403:
            return HttpResponse(exc.message, status=403)
    else:
        messages.success(request, _("Override recorded; the computed response is kept beside it."))
    return redirect("tumours-patient", patient_id=reg.patient_id)


@login_required
@require_GET
def efficacy_index(request: HttpRequest) -> HttpResponse:
    trials = trials_visible_to(request.user).order_by("protocol_code")
    return render(request, "tumours/efficacy_index.html", {"trials": trials})


@login_required
@require_GET
def trial_efficacy(request: HttpRequest, trial_id: int) -> HttpResponse:
    trial = _trial(request, trial_id)
    patients = efficacy_data(trial=trial, user=request.user)
    summary = pfs_summary(patients)
    return render(
        request,
        "tumours/trial_efficacy.html",
        {
            "trial": trial,
            "patients": patients,
            "summary": summary,
            "plots": [
                ("waterfall", _("Waterfall: best change in target sum")),
                ("spider", _("Spider plot: change over time")),
                ("swimmer", _("Swimmer plot: time on treatment")),
                ("pfs", _("Kaplan-Meier progression-free survival")),
            ],
            "has_measurements": any(p.best_change_pct is not None for p in patients),
        },
    )


@login_required
@require_GET
def efficacy_plot(request: HttpRequest, trial_id: int, plot: str) -> HttpResponse:
    if plot not in PLOTS:
        raise Http404("No such plot.")
    trial = _trial(request, trial_id)
    return svg_response(
        trial=trial, user=request.user, plot=plot, download=request.GET.get("download") == "1"
    )
