"""Escalation state from registrations and DLT outcomes; recommendations; signed decisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from oncotrials.apps.accounts import access
from oncotrials.apps.accounts.models import User
from oncotrials.apps.accounts.prepared import PreparedRead
from oncotrials.apps.accounts.services import signing_reauthenticate
from oncotrials.apps.audit.services import audit_record, diff, model_snapshot
from oncotrials.apps.subjects.inclusion_rules import DoseGate
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.trials.models import Cohort, CohortKind, DoseLevel
from oncotrials.core.designs.base import (
    Action,
    Decision,
    DoseData,
    EscalationSettings,
    follow_up_fraction,
    with_dose_labels,
)
from oncotrials.core.designs.registry import (
    LiveDesign,
    design_for_escalation,
    design_names,
    live_designs,
    uses_follow_up,
)
from oncotrials.core.errors import ConflictError, ValidationError

from .design_messages import (
    decision_reason,
    decision_rule,
    design_errors_translated,
    design_message,
    selection_reason,
)
from .models import DltOutcome, EscalationDecision, EscalationPlan
from .outcomes import DltStatus, dlt_statuses

#: The design's actions in the user's language (the committee decides among the same).
ACTION_LABELS = {
    "escalate": gettext_lazy("escalate"),
    "stay": gettext_lazy("stay"),
    "de-escalate": gettext_lazy("de-escalate"),
    "eliminate": gettext_lazy("eliminate"),
    "stop": gettext_lazy("stop"),
    "suspend": gettext_lazy("suspend"),
}


def _settings(
    *,
    cohort: Cohort,
    target: Any,
    cohort_size: int,
    max_sample_size: int,
    parameters: Mapping[str, Any],
) -> EscalationSettings:
    levels = _levels(cohort)
    return EscalationSettings(
        n_doses=len(levels),
        target=float(target) if target is not None else None,
        cohort_size=cohort_size,
        max_sample_size=max_sample_size,
        dose_amounts=tuple(float(dl.dose) for dl in levels),
        params=parameters,
    )


def design_for(plan: EscalationPlan) -> LiveDesign:
    """The design the plan runs, from the design registry, with the plan's settings."""
    return design_for_escalation(
        plan.design,
        _settings(
            cohort=plan.cohort,
            target=plan.target,
            cohort_size=plan.cohort_size,
            max_sample_size=plan.max_sample_size,
            parameters=plan.parameters or {},
        ),
    )


def _levels(cohort: Cohort) -> list[DoseLevel]:
    # Sorted here, not by the database: dose levels prefetched with the cohort are read once.
    levels = sorted(cohort.dose_levels.all(), key=lambda dl: (dl.level, dl.pk))
    seen: set[int] = set()
    out = []
    for dl in levels:  # one agent per level drives escalation; the first agent of each level
        if dl.level not in seen:
            seen.add(dl.level)
            out.append(dl)
    return out


def _levels_read(plan: EscalationPlan) -> None:
    """Read the dose levels of the plan's cohort once, with the plan (unless the caller has):
    the state, the plan's current level and the design's settings each go through them."""
    prefetch_related_objects([plan], "cohort__dose_levels")


# The gate's reads, run before every registration to an escalation cohort: compiled once per
# database connection (``accounts.prepared``).
_PLAN_OF_COHORT = PreparedRead(
    lambda cohort: (
        EscalationPlan.objects.filter(cohort_id=cohort)
        .select_related("cohort__trial", "current_dose_level")  # the gate's reason names both
        .order_by("pk")[:1]
    ),
    "cohort",
)
# What the DLT states are derived from (the registration's own columns): no related rows.
_DOSED_REGISTRATIONS = PreparedRead(
    lambda cohort: Registration.objects.filter(cohort_id=cohort, dose_level__isnull=False),
    "cohort",
)


@dataclass(frozen=True)
class DoseState:
    dose_level: DoseLevel
    treated: int
    evaluable: int
    dlts: int
    pending: int
    #: for each pending patient, the day the DLT window opened (treatment start or registration)
    pending_since: tuple[dt.date, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "level": self.dose_level.level,
            "dose_level_id": self.dose_level.pk,
            "treated": self.treated,
            "evaluable": self.evaluable,
            "dlts": self.dlts,
            "pending": self.pending,
        }


