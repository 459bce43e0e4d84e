from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from oncotrials.apps.accounts.access import Action, acting_user, may
from oncotrials.apps.trials.selectors import trial_get_for_user, trials_visible_to
from oncotrials.core.errors import NotFoundError, OncotrialsError

from .models import SlotAllocation
from .selectors import (
    arm_visible_to,
    consents_visible_to,
    patient_get_for_user,
    patient_timeline,
    patients_for_user,
    reconsent_worklist,
    registration_calendar,
    registrations_visible_to,
    screening_log,
    screenings_visible_to,
    slot_summary,
    slot_summary_for,
    visits_due,
)
from .services import identity_read


@login_required
def patient_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "")[:40]
    patients = patients_for_user(user=request.user, q=q).prefetch_related(
        Prefetch(
            "registrations",
            queryset=registrations_visible_to(request.user).select_related("cohort__trial"),
        )
    )[:500]
    template = (
        "subjects/_partials/patient_table.html"
        if getattr(request, "htmx", False)
        else "subjects/patient_list.html"
    )
    return render(request, template, {"patients": patients, "q": q})


@login_required
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    try:
        patient = patient_get_for_user(user=request.user, patient_id=patient_id)
    except NotFoundError:
        raise Http404("No such patient.") from None
    registrations = registrations_visible_to(request.user).filter(patient=patient)
    context = {
        "patient": patient,
        "timeline": patient_timeline(patient=patient, user=request.user),
        "registrations": [
            (r, arm_visible_to(user=request.user, registration=r))
            for r in registrations.select_related(
                "cohort__trial", "dose_level", "trial__randomisation_scheme"
            )
        ],
        "calendars": [
            (r, registration_calendar(registration=r))
            for r in registrations.select_related("trial__visit_schedule").prefetch_related(
                "visits"
            )
            if hasattr(r.trial, "visit_schedule")
        ],
        "consents": consents_visible_to(request.user)
        .filter(patient=patient)
        .select_related("form__trial"),
        "screenings": screenings_visible_to(request.user)
        .filter(patient=patient)
        .select_related("trial", "cohort"),
        "may_read_identity": may(request.user, Action.READ_IDENTITY, on=patient),
    }
    from .views_journey import journey_forms

    context.update(journey_forms(request, patient))
    return render(request, "subjects/patient_detail.html", context)


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
        "screenings": screening_log(trial=trial).filter(
            pk__in=screenings_visible_to(request.user).filter(trial=trial)
        )[:200],
        "slots": slot_summary(trial=trial),
    }
    return render(request, "subjects/_partials/trial_patients.html", context)


@login_required
def worklists(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    visible_trials = trials_visible_to(request.user)
    expiring = [
        row
        for row in slot_summary_for(
            allocations=SlotAllocation.objects.filter(
                cohort__trial__in=visible_trials,
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
            "visits": visits_due(user=request.user, today=today),
            "expiring": expiring,
            "today": today,
        },
    )
