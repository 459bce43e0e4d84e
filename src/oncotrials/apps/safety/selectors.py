"""Reads of safety data, always through the caller's memberships.

An adverse event is visible to site-wide members of the patient's site, and to trial-limited
members (a sponsor monitor) for registrations in that trial at a site of the membership.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import CharField, Exists, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import roles_on, scope_condition, sees
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.accounts.prepared import PreparedRead
from oncotrials.apps.dosing.models import DltOutcome, EscalationPlan
from oncotrials.apps.dosing.outcomes import DltStatus, dlt_statuses
from oncotrials.apps.subjects.models import Consent, Registration
from oncotrials.apps.subjects.selectors import registration_condition, registrations_visible_to
from oncotrials.apps.trials.models import DoseLevel, Trial
from oncotrials.apps.trials.selectors import trials_visible_to
from oncotrials.core.errors import NotFoundError

from .models import (
    NOT_EVALUABLE_KEY,
    AdverseEvent,
    AstctAssessment,
    DltCase,
    DltCaseStatus,
    DltRuleSet,
    RecordStatus,
    SaeReportKind,
    ToxicityBoardCase,
    ToxicityBoardMeeting,
)

INITIAL_REPORT_HOURS = 24  # ICH E2A / EU CTR: the site reports an SAE to the sponsor within 24 h
FOLLOW_UP_HOURS = 24  # new information on a reported SAE is sent within 24 h as well
# The trial consent's date, read with the registration: where AE collection starts.
CONSENT_SIGNED_ON = "_safety_consent_signed_on"


def _consent_signed_on(prefix: str = "") -> Subquery:
    """The date of the patient's earliest consent to the registration's trial (or NULL)."""
    return Subquery(
        Consent.objects.filter(
            patient_id=OuterRef(f"{prefix}patient_id"), form__trial_id=OuterRef(f"{prefix}trial_id")
        )
        .order_by("signed_on")
        .values("signed_on")[:1]
    )


# The regimen's agents as cached by rights.agents_for_registration (unique, by level then id).
AGENTS_CACHE = "_safety_agents"
# The identity of the trial's DLT rule set read with the registration ("id|version|updated at",
# or None when the trial has none): dlt_review takes the parsed rules from its cache by it.
DLT_RULES_KEY = "_safety_dlt_rules_key"
# Set on a registration read with a row lock (``for_update=True``) inside a transaction: the
# DLT review of that transaction needs no second lock of the same row.
REGISTRATION_LOCKED = "_safety_registration_locked"
# Whether the registration had CRS/ICANS assessments when read (cell therapies only): the DLT
# review of a save skips their query when it had none.
HAS_ASTCT = "_safety_has_astct"


def _has_astct(registration_ref: str) -> Exists:
    return Exists(AstctAssessment.objects.filter(registration_id=OuterRef(registration_ref)))


def _dlt_rules_key(prefix: str = "") -> Subquery:
    text: CharField[str, str] = CharField()
    return Subquery(
        DltRuleSet.objects.filter(trial_id=OuterRef(f"{prefix}trial_id"))
        .order_by("pk")
        .annotate(
            key=Concat(
                Cast("pk", text),
                Value("|"),
                Cast("version", text),
                Value("|"),
                Cast("updated_at", text),
                output_field=text,
            )
        )
        .values("key")[:1]
    )


def with_dlt_rules_key(registrations: QuerySet[Registration]) -> QuerySet[Registration]:
    """The registrations with the identity of their trial's DLT rule set read with them: the
    DLT review after each of their lab values or doses then takes the parsed rules from its
    cache instead of reading the rule set again (for a caller recording many, the demo's
    casebooks). The identity is that of the rules when read: a caller that changes the rules
    afterwards reads the registrations again (as the AE save reads its registration)."""
    return registrations.annotate(**{DLT_RULES_KEY: _dlt_rules_key()})


def with_ae_save_context(registrations: QuerySet[Registration]) -> QuerySet[Registration]:
    """The registrations with what an AE save checks against read with them, as
    ``registration_get_for_user`` reads it for one: the date of the trial consent (the start
    of AE collection), the identity of the trial's DLT rule set and whether the patient had
    CRS/ICANS assessments. The saves of AEs of many patients (the demo's) then read none of
    them again. All three are as when read: a caller that changes a consent, the rules or
    the CRS/ICANS assessments afterwards reads the registrations again."""
    return registrations.annotate(
        **{
            CONSENT_SIGNED_ON: _consent_signed_on(),
            DLT_RULES_KEY: _dlt_rules_key(),
            HAS_ASTCT: _has_astct("pk"),
        }
    )


def _agent_names(prefix: str = "") -> Subquery:
    """The agents of the cohort's dose levels, by level then id (PostgreSQL: one array)."""
    from django.contrib.postgres.aggregates import ArrayAgg

    return Subquery(
        DoseLevel.objects.filter(cohort_id=OuterRef(f"{prefix}cohort_id"))
        .order_by()
        .values("cohort_id")
        .annotate(names=ArrayAgg("agent", order_by=("level", "pk")))
        .values("names")
    )


def _save_context(reg: Registration, source: Any) -> None:
    """Copy what was read with ``source`` for an AE save onto the registration."""
    setattr(reg, CONSENT_SIGNED_ON, getattr(source, CONSENT_SIGNED_ON))
    setattr(reg, DLT_RULES_KEY, getattr(source, DLT_RULES_KEY))
    setattr(reg, HAS_ASTCT, getattr(source, HAS_ASTCT))
    if hasattr(source, "_safety_agent_names"):
        setattr(reg, AGENTS_CACHE, tuple(dict.fromkeys(source._safety_agent_names or ())))


def _registration_for_save(*, for_update: bool) -> Callable[..., QuerySet[Registration]]:
    def build(registration: int) -> QuerySet[Registration]:
        qs = (
            Registration.objects.filter(pk=registration)
            .select_related("patient__site", "trial", "cohort", "dose_level")
            .annotate(
                **{
                    CONSENT_SIGNED_ON: _consent_signed_on(),
                    DLT_RULES_KEY: _dlt_rules_key(),
                    HAS_ASTCT: _has_astct("pk"),
                }
            )
        )
        if connection.vendor == "postgresql":
            qs = qs.annotate(_safety_agent_names=_agent_names())
        return qs.select_for_update(of=("self",)) if for_update else qs

    return build


# Compiled once per connection: the read costs its round trip, not the building of its SQL.
_REGISTRATION = PreparedRead(_registration_for_save(for_update=False), "registration")
_REGISTRATION_LOCKED = PreparedRead(_registration_for_save(for_update=True), "registration")


def registration_get_for_user(
    *, user: Actor, registration_id: int, for_update: bool = False
) -> Registration:
    """One registration the user may see, with what an AE save checks against, in one query:
    its patient, trial, cohort, dose level, the date of the trial consent (the start of AE
    collection), the identity of the trial's DLT rules and, on PostgreSQL, the agents of the
    cohort's dose levels. ``for_update`` (inside a transaction): the registration row is locked
    by the same query, as the DLT review of a save needs.

    The row is read by its id and checked against the user's memberships with the rule of
    ``registrations_visible_to`` (``accounts.access.sees``): one registration, not a list."""
    read = _REGISTRATION_LOCKED if for_update else _REGISTRATION
    reg = read.first(registration=registration_id)
    if reg is None or not sees(user, reg):
        raise NotFoundError(
            gettext("No registration %(registration_id)s that you may see.")
            % {"registration_id": registration_id}
        )
    _save_context(reg, reg)
    if for_update and connection.in_atomic_block:
        setattr(reg, REGISTRATION_LOCKED, True)
    return reg


def adverse_events_visible_to(user: Actor) -> QuerySet[AdverseEvent]:
    cond = registration_condition(user, "registration__")
    qs = AdverseEvent.objects.all()
    return qs if cond is None else qs.filter(cond)


def _adverse_event_for_save(*, for_update: bool) -> Callable[..., QuerySet[AdverseEvent]]:
    def build(ae: int) -> QuerySet[AdverseEvent]:
        qs = (
            AdverseEvent.objects.filter(pk=ae)
            .select_related(
                "registration__patient__site", "registration__trial", "registration__cohort"
            )
            .annotate(
                **{
                    CONSENT_SIGNED_ON: _consent_signed_on("registration__"),
                    DLT_RULES_KEY: _dlt_rules_key("registration__"),
                    HAS_ASTCT: _has_astct("registration_id"),
                }
            )
        )
        if connection.vendor == "postgresql":
            qs = qs.annotate(_safety_agent_names=_agent_names("registration__"))
        return qs.select_for_update(of=("self", "registration")) if for_update else qs

    return build


_ADVERSE_EVENT = PreparedRead(_adverse_event_for_save(for_update=False), "ae")
_ADVERSE_EVENT_LOCKED = PreparedRead(_adverse_event_for_save(for_update=True), "ae")


def adverse_event_get_for_user(
    *, user: Actor, ae_id: int, for_update: bool = False
) -> AdverseEvent:
    """One AE the user may see, with its registration and what a save checks against (as
    ``registration_get_for_user``, and checked against the user's memberships the same way).
    ``for_update`` (inside a transaction): the AE and its registration rows are locked by the
    same query, as a save needs."""
    read = _ADVERSE_EVENT_LOCKED if for_update else _ADVERSE_EVENT
    ae = read.first(ae=ae_id)
    if ae is None or not sees(user, ae.registration):
        raise NotFoundError(
            gettext("No adverse event %(ae_id)s that you may see.") % {"ae_id": ae_id}
        )
    _save_context(ae.registration, ae)
    if for_update and connection.in_atomic_block:
        setattr(ae, REGISTRATION_LOCKED, True)
        setattr(ae.registration, REGISTRATION_LOCKED, True)
    return ae


def adverse_events_for_user(
    *,
    user: Actor,
    patient_id: int | None = None,
    trial_id: int | None = None,
    registration_id: int | None = None,
    immune_related: bool | None = None,
) -> QuerySet[AdverseEvent]:
    qs = (
        adverse_events_visible_to(user)
        .select_related("registration__patient", "registration__trial", "registration__cohort")
        .prefetch_related("registration__cohort__dose_levels")
    )
    if patient_id is not None:
        qs = qs.filter(registration__patient_id=patient_id)
    if trial_id is not None:
        qs = qs.filter(registration__trial_id=trial_id)
    if registration_id is not None:
        qs = qs.filter(registration_id=registration_id)
    if immune_related is not None:
        qs = qs.filter(immune_related=immune_related)
    return qs.order_by("registration_id", "onset_date", "pk")


def roles_for_registration(user: Actor, registration: Registration) -> set[str]:
    """Roles the user holds for this registration (see ``accounts.access.roles_on``)."""
    return roles_on(user, registration)


def irae_register(*, user: Actor) -> QuerySet[AdverseEvent]:
    """Immune-related AEs across every trial the user may see, worst first."""
    return (
        adverse_events_for_user(user=user, immune_related=True)
        .filter(voided_at__isnull=True)
        .select_related("registration__cohort")
        .order_by("-grade", "-onset_date", "pk")
    )


# ------------------------------------------------------------------------------- SAE clock


@dataclass(frozen=True)
class SaeDue:
    adverse_event: AdverseEvent
    kind: str
    due_at: dt.datetime
    overdue: bool
    hours_left: float


def sae_worklist(*, user: Actor, now: dt.datetime | None = None) -> list[SaeDue]:
    """Serious AEs whose initial or follow-up report to the sponsor is due, soonest first."""
    now = now or timezone.now()
    rows: list[SaeDue] = []
    aes = (
        adverse_events_visible_to(user)
        .filter(serious=True, sae_aware_at__isnull=False, voided_at__isnull=True)
        .select_related("registration__patient", "registration__trial")
        .prefetch_related("sae_reports")
    )
    for ae in aes:
        kinds = {r.kind for r in ae.sae_reports.all()}
        due: tuple[str, dt.datetime] | None = None
        if SaeReportKind.INITIAL not in kinds:
            assert ae.sae_aware_at is not None
            due = (
                SaeReportKind.INITIAL,
                ae.sae_aware_at + dt.timedelta(hours=INITIAL_REPORT_HOURS),
            )
        elif ae.sae_followup_due_at is not None:
            due = (SaeReportKind.FOLLOW_UP, ae.sae_followup_due_at)
        if due is None:
            continue
        left = (due[1] - now).total_seconds() / 3600
        rows.append(SaeDue(ae, due[0], due[1], left < 0, round(left, 1)))
    return sorted(rows, key=lambda r: r.due_at)


# ------------------------------------------------------------------------------- summaries


def ae_summary(*, user: Actor, trial: Trial) -> dict[str, Any]:
    """Patients by CTCAE term and worst grade (complete AEs the user may see), most frequent first."""
    worst: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    patients: set[int] = set()
    for term, soc, reg_id, grade in (
        adverse_events_visible_to(user)
        .filter(
            registration__trial=trial,
            status=RecordStatus.COMPLETE,
            grade__isnull=False,
            voided_at__isnull=True,
        )
        .values_list("term", "soc", "registration_id", "grade")
    ):
        per = worst[(term, soc)]
        per[reg_id] = max(per.get(reg_id, 0), int(grade or 0))
        patients.add(reg_id)
    rows: list[dict[str, Any]] = []
    for (term, soc), per in worst.items():
        counts = [sum(1 for g in per.values() if g == grade) for grade in range(1, 6)]
        rows.append(
            {
                "term": term,
                "soc": soc,
                "by_grade": counts,
                "any": len(per),
                "grade3plus": sum(counts[2:]),
            }
        )
    rows.sort(key=lambda r: (-r["any"], -r["grade3plus"], r["term"]))
    return {"patients": len(patients), "rows": rows}


def dlt_table(*, user: Actor, trial: Trial) -> list[dict[str, Any]]:
    """Per cohort and dose level: patients treated, DLT-evaluable, DLTs, pending, confirmed DLTs
    (each patient's outcome as the DLT review decides it, as on the escalation page)."""
    visible = registrations_visible_to(user).filter(trial=trial, dose_level__isnull=False)
    regs = list(visible.select_related("dose_level", "cohort", "trial"))
    statuses = dlt_statuses(regs)
    confirmed: dict[int, list[str]] = defaultdict(list)
    for reg_id, term, grade in (
        DltCase.objects.filter(
            registration__in=[r.pk for r in regs], status=DltCaseStatus.CONFIRMED
        )
        .exclude(event_key=NOT_EVALUABLE_KEY)
        .values_list("registration_id", "term", "worst_grade")
    ):
        confirmed[reg_id].append(f"{term} G{grade}" if grade else term)
    table: dict[tuple[int, int], dict[str, Any]] = {}
    for reg in regs:
        dl = reg.dose_level
        assert dl is not None
        key = (reg.cohort_id, dl.level)
        row = table.setdefault(
            key,
            {
                "cohort": reg.cohort.code,
                "level": dl.level,
                "dose": f"{dl.agent} {dl.dose.normalize():f} {dl.unit}",
                "treated": 0,
                "evaluable": 0,
                "dlts": 0,
                "pending": 0,
                "dlt_terms": [],
            },
        )
        outcome = statuses[reg.pk].outcome
        row["treated"] += 1
        row["evaluable"] += outcome in (DltOutcome.DLT, DltOutcome.NO_DLT)
        row["dlts"] += outcome == DltOutcome.DLT
        row["pending"] += outcome == DltOutcome.PENDING
        row["dlt_terms"].extend(confirmed.get(reg.pk, []))
    return [table[k] for k in sorted(table)]


@dataclass(frozen=True)
class DltTrackerRow:
    registration: Registration
    status: DltStatus


def dlt_tracker(*, user: Actor, trial: Trial) -> list[DltTrackerRow]:
    """Per patient treated at a dose level: day x of the N-day DLT window, the outcome, whether
    evaluable and why, in order of registration."""
    regs = list(
        registrations_visible_to(user)
        .filter(trial=trial, dose_level__isnull=False)
        .select_related("patient", "cohort", "dose_level", "trial")
        .order_by("cohort__code", "registered_on", "pk")
    )
    statuses = dlt_statuses(regs)
    return [DltTrackerRow(r, statuses[r.pk]) for r in regs]


def trials_in_escalation_without_rules(*, user: Actor) -> QuerySet[Trial]:
    """Trials the user may see with a cohort in escalation (an escalation plan) and no DLT
    rules: their grade >= 3 related AEs are proposed as pending DLT cases, but no rule decides."""
    return (
        trials_visible_to(user)
        .filter(
            pk__in=EscalationPlan.objects.values("cohort__trial_id"),
            dlt_rule_set__isnull=True,
        )
        .order_by("protocol_code")
    )


def dlt_cases_for_user(
    *, user: Actor, trial_id: int | None = None, status: str | None = None
) -> QuerySet[DltCase]:
    cond = registration_condition(user, "registration__")
    qs = DltCase.objects.select_related(
        "registration__patient", "registration__trial", "registration__dose_level", "adverse_event"
    )
    if cond is not None:
        qs = qs.filter(cond)
    if trial_id is not None:
        qs = qs.filter(registration__trial_id=trial_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("status", "registration_id", "pk")


def dlt_case_get_for_user(*, user: Actor, case_id: int) -> DltCase:
    case = dlt_cases_for_user(user=user).filter(pk=case_id).first()
    if case is None:
        raise NotFoundError(
            gettext("No DLT case %(case_id)s that you may see.") % {"case_id": case_id}
        )
    return case


def astct_for_registration(*, registration: Registration) -> QuerySet[AstctAssessment]:
    return AstctAssessment.objects.filter(registration=registration).order_by(
        "scale", "assessed_at", "pk"
    )


# ---------------------------------------------------------------------------- toxicity board


def toxicity_meetings_for_user(*, user: Actor) -> QuerySet[ToxicityBoardMeeting]:
    qs = ToxicityBoardMeeting.objects.select_related("site")
    cond = scope_condition(user, site="site_id")
    return qs if cond is None else qs.filter(cond)


def toxicity_meeting_get_for_user(*, user: Actor, meeting_id: int) -> ToxicityBoardMeeting:
    meeting = toxicity_meetings_for_user(user=user).filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFoundError(
            gettext("No toxicity board meeting %(meeting_id)s that you may see.")
            % {"meeting_id": meeting_id}
        )
    return meeting


def toxicity_cases(*, meeting: ToxicityBoardMeeting) -> QuerySet[ToxicityBoardCase]:
    return meeting.cases.select_related(
        "adverse_event__registration__patient",
        "adverse_event__registration__trial",
        "recommended_by",
    )


def toxicity_case_get_for_user(*, user: Actor, case_id: int) -> ToxicityBoardCase:
    case = (
        ToxicityBoardCase.objects.filter(
            pk=case_id, meeting__in=toxicity_meetings_for_user(user=user)
        )
        .select_related("meeting__site", "adverse_event")
        .first()
    )
    if case is None:
        raise NotFoundError(
            gettext("No toxicity board case %(case_id)s that you may see.") % {"case_id": case_id}
        )
    return case