def escalation_state(
    *,
    plan: EscalationPlan,
    registrations: Sequence[Registration] | None = None,
    statuses: Mapping[int, DltStatus] | None = None,
) -> list[DoseState]:
    """Per dose level: treated, DLT-evaluable, DLTs and pending, from the registrations and each
    patient's DLT state as the DLT review decides it (``outcomes.dlt_statuses``).

    ``registrations`` (the cohort's registrations at a dose level) and ``statuses`` (their DLT
    states): when the caller read them for many cohorts at once, else read here."""
    _levels_read(plan)
    levels = _levels(plan.cohort)
    by_level: dict[int, list[str]] = {dl.pk: [] for dl in levels}
    since: dict[int, list[dt.date]] = {dl.pk: [] for dl in levels}
    level_of = {dl.pk: dl for dl in plan.cohort.dose_levels.all()}
    canonical = {dl.level: dl.pk for dl in levels}
    if registrations is None:
        registrations = _DOSED_REGISTRATIONS.objects(cohort=plan.cohort_id)
    if statuses is None:
        statuses = dlt_statuses(registrations)
    for reg in registrations:
        assert reg.dose_level_id is not None
        key = canonical[level_of[reg.dose_level_id].level]
        status = statuses[reg.pk]
        by_level[key].append(status.outcome)
        if status.outcome == DltOutcome.PENDING:
            since[key].append(status.window_opened)
    out = []
    for dl in levels:
        outcomes = by_level[dl.pk]
        out.append(
            DoseState(
                dose_level=dl,
                treated=len(outcomes),
                evaluable=sum(o in (DltOutcome.DLT, DltOutcome.NO_DLT) for o in outcomes),
                dlts=sum(o == DltOutcome.DLT for o in outcomes),
                pending=sum(o == DltOutcome.PENDING for o in outcomes),
                pending_since=tuple(sorted(since[dl.pk])),
            )
        )
    return out


def escalation_recommend(
    *, plan: EscalationPlan, state: list[DoseState] | None = None
) -> tuple[list[DoseState], Decision]:
    """The state of every dose level and the design's recommendation (``state``: as the caller
    has just read it with ``escalation_state``, not read again).

    The recommendation's reason and rule name the doses by the trial's labels ("select DL4"),
    not by the design's 1-based numbers ("select dose 5").
    """
    state, decision = _recommend(plan, state)
    labels = [f"DL{s.dose_level.level}" for s in state]
    return state, replace(
        decision,
        reason=with_dose_labels(decision.reason, labels),
        rule=with_dose_labels(decision.rule, labels),
    )


def _recommend(
    plan: EscalationPlan, state: list[DoseState] | None = None
) -> tuple[list[DoseState], Decision]:
    _levels_read(plan)  # read by the state, the current level and the design's settings
    if state is None:
        state = escalation_state(plan=plan)
    levels = [s.dose_level.pk for s in state]
    current = levels.index(_canonical(plan, plan.current_dose_level).pk)
    data = _design_data(plan, state)
    if uses_follow_up(plan.design):
        # Time-to-event designs decide themselves whether to suspend accrual.
        with design_errors_translated():
            return state, _worded(design_for(plan).decide(data, current))
    try:
        decision = _worded(design_for(plan).decide(data, current))
    except ValidationError as exc:
        # The design has no rule for these counts (a 3+3 dose with 5 evaluable patients, or 2
        # evaluable while the third is in the DLT window): no recommendation, and the page
        # says why instead of failing; the committee decides, with its reason.
        waiting = (
            gettext("%(pending)s patient(s) at the current dose are still in the DLT window. ")
            % {"pending": state[current].pending}
            if state[current].pending
            else ""
        )
        return state, Decision(
            action=Action.SUSPEND,
            current_dose=current,
            next_dose=current,
            reason=waiting
            + gettext(
                "The design cannot recommend on these counts: %(refusal)s The committee "
                "decides, with its reason."
            )
            % {"refusal": design_message(exc)},
            rule=gettext("no design rule for these counts"),
        )
    if state[current].pending and decision.action not in (Action.STOP,):
        decision = Decision(
            action=Action.SUSPEND,
            current_dose=current,
            next_dose=current,
            reason=gettext(
                "%(pending)s patient(s) at the current dose are still in the DLT window; the "
                "design's answer once they are evaluable would be: %(answer)s"
            )
            % {"pending": state[current].pending, "answer": decision.reason},
            rule=decision.rule,
            eliminated=decision.eliminated,
        )
    return state, decision


