"""Writes of adverse events, SAE reports and CRS/ICANS assessments. Each service owns its
transaction, locks and audit event. The DLT review is in dlt_review, the toxicity board in
toxicity_board, the role sets in rights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, require
from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.services import audit_batch, audit_record, diff, model_snapshot
from oncotrials.apps.crfs.services import queries_close_for_void
from oncotrials.apps.subjects.models import Consent, Registration
from oncotrials.apps.trials.models import Modality
from oncotrials.core.errors import (
    ConflictError,
    NotFoundError,
    OncotrialsError,
    ValidationError,
)
from oncotrials.core.grading import grade_crs, grade_icans, load_catalogue
from oncotrials.core.grading.astct import (
    check_icans_age,
    crs_assessment_from_dict,
    icans_assessment_from_dict,
)

from .dlt_review import dlt_reevaluate_quietly
from .models import (
    ActionTaken,
    AdverseEvent,
    AeOutcome,
    AstctAssessment,
    AstctScale,
    DltCaseStatus,
    RecordStatus,
    SaeReport,
    SaeReportKind,
    Seriousness,
)
from .rights import (
    RELATEDNESS,
    agents_for_registration,
)
from .selectors import (
    CONSENT_SIGNED_ON,
    FOLLOW_UP_HOURS,
    INITIAL_REPORT_HOURS,
    REGISTRATION_LOCKED,
)

ASTCT_MODALITIES = frozenset({Modality.CELL_THERAPY.value})

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
VOID_FIELDS = ("voided_at", "voided_by", "void_reason")
RESOLVED_OUTCOMES = frozenset(
    {AeOutcome.RECOVERED.value, AeOutcome.RECOVERED_WITH_SEQUELAE.value, AeOutcome.FATAL.value}
)


def _collection_start(registration: Registration) -> dt.date:
    """AE collection starts at the trial consent (or at registration when none is recorded)."""
    if hasattr(registration, CONSENT_SIGNED_ON):  # read with it by registration_get_for_user
        read: dt.date | None = getattr(registration, CONSENT_SIGNED_ON)
        return read if read is not None else registration.registered_on
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
            gettext("%(field)s must be one of %(allowed)s; got %(value)s.")
            % {"field": field, "allowed": ", ".join(allowed), "value": repr(value)},
            field=field,
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
            gettext("%(field)s must be a date such as 2026-11-14; got %(value)s.")
            % {"field": field, "value": repr(value)},
            field=field,
        ) from None


def _clean_ae(data: Mapping[str, Any], registration: Registration) -> dict[str, Any]:
    """Check what must always hold (a draft included) and return the model values.

    Refused whatever the status: an unknown term, a grade the term does not define, a date in the
    future, before the collection start or a resolution before onset, unknown choices or agents.
    """
    unknown = sorted(set(data) - set(AE_INPUT))
    if unknown:
        raise ValidationError(
            gettext("Unknown field(s): %(unknown)s.") % {"unknown": ", ".join(unknown)},
            field=unknown[0],
        )
    catalogue = load_catalogue()
    term_name = str(data.get("term") or "").strip()
    code = data.get("meddra_code")
    try:
        if term_name:
            term = catalogue.term(term_name)
            if code not in (None, "") and int(str(code)) != term.meddra_code:
                raise ValidationError(
                    gettext(
                        "MedDRA code %(code)s is not the code of %(term)s (%(term_code)s); give "
                        "the term or its code, or both consistently."
                    )
                    % {"code": code, "term": repr(term.term), "term_code": term.meddra_code},
                    field="meddra_code",
                )
        elif code not in (None, ""):
            term = catalogue.by_meddra(str(code))
        else:
            raise ValidationError(
                gettext(
                    "Give the CTCAE term (or its MedDRA code); a draft needs at least the term."
                ),
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
            raise ValidationError(
                gettext("grade must be 1 to 5; got %(grade)s.") % {"grade": repr(grade)},
                field="grade",
            )
        g = int(str(grade))
        if not term.grade_exists(g):
            allowed = ", ".join(str(x) for x in term.defined_grades)
            raise ValidationError(
                gettext(
                    "Grade %(grade)s does not exist for CTCAE v5.0 term %(term)s; its defined "
                    "grades are %(allowed)s."
                )
                % {"grade": g, "term": repr(term.term), "allowed": allowed},
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
                gettext("%(date)s is in the future (today is %(today)s); record what happened.")
                % {"date": value.isoformat(), "today": today.isoformat()},
                field=name,
            )
        if value < start:
            raise ValidationError(
                gettext(
                    "%(date)s is before the start of AE collection for this patient (%(start)s, "
                    "consent or registration)."
                )
                % {"date": value.isoformat(), "start": start.isoformat()},
                field=name,
            )
    if onset and resolution and resolution < onset:
        raise ValidationError(
            gettext(
                "The resolution date (%(resolution)s) is before the onset date (%(onset)s); an "
                "event resolves on or after its onset."
            )
            % {"resolution": resolution.isoformat(), "onset": onset.isoformat()},
            field="resolution_date",
        )
    out["onset_date"], out["resolution_date"] = onset, resolution
    seriousness = data.get("seriousness") or []
    if not isinstance(seriousness, list | tuple):
        raise ValidationError(gettext("seriousness is a list of criteria."), field="seriousness")
    bad = [s for s in seriousness if s not in Seriousness.values]
    if bad:
        raise ValidationError(
            gettext("Unknown seriousness criterion %(bad)s; use %(allowed)s.")
            % {"bad": repr(bad[0]), "allowed": ", ".join(Seriousness.values)},
            field="seriousness",
        )
    out["seriousness"] = sorted(set(seriousness), key=Seriousness.values.index)
    out["serious"] = bool(out["seriousness"])
    attribution = data.get("attribution") or {}
    if not isinstance(attribution, Mapping):
        raise ValidationError(
            gettext("attribution maps each agent to a causality."), field="attribution"
        )
    agents = agents_for_registration(registration)
    for agent, value in attribution.items():
        if agent not in agents:
            raise ValidationError(
                gettext("%(agent)s is not an agent of this regimen; the agents are %(agents)s.")
                % {"agent": repr(agent), "agents": ", ".join(agents) or gettext("none declared")},
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


def completion_problems(
    ae: AdverseEvent, registration: Registration | None = None
) -> list[tuple[str, str]]:
    """What stops the record from being completed, as (field, message in plain words) in the
    active language; a missing causality names its field ``attribution__<agent>``."""
    reg = registration or ae.registration
    problems: list[tuple[str, str]] = []
    if ae.grade is None:
        problems.append(("grade", gettext("Give the CTCAE grade.")))
    if ae.onset_date is None:
        problems.append(("onset_date", gettext("Give the onset date.")))
    for agent in agents_for_registration(reg):
        if not ae.attribution.get(agent):
            problems.append(
                (
                    f"attribution__{agent}",
                    gettext("Give the causality for %(agent)s.") % {"agent": agent},
                )
            )
    if not ae.action_taken:
        problems.append(("action_taken", gettext("Say what was done with the study drug.")))
    if not ae.outcome:
        problems.append(("outcome", gettext("Give the outcome.")))
    elif ae.outcome in RESOLVED_OUTCOMES and ae.resolution_date is None:
        problems.append(
            (
                "resolution_date",
                gettext("An outcome of “%(outcome)s” needs the resolution date.")
                % {"outcome": AeOutcome(ae.outcome).label},
            )
        )
    if (ae.grade == 5) != (ae.outcome == AeOutcome.FATAL) and ae.grade and ae.outcome:
        problems.append(("outcome", gettext("Grade 5 (death) and a fatal outcome go together.")))
    if ae.grade == 5 and Seriousness.DEATH not in ae.seriousness:
        problems.append(
            ("seriousness", gettext("A grade 5 event is serious: tick “Results in death”."))
        )
    return problems


def completion_issues(ae: AdverseEvent, registration: Registration | None = None) -> list[str]:
    """What stops the record from being completed (shown on a draft; empty when complete-able),
    each as ``field: message``."""
    return [
        f"{field.split('__', 1)[0]}: {message}"
        for field, message in completion_problems(ae, registration)
    ]


def _awareness(value: Any, ae: AdverseEvent) -> dt.datetime:
    now = timezone.now()
    if value in (None, ""):
        return now
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(
                gettext("awareness_at must be an ISO date-time; got %(value)s.")
                % {"value": repr(value)},
                field="awareness_at",
            ) from None
    if not isinstance(value, dt.datetime):
        raise ValidationError(gettext("awareness_at must be a date-time."), field="awareness_at")
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    if value > now:
        raise ValidationError(
            gettext("The time of awareness cannot be in the future; got %(time)s.")
            % {"time": value.isoformat()},
            field="awareness_at",
        )
    aware: dt.datetime = value
    if ae.onset_date and aware.date() < ae.onset_date:
        raise ValidationError(
            gettext("The time of awareness cannot be before the onset of the event."),
            field="awareness_at",
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


def _atomic(read_locked: Any) -> Any:
    """The save's transaction. A registration (or AE) read locked by the caller was read in the
    caller's transaction, which is then this save's: no savepoint (two statements fewer); an
    error rolls the caller's transaction back with it."""
    return transaction.atomic(savepoint=not getattr(read_locked, REGISTRATION_LOCKED, False))


