"""Writes of safety data. Each service owns its transaction, locks and audit event."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from oncotrials.apps.accounts.access import scope_for
from oncotrials.apps.accounts.models import Role, Site
from oncotrials.apps.audit.services import audit_record, diff, model_snapshot
from oncotrials.apps.subjects.models import Consent, Registration
from oncotrials.apps.subjects.services import CLINICAL_WRITERS
from oncotrials.apps.trials.models import Modality, Trial
from oncotrials.apps.trials.selectors import trial_roles
from oncotrials.core.errors import (
    ConflictError,
    NotFoundError,
    OncotrialsError,
    PermissionDeniedError,
    ValidationError,
)
from oncotrials.core.grading import (
    DltRules,
    Outcome,
    SubjectDecision,
    dlt_rules_from_dict,
    evaluate_subject,
    grade_crs,
    grade_icans,
    load_catalogue,
)
from oncotrials.core.grading.astct import crs_assessment_from_dict, icans_assessment_from_dict
from oncotrials.core.grading.dlt import Episode, SubjectData

from .models import (
    ActionTaken,
    AdverseEvent,
    AeOutcome,
    AstctAssessment,
    AstctScale,
    Attribution,
    DltCase,
    DltCaseStatus,
    DltRuleSet,
    RecordStatus,
    SaeReport,
    SaeReportKind,
    Seriousness,
    ToxicityBoardCase,
    ToxicityBoardMeeting,
)
from .selectors import FOLLOW_UP_HOURS, INITIAL_REPORT_HOURS, roles_for_registration

WRITERS = frozenset(r.value for r in CLINICAL_WRITERS)
SAE_REPORTERS = WRITERS | {Role.PHARMACOVIGILANCE.value}
ADJUDICATORS = frozenset({Role.INVESTIGATOR.value, Role.ADMINISTRATOR.value})
RULE_EDITORS = frozenset(
    {Role.INVESTIGATOR.value, Role.DATA_MANAGER.value, Role.ADMINISTRATOR.value}
)
BOARD_MEMBERS = WRITERS | {Role.PHARMACOVIGILANCE.value}
ASTCT_MODALITIES = frozenset({Modality.CELL_THERAPY.value})
RELATEDNESS = [a.value for a in Attribution]  # weakest to strongest

AE_FIELDS = (
    "term",
    "meddra_code",
    "soc",
    "verbatim",
    "grade",
    "onset_date",
    "resolution_date",
    "seriousness",
    "serious",
    "attribution",
    "action_taken",
    "outcome",
    "immune_related",
    "expected",
    "supportive_care",
    "due_to_progression",
    "status",
)
# What a client may send: the clinical fields plus the SAE awareness time.
AE_INPUT = (
    "term",
    "meddra_code",
    "verbatim",
    "grade",
    "onset_date",
    "resolution_date",
    "seriousness",
    "attribution",
    "action_taken",
    "outcome",
    "immune_related",
    "expected",
    "supportive_care",
    "due_to_progression",
    "awareness_at",
)
RESOLVED_OUTCOMES = frozenset(
    {AeOutcome.RECOVERED.value, AeOutcome.RECOVERED_WITH_SEQUELAE.value, AeOutcome.FATAL.value}
)


def _require(roles: set[str], allowed: frozenset[str], what: str) -> None:
    if not roles & allowed:
        raise PermissionDeniedError(f"Your role does not allow you to {what}.")


def agents_for_registration(registration: Registration) -> list[str]:
    """The agents of the patient's regimen: every agent of the cohort's dose levels, in order."""
    cached = getattr(registration, "_safety_agents", None)
    if cached is not None:
        return list(cached)
    seen: list[str] = []
    levels = sorted(registration.cohort.dose_levels.all(), key=lambda d: (d.level, d.pk))
    for agent in (d.agent for d in levels):  # .all(): uses a prefetch when the list has one
        if agent not in seen:
            seen.append(agent)
    setattr(registration, "_safety_agents", tuple(seen))  # noqa: B010 - per-request cache
    return seen


def _collection_start(registration: Registration) -> dt.date:
    """AE collection starts at the trial consent (or at registration when none is recorded)."""
    signed = (
        Consent.objects.filter(
            patient_id=registration.patient_id, form__trial_id=registration.trial_id
        )
        .order_by("signed_on")
        .values_list("signed_on", flat=True)
        .first()
    )
    return signed if signed is not None else registration.registered_on


def _choice(value: Any, allowed: list[str], field: str) -> str:
    if value in (None, ""):
        return ""
    if value not in allowed:
        raise ValidationError(
            f"{field} must be one of {', '.join(allowed)}; got {value!r}.", field=field
        )
    return str(value)


def _date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(
            f"{field} must be a date such as 2026-11-14; got {value!r}.", field=field
        ) from None


def _clean_ae(data: Mapping[str, Any], registration: Registration) -> dict[str, Any]:
    """Check what must always hold (a draft included) and return the model values.

    Refused whatever the status: an unknown term, a grade the term does not define, a date in the
    future, before the collection start or a resolution before onset, unknown choices or agents.
    """
    unknown = sorted(set(data) - set(AE_INPUT))
    if unknown:
        raise ValidationError(f"Unknown field(s): {', '.join(unknown)}.", field=unknown[0])
    catalogue = load_catalogue()
    term_name = str(data.get("term") or "").strip()
    code = data.get("meddra_code")
    try:
        if term_name:
            term = catalogue.term(term_name)
            if code not in (None, "") and int(str(code)) != term.meddra_code:
                raise ValidationError(
                    f"MedDRA code {code} is not the code of {term.term!r} ({term.meddra_code}); "
                    f"give the term or its code, or both consistently.",
                    field="meddra_code",
                )
        elif code not in (None, ""):
            term = catalogue.by_meddra(str(code))
        else:
            raise ValidationError(
                "Give the CTCAE term (or its MedDRA code); a draft needs at least the term.",
                field="term",
            )
    except NotFoundError as exc:
        raise ValidationError(exc.message, field="term") from None
    out: dict[str, Any] = {"term": term.term, "meddra_code": term.meddra_code, "soc": term.soc}
    grade = data.get("grade")
    if grade in (None, ""):
        out["grade"] = None
    else:
        if isinstance(grade, bool) or not str(grade).isdigit():
            raise ValidationError(f"grade must be 1 to 5; got {grade!r}.", field="grade")
        g = int(str(grade))
        if not term.grade_exists(g):
            allowed = ", ".join(str(x) for x in term.defined_grades)
            raise ValidationError(
                f"Grade {g} does not exist for CTCAE v5.0 term {term.term!r}; "
                f"its defined grades are {allowed}.",
                field="grade",
            )
        out["grade"] = g
    today = timezone.localdate()
    start = _collection_start(registration)
    onset = _date(data.get("onset_date"), "onset_date")
    resolution = _date(data.get("resolution_date"), "resolution_date")
    for name, value in (("onset_date", onset), ("resolution_date", resolution)):
        if value is None:
            continue
        if value > today:
            raise ValidationError(
                f"{name} cannot be in the future; got {value.isoformat()} (today is "
                f"{today.isoformat()}).",
                field=name,
            )
        if value < start:
            raise ValidationError(
                f"{name} {value.isoformat()} is before the start of AE collection for this "
                f"patient ({start.isoformat()}, consent or registration).",
                field=name,
            )
    if onset and resolution and resolution < onset:
        raise ValidationError(
            f"resolution_date ({resolution.isoformat()}) is before onset_date "
            f"({onset.isoformat()}); an event resolves on or after its onset.",
            field="resolution_date",
        )
    out["onset_date"], out["resolution_date"] = onset, resolution
    seriousness = data.get("seriousness") or []
    if not isinstance(seriousness, list | tuple):
        raise ValidationError("seriousness is a list of criteria.", field="seriousness")
    bad = [s for s in seriousness if s not in Seriousness.values]
    if bad:
        raise ValidationError(
            f"Unknown seriousness criterion {bad[0]!r}; use {', '.join(Seriousness.values)}.",
            field="seriousness",
        )
    out["seriousness"] = sorted(set(seriousness), key=Seriousness.values.index)
    out["serious"] = bool(out["seriousness"])
    attribution = data.get("attribution") or {}
    if not isinstance(attribution, Mapping):
        raise ValidationError("attribution maps each agent to a causality.", field="attribution")
    agents = agents_for_registration(registration)
    for agent, value in attribution.items():
        if agent not in agents:
            raise ValidationError(
                f"{agent!r} is not an agent of this regimen; the agents are "
                f"{', '.join(agents) or 'none declared'}.",
                field="attribution",
            )
        _choice(value, RELATEDNESS, f"attribution of {agent}")
    out["attribution"] = {a: attribution[a] for a in agents if attribution.get(a)}
    out["action_taken"] = _choice(data.get("action_taken"), ActionTaken.values, "action_taken")
    out["outcome"] = _choice(data.get("outcome"), AeOutcome.values, "outcome")
    out["verbatim"] = str(data.get("verbatim") or "")[:500]
    for flag in ("immune_related", "supportive_care", "due_to_progression"):
        out[flag] = bool(data.get(flag, False))
    out["expected"] = bool(data.get("expected", True))
    return out


def completion_issues(ae: AdverseEvent, registration: Registration | None = None) -> list[str]:
    """What stops the record from being completed (shown on a draft; empty when complete-able)."""
    reg = registration or ae.registration
    issues: list[str] = []
    if ae.grade is None:
        issues.append("grade: give the CTCAE grade.")
    if ae.onset_date is None:
        issues.append("onset_date: give the onset date.")
    missing = [a for a in agents_for_registration(reg) if not ae.attribution.get(a)]
    if missing:
        issues.append(f"attribution: give the causality for {', '.join(missing)}.")
    if not ae.action_taken:
        issues.append("action_taken: say what was done with the study drug.")
    if not ae.outcome:
        issues.append("outcome: give the outcome.")
    elif ae.outcome in RESOLVED_OUTCOMES and ae.resolution_date is None:
        issues.append(f"resolution_date: an outcome of {ae.outcome} needs the resolution date.")
    if (ae.grade == 5) != (ae.outcome == AeOutcome.FATAL) and ae.grade and ae.outcome:
        issues.append("outcome: grade 5 (death) and a fatal outcome go together.")
    if ae.grade == 5 and Seriousness.DEATH not in ae.seriousness:
        issues.append("seriousness: a grade 5 event is serious (results in death).")
    return issues


def _awareness(value: Any, ae: AdverseEvent) -> dt.datetime:
    now = timezone.now()
    if value in (None, ""):
        return now
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                f"awareness_at must be an ISO date-time; got {value!r}.", field="awareness_at"
            ) from None
    if not isinstance(value, dt.datetime):
        raise ValidationError("awareness_at must be a date-time.", field="awareness_at")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    if value > now:
        raise ValidationError(
            f"awareness_at cannot be in the future; got {value.isoformat()}.", field="awareness_at"
        )
    aware: dt.datetime = value
    if ae.onset_date and aware.date() < ae.onset_date:
        raise ValidationError(
            "awareness_at cannot be before the onset of the event.", field="awareness_at"
        )
    return aware


def _apply_sae_clock(ae: AdverseEvent, was_serious: bool, awareness: Any, changed: bool) -> None:
    if ae.serious and ae.sae_aware_at is None:
        ae.sae_aware_at = _awareness(awareness, ae)
    elif (
        ae.serious
        and was_serious
        and changed
        and ae.pk is not None
        and (
            ae.sae_reports.filter(kind=SaeReportKind.INITIAL).exists()
            and ae.sae_followup_due_at is None
        )
    ):
        ae.sae_followup_due_at = timezone.now() + dt.timedelta(hours=FOLLOW_UP_HOURS)


@transaction.atomic
def adverse_event_create(
    *, registration: Registration, data: Mapping[str, Any], by: Any, complete: bool = False
) -> AdverseEvent:
    """Record an AE as a draft (errors of completeness allowed) or complete (none allowed)."""
    _require(roles_for_registration(by, registration), WRITERS, "record adverse events")
    values = _clean_ae(data, registration)
    now = timezone.now()
    ae = AdverseEvent(
        registration=registration, created_by=by, created_at=now, updated_at=now, **values
    )
    if complete:
        issues = completion_issues(ae, registration)
        if issues:
            raise ValidationError(
                "The adverse event cannot be completed: " + " ".join(issues),
                field=issues[0].split(":", 1)[0],
                issues=issues,
            )
        ae.status = RecordStatus.COMPLETE
        ae.first_completed_at = now
    _apply_sae_clock(ae, False, data.get("awareness_at"), True)
    ae.save()
    if ae.status == RecordStatus.COMPLETE:
        _evaluate_quietly(ae, by)
    # Last, so that the audit chain's head stays locked for the shortest time.
    audit_record(
        action="create",
        instance=ae,
        changes={k: [None, v] for k, v in model_snapshot(ae, AE_FIELDS).items()},
        by=by,
    )
    return ae


@transaction.atomic
def adverse_event_update(
    *,
    ae: AdverseEvent,
    data: Mapping[str, Any],
    version: int,
    by: Any,
    complete: bool = False,
    reason: str = "",
) -> AdverseEvent:
    """Replace the AE's values. A stale ``version`` is a conflict; after completion a reason is required."""
    registration = ae.registration
    _require(roles_for_registration(by, registration), WRITERS, "change adverse events")
    current = AdverseEvent.objects.select_for_update().get(pk=ae.pk)
    if current.version != version:
        raise ConflictError(
            f"Adverse event {current.pk} was changed by someone else (you edited version "
            f"{version}; it is now version {current.version}). Reload it, check their change "
            f"and apply yours again.",
            current_version=current.version,
            current=model_snapshot(current, AE_FIELDS),
        )
    if current.first_completed_at is not None and not reason.strip():
        raise ValidationError(
            "This adverse event has been completed before: give a reason for the change.",
            field="reason",
        )
    values = _clean_ae(data, registration)
    before = model_snapshot(current, AE_FIELDS)
    was_serious, onset_before = current.serious, current.onset_date
    for key, value in values.items():
        setattr(current, key, value)
    now = timezone.now()
    if complete:
        issues = completion_issues(current, registration)
        if issues:
            raise ValidationError(
                "The adverse event cannot be completed: " + " ".join(issues),
                field=issues[0].split(":", 1)[0],
                issues=issues,
            )
        current.status = RecordStatus.COMPLETE
        current.first_completed_at = current.first_completed_at or now
    else:
        current.status = RecordStatus.DRAFT
    changes = diff(before, model_snapshot(current, AE_FIELDS))
    _apply_sae_clock(current, was_serious, data.get("awareness_at"), bool(changes))
    current.version += 1
    current.updated_at = now
    current.save()
    _evaluate_quietly(current, by, onset_before=onset_before)
    audit_record(action="update", instance=current, changes=changes, reason=reason.strip(), by=by)
    return current


