from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from oncotrials.apps.audit.selectors import audit_events_for_object
from oncotrials.core.errors import NotFoundError

from .models import Modality, Phase, TrialStatus
from .selectors import PortfolioFilters, trial_get_for_user, trials_for_user


@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    g = request.GET
    filters = PortfolioFilters(
        phase=g.get("phase", "") if g.get("phase", "") in Phase.values else "",
        status=g.get("status", "") if g.get("status", "") in TrialStatus.values else "",
        modality=g.get("modality", "") if g.get("modality", "") in Modality.values else "",
        tumour_type=g.get("tumour_type", "")[:20],
        target=g.get("target", "")[:50],
        q=g.get("q", "")[:100],
    )
    trials = trials_for_user(user=request.user, filters=filters)
    context = {
        "trials": trials,
        "filters": filters,
        "phases": Phase.choices,
        "statuses": TrialStatus.choices,
        "modalities": Modality.choices,
    }
    template = (
        "trials/_partials/trial_table.html"
        if getattr(request, "htmx", False)
        else "trials/portfolio.html"
    )
    return render(request, template, context)


@login_required
def trial_detail(request: HttpRequest, trial_id: int) -> HttpResponse:
    try:
        trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None
    events = audit_events_for_object(
        object_type="trials.trial", object_id=str(trial.pk), user=request.user
    )
    return render(request, "trials/trial_detail.html", {"trial": trial, "events": events[:50]})
