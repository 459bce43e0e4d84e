"""Dose-escalation endpoints: state and recommendation, signed decisions, DLT outcomes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Router, Status

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.schemas import ERRORS
from oncotrials.apps.subjects.selectors import registrations_visible_to
from oncotrials.apps.trials.models import DoseLevel
from oncotrials.core.errors import NotFoundError

from .schemas import (
    DltOutcomeIn,
    DltOutcomeOut,
    EscalationDecisionIn,
    EscalationDecisionOut,
    EscalationStateOut,
)
from .selectors import plan_get_for_user
from .services import dlt_record, escalation_decide, escalation_recommend

router = Router(tags=["dose escalation"])


@router.get("/cohorts/{cohort_id}/escalation", response={200: EscalationStateOut, **ERRORS})
def escalation_state_get(request: HttpRequest, cohort_id: int) -> Any:
    plan = plan_get_for_user(user=request.user, cohort_id=cohort_id)
    state, rec = escalation_recommend(plan=plan)
    return {
        "cohort_id": cohort_id,
        "design": plan.design,
        "current_dose_level_id": plan.current_dose_level_id,
        "doses": [s.as_dict() for s in state],
        "recommendation": {
            "action": rec.action.value,
            "reason": rec.reason,
            "rule": rec.rule,
            "next_dose_level_id": state[rec.next_dose].dose_level.pk
            if rec.next_dose is not None
            else None,
            "eliminated_levels": [state[i].dose_level.level for i in rec.eliminated],
        },
    }


@router.post(
    "/cohorts/{cohort_id}/escalation/decisions", response={201: EscalationDecisionOut, **ERRORS}
)
def escalation_decision_create(
    request: HttpRequest, cohort_id: int, payload: EscalationDecisionIn
) -> Any:
    plan = plan_get_for_user(user=request.user, cohort_id=cohort_id)
    level = None
    if payload.next_dose_level_id is not None:
        level = DoseLevel.objects.filter(pk=payload.next_dose_level_id, cohort_id=cohort_id).first()
        if level is None:
            raise NotFoundError(
                gettext("No dose level %(next_dose_level_id)s in this cohort.")
                % {"next_dose_level_id": payload.next_dose_level_id}
            )
    decision = escalation_decide(
        plan=plan,
        action=payload.action,
        next_dose_level=level,
        by=acting_user(request.user),
        meaning=payload.meaning,
        password=payload.password,
        deviation_reason=payload.deviation_reason,
    )
    return Status(201, decision)


@router.put("/registrations/{registration_id}/dlt", response={200: DltOutcomeOut, **ERRORS})
def dlt_outcome_set(request: HttpRequest, registration_id: int, payload: DltOutcomeIn) -> Any:
    """Refused (409, pointing at the DLT review): DLT outcomes follow the DLT review's signed
    adjudication of DLT cases, the one record of DLTs (see ``services.dlt_record``)."""
    registration = registrations_visible_to(request.user).filter(pk=registration_id).first()
    if registration is None:
        raise NotFoundError(
            gettext("No registration %(registration_id)s that you may see.")
            % {"registration_id": registration_id}
        )
    return dlt_record(
        registration=registration,
        outcome=payload.outcome,
        on=payload.assessed_on,
        by=acting_user(request.user),
        reason=payload.reason,
    )