def adverse_event_create(
    *, registration: Registration, data: Mapping[str, Any], by: User, complete: bool = False
) -> AdverseEvent:
    """Record an AE as a draft (errors of completeness allowed) or complete (none allowed)."""
    with _atomic(registration):
        return _adverse_event_create(registration=registration, data=data, by=by, complete=complete)


def _adverse_event_create(
    *, registration: Registration, data: Mapping[str, Any], by: User, complete: bool
) -> AdverseEvent:
    require(by, Action.RECORD_AE, on=registration)
    values = _clean_ae(data, registration)
    now = timezone.now()
    ae = AdverseEvent(
        registration=registration, created_by=by, created_at=now, updated_at=now, **values
    )
    if complete:
        problems = completion_problems(ae, registration)
        if problems:
            issues = [f"{f.split('__', 1)[0]}: {m}" for f, m in problems]
            raise ValidationError(
                gettext("The adverse event cannot be completed: %(issues)s")
                % {"issues": " ".join(issues)},
                field=issues[0].split(":", 1)[0],
                issues=issues,
                problems=[list(p) for p in problems],
            )
        ae.status = RecordStatus.COMPLETE
        ae.first_completed_at = now
    _apply_sae_clock(ae, False, data.get("awareness_at"), True)
    # The AE's event and those of the DLT cases it proposes join the audit chain together, at
    # the end: one lock of the chain head per save, held for the shortest time.
    with audit_batch():
        ae.save()
        audit_record(
            action="create",
            instance=ae,
            changes={k: [None, v] for k, v in model_snapshot(ae, AE_FIELDS).items()},
            by=by,
        )
        if ae.status == RecordStatus.COMPLETE:
            dlt_reevaluate_quietly(ae, by)
    return ae


