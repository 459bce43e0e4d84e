"""DLT review: the trial's DLT rules, the patient's data as core input, proposed cases and
their adjudication, which drives the dosing state of the escalation cohort."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from oncotrials.apps.audit.services import audit_record, diff
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.trials.models import Trial
from oncotrials.apps.trials.selectors import trial_roles
from oncotrials.core.errors import ConflictError, OncotrialsError, ValidationError
from oncotrials.core.grading import (
    DltRules,
    Outcome,
    SubjectDecision,
    dlt_rules_from_dict,
    evaluate_subject,
)
from oncotrials.core.grading.dlt import Episode, SubjectData

from .models import (
    AdverseEvent,
    AstctAssessment,
    AstctScale,
    DltCase,
    DltCaseStatus,
    DltRuleSet,
    RecordStatus,
)
from .rights import (
    ADJUDICATORS,
    RELATEDNESS,
    RULE_EDITORS,
    WRITERS,
    agents_for_registration,
    require_role,
)
from .selectors import roles_for_registration


@functools.lru_cache(maxsize=64)
def _rules_cached(rule_set_id: int, version: int, text: str) -> DltRules:
    import json

    return dlt_rules_from_dict(json.loads(text), source="DLT rules")


def dlt_rules_for(trial: Trial) -> tuple[DltRuleSet, DltRules] | None:
    import json

    rule_set = DltRuleSet.objects.filter(trial=trial).first()
    if rule_set is None:
        return None
    text = json.dumps(rule_set.document, sort_keys=True)
    return rule_set, _rules_cached(rule_set.pk, rule_set.version, text)


def parse_rule_document(document: Any) -> Any:
    if isinstance(document, str):
        try:
            return yaml.safe_load(document)
        except yaml.YAMLError as exc:
            raise ValidationError(
                f"The DLT rules are not valid YAML or JSON: {exc}", field="document"
            ) from None
    return document


@transaction.atomic
def dlt_rules_save(
    *, trial: Trial, document: Any, by: Any, version: int | None = None, reason: str = ""
) -> DltRuleSet:
    """Store the trial's DLT definition after the core loader has checked it."""
    require_role(trial_roles(user=by, trial=trial), RULE_EDITORS, "change the DLT rules")
    data = parse_rule_document(document)
    try:
        dlt_rules_from_dict(data, source=f"DLT rules of {trial.protocol_code}")
    except OncotrialsError as exc:  # the loader names unknown terms with NotFoundError
        extra = {k: v for k, v in exc.extra.items() if k != "field"}
        raise ValidationError(exc.message, field="document", **extra) from None
    existing = DltRuleSet.objects.select_for_update().filter(trial=trial).first()
    if existing is None:
        rule_set = DltRuleSet.objects.create(trial=trial, document=data, updated_by=by)
        audit_record(action="create", instance=rule_set, changes={"document": [None, data]}, by=by)
        return rule_set
    if version is not None and version != existing.version:
        raise ConflictError(
            f"The DLT rules of {trial.protocol_code} are now version {existing.version}, not "
            f"{version}; reload them.",
            current_version=existing.version,
        )
    if not reason.strip():
        raise ValidationError("Give a reason for changing the DLT rules.", field="reason")
    old = existing.document
    existing.document, existing.updated_by, existing.updated_at = data, by, timezone.now()
    existing.version += 1
    existing.save()
    audit_record(
        action="update", instance=existing, changes={"document": [old, data]}, reason=reason, by=by
    )
    return existing


def _first_dose(registration: Registration) -> dt.date:
    return registration.treatment_start or registration.registered_on


def _strongest(attribution: Mapping[str, str], agents: list[str]) -> str | None:
    values = [attribution.get(a) for a in agents]
    if not agents or any(not v for v in values):
        return None  # missing causality leaves the event pending: the investigator's call
    return max((str(v) for v in values), key=RELATEDNESS.index)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


ASTCT_TERMS = {AstctScale.CRS.value: "Cytokine release syndrome", AstctScale.ICANS.value: "ICANS"}


