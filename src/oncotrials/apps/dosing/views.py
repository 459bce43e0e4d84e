from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from oncotrials.apps.accounts import access
from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.trials.models import Cohort, CohortKind, DoseLevel
from oncotrials.apps.trials.selectors import cohort_get_for_user
from oncotrials.core.designs.base import EscalationSettings, with_dose_labels
from oncotrials.core.designs.interval import IntervalDesign
from oncotrials.core.designs.registry import design_for_escalation
from oncotrials.core.designs.tite_boin import TITEBOIN
from oncotrials.core.errors import NotFoundError, OncotrialsError, PermissionDeniedError

from .design_messages import design_errors_translated
from .forms import DecisionForm, PlanForm
from .models import EscalationPlan
from .outcomes import dlt_statuses
from .plots import cohort_registrations, escalation_history_svg, escalation_sequence
from .selectors import decisions_of, plan_get_for_user
from .services import (
    ACTION_LABELS,
    committee_eliminated_level,
    escalation_decide,
    escalation_recommend,
    escalation_state,
    mtd_selection_reason,
    plan_create,
    plan_update,
)

#: Every action a design can recommend is one the committee can decide, so that following the
#: design (eliminate, suspend) is never recorded as a deviation.
DECISIONS = ("escalate", "stay", "de-escalate", "eliminate", "suspend", "stop")


def _plan(request: HttpRequest, cohort_id: int):  # type: ignore[no-untyped-def]
    try:
        return plan_get_for_user(user=request.user, cohort_id=cohort_id)
    except NotFoundError:
        raise Http404("No such escalation plan.") from None


@login_required
def escalation_detail(request: HttpRequest, cohort_id: int) -> HttpResponse:
    try:
        plan = plan_get_for_user(user=request.user, cohort_id=cohort_id)
    except NotFoundError:
        # An escalation cohort without a plan yet: those who set it up are sent to do so.
        cohort = _cohort(request, cohort_id)
        if cohort.kind == CohortKind.ESCALATION and access.may(
            request.user, access.Action.EDIT_PORTFOLIO, on=cohort.trial
        ):
            return redirect("escalation-plan", cohort_id=cohort_id)
        raise Http404("No such escalation plan.") from None
    return _escalation_page(request, plan)


def _decision_form(levels: list[DoseLevel], *args: Any, **kwargs: Any) -> DecisionForm:
    return DecisionForm(
        *args, actions=[(a, ACTION_LABELS[a]) for a in DECISIONS], levels=levels, **kwargs
    )