def _design_data(plan: EscalationPlan, state: list[DoseState]) -> list[DoseData]:
    """The per-dose data the plan's design decides on: evaluable patients and their DLTs; for
    a time-to-event design, pending patients too, weighted by the share of the DLT window
    observed so far."""
    if not uses_follow_up(plan.design):
        return [DoseData(treated=s.evaluable, dlts=s.dlts, pending=s.pending) for s in state]
    window = float((plan.parameters or {}).get("dlt_window_days") or 0)
    today = timezone.localdate()
    return [
        DoseData(
            treated=s.evaluable + s.pending,
            dlts=s.dlts,
            pending=s.pending,
            follow_up=tuple(follow_up_fraction((today - d).days, window) for d in s.pending_since),
        )
        for s in state
    ]


def mtd_selection_reason(
    *, plan: EscalationPlan, state: list[DoseState], decision: Decision
) -> str | None:
    """Why the design's end-of-trial selection (isotonic regression) chose its MTD, or none,
    in the active language with the trial's level labels, once the design stops the trial;
    None before that, or for a design without that selection (the 3+3, the model-based
    designs, whose stopping reason names their MTD)."""
    if decision.action is not Action.STOP:
        return None
    select = getattr(design_for(plan), "select_mtd", None)
    if select is None:
        return None
    with design_errors_translated():
        selection = select(_design_data(plan, state))
    labels = [f"DL{s.dose_level.level}" for s in state]
    return with_dose_labels(selection_reason(selection), labels)


def _worded(decision: Decision) -> Decision:
    """The design's decision with its reason and rule in the active language."""
    return replace(decision, reason=decision_reason(decision), rule=decision_rule(decision))


def committee_eliminated_level(
    plan: EscalationPlan, decisions: Iterable[EscalationDecision] | None = None
) -> int | None:
    """The lowest dose level the committee has eliminated (with every level above), or None
    (``decisions``: the plan's decisions with their dose level, when the caller read them)."""
    if decisions is None:
        decisions = EscalationDecision.objects.filter(
            plan=plan, decided_action=Action.ELIMINATE.value
        ).select_related("at_dose_level")
    levels = [
        d.at_dose_level.level for d in decisions if d.decided_action == Action.ELIMINATE.value
    ]
    return min(levels) if levels else None


def _canonical(plan: EscalationPlan, dl: DoseLevel) -> DoseLevel:
    return next(s for s in _levels(plan.cohort) if s.level == dl.level)


def next_patient_doses_for(plans: Sequence[EscalationPlan]) -> dict[int, DoseGate | None]:
    """``next_patient_doses`` of the cohorts of many plans, by plan id, in a fixed number of
    queries whatever the number of plans (their dose levels, decisions, registrations and DLT
    states read once for all of them)."""
    plans = list(plans)
    prefetch_related_objects(plans, "cohort__dose_levels", "current_dose_level", "decisions")
    registrations: dict[int, list[Registration]] = {p.cohort_id: [] for p in plans}
    for reg in Registration.objects.filter(
        cohort_id__in=list(registrations), dose_level__isnull=False
    ).select_related("trial", "cohort"):
        registrations[reg.cohort_id].append(reg)
    statuses = dlt_statuses([r for regs in registrations.values() for r in regs])
    return {
        plan.pk: _gate(plan, registrations=registrations[plan.cohort_id], statuses=statuses)
        if plan.cohort.kind == CohortKind.ESCALATION
        else None
        for plan in plans
    }