def adverse_event_update(
    *,
    ae: AdverseEvent,
    data: Mapping[str, Any],
    version: int,
    by: User,
    complete: bool = False,
    reason: str = "",
) -> AdverseEvent:
    """Replace the AE's values. A stale ``version`` is a conflict; after completion a reason is required."""
    with _atomic(ae):
        return _adverse_event_update(
            ae=ae, data=data, version=version, by=by, complete=complete, reason=reason
        )


def _adverse_event_update(
    *,
    ae: AdverseEvent,
    data: Mapping[str, Any],
    version: int,
    by: User,
    complete: bool,
    reason: str,
) -> AdverseEvent:
    registration = ae.registration
    require(by, Action.RECORD_AE, on=registration)
    if getattr(ae, REGISTRATION_LOCKED, False):  # read locked in this transaction: current
        current = ae
    else:
        current = AdverseEvent.objects.select_for_update().get(pk=ae.pk)
        current.registration = registration  # already read, with what the save checks against
    if current.version != version:
        raise ConflictError(
            gettext(
                "Adverse event %(id)s was changed by someone else (you edited version "
                "%(version)s; it is now version %(current)s). Reload it, check their change and "
                "apply yours again."
            )
            % {"id": current.pk, "version": version, "current": current.version},
            current_version=current.version,
            current=model_snapshot(current, AE_FIELDS),
        )
    if current.voided_at is not None:
        raise ConflictError(
            gettext("Adverse event %(id)s was voided (%(reason)s); it cannot be changed.")
            % {"id": current.pk, "reason": current.void_reason}
        )
    if current.first_completed_at is not None and not reason.strip():
        raise ValidationError(
            gettext("This adverse event has been completed before: give a reason for the change."),
            field="reason",
        )
    values = _clean_ae(data, registration)
    before = model_snapshot(current, AE_FIELDS)
    was_serious, onset_before = current.serious, current.onset_date
    for key, value in values.items():
        setattr(current, key, value)
    now = timezone.now()
    if complete:
        problems = completion_problems(current, registration)
        if problems:
            issues = [f"{f.split('__', 1)[0]}: {m}" for f, m in problems]
            raise ValidationError(
                gettext("The adverse event cannot be completed: %(issues)s")
                % {"issues": " ".join(issues)},
                field=issues[0].split(":", 1)[0],
                issues=issues,
                problems=[list(p) for p in problems],
            )
        current.status = RecordStatus.COMPLETE
        current.first_completed_at = current.first_completed_at or now
    else:
        current.status = RecordStatus.DRAFT
    changes = diff(before, model_snapshot(current, AE_FIELDS))
    _apply_sae_clock(current, was_serious, data.get("awareness_at"), bool(changes))
    current.version += 1
    current.updated_at = now
    with audit_batch():  # as in adverse_event_create: one append for the AE and its DLT cases
        current.save()
        audit_record(
            action="update", instance=current, changes=changes, reason=reason.strip(), by=by
        )
        dlt_reevaluate_quietly(current, by, onset_before=onset_before)
    return current