@transaction.atomic
def adverse_event_delete(*, ae: AdverseEvent, version: int, by: Any, reason: str) -> None:
    """Delete an AE entered by mistake: only a draft never completed, with a reason."""
    _require(roles_for_registration(by, ae.registration), WRITERS, "delete adverse events")
    current = AdverseEvent.objects.select_for_update().get(pk=ae.pk)
    if current.version != version:
        raise ConflictError(
            f"Adverse event {current.pk} is now version {current.version}, not {version}.",
            current_version=current.version,
        )
    if current.first_completed_at is not None or current.sae_reports.exists():
        raise ConflictError(
            f"Adverse event {current.pk} has been completed or reported; correct it instead "
            f"of deleting it."
        )
    if not reason.strip():
        raise ValidationError("Say why the adverse event is deleted.", field="reason")
    audit_record(
        action="delete",
        instance=current,
        changes={k: [v, None] for k, v in model_snapshot(current, AE_FIELDS).items()},
        reason=reason.strip(),
        by=by,
    )
    current.delete()


# ------------------------------------------------------------------------------- SAE reports


@transaction.atomic
def sae_report_record(
    *, ae: AdverseEvent, kind: str, sent_at: dt.datetime, by: Any, notes: str = ""
) -> SaeReport:
    """Record that an initial or follow-up SAE report was sent to the sponsor."""
    _require(roles_for_registration(by, ae.registration), SAE_REPORTERS, "record SAE reports")
    current = AdverseEvent.objects.select_for_update().get(pk=ae.pk)
    if not current.serious or current.sae_aware_at is None:
        raise ValidationError(
            f"Adverse event {current.pk} is not serious; only serious AEs are reported on the "
            f"SAE clock.",
            field="kind",
        )
    if kind not in SaeReportKind.values:
        raise ValidationError(
            f"kind must be one of {', '.join(SaeReportKind.values)}; got {kind!r}.", field="kind"
        )
    if timezone.is_naive(sent_at):
        sent_at = timezone.make_aware(sent_at, dt.UTC)
    if sent_at > timezone.now():
        raise ValidationError("sent_at cannot be in the future.", field="sent_at")
    if sent_at < current.sae_aware_at:
        raise ValidationError(
            "sent_at cannot be before the site became aware of the SAE "
            f"({current.sae_aware_at.isoformat()}).",
            field="sent_at",
        )
    reports = list(current.sae_reports.all())
    has_initial = any(r.kind == SaeReportKind.INITIAL for r in reports)
    if kind == SaeReportKind.INITIAL and has_initial:
        raise ConflictError(f"The initial report of AE {current.pk} has already been recorded.")
    if kind == SaeReportKind.FOLLOW_UP and not has_initial:
        raise ValidationError("Record the initial report before a follow-up.", field="kind")
    if kind == SaeReportKind.INITIAL:
        due = current.sae_aware_at + dt.timedelta(hours=INITIAL_REPORT_HOURS)
    else:
        due = current.sae_followup_due_at or sent_at
        current.sae_followup_due_at = None
        current.save(update_fields=["sae_followup_due_at"])
    report = SaeReport.objects.create(
        adverse_event=current,
        kind=kind,
        sequence=len(reports) + 1,
        due_at=due,
        sent_at=sent_at,
        sent_by=by,
        notes=notes,
    )
    audit_record(
        action="create",
        instance=report,
        changes={"kind": [None, kind], "sent_at": [None, sent_at], "due_at": [None, due]},
        by=by,
    )
    return report


