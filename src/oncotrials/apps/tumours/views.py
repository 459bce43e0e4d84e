"""Web pages of tumour assessments: per patient, and the efficacy page of a trial."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from oncotrials.apps.accounts.access import Action, acting_user, may
from oncotrials.apps.accounts.view_helpers import csv_response, wants_csv
from oncotrials.apps.subjects.selectors import (
    arm_visible_to,
    patient_get_for_user,
    registrations_visible_to,
)
from oncotrials.apps.trials.selectors import trial_get_for_user, trials_visible_to
from oncotrials.core.errors import NotFoundError, OncotrialsError

from .api import svg_response
from .forms import BaselineForm, FollowUpForm, OverrideForm, SettingsForm
from .models import Assessment, Criteria
from .selectors import (
    DAYS_PER_MONTH,
    PfsSummary,
    assessments_of,
    efficacy_data,
    lesions_of,
    pfs_summary,
    registration_get_for_user,
    responses_of,
)
from .services import (
    IRECIST_RESPONSES,
    RECIST_RESPONSES,
    assessment_save,
    baseline_save,
    response_override,
    settings_for,
    tumour_settings_save,
)


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
    return _page(request, patient)


def _page(
    request: HttpRequest,
    patient: Any,
    *,
    bound: Mapping[tuple[int, str], Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The patient's page; ``bound`` holds a refused form (by registration and kind) to show
    again with what was typed and its errors."""
    bound = bound or {}
    may_override = may(request.user, Action.OVERRIDE_RESPONSE, on=patient)
    may_write = may(request.user, Action.EDIT_CRF, on=patient)
    sections = []
    registrations = registrations_visible_to(request.user).filter(patient=patient)
    for reg in registrations.select_related("trial__randomisation_scheme", "cohort").order_by(
        "registered_on"
    ):
        data = responses_of(reg)
        ev = data["evaluation"]
        irecist = ev is not None and ev.criteria == Criteria.IRECIST
        assessments = list(assessments_of(reg))
        lesions = list(lesions_of(reg))
        baseline = next((a for a in assessments if a.kind == "baseline"), None)
        auto_id = f"r{reg.pk}-%s"
        sections.append(
            {
                "registration": reg,
                "arm_visible": arm_visible_to(user=request.user, registration=reg),
                "lesions": lesions,
                "baseline": baseline,
                "follow_ups": [a for a in assessments if a.kind == "follow_up"],
                "responses": data,
                "choices": IRECIST_RESPONSES if irecist else RECIST_RESPONSES,
                "baseline_form": bound.get((reg.pk, "baseline")) or BaselineForm(auto_id=auto_id),
                "follow_up_form": bound.get((reg.pk, "follow_up"))
                or FollowUpForm(
                    lesions=lesions,
                    baseline_date=baseline.date if baseline else None,
                    auto_id=auto_id,
                ),
                "follow_up_refused": (reg.pk, "follow_up") in bound,
                "override_form": bound.get((reg.pk, "override")) or _override_form(reg, data),
            }
        )
    return render(
        request,
        "tumours/patient_tumours.html",
        {
            "patient": patient,
            "sections": sections,
            "may_override": may_override,
            "may_write": may_write,
        },
        status=status,
    )


def _registration(request: HttpRequest, registration_id: int) -> Any:
    try:
        return registration_get_for_user(user=request.user, registration_id=registration_id)
    except NotFoundError:
        raise Http404("No such registration.") from None