def last_decision(plan: EscalationPlan) -> EscalationDecision | None:
    """The committee's last signed decision of the plan (prefetched decisions are not read
    again)."""
    decisions = sorted(plan.decisions.all(), key=lambda d: (d.decided_at, d.pk))
    return decisions[-1] if decisions else None


def next_patient_doses(cohort: Cohort) -> DoseGate | None:
    """Which dose levels may the next patient of this escalation cohort receive?

    ``None`` when the cohort runs no escalation plan (any of its levels). Otherwise the plan's
    current dose (set by the committee's last signed decision) while its cohort is filling:
    ``cohort_size`` patients registered there since that decision (a patient found not evaluable
    is replaced). Accrual is closed, with the reason, when the committee stopped the escalation,
    the maximum sample size is reached, the design recommends stopping on outcomes the
    committee has not yet reviewed, the current dose was eliminated, a time-to-event design
    suspends accrual, or the cohort is complete and waits for its DLT window and the committee's
    decision. Doses eliminated by the design's safety rule are ``forbidden``.
    """
    if cohort.kind != CohortKind.ESCALATION:
        return None
    plan = _PLAN_OF_COHORT.first(cohort=cohort.pk)
    if plan is None:
        return None
    _levels_read(plan)  # read three times by the gate: once here
    return _gate(plan)


def _gate(
    plan: EscalationPlan,
    *,
    registrations: Sequence[Registration] | None = None,
    statuses: Mapping[int, DltStatus] | None = None,
) -> DoseGate:
    """The gate of the plan's cohort (see ``next_patient_doses``)."""
    cohort = plan.cohort
    pks_at: dict[int, list[int]] = {}
    for dl in sorted(cohort.dose_levels.all(), key=lambda dl: dl.pk):
        pks_at.setdefault(dl.level, []).append(dl.pk)
    current = plan.current_dose_level
    last = last_decision(plan)
    if last is not None and last.decided_action == Action.STOP:
        return DoseGate(
            (),
            gettext(
                "The escalation of %(cohort)s was stopped by the committee's decision of "
                "%(date)s; no new patient may be registered."
            )
            % {"cohort": cohort, "date": format(last.decided_at, "%Y-%m-%d")},
        )
    state = escalation_state(plan=plan, registrations=registrations, statuses=statuses)
    levels = [s.dose_level.level for s in state]
    index = levels.index(current.level)
    if sum(s.evaluable + s.pending for s in state) >= plan.max_sample_size:
        return DoseGate(
            (),
            gettext(
                "The maximum sample size of the escalation of %(cohort)s (%(maximum)s) is "
                "reached; no new patient may be registered."
            )
            % {"cohort": cohort, "maximum": plan.max_sample_size},
        )
    try:
        _, rec = escalation_recommend(plan=plan, state=state)
    except ValidationError:
        rec = None  # the design does not decide on an incomplete cohort (e.g. the 3+3)
    forbidden: tuple[int, ...] = ()
    if rec is not None:
        forbidden = tuple(pk for i in rec.eliminated for pk in pks_at.get(levels[i], []))
        seen = {r["level"]: (r["evaluable"], r["dlts"]) for r in last.data} if last else None
        reviewed = seen == {s.dose_level.level: (s.evaluable, s.dlts) for s in state}
        if rec.action == Action.STOP and not reviewed:
            return DoseGate(
                (),
                gettext(
                    "The design of %(cohort)s recommends stopping the escalation: %(reason)s No "
                    "new patient may be registered unless the committee decides otherwise."
                )
                % {"cohort": cohort, "reason": rec.reason},
                forbidden,
            )
        if index in rec.eliminated:
            return DoseGate(
                (),
                gettext(
                    "DL%(level)s of %(cohort)s was eliminated as overly toxic by the design's "
                    "safety rule; the committee must decide the next dose before any new patient."
                )
                % {"level": current.level, "cohort": cohort},
                forbidden,
            )
        if uses_follow_up(plan.design) and rec.action == Action.SUSPEND:
            return DoseGate(
                (),
                gettext("The design of %(cohort)s suspends accrual: %(reason)s")
                % {"cohort": cohort, "reason": rec.reason},
                forbidden,
            )
    before = {r["level"]: r["evaluable"] + r["pending"] for r in last.data} if last else {}
    here = state[index]
    filled = max(here.evaluable + here.pending - before.get(current.level, 0), 0)
    if filled >= plan.cohort_size:
        if here.pending:
            return DoseGate(
                (),
                gettext(
                    "The cohort of %(size)s at DL%(level)s of %(cohort)s is complete and "
                    "%(pending)s patient(s) are still in the DLT window; the next patient waits "
                    "for their evaluation and the committee's decision."
                )
                % {
                    "size": plan.cohort_size,
                    "level": current.level,
                    "cohort": cohort,
                    "pending": here.pending,
                },
                forbidden,
            )
        values = {"size": plan.cohort_size, "level": current.level, "cohort": cohort}
        if rec is None:
            text = gettext(
                "The cohort of %(size)s at DL%(level)s of %(cohort)s is complete and evaluable. "
                "Record the committee's decision before registering the next patient."
            )
        elif rec.next_dose is None:
            text = gettext(
                "The cohort of %(size)s at DL%(level)s of %(cohort)s is complete and evaluable; "
                "the design recommends %(action)s. Record the committee's decision before "
                "registering the next patient."
            )
            values["action"] = ACTION_LABELS.get(rec.action.value, rec.action.value)
        else:
            text = gettext(
                "The cohort of %(size)s at DL%(level)s of %(cohort)s is complete and evaluable; "
                "the design recommends %(action)s to DL%(next)s. Record the committee's decision "
                "before registering the next patient."
            )
            values.update(
                action=ACTION_LABELS.get(rec.action.value, rec.action.value),
                next=levels[rec.next_dose],
            )
        return DoseGate(
            (),
            text % values,
            forbidden,
        )
    return DoseGate(
        tuple(pks_at.get(current.level, [])),
        gettext(
            "The escalation of %(cohort)s treats its current cohort at DL%(level)s (%(filled)s of "
            "%(size)s registered)."
        )
        % {"cohort": cohort, "level": current.level, "filled": filled, "size": plan.cohort_size},
        forbidden,
    )