# ---------------------------------------------------------------------------- CRS and ICANS


@transaction.atomic
def astct_assessment_record(
    *,
    registration: Registration,
    scale: str,
    assessed_at: dt.datetime,
    parameters: Mapping[str, Any],
    by: Any,
    attribution: str = "",
) -> AstctAssessment:
    """Grade one CRS or ICANS assessment with the ASTCT consensus and keep findings and grade."""
    _require(roles_for_registration(by, registration), WRITERS, "record CRS/ICANS assessments")
    if registration.trial.modality not in ASTCT_MODALITIES:
        raise ValidationError(
            f"{registration.trial} is a {registration.trial.get_modality_display()} trial; CRS and "
            f"ICANS are graded with ASTCT for cell therapies and immune cell engagers only.",
            field="scale",
        )
    if scale not in AstctScale.values:
        raise ValidationError(
            f"scale must be one of {', '.join(AstctScale.values)}; got {scale!r}.", field="scale"
        )
    if timezone.is_naive(assessed_at):
        assessed_at = timezone.make_aware(assessed_at, dt.UTC)
    if assessed_at > timezone.now():
        raise ValidationError("assessed_at cannot be in the future.", field="assessed_at")
    if assessed_at.date() < registration.registered_on:
        raise ValidationError("assessed_at cannot be before registration.", field="assessed_at")
    attribution = _choice(attribution, RELATEDNESS, "attribution")
    params = dict(parameters)
    try:
        if scale == AstctScale.CRS:
            result = grade_crs(crs_assessment_from_dict(params, where="parameters"))
        else:
            result = grade_icans(icans_assessment_from_dict(params, where="parameters"))
    except OncotrialsError as exc:
        raise ValidationError(exc.message, field="parameters") from None
    record = AstctAssessment.objects.create(
        registration=registration,
        scale=scale,
        assessed_at=assessed_at,
        parameters=params,
        grade=result.grade,
        rule=result.rule,
        decided_by=list(result.decided_by),
        ice_score=result.ice_score,
        attribution=attribution,
        recorded_by=by,
    )
    audit_record(
        action="create",
        instance=record,
        changes={"parameters": [None, params], "grade": [None, result.grade]},
        by=by,
    )
    return record