def _save_or_show_again(
    request: HttpRequest, reg: Any, kind: str, form: Any, save: Any, done: str
) -> HttpResponse:
    """Save through the service, or show the page again with the form as typed and every error
    beside its field (nothing was saved)."""
    if not may(request.user, Action.EDIT_CRF, on=reg):
        return HttpResponse(_("You may not record tumour assessments here."), status=403)
    if form.is_valid():
        try:
            save(**form.service_kwargs(), registration=reg, by=acting_user(request.user))
        except OncotrialsError as exc:
            if exc.status == 403:
                return HttpResponse(exc.message, status=403)
            field = form.field_of(str(exc.extra.get("field", "")))
            form.add_error(field, _("Nothing was saved: %(m)s") % {"m": exc.message})
        else:
            messages.success(request, done)
            return redirect("tumours-patient", patient_id=reg.patient_id)
    return _page(request, reg.patient, bound={(reg.pk, kind): form}, status=422)


@login_required
@require_POST
def baseline_create(request: HttpRequest, registration_id: int) -> HttpResponse:
    reg = _registration(request, registration_id)
    form = BaselineForm(request.POST, auto_id=f"r{reg.pk}-%s")
    return _save_or_show_again(
        request, reg, "baseline", form, baseline_save, _("Baseline recorded.")
    )


@login_required
@require_POST
def assessment_create(request: HttpRequest, registration_id: int) -> HttpResponse:
    reg = _registration(request, registration_id)
    baseline = next((a for a in assessments_of(reg) if a.kind == "baseline"), None)
    form = FollowUpForm(
        request.POST,
        lesions=list(lesions_of(reg)),
        baseline_date=baseline.date if baseline else None,
        auto_id=f"r{reg.pk}-%s",
    )
    return _save_or_show_again(
        request,
        reg,
        "follow_up",
        form,
        assessment_save,
        _("Assessment recorded; responses re-evaluated."),
    )


@login_required
@require_POST
def override_create(request: HttpRequest, registration_id: int) -> HttpResponse:
    reg = _registration(request, registration_id)
    if not may(request.user, Action.OVERRIDE_RESPONSE, on=reg):
        return HttpResponse(_("You may not override responses here."), status=403)
    form = _override_form(reg, responses_of(reg), request.POST)
    if form.is_valid():
        raw = form.cleaned_data["assessment_id"]
        assessment = (
            Assessment.objects.filter(pk=int(raw), registration=reg).first() if raw else None
        )
        try:
            response_override(
                registration=reg,
                assessment=assessment,
                response=form.cleaned_data["response"],
                reason=form.cleaned_data["reason"],
                by=acting_user(request.user),
            )
        except OncotrialsError as exc:
            if exc.status == 403:
                return HttpResponse(exc.message, status=403)
            form.add_error(form.field_of(str(exc.extra.get("field", ""))), exc.message)
        else:
            messages.success(
                request, _("Override recorded; the computed response is kept beside it.")
            )
            return redirect("tumours-patient", patient_id=reg.patient_id)
    return _page(request, reg.patient, bound={(reg.pk, "override"): form}, status=422)


def _override_form(reg: Any, data: Mapping[str, Any], post: Any = None) -> OverrideForm:
    ev = data["evaluation"]
    irecist = ev is not None and ev.criteria == Criteria.IRECIST
    return OverrideForm(
        post,
        timepoints=[(row["tp"].assessment_id, row["tp"].date) for row in data["timepoints"]],
        responses=IRECIST_RESPONSES if irecist else RECIST_RESPONSES,
        auto_id=f"r{reg.pk}-override-%s",
    )


@login_required
@require_GET
def efficacy_index(request: HttpRequest) -> HttpResponse:
    trials = trials_visible_to(request.user).order_by("protocol_code")
    return render(request, "tumours/efficacy_index.html", {"trials": trials})


RECIST_CSV_HEADER = [
    "patient",
    "treatment_start",
    "treatment_end",
    "ongoing",
    "status",
    "best_overall_response",
    "best_change_pct",
    "responses",
    "pfs_days",
    "pfs_event",
]