def _check_plan(
    *,
    cohort: Cohort,
    design: str,
    start_level: DoseLevel,
    target: Any,
    cohort_size: int,
    max_sample_size: int,
    parameters: Mapping[str, Any] | None,
) -> Mapping[str, Any]:
    """Validate a plan's settings by building its design; errors name the field."""
    if design not in live_designs():
        raise ValidationError(
            gettext("design must be one of %(values)s; got %(design)s.")
            % {"values": ", ".join(design_names(live=True)), "design": repr(design)},
            field="design",
        )
    if cohort.kind != CohortKind.ESCALATION:
        raise ValidationError(
            gettext("%(cohort)s is not a dose-escalation cohort.") % {"cohort": cohort},
            field="cohort",
        )
    if start_level.cohort_id != cohort.pk:
        raise ValidationError(
            gettext("%(start_level)s is not a level of %(cohort)s.")
            % {"start_level": start_level, "cohort": cohort},
            field="start_level",
        )
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise ValidationError(
            gettext("parameters must be an object of design-specific settings; got %(parameters)s.")
            % {"parameters": repr(parameters)},
            field="parameters",
        )
    with design_errors_translated():
        settings = _settings(
            cohort=cohort,
            target=target,
            cohort_size=cohort_size,
            max_sample_size=max_sample_size,
            parameters=parameters,
        )
        # Build the design and decide on empty data now: every setting is validated before saving.
        design_for_escalation(design, settings).decide([DoseData(0, 0)] * settings.n_doses, 0)
    window = parameters.get("dlt_window_days")
    if uses_follow_up(design) and (window is None or window < 1):
        raise ValidationError(
            gettext(
                "%(design)s weighs pending patients by the share of the DLT window they have been "
                "followed; give the window in days as parameters.dlt_window_days (e.g. 28); got "
                "%(window)s."
            )
            % {"design": design, "window": repr(window)},
            field="parameters.dlt_window_days",
        )
    return parameters