@transaction.atomic
def adverse_event_void(*, ae: AdverseEvent, version: int, by: User, reason: str) -> AdverseEvent:
    """Void an AE entered in error, with a reason; it is never deleted.

    A voided AE stays in the patient's list (struck through, with its reason) and in the
    casebook, so that its queries, verifications and signatures keep pointing at it; it leaves
    the counts, the summaries, the SAE clock and the DLT review (its proposed DLT cases are
    withdrawn). Its open queries are closed with a system note. Refused for an AE reported to
    the sponsor as an SAE (a follow-up report corrects it) or one that a signed adjudication
    holds as a confirmed DLT (revise the adjudication first)."""
    require(by, Action.RECORD_AE, on=ae.registration)
    current = AdverseEvent.objects.select_for_update().get(pk=ae.pk)
    current.registration = ae.registration
    if current.version != version:
        raise ConflictError(
            gettext("Adverse event %(id)s is now version %(current)s, not %(version)s.")
            % {"id": current.pk, "current": current.version, "version": version},
            current_version=current.version,
        )
    if current.voided_at is not None:
        raise ConflictError(gettext("Adverse event %(id)s is already voided.") % {"id": current.pk})
    if not reason.strip():
        raise ValidationError(gettext("Say why the adverse event is voided."), field="reason")
    if current.sae_reports.exists():
        raise ConflictError(
            gettext(
                "Adverse event %(id)s was reported to the sponsor as an SAE; correct it and send "
                "a follow-up report instead of voiding it."
            )
            % {"id": current.pk}
        )
    confirmed = current.dlt_cases.filter(status=DltCaseStatus.CONFIRMED).first()
    if confirmed is not None:
        raise ConflictError(
            gettext(
                "Adverse event %(id)s is a confirmed DLT (DLT case %(case)s, signed by "
                "%(signer)s); revise that adjudication on the DLT review before voiding the event."
            )
            % {"id": current.pk, "case": confirmed.pk, "signer": confirmed.signed_name}
        )
    before = model_snapshot(current, VOID_FIELDS)
    current.voided_at, current.voided_by, current.void_reason = timezone.now(), by, reason.strip()
    current.version += 1
    current.updated_at = current.voided_at
    with audit_batch():
        current.save()
        audit_record(
            action="void",
            instance=current,
            changes=diff(before, model_snapshot(current, VOID_FIELDS)),
            reason=current.void_reason,
            by=by,
        )
        queries_close_for_void(record=current, reason=current.void_reason, by=by)
        if current.status == RecordStatus.COMPLETE:
            dlt_reevaluate_quietly(current, by)
    return current


