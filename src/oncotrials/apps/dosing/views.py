from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from oncotrials.apps.accounts import access
from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.trials.models import DoseLevel
from oncotrials.core.designs.base import with_dose_labels
from oncotrials.core.errors import NotFoundError, OncotrialsError

from .plots import escalation_history_svg
from .selectors import decisions_of, plan_get_for_user
from .services import escalation_decide, escalation_recommend

ACTION_LABELS = {
    "escalate": gettext_lazy("escalate"),
    "stay": gettext_lazy("stay"),
    "de-escalate": gettext_lazy("de-escalate"),
    "eliminate": gettext_lazy("eliminate"),
    "stop": gettext_lazy("stop"),
    "suspend": gettext_lazy("suspend"),
}
DECISIONS = ("escalate", "stay", "de-escalate", "stop")


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
    # The design counts doses from 1; the page names them by their labels (DL-1, DL0, DL1...).
    labels = [f"DL{s.dose_level.level}" for s in state]
    decisions = [
        {
            "d": d,
            "recommended": ACTION_LABELS.get(d.recommended_action, d.recommended_action),
            "decided": ACTION_LABELS.get(d.decided_action, d.decided_action),
        }
        for d in decisions_of(plan=plan)
    ]
    return render(
        request,
        "dosing/escalation.html",
        {
            "plan": plan,
            "state": state,
            "rec": rec,
            "action_label": ACTION_LABELS.get(rec.action.value, rec.action.value),
            "reason": with_dose_labels(rec.reason, labels),
            "rule": with_dose_labels(rec.rule, labels),
            "recommended": recommended,
            "decisions": decisions,
            "may_decide": may_decide,
            "levels": [s.dose_level for s in state],
            "actions": [(a, ACTION_LABELS[a]) for a in DECISIONS],
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
        messages.success(request, _("Decision recorded and signed."))
    return redirect("escalation-detail", cohort_id=cohort_id)