@transaction.atomic
def plan_create(
    *,
    cohort: Cohort,
    design: str,
    start_level: DoseLevel,
    by: User,
    target: float | None = None,
    cohort_size: int = 3,
    max_sample_size: int = 36,
    parameters: Mapping[str, Any] | None = None,
) -> EscalationPlan:
    """Set the design a cohort's escalation runs: any live design of the design registry.

    ``parameters`` holds the design-specific settings (e.g. ``{"skeleton": [...]}`` for the
    CRM, ``{"dlt_window_days": 28}`` for the time-to-event designs); errors name the entry.
    """
    parameters = _check_plan(
        cohort=cohort,
        design=design,
        start_level=start_level,
        target=target,
        cohort_size=cohort_size,
        max_sample_size=max_sample_size,
        parameters=parameters,
    )
    if EscalationPlan.objects.filter(cohort=cohort).exists():
        raise ConflictError(
            gettext("%(cohort)s already has an escalation plan.") % {"cohort": cohort}
        )
    plan = EscalationPlan.objects.create(
        cohort=cohort,
        design=design,
        target=target,
        cohort_size=cohort_size,
        max_sample_size=max_sample_size,
        parameters=dict(parameters),
        current_dose_level=start_level,
    )
    changes: dict[str, list[Any]] = {
        "design": [None, design],
        "target": [None, target],
        "start_level": [None, start_level.level],
    }
    if parameters:
        changes["parameters"] = [None, dict(parameters)]
    audit_record(action="create", instance=plan, changes=changes, by=by)
    return plan


PLAN_FIELDS = ("design", "target", "cohort_size", "max_sample_size", "parameters")