def subject_data(registration: Registration, *, today: dt.date | None = None) -> SubjectData:
    """The registration's complete AEs and ASTCT courses as core DLT evaluation input.

    Every value was checked when it was saved (catalogue term, grade, dates), so the episodes are
    built directly rather than re-validated as a rule-file document on every save.
    """
    today = today or timezone.localdate()
    first = _first_dose(registration)
    agents = agents_for_registration(registration)
    episodes: list[Episode] = []
    rows = (
        AdverseEvent.objects.filter(
            registration=registration,
            status=RecordStatus.COMPLETE,
            grade__isnull=False,
            onset_date__isnull=False,
        )
        .order_by("pk")
        .values_list(
            "pk",
            "term",
            "grade",
            "onset_date",
            "resolution_date",
            "attribution",
            "supportive_care",
            "due_to_progression",
        )
    )
    for pk, term, grade, onset, resolution, attribution, supportive, progression in rows:
        assert onset is not None
        assert grade is not None
        course: list[tuple[dt.datetime, int]] = [(_midnight(onset), grade)]
        if resolution is not None:
            course.append((_midnight(resolution), 0))  # the day it fell below that grade
        episodes.append(
            Episode(
                id=f"AE-{pk}",
                term=term,
                scale="CTCAE",
                course=tuple(course),
                attribution=_strongest(attribution, agents),
                supportive_care=supportive,
                due_to_disease_progression=progression,
            )
        )
    by_scale: dict[str, list[AstctAssessment]] = {}
    for a in AstctAssessment.objects.filter(registration=registration).order_by(
        "assessed_at", "pk"
    ):
        by_scale.setdefault(a.scale, []).append(a)
    for scale, points in by_scale.items():
        if all(p.grade == 0 for p in points):
            continue
        attributions = [p.attribution for p in points if p.attribution]
        episodes.append(
            Episode(
                id=scale,
                term=ASTCT_TERMS[scale],
                scale=scale,
                course=tuple((p.assessed_at.astimezone(dt.UTC), p.grade) for p in points),
                attribution=max(attributions, key=RELATEDNESS.index) if attributions else None,
            )
        )
    return SubjectData(
        subject_id=registration.patient.research_id,
        first_dose=_midnight(first),
        episodes=tuple(episodes),
        followed_through_day=max((today - first).days + 1, 1),
    )


def dlt_reevaluate_quietly(
    ae: AdverseEvent, by: Any, *, onset_before: dt.date | None = None
) -> None:
    """Propose DLT cases after an AE change that touches the DLT window (no dosing change:
    that is the investigator's adjudication)."""
    registration = ae.registration
    if registration.dose_level_id is None:
        return
    found = dlt_rules_for(registration.trial)
    if found is None:
        return
    first = _first_dose(registration)
    last = first + dt.timedelta(days=found[1].window_days - 1)
    if not any(d is not None and first <= d <= last for d in (ae.onset_date, onset_before)):
        return
    _propose_cases(registration, found[0], found[1], by)  # already inside the AE's transaction


@transaction.atomic
def dlt_evaluate(
    *, registration: Registration, by: Any, sync_dosing: bool = True
) -> tuple[SubjectDecision, list[DltCase]]:
    """Evaluate the patient's events with the trial's DLT rules; propose cases for DLT/pending.

    When the caller may adjudicate (an investigator), the dosing state follows as well: no_dlt
    once the window has closed with every case rejected.
    """
    roles = roles_for_registration(by, registration)
    require_role(roles, WRITERS, "run the DLT review")
    found = dlt_rules_for(registration.trial)
    if found is None:
        raise ValidationError(
            f"{registration.trial.protocol_code} has no DLT rules yet; save its DLT definition "
            f"first.",
            field="trial",
        )
    rule_set, rules = found
    decision = _propose_cases(registration, rule_set, rules, by)
    if sync_dosing and roles & ADJUDICATORS:
        _dosing_sync(registration, rules, by, reason="DLT review evaluation")
    return decision, list(DltCase.objects.filter(registration=registration).order_by("pk"))