def _km_rows(summary: PfsSummary | None) -> list[dict[str, Any]]:
    """Each step of the Kaplan-Meier curve and each censoring, in time order."""
    if summary is None:
        return []
    censored = sorted(summary.censored)
    rows = [
        {"days": t, "months": t / DAYS_PER_MONTH, "survival": s, "censored": 0}
        for t, s in summary.curve
    ]
    for t, _s in censored:
        for row in rows:
            if row["days"] == t:
                row["censored"] += 1
    return rows


@login_required
@require_GET
def trial_efficacy(request: HttpRequest, trial_id: int) -> HttpResponse | StreamingHttpResponse:
    trial = _trial(request, trial_id)
    patients = efficacy_data(trial=trial, user=request.user)
    if wants_csv(request):
        return csv_response(
            f"{trial.protocol_code}-recist.csv",
            RECIST_CSV_HEADER,
            (
                [
                    p.label,
                    p.start,
                    p.end,
                    p.ongoing,
                    p.status,
                    p.bor,
                    p.best_change_pct,
                    "; ".join(f"d{day}: {response}" for day, response in p.responses),
                    p.pfs.days if p.pfs else None,
                    (p.pfs.event if p.pfs else None),
                ]
                for p in patients
            ),
        )
    return _efficacy_page(request, trial, patients)


def _settings_form(trial: Any, post: Any = None) -> SettingsForm:
    current = settings_for(trial)
    initial = (
        {
            "criteria": current.criteria,
            "confirmation_required": current.confirmation_required,
            "version": current.version,
        }
        if current.pk
        else {"version": 0}
    )
    return SettingsForm(post, initial=initial, stored=current.pk is not None)


def _efficacy_page(
    request: HttpRequest,
    trial: Any,
    patients: Any = None,
    *,
    settings_form: SettingsForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The efficacy page; ``settings_form`` is a refused settings form to show again."""
    if patients is None:
        patients = efficacy_data(trial=trial, user=request.user)
    summary = pfs_summary(patients)
    may_configure = may(request.user, Action.EDIT_PORTFOLIO, on=trial)
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
            # the spider and Kaplan-Meier plots as tables (the others are the patients table)
            "spider_rows": [
                {"label": p.label, "bor": p.bor, "day": day, "week": day / 7, "change": change}
                for p in patients
                if len(p.trajectory) > 1
                for day, change in p.trajectory
            ],
            "km_rows": _km_rows(summary),
            "settings": settings_for(trial),
            "may_configure": may_configure,
            "settings_form": (settings_form or _settings_form(trial)) if may_configure else None,
        },
        status=status,
    )


@login_required
@require_POST
def settings_update(request: HttpRequest, trial_id: int) -> HttpResponse:
    """Save the trial's response criteria, or show the efficacy page again with the form as
    typed and every error beside its field (nothing was saved)."""
    trial = _trial(request, trial_id)
    if not may(request.user, Action.EDIT_PORTFOLIO, on=trial):
        return HttpResponse(
            _("You may not change the response criteria of this trial."), status=403
        )
    form = _settings_form(trial, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            tumour_settings_save(
                trial=trial,
                criteria=data["criteria"],
                confirmation_required=data["confirmation_required"],
                version=data["version"],
                reason=data.get("reason", ""),
                by=acting_user(request.user),
            )
        except OncotrialsError as exc:
            if exc.status == 403:
                return HttpResponse(exc.message, status=403)
            form.add_error(form.field_of(str(exc.extra.get("field", ""))), exc.message)
        else:
            messages.success(request, _("Response criteria saved; every patient was re-evaluated."))
            return redirect("tumours-efficacy", trial_id=trial.pk)
    return _efficacy_page(request, trial, settings_form=form, status=422)


@login_required
@require_GET
def efficacy_plot(request: HttpRequest, trial_id: int, plot: str) -> HttpResponse:
    if plot not in ("waterfall", "spider", "swimmer", "pfs"):
        raise Http404("No such plot.")
    trial = _trial(request, trial_id)
    return svg_response(
        trial=trial, user=request.user, plot=plot, download=request.GET.get("download") == "1"
    )
