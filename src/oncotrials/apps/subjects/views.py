from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from oncotrials.apps.accounts.access import Action, Target, acting_user, may
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.accounts.selectors import sites_for_user
from oncotrials.apps.accounts.view_helpers import csv_response, list_page, wants_csv
from oncotrials.apps.trials.selectors import trial_get_for_user, trials_visible_to
from oncotrials.core.errors import NotFoundError, OncotrialsError

from .forms import WorklistFilterForm
from .models import Consent, Patient, Registration, ScreeningEpisode
from .selectors import (
    VisitFilters,
    arm_visible_to,
    calendars_for,
    consents_visible_to,
    patient_get_for_user,
    patients_for_user,
    pre_registration_visible_to,
    reconsent_worklist,
    registrations_visible_to,
    registrations_with_calendar,
    screening_log,
    screenings_visible_to,
    slot_allocations_visible_to,
    slot_summary,
    slot_summary_for,
    timeline_of,
    visits_due,
)
from .services import identity_read

PATIENT_CSV_HEADER = [
    "research_id",
    "site",
    "sex",
    "year_of_birth",
    "diagnosis",
    "referral_date",
    "referral_source",
    "trials",
]


@login_required
def patient_list(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    q = request.GET.get("q", "")[:40]
    patients = patients_for_user(user=request.user, q=q).prefetch_related(
        Prefetch(
            "registrations",
            queryset=registrations_visible_to(request.user).select_related("cohort__trial"),
        )
    )
    if wants_csv(request):
        return csv_response(
            "patients.csv",
            PATIENT_CSV_HEADER,
            (
                [
                    p.research_id,
                    p.site.code,
                    p.get_sex_display(),
                    p.year_of_birth,
                    p.diagnosis,
                    p.referral_date,
                    p.get_referral_source_display(),
                    "; ".join(
                        f"{r.cohort.trial.protocol_code} {r.get_status_display()}"
                        for r in p.registrations.all()
                    ),
                ]
                for p in patients.iterator(chunk_size=200)
            ),
        )
    page, query = list_page(request, patients)
    template = (
        "subjects/_partials/patient_table.html"
        if getattr(request, "htmx", False)
        else "subjects/patient_list.html"
    )
    return render(
        request,
        template,
        {
            "patients": page.object_list,
            "page": page,
            "page_query": query,
            "pager_testid": "patient-pages",
            "q": q,
            "query": query,
        },
    )


def _with_reasons(registration: Any, calendar: Any) -> list[tuple[Any, str]]:
    """Each expected visit with the reason it was marked not done / not applicable, if any."""
    reasons = {v.code: v.reason for v in registration.visits.all() if v.reason}
    return [(v, reasons.get(v.code, "")) for v in calendar.visits]


@login_required
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    try:
        patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    except NotFoundError:
        raise Http404("No such patient.") from None
    from .views_journey import journey_forms

    reads = patient_reads(request.user, patient)
    return patient_page(request, patient, journey_forms(request, patient, reads), reads)


@dataclass(frozen=True)
class PatientReads:
    """What the patient page and its journey forms both use, read once per request: the
    patient's registrations, consents and screening episodes the user may see (in their model
    order), and the patient's access target (its site and trials)."""

    registrations: list[Registration]
    consents: list[Consent]
    screenings: list[ScreeningEpisode]
    target: Target


def patient_reads(user: Actor, patient: Patient) -> PatientReads:
    return PatientReads(
        registrations=list(
            registrations_visible_to(user)
            .filter(patient=patient)
            .select_related("cohort__trial", "dose_level", "trial__randomisation_scheme")
            .prefetch_related("status_history")
        ),
        consents=list(
            consents_visible_to(user).filter(patient=patient).select_related("form__trial")
        ),
        screenings=list(
            screenings_visible_to(user).filter(patient=patient).select_related("trial", "cohort")
        ),
        target=patient.access_target(),
    )


def patient_page(
    request: HttpRequest,
    patient: Any,
    forms: dict[str, Any],
    reads: PatientReads,
    *,
    status: int = 200,
) -> HttpResponse:
    """The patient page with these journey forms (a refused one comes back bound, as typed)."""
    registrations = registrations_visible_to(request.user).filter(patient=patient)
    pre = pre_registration_visible_to(user=request.user, site_id=patient.site_id)
    context = {
        "patient": patient,
        "timeline": timeline_of(
            patient=patient,
            consents=reads.consents,
            screenings=reads.screenings,
            registrations=reads.registrations,
            user=request.user,
        ),
        "registrations": [
            (r, arm_visible_to(user=request.user, registration=r)) for r in reads.registrations
        ],
        "calendars": [
            (r, _with_reasons(r, cal))
            for r, cal in calendars_for(registrations_with_calendar(registrations))
        ],
        "consents": reads.consents,
        # ECOG, labs and prior lines outside a casebook: subjects' one rule for them.
        "observations": list(patient.baseline_observations.all()[:200]) if pre else None,
        "prior_lines": list(patient.prior_therapy_lines.all()) if pre else None,
        "screenings": reads.screenings,
        "may_read_identity": may(request.user, Action.READ_IDENTITY, on=reads.target),
        **forms,
    }
    return render(request, "subjects/patient_detail.html", context, status=status)


@login_required
@require_POST
def patient_identity(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Reveal identity (htmx partial) after the user states why; the read is audited."""
    try:
        patient = patient_get_for_user(user=request.user, patient_id=patient_id)
        identity = identity_read(
            patient=patient,
            user=acting_user(request.user),
            purpose=request.POST.get("purpose", "")[:200],
        )
    except NotFoundError:
        raise Http404("No such patient.") from None
    except OncotrialsError as exc:
        return render(
            request, "subjects/_partials/identity.html", {"error": exc.message}, status=exc.status
        )
    return render(request, "subjects/_partials/identity.html", {"identity": identity})


@login_required
def trial_patients(request: HttpRequest, trial_id: int) -> HttpResponse:
    """The trial page's patient section: registrations, screening log and slots."""
    try:
        trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None
    context = {
        "trial": trial,
        "registrations": [
            (r, arm_visible_to(user=request.user, registration=r))
            for r in registrations_visible_to(request.user)
            .filter(trial=trial)
            .select_related("patient", "cohort", "dose_level", "trial__randomisation_scheme")
            .order_by("-registered_on")
        ],
        "screenings": _screening_log(request, trial)[:200],
        "slots": slot_summary(trial=trial, user=request.user),
    }
    return render(request, "subjects/_partials/trial_patients.html", context)


def _screening_log(request: HttpRequest, trial: Any) -> Any:
    """The trial's screening episodes the user may see, newest first."""
    return screening_log(trial=trial).filter(
        pk__in=screenings_visible_to(request.user).filter(trial=trial)
    )


SCREENING_CSV_HEADER = ["patient", "site", "kind", "started_on", "outcome", "reason"]


@login_required
def trial_screening_log(
    request: HttpRequest, trial_id: int
) -> HttpResponse | StreamingHttpResponse:
    """The trial's whole screening log, printable, or as CSV with ``?format=csv``."""
    try:
        trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None
    screenings = _screening_log(request, trial).select_related("patient__site")
    if wants_csv(request):
        return csv_response(
            f"{trial.protocol_code}-screening-log.csv",
            SCREENING_CSV_HEADER,
            (
                [
                    s.patient.research_id,
                    s.patient.site.code,
                    s.get_kind_display(),
                    s.started_on,
                    s.get_outcome_display(),
                    s.get_failure_reason_display(),
                ]
                for s in screenings.iterator(chunk_size=200)
            ),
        )
    return render(
        request,
        "subjects/screening_log.html",
        {"trial": trial, "screenings": screenings, "today": timezone.localdate()},
    )


CSV_HEADER = [
    "patient",
    "site",
    "trial",
    "visit",
    "target",
    "window_opens",
    "window_closes",
    "status",
]


def _visible_sites(user: Actor) -> list[tuple[int, str]]:
    return [(s.pk, s.code) for s in sites_for_user(user=user).order_by("code")]


def _visit_filters(request: HttpRequest) -> tuple[WorklistFilterForm, VisitFilters]:
    choices = {
        "trials": list(
            trials_visible_to(request.user)
            .order_by("protocol_code")
            .values_list("pk", "protocol_code")
        ),
        "sites": _visible_sites(request.user),
    }
    form = WorklistFilterForm(request.GET, **choices)
    if not form.is_valid():  # a stale or hand-made link: drop the bad filters, keep the rest
        kept = {k: v for k, v in request.GET.items() if k not in form.errors}
        form = WorklistFilterForm(kept, **choices)
        form.is_valid()
    data = form.cleaned_data
    return form, VisitFilters(
        trial_id=data.get("trial"),
        site_id=data.get("site"),
        target_from=data.get("target_from"),
        target_to=data.get("target_to"),
        descending=data.get("sort") == "-target",
    )


def _visits_csv(rows: list[dict[str, Any]], today: dt.date) -> StreamingHttpResponse:
    return csv_response(
        f"visits-due-{today.isoformat()}.csv",
        CSV_HEADER,
        (
            [
                r["registration"].patient.research_id,
                r["registration"].patient.site.code,
                r["registration"].trial.protocol_code,
                r["visit"].code,
                r["visit"].target,
                r["visit"].earliest,
                r["visit"].latest,
                r["visit"].status.value,
            ]
            for r in rows
        ),
    )


@login_required
def worklists(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The nurses' work list: visits due and overdue (filtered, sorted on target date, 50 a page,
    or all of them as CSV with ``?format=csv``), re-consents due and slots about to expire."""
    today = timezone.localdate()
    form, filters = _visit_filters(request)
    visits = visits_due(user=request.user, today=today, filters=filters)
    if wants_csv(request):
        return _visits_csv(visits, today)
    page, query = list_page(request, visits)
    expiring = [
        row
        for row in slot_summary_for(
            allocations=slot_allocations_visible_to(request.user).filter(
                open_until__gte=today,
                open_until__lte=today + dt.timedelta(days=14),
            )
        )
        if row["free"] > 0
    ]
    return render(
        request,
        "subjects/worklists.html",
        {
            "reconsents": reconsent_worklist(user=request.user, today=today),
            "visits": page.object_list,
            "page": page,
            "filter_form": form,
            "query": query,
            "overdue": sum(1 for r in visits if r["visit"].status.value == "overdue"),
            "expiring": expiring,
            "today": today,
        },
    )
