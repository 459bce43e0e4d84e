from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from oncotrials.apps.accounts import access
from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.trials.models import DoseLevel
from oncotrials.core.errors import NotFoundError, OncotrialsError

from .plots import escalation_history_svg
from .selectors import decisions_of, plan_get_for_user
from .services import escalation_decide, escalation_recommend


def _plan(request: HttpRequest, cohort_id: int):  # type: ignore[no-untyped-def]
    try:
        return plan_get_for_user(user=request.user, cohort_id=cohort_id)
    except NotFoundError:
        raise Http404("No such escalation plan.") from None


@login_required
def escalation_detail(request: HttpRequest, cohort_id: int) -> HttpResponse:
    plan = _plan(request, cohort_id)
    state, rec = escalation_recommend(plan=plan)
    recommended = state[rec.next_dose].dose_level if rec.next_dose is not None else None
    may_decide = access.may(request.user, access.Action.DECIDE_DOSE, on=plan.cohort.trial)
    return render(
        request,
        "dosing/escalation.html",
        {
            "plan": plan,
            "state": state,
            "rec": rec,
            "recommended": recommended,
            "decisions": decisions_of(plan=plan),
            "may_decide": may_decide,
            "levels": [s.dose_level for s in state],
            "actions": ["escalate", "stay", "de-escalate", "stop"],
        },
    )


@login_required
def escalation_plot(request: HttpRequest, cohort_id: int) -> HttpResponse:
    plan = _plan(request, cohort_id)
    response = HttpResponse(escalation_history_svg(plan=plan), content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="escalation-{plan.cohort.trial.protocol_code}-{plan.cohort.code}.svg"'
        )
    return response


@login_required
@require_POST
def escalation_decision(request: HttpRequest, cohort_id: int) -> HttpResponse:
    plan = _plan(request, cohort_id)
    level_id = request.POST.get("next_dose_level") or None
    next_level = (
        DoseLevel.objects.filter(pk=level_id, cohort=plan.cohort).first() if level_id else None
    )
    try:
        escalation_decide(
            plan=plan,
            action=request.POST.get("action", ""),
            next_dose_level=next_level,
            by=acting_user(request.user),
            meaning=request.POST.get("meaning", ""),
            deviation_reason=request.POST.get("deviation_reason", ""),
        )
    except OncotrialsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Decision recorded and signed.")
    return redirect("escalation-detail", cohort_id=cohort_id)
