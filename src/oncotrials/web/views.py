"""Pages of the site itself, which draw on several apps (the apps never import each other
upwards for them)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from oncotrials.apps.accounts.access import Action, allows, scope_for
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.crfs.selectors import (
    forms_awaiting_sdv,
    missing_forms_for_user,
    queries_for_user,
)
from oncotrials.apps.dosing.models import DltOutcome, EscalationPlan
from oncotrials.apps.dosing.outcomes import dlt_statuses
from oncotrials.apps.dosing.services import last_decision, next_patient_doses_for
from oncotrials.apps.safety.selectors import sae_worklist
from oncotrials.apps.subjects.models import RegistrationStatus
from oncotrials.apps.subjects.selectors import (
    VisitFilters,
    inclusion_figures,
    registrations_visible_to,
    visits_due,
)
from oncotrials.apps.trials.models import TrialStatus
from oncotrials.apps.trials.selectors import portfolio_summary, trials_visible_to
from oncotrials.core.designs.base import Action as DesignAction

# Each list on the home page shows this many rows, with a link to the full list.
HOME_LIST_SIZE = 10
# The DLT window is looked for among the most recent registrations treated at a dose level.
DLT_SCAN = 200


def _patients_in_dlt_window(user: Actor) -> list[dict[str, Any]]:
    regs = list(
        registrations_visible_to(user)
        .filter(dose_level__isnull=False)
        .exclude(status=RegistrationStatus.OFF_STUDY)
        .select_related("patient", "trial", "cohort", "dose_level")
        .order_by("-registered_on", "-pk")[:DLT_SCAN]
    )
    statuses = dlt_statuses(regs)
    rows = []
    for r in regs:
        status = statuses.get(r.pk)
        if status is None or status.outcome != DltOutcome.PENDING:
            continue
        day, days = status.day, status.window_days
        if day is not None and days and day <= days:
            rows.append({"registration": r, "status": status})
    return rows


def _escalations_awaiting_decision(user: Actor) -> list[dict[str, Any]]:
    """Escalation cohorts of open trials whose accrual waits for the committee (the gate
    lets nobody in and the escalation was not stopped); read for all the cohorts at once."""
    plans = list(
        EscalationPlan.objects.filter(
            cohort__trial__in=trials_visible_to(user),
            cohort__trial__status=TrialStatus.OPEN,
        )
        .select_related("cohort__trial")
        .order_by("cohort__trial__protocol_code", "cohort__code")[:50]
    )
    gates = next_patient_doses_for(plans)
    rows = []
    for plan in plans:
        gate = gates[plan.pk]
        last = last_decision(plan)
        stopped = last is not None and last.decided_action == DesignAction.STOP
        if gate is not None and not gate.allowed and not stopped:
            rows.append({"cohort": plan.cohort, "reason": gate.reason})
    return rows


def _role_sections(user: Actor) -> dict[str, Any]:
    """What the user's roles call for, each list capped at ``HOME_LIST_SIZE``: an investigator's
    patients in their DLT window, escalations awaiting the committee and SAE clocks; a nurse's
    visits of the day; a data manager's open queries and missing forms; a monitor's SDV to do."""
    scope = scope_for(user)
    roles = scope.roles()

    def shows(action: Action) -> bool:
        return scope.is_admin or allows(roles, action)

    today = timezone.localdate()
    sections: dict[str, Any] = {}
    if shows(Action.DECIDE_DOSE):
        dlt = _patients_in_dlt_window(user)
        awaiting = _escalations_awaiting_decision(user)
        saes = sae_worklist(user=user)
        sections["dose_escalation"] = {
            "dlt_window": dlt[:HOME_LIST_SIZE],
            "dlt_window_total": len(dlt),
            "escalations": awaiting[:HOME_LIST_SIZE],
            "escalations_total": len(awaiting),
            "saes": saes[:HOME_LIST_SIZE],
            "saes_total": len(saes),
        }
    if shows(Action.READ_IDENTITY):  # the staff who meet the patients
        visits = visits_due(
            user=user, today=today, filters=VisitFilters(target_from=today, target_to=today)
        )
        sections["nurse"] = {"visits": visits[:HOME_LIST_SIZE], "visits_total": len(visits)}
    if shows(Action.CLOSE_QUERY):
        queries = queries_for_user(user=user, status="open")
        sections["data_review"] = {
            "queries": list(queries[:HOME_LIST_SIZE]),
            "queries_total": queries.count(),
            "missing_forms": missing_forms_for_user(user=user, limit=HOME_LIST_SIZE, today=today),
        }
    if shows(Action.VERIFY_SOURCE):
        sdv = forms_awaiting_sdv(user=user)
        sections["monitor"] = {"sdv": list(sdv[:HOME_LIST_SIZE]), "sdv_total": sdv.count()}
    return sections


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard: the lists the user's roles call for, the trials the user can see and the
    patients included in them."""
    return render(
        request,
        "home.html",
        {
            "summary": portfolio_summary(user=request.user),
            "inclusions": inclusion_figures(user=request.user),
            "sections": _role_sections(request.user),
            "list_size": HOME_LIST_SIZE,
        },
    )