def _propose_cases(
    registration: Registration, rule_set: DltRuleSet, rules: DltRules, by: Any
) -> SubjectDecision:
    """Run the rules and bring the patient's proposed cases in line (call inside a transaction).

    The registration row is locked so that two saves for one patient never race on its cases.
    """
    Registration.objects.select_for_update().filter(pk=registration.pk).first()
    decision = evaluate_subject(subject_data(registration), rules)
    now = timezone.now()
    existing = {
        c.event_key: c
        for c in DltCase.objects.select_for_update()
        .filter(registration=registration)
        .order_by("pk")
    }
    wanted: set[str] = set()
    for ev in decision.events:
        if ev.outcome not in (Outcome.DLT, Outcome.PENDING):
            continue
        key = ev.event_id[:64]
        wanted.add(key)
        ae_id = int(key[3:]) if key.startswith("AE-") else None
        values = {
            "adverse_event_id": ae_id,
            "term": ev.term,
            "worst_grade": ev.worst_grade,
            "onset_day": ev.onset_day,
            "proposed_outcome": ev.outcome.value,
            "rule_id": ev.rule_id or "",
            "reason": ev.reason,
            "rules_version": rule_set.version,
        }
        case = existing.get(key)
        if case is None:
            case = DltCase.objects.create(
                registration=registration, event_key=key, evaluated_at=now, **values
            )
            audit_record(
                action="create",
                instance=case,
                changes={k: [None, v] for k, v in values.items()},
                by=by,
            )
        elif case.status == DltCaseStatus.PROPOSED:
            before = {k: getattr(case, k) for k in values}
            if before != values:
                for k, v in values.items():
                    setattr(case, k, v)
                case.evaluated_at = now
                case.version += 1
                case.save()
                audit_record(action="update", instance=case, changes=diff(before, values), by=by)
    for key, case in existing.items():
        if key not in wanted and case.status == DltCaseStatus.PROPOSED:
            audit_record(
                action="delete",
                instance=case,
                changes={"status": [case.status, None]},
                reason="the DLT rules no longer propose this event",
                by=by,
            )
            case.delete()
    return decision


def _dosing_sync(registration: Registration, rules: DltRules, by: Any, *, reason: str) -> str:
    """Drive the dosing state: dlt if a case is confirmed; no_dlt when the window has closed
    with every case rejected; pending otherwise."""
    from oncotrials.apps.dosing.models import DltAssessment, DltOutcome
    from oncotrials.apps.dosing.services import dlt_record

    if registration.dose_level_id is None:
        return DltOutcome.PENDING
    cases = list(DltCase.objects.filter(registration=registration))
    today = timezone.localdate()
    window_end = _first_dose(registration) + dt.timedelta(days=rules.window_days - 1)
    if any(c.status == DltCaseStatus.CONFIRMED for c in cases):
        target = DltOutcome.DLT
    elif today > window_end and not any(c.status == DltCaseStatus.PROPOSED for c in cases):
        target = DltOutcome.NO_DLT
    else:
        target = DltOutcome.PENDING
    existing = DltAssessment.objects.filter(registration=registration).first()
    if (existing is None and target == DltOutcome.PENDING) or (
        existing is not None and existing.outcome == target
    ):
        return target
    dlt_record(registration=registration, outcome=target, on=today, by=by, reason=reason)
    return target


@transaction.atomic
def dlt_case_adjudicate(
    *, case: DltCase, decision: str, reason: str, meaning: str, version: int, by: Any
) -> DltCase:
    """An investigator confirms or rejects a proposed DLT, signed; the dosing state follows."""
    registration = case.registration
    require_role(roles_for_registration(by, registration), ADJUDICATORS, "adjudicate DLTs")
    current = DltCase.objects.select_for_update().get(pk=case.pk)
    if current.version != version:
        raise ConflictError(
            f"DLT case {current.pk} is now version {current.version} (status {current.status}), "
            f"not {version}; reload it.",
            current_version=current.version,
        )
    if decision not in ("confirm", "reject"):
        raise ValidationError(
            f"decision must be confirm or reject; got {decision!r}.", field="decision"
        )
    if not reason.strip():
        raise ValidationError("Give the reason for your decision.", field="reason")
    if not meaning.strip():
        raise ValidationError(
            "State the meaning of your signature (e.g. 'I confirm this DLT assessment').",
            field="meaning",
        )
    found = dlt_rules_for(registration.trial)
    if found is None:
        raise ValidationError("The trial has no DLT rules.", field="trial")
    before = current.status
    current.status = DltCaseStatus.CONFIRMED if decision == "confirm" else DltCaseStatus.REJECTED
    current.adjudication_reason = reason.strip()
    current.signed_by = by
    current.signed_name = (by.get_full_name() or by.username)[:200]
    current.signed_at = timezone.now()
    current.signature_meaning = meaning.strip()[:200]
    current.version += 1
    current.save()
    audit_record(
        action="sign",
        instance=current,
        changes={
            "status": [before, current.status],
            "signed_by": [None, current.signed_name],
            "meaning": [None, current.signature_meaning],
        },
        reason=current.adjudication_reason,
        by=by,
    )
    _dosing_sync(
        registration,
        found[1],
        by,
        reason=f"DLT case {current.pk} {current.status}: {current.adjudication_reason}",
    )
    return current
