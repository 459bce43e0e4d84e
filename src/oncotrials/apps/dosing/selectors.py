from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext

from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.trials.selectors import trials_visible_to
from oncotrials.core.errors import NotFoundError

from .models import EscalationDecision, EscalationPlan


def plan_get_for_user(*, user: Actor, cohort_id: int) -> EscalationPlan:
    plan = (
        EscalationPlan.objects.filter(
            cohort_id=cohort_id, cohort__trial__in=trials_visible_to(user)
        )
        .select_related("cohort__trial", "current_dose_level")
        .first()
    )
    if plan is None:
        raise NotFoundError(
            gettext("No escalation plan for cohort %(cohort_id)s that you may see.")
            % {"cohort_id": cohort_id}
        )
    return plan


def plans_for_trial(*, trial: Any) -> QuerySet[EscalationPlan]:
    return EscalationPlan.objects.filter(cohort__trial=trial).select_related(
        "cohort", "current_dose_level"
    )


def decisions_of(*, plan: EscalationPlan) -> QuerySet[EscalationDecision]:
    return plan.decisions.select_related(
        "at_dose_level", "recommended_dose_level", "next_dose_level", "signed_by"
    )