def adverse_event_delete(*, ae: AdverseEvent, version: int, by: User, reason: str) -> AdverseEvent:
    """An AE is never deleted: "delete" voids it (``adverse_event_void``)."""
    return adverse_event_void(ae=ae, version=version, by=by, reason=reason)


# ------------------------------------------------------------------------------- SAE reports


@transaction.atomic
def sae_report_record(
    *, ae: AdverseEvent, kind: str, sent_at: dt.datetime, by: User, notes: str = ""
) -> SaeReport:
    """Record that an initial or follow-up SAE report was sent to the sponsor."""
    require(by, Action.REPORT_SAE, on=ae.registration)
    current = AdverseEvent.objects.select_for_update().get(pk=ae.pk)
    if current.voided_at is not None:
        raise ConflictError(
            gettext("Adverse event %(current_id)s was voided; it is not reported.")
            % {"current_id": current.pk}
        )
    if not current.serious or current.sae_aware_at is None:
        raise ValidationError(
            gettext(
                "Adverse event %(current_id)s is not serious; only serious AEs are reported on "
                "the SAE clock."
            )
            % {"current_id": current.pk},
            field="kind",
        )
    if kind not in SaeReportKind.values:
        raise ValidationError(
            gettext("kind must be one of %(allowed)s; got %(kind)s.")
            % {"allowed": ", ".join(SaeReportKind.values), "kind": repr(kind)},
            field="kind",
        )
    if timezone.is_naive(sent_at):
        sent_at = timezone.make_aware(sent_at, dt.UTC)
    if sent_at > timezone.now():
        raise ValidationError(gettext("sent_at cannot be in the future."), field="sent_at")
    if sent_at < current.sae_aware_at:
        raise ValidationError(
            gettext("sent_at cannot be before the site became aware of the SAE (%(sae_aware_at)s).")
            % {"sae_aware_at": current.sae_aware_at.isoformat()},
            field="sent_at",
        )
    reports = list(current.sae_reports.all())
    has_initial = any(r.kind == SaeReportKind.INITIAL for r in reports)
    if kind == SaeReportKind.INITIAL and has_initial:
        raise ConflictError(
            gettext("The initial report of AE %(current_id)s has already been recorded.")
            % {"current_id": current.pk}
        )
    if kind == SaeReportKind.FOLLOW_UP and not has_initial:
        raise ValidationError(
            gettext("Record the initial report before a follow-up."), field="kind"
        )
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
    by: User,
    attribution: str = "",
) -> AstctAssessment:
    """Grade one CRS or ICANS assessment with the ASTCT consensus and keep findings and grade."""
    require(by, Action.RECORD_AE, on=registration)
    if registration.trial.modality not in ASTCT_MODALITIES:
        raise ValidationError(
            gettext(
                "%(trial)s is a %(modality)s trial; CRS and ICANS are graded with ASTCT for "
                "cell therapies and immune cell engagers only."
            )
            % {"trial": registration.trial, "modality": registration.trial.get_modality_display()},
            field="scale",
        )
    if scale not in AstctScale.values:
        raise ValidationError(
            gettext("scale must be one of %(allowed)s; got %(scale)s.")
            % {"allowed": ", ".join(AstctScale.values), "scale": repr(scale)},
            field="scale",
        )
    if timezone.is_naive(assessed_at):
        assessed_at = timezone.make_aware(assessed_at, dt.UTC)
    if assessed_at > timezone.now():
        raise ValidationError(gettext("assessed_at cannot be in the future."), field="assessed_at")
    if assessed_at.date() < registration.registered_on:
        raise ValidationError(
            gettext("assessed_at cannot be before registration."), field="assessed_at"
        )
    attribution = _choice(attribution, RELATEDNESS, "attribution")
    params = dict(parameters)
    try:
        if scale == AstctScale.CRS:
            result = grade_crs(crs_assessment_from_dict(params, where="parameters"))
        else:
            # The patient's age is at most the years since their year of birth: certainly under
            # 12 means a child graded with the CAPD (capd_score), not the ICE score (refused,
            # with the reason).
            check_icans_age(
                assessed_at.year - registration.patient.year_of_birth,
                where="parameters",
                capd=params.get("capd_score") is not None,
            )
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