# ------------------------------------------------------------------------------- DLT review


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
    _require(trial_roles(user=by, trial=trial), RULE_EDITORS, "change the DLT rules")
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


def _evaluate_quietly(ae: AdverseEvent, by: Any, *, onset_before: dt.date | None = None) -> None:
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
    _require(roles, WRITERS, "run the DLT review")
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
    _require(roles_for_registration(by, registration), ADJUDICATORS, "adjudicate DLTs")
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


# ---------------------------------------------------------------------------- toxicity board


def _site_roles(user: Any, site: Site) -> set[str]:
    scope = scope_for(user)
    if scope.is_admin:
        return {Role.ADMINISTRATOR.value}
    return set(scope.site_roles.get(site.pk, frozenset()))


@transaction.atomic
def toxicity_meeting_create(
    *, site: Site, held_on: dt.date, title: str, by: Any
) -> ToxicityBoardMeeting:
    _require(_site_roles(by, site), BOARD_MEMBERS, "schedule toxicity board meetings")
    if not title.strip():
        raise ValidationError("Give the meeting a title.", field="title")
    meeting = ToxicityBoardMeeting.objects.create(
        site=site, held_on=held_on, title=title.strip(), created_by=by
    )
    audit_record(
        action="create",
        instance=meeting,
        changes={"held_on": [None, held_on], "title": [None, title]},
        by=by,
    )
    return meeting