@transaction.atomic
def plan_update(
    *,
    plan: EscalationPlan,
    by: User,
    reason: str,
    design: str,
    target: float | None,
    cohort_size: int,
    max_sample_size: int,
    parameters: Mapping[str, Any] | None = None,
    start_level: DoseLevel | None = None,
    expected_version: int | None = None,
) -> EscalationPlan:
    """Change a plan's design or settings (a protocol amendment: a reason is required).

    The start level may change only before the first decision; afterwards the current level
    moves with the committee's decisions alone. Decisions already signed keep the
    recommendation they were signed against.
    """
    if not reason.strip():
        raise ValidationError(
            gettext(
                "A reason (e.g. the protocol amendment) is required to change an escalation plan."
            ),
            field="reason",
        )
    locked = EscalationPlan.objects.select_for_update().select_related("cohort").get(pk=plan.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(
            gettext(
                "The escalation plan of %(cohort)s was changed by someone else (version %(version)s, "
                "you edited version %(expected_version)s); reload and apply your change again."
            )
            % {
                "cohort": locked.cohort,
                "version": locked.version,
                "expected_version": expected_version,
            },
            current_version=locked.version,
        )
    moved = start_level is not None and start_level.pk != locked.current_dose_level_id
    if moved and locked.decisions.exists():
        raise ValidationError(
            gettext(
                "The current dose level moves with the committee's decisions once the first one is "
                "signed; record a decision instead."
            ),
            field="start_level",
        )
    parameters = _check_plan(
        cohort=locked.cohort,
        design=design,
        start_level=start_level if moved and start_level else locked.current_dose_level,
        target=target,
        cohort_size=cohort_size,
        max_sample_size=max_sample_size,
        parameters=parameters,
    )
    before = model_snapshot(locked, [*PLAN_FIELDS, "current_dose_level_id"])
    locked.design = design
    locked.target = None if target is None else Decimal(str(target)).quantize(Decimal("0.001"))
    locked.cohort_size, locked.max_sample_size = cohort_size, max_sample_size
    locked.parameters = dict(parameters)
    if moved and start_level is not None:
        locked.current_dose_level = start_level
    delta = diff(before, model_snapshot(locked, [*PLAN_FIELDS, "current_dose_level_id"]))
    if not delta:
        return locked
    locked.version += 1
    locked.save()
    audit_record(action="update", instance=locked, changes=delta, reason=reason, by=by)
    return locked


def dlt_record(
    *, registration: Registration, outcome: str, on: dt.date, by: User, reason: str = ""
) -> None:
    """Refused: a patient's DLT outcome is not entered in dosing.

    The DLT review (apps/safety) is the one record of DLTs: an event becomes a DLT by the signed
    adjudication of its DLT case, and the patient's outcome (DLT, no DLT, not evaluable,
    pending) follows from the cases, the DLT window and the exposure. The escalation counts read
    that decision (``outcomes.dlt_statuses``). A second, manual entry here would let the
    escalation page and the DLT review disagree, so it is refused with where to go instead (a
    DLT the rules did not propose is proposed when its AE is recorded complete; an adjudication
    is revised by signing it again with a reason).
    """
    access.require(by, access.Action.DECIDE_DOSE, on=registration)
    raise ConflictError(
        gettext(
            "DLT outcomes are not entered in dosing: the outcome of registration "
            "%(registration)s follows the DLT review. Record the adverse event as complete and "
            "adjudicate its DLT case on the DLT review page (/safety/dlt/, API POST "
            "/api/v1/safety/dlt-cases/{case_id}/adjudicate); a signed adjudication is revised by "
            "signing it again with a reason."
        )
        % {"registration": registration.pk},
        see="/safety/dlt/",
    )


def escalation_decide(
    *,
    plan: EscalationPlan,
    action: str,
    by: User,
    meaning: str,
    password: str,
    next_dose_level: DoseLevel | None = None,
    deviation_reason: str = "",
    at: dt.datetime | None = None,
) -> EscalationDecision:
    """Record the committee's decision, signed; a decision that differs from the design needs a reason.

    The signer enters their password again (21 CFR 11.200(a)(1)): ``accounts.signing_reauthenticate``
    checks it in its own transaction, before the decision's, so that a wrong password stays
    audited (and counts towards the signing lock) when the decision is refused.
    ``at`` dates a decision taken earlier (e.g. a committee meeting entered afterwards); never future.
    """
    access.require(by, access.Action.DECIDE_DOSE, on=plan.cohort.trial)
    signing_reauthenticate(user=by, password=password)
    return _escalation_decide_signed(
        plan=plan,
        action=action,
        by=by,
        meaning=meaning,
        next_dose_level=next_dose_level,
        deviation_reason=deviation_reason,
        at=at,
    )


@transaction.atomic
def _escalation_decide_signed(
    *,
    plan: EscalationPlan,
    action: str,
    by: User,
    meaning: str,
    next_dose_level: DoseLevel | None,
    deviation_reason: str,
    at: dt.datetime | None,
) -> EscalationDecision:
    """The decision itself, once the signer's password was checked."""
    if at is not None and at > timezone.now():
        raise ValidationError(gettext("A decision cannot be dated in the future."), field="at")
    locked = (
        EscalationPlan.objects.select_for_update().select_related("cohort__trial").get(pk=plan.pk)
    )
    access.require(by, access.Action.DECIDE_DOSE, on=locked.cohort.trial)
    if action not in {a.value for a in Action}:
        raise ValidationError(
            gettext("action must be one of %(values)s; got %(action)s.")
            % {"values": ", ".join(a.value for a in Action), "action": repr(action)},
            field="action",
        )
    if not meaning.strip():
        raise ValidationError(
            gettext(
                "A signature states its meaning (e.g. 'Approved by the safety review committee')."
            ),
            field="meaning",
        )
    # The signed record keeps the design's reason in the engine's words (English), whatever
    # the language of the one who signs; pages word it for each reader.
    with translation.override("en"):
        state, rec = escalation_recommend(plan=locked)
    levels = [s.dose_level for s in state]
    current_level = locked.current_dose_level.level
    if action == Action.STOP:
        next_dose_level = None
    elif action == Action.SUSPEND and next_dose_level is None:
        # Suspending accrual keeps the current dose for the next cohort.
        next_dose_level = _canonical(locked, locked.current_dose_level)
    if next_dose_level is None and action != Action.STOP:
        raise ValidationError(
            gettext("Give the dose level of the next cohort (or stop)."), field="next_dose_level"
        )
    if next_dose_level is not None and next_dose_level.cohort_id != locked.cohort_id:
        raise ValidationError(
            gettext("%(level)s is not a level of %(cohort)s.")
            % {"level": next_dose_level, "cohort": locked.cohort},
            field="next_dose_level",
        )
    if (
        next_dose_level is not None
        and action == Action.SUSPEND
        and next_dose_level.level != current_level
    ):
        raise ValidationError(
            gettext(
                "Suspending accrual keeps DL%(level)s; choose it as the next dose level (or "
                "decide another action)."
            )
            % {"level": current_level},
            field="next_dose_level",
        )
    if (
        next_dose_level is not None
        and action == Action.ELIMINATE
        and next_dose_level.level >= current_level
    ):
        raise ValidationError(
            gettext(
                "Eliminating DL%(level)s (and the levels above it) means the next cohort is "
                "treated below it; choose a level lower than DL%(level)s."
            )
            % {"level": current_level},
            field="next_dose_level",
        )
    eliminated_by_committee = committee_eliminated_level(locked)
    if (
        next_dose_level is not None
        and eliminated_by_committee is not None
        and next_dose_level.level >= eliminated_by_committee
    ):
        raise ValidationError(
            gettext(
                "The committee eliminated DL%(eliminated)s and the levels above it; DL%(level)s "
                "cannot be chosen."
            )
            % {"eliminated": eliminated_by_committee, "level": next_dose_level.level},
            field="next_dose_level",
        )
    if next_dose_level is not None:
        index = [dl.level for dl in levels].index(next_dose_level.level)
        if index in rec.eliminated:
            raise ValidationError(
                gettext(
                    "DL%(level)s was eliminated as overly toxic by the design's safety rule; it "
                    "cannot be chosen."
                )
                % {"level": next_dose_level.level},
                field="next_dose_level",
            )
    recommended_level = levels[rec.next_dose] if rec.next_dose is not None else None
    same = action == rec.action.value and (
        (next_dose_level is None and recommended_level is None)
        or (
            next_dose_level is not None
            and recommended_level is not None
            and next_dose_level.level == recommended_level.level
        )
    )
    if not same and not deviation_reason.strip():
        action_label = ACTION_LABELS.get(rec.action.value, rec.action.value)
        raise ValidationError(
            (
                gettext(
                    "The design recommends %(action)s to DL%(level)s; a different decision needs "
                    "the committee's reason."
                )
                if recommended_level
                else gettext(
                    "The design recommends %(action)s; a different decision needs the "
                    "committee's reason."
                )
            )
            % {
                "action": action_label,
                "level": recommended_level.level if recommended_level else "",
            },
            field="deviation_reason",
        )
    decision = EscalationDecision.objects.create(
        plan=locked,
        decided_at=at or timezone.now(),
        at_dose_level=locked.current_dose_level,
        data=[s.as_dict() for s in state],
        recommended_action=rec.action.value,
        recommended_dose_level=recommended_level,
        recommended_reason=rec.reason,
        rule=rec.rule,
        decided_action=action,
        next_dose_level=next_dose_level,
        deviation_reason=deviation_reason if not same else "",
        signed_by=by,
        signed_name=(by.get_full_name() or by.username)[:300],
        signature_meaning=meaning,
    )
    old_level = locked.current_dose_level.level
    if next_dose_level is not None:
        locked.current_dose_level = next_dose_level
    locked.version += 1
    locked.save()
    audit_record(
        action="decide",
        instance=decision,
        changes={
            "recommended": [
                None,
                f"{rec.action.value} {recommended_level.level if recommended_level else ''}".strip(),
            ],
            "decided": [
                None,
                f"{action} {next_dose_level.level if next_dose_level else ''}".strip(),
            ],
            "current_dose_level": [
                old_level,
                next_dose_level.level if next_dose_level else old_level,
            ],
        },
        reason=deviation_reason or meaning,
        by=by,
    )
    return decision