def _escalation_page(
    request: HttpRequest, plan: EscalationPlan, form: DecisionForm | None = None
) -> HttpResponse:
    """The escalation page; a refused decision comes back bound (its errors beside its fields,
    the choices kept, never the password) with status 422."""
    # The cohort's dose levels, registrations, DLT states and decisions are read once for the
    # state, the recommendation, the sequence and the committee's eliminations.
    prefetch_related_objects([plan.cohort], "dose_levels")
    registrations = cohort_registrations(plan)
    statuses = dlt_statuses(registrations)
    state, rec = escalation_recommend(
        plan=plan,
        state=escalation_state(plan=plan, registrations=registrations, statuses=statuses),
    )
    recommended = state[rec.next_dose].dose_level if rec.next_dose is not None else None
    target = plan.cohort.trial.access_target()
    may_decide = access.may(request.user, access.Action.DECIDE_DOSE, on=target)
    levels = [s.dose_level for s in state]
    if form is None and may_decide:
        form = _decision_form(
            levels,
            initial={
                "action": rec.action.value,
                "next_dose_level": recommended.pk if recommended else None,
            },
        )
    # The design counts doses from 1; the page names them by their labels (DL-1, DL0, DL1...).
    labels = [f"DL{dl.level}" for dl in levels]
    history = list(decisions_of(plan=plan))
    decisions = [
        {
            "d": d,
            "recommended": ACTION_LABELS.get(d.recommended_action, d.recommended_action),
            "decided": ACTION_LABELS.get(d.decided_action, d.decided_action),
        }
        for d in history
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
            "mtd_reason": mtd_selection_reason(plan=plan, state=state, decision=rec),
            "recommended": recommended,
            "decisions": decisions,
            "sequence": escalation_sequence(
                plan=plan, registrations=registrations, statuses=statuses
            ),
            "may_decide": may_decide,
            "form": form,
            "committee_eliminated": committee_eliminated_level(plan, history),
            "may_edit_plan": access.may(request.user, access.Action.EDIT_PORTFOLIO, on=target),
        },
        status=422 if form is not None and form.is_bound else 200,
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
    """Record the committee's signed decision and go back to the page (PRG); a refused one
    (wrong password, a deviation without reason, a level that cannot be chosen) is shown again
    on the page, beside the field concerned, with nothing recorded."""
    plan = _plan(request, cohort_id)
    try:
        access.require(request.user, access.Action.DECIDE_DOSE, on=plan.cohort.trial)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None
    levels = list(_first_per_level(plan.cohort.dose_levels.order_by("level", "pk")).values())
    form = _decision_form(levels, request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            escalation_decide(
                plan=plan,
                action=data["action"],
                next_dose_level=data["next_dose_level"],
                by=acting_user(request.user),
                meaning=data["meaning"],
                password=data["password"],
                deviation_reason=data["deviation_reason"],
            )
        except PermissionDeniedError as exc:
            # A wrong password (or signing locked after wrong ones) belongs to the password
            # field; any other refusal of the right to decide is a 403.
            if exc.extra.get("field") != "password":
                raise PermissionDenied(exc.message) from None
            form.apply_error(exc)
        except OncotrialsError as exc:
            form.apply_error(exc)
        else:
            messages.success(request, _("Decision recorded and signed."))
            return redirect("escalation-detail", cohort_id=cohort_id)
    return _escalation_page(request, plan, form)


def _cohort(request: HttpRequest, cohort_id: int) -> Cohort:
    try:
        return cohort_get_for_user(user=request.user, cohort_id=cohort_id)
    except NotFoundError:
        raise Http404("No such cohort.") from None


def decision_table(design: str, settings: EscalationSettings) -> dict[str, Any] | None:
    """The boundaries of a design with a decision table (interval designs; TITE-BOIN compares
    its rate with BOIN's), as ``oncotrials design boundaries`` prints them; None for others."""
    d: Any = design_for_escalation(design, settings)
    if isinstance(d, TITEBOIN):
        d = d._boin()
    if not isinstance(d, IntervalDesign):
        return None
    table = d.decision_table()
    rows = table.boundaries(settings.cohort_size)
    lines = [
        (_("Escalate if the number of DLTs is at most"), "escalate_if_dlts_at_most"),
        (_("De-escalate if the number of DLTs is at least"), "deescalate_if_dlts_at_least"),
        (_("Eliminate if the number of DLTs is at least"), "eliminate_if_dlts_at_least"),
    ]
    if table.stop_lowest is not None:
        lines.append(
            (
                _("Stop (lowest dose) if the number of DLTs is at least"),
                "stop_if_lowest_dose_dlts_at_least",
            )
        )
    return {
        "design": table.design,
        "target": table.target,
        "n": [r["n"] for r in rows],
        "rows": [(label, [r[key] for r in rows]) for label, key in lines],
    }


def _settings_of(cohort: Cohort, form: PlanForm) -> EscalationSettings:
    levels = _first_per_level(cohort.dose_levels.order_by("level", "pk"))
    s = form.settings()
    return EscalationSettings(
        n_doses=len(levels),
        target=s["target"],
        cohort_size=s["cohort_size"],
        max_sample_size=s["max_sample_size"],
        dose_amounts=tuple(float(dl.dose) for dl in levels.values()),
        params=s["parameters"],
    )


def _plan_initial(plan: EscalationPlan) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "design": plan.design,
        "target": plan.target.normalize() if plan.target is not None else None,
        "cohort_size": plan.cohort_size,
        "max_sample_size": plan.max_sample_size,
        "start_level": plan.current_dose_level_id,
        "expected_version": plan.version,
    }
    for key, value in (plan.parameters or {}).items():
        initial[f"param_{key}"] = (
            ("true" if value else "false") if isinstance(value, bool) else value
        )
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def escalation_plan(request: HttpRequest, cohort_id: int) -> HttpResponse:
    """Create or change a cohort's escalation plan, with a preview of its decision table.

    The plan transcribes the protocol's design: it is set up by those who edit the portfolio
    (EDIT_PORTFOLIO); the dose decisions taken under it belong to DECIDE_DOSE.
    """
    cohort = _cohort(request, cohort_id)
    try:
        access.require(request.user, access.Action.EDIT_PORTFOLIO, on=cohort.trial)
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from None
    if cohort.kind != CohortKind.ESCALATION:
        raise Http404("Only a dose-escalation cohort runs an escalation plan.")
    plan = EscalationPlan.objects.filter(cohort=cohort).select_related("current_dose_level").first()
    levels = list(cohort.dose_levels.order_by("level", "pk"))
    start_fixed = plan is not None and plan.decisions.exists()
    form = PlanForm(
        request.POST or None,
        levels=levels,
        editing=plan is not None,
        start_fixed=start_fixed,
        initial=_plan_initial(plan) if plan else {"start_level": levels[0].pk if levels else None},
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            with design_errors_translated():
                preview = decision_table(form.cleaned_data["design"], _settings_of(cohort, form))
            if "preview" not in request.POST:
                data = form.cleaned_data
                if plan is None:
                    plan_create(
                        cohort=cohort,
                        start_level=data["start_level"],
                        by=acting_user(request.user),
                        **form.settings(),
                    )
                else:
                    plan_update(
                        plan=plan,
                        start_level=None if start_fixed else data["start_level"],
                        reason=data["reason"],
                        expected_version=data["expected_version"],
                        by=acting_user(request.user),
                        **form.settings(),
                    )
                messages.success(request, _("Escalation plan saved."))
                return redirect("escalation-detail", cohort_id=cohort.pk)
        except OncotrialsError as exc:
            form.apply_error(exc)
            preview = None
    elif plan is not None and request.method == "GET":
        try:
            preview = decision_table(plan.design, _plan_settings(plan))
        except OncotrialsError:
            preview = None
    return render(
        request,
        "dosing/plan.html",
        {"cohort": cohort, "plan": plan, "form": form, "preview": preview, "levels": levels},
        status=422 if form.is_bound and form.errors else 200,
    )


def _plan_settings(plan: EscalationPlan) -> EscalationSettings:
    levels = _first_per_level(plan.cohort.dose_levels.order_by("level", "pk"))
    return EscalationSettings(
        n_doses=len(levels),
        target=float(plan.target) if plan.target is not None else None,
        cohort_size=plan.cohort_size,
        max_sample_size=plan.max_sample_size,
        dose_amounts=tuple(float(dl.dose) for dl in levels.values()),
        params=plan.parameters or {},
    )


def _first_per_level(levels: Any) -> dict[int, DoseLevel]:
    """One dose level per level number (the first agent drives escalation, as in services)."""
    out: dict[int, DoseLevel] = {}
    for dl in levels:
        out.setdefault(dl.level, dl)
    return out