def _why(ae: AdverseEvent) -> str:
    reasons = []
    if ae.immune_related:
        reasons.append("immune-related")
    if not ae.expected:
        reasons.append("unexpected")
    return f"grade {ae.grade} " + " and ".join(reasons)


@transaction.atomic
def toxicity_cases_build(*, meeting: ToxicityBoardMeeting, by: Any) -> list[ToxicityBoardCase]:
    """Add to the agenda every complete grade >= 3 immune-related or unexpected AE of the site
    not yet reviewed by a meeting."""
    from django.db.models import Q

    _require(_site_roles(by, meeting.site), BOARD_MEMBERS, "prepare the toxicity board")
    candidates = (
        AdverseEvent.objects.filter(
            registration__patient__site=meeting.site,
            status=RecordStatus.COMPLETE,
            grade__gte=3,
        )
        .filter(Q(immune_related=True) | Q(expected=False))
        .exclude(toxicity_cases__isnull=False)
        .order_by("pk")
    )
    created = []
    for ae in candidates:
        case = ToxicityBoardCase.objects.create(meeting=meeting, adverse_event=ae, why=_why(ae))
        audit_record(
            action="create", instance=case, changes={"adverse_event": [None, ae.pk]}, by=by
        )
        created.append(case)
    return created


@transaction.atomic
def toxicity_recommend(
    *, case: ToxicityBoardCase, recommendation: str, version: int, by: Any, reason: str = ""
) -> ToxicityBoardCase:
    _require(_site_roles(by, case.meeting.site), ADJUDICATORS, "record board recommendations")
    current = ToxicityBoardCase.objects.select_for_update().get(pk=case.pk)
    if current.version != version:
        raise ConflictError(
            f"Case {current.pk} is now version {current.version}, not {version}; reload it.",
            current_version=current.version,
        )
    if not recommendation.strip():
        raise ValidationError("Write the board's recommendation.", field="recommendation")
    if current.recommendation and not reason.strip():
        raise ValidationError("Give a reason for changing the recommendation.", field="reason")
    old = current.recommendation
    current.recommendation = recommendation.strip()
    current.recommended_by, current.recommended_at = by, timezone.now()
    current.version += 1
    current.save()
    audit_record(
        action="update",
        instance=current,
        changes={"recommendation": [old or None, current.recommendation]},
        reason=reason,
        by=by,
    )
    return current
