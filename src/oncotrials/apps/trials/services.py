"""Writes to the portfolio. Each service owns its transaction and its audit event."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.audit.services import audit_record, diff, model_snapshot
from oncotrials.core.errors import ConflictError, ValidationError

from .models import (
    STATUS_TRANSITIONS,
    Cohort,
    CohortKind,
    DoseLevel,
    Modality,
    Phase,
    SponsorType,
    Trial,
    TrialSite,
    TrialStatus,
    TrialStatusChange,
    VisitScheduleDefinition,
)

_ONCOTREE_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,19}$")
_NCT = re.compile(r"^NCT\d{8}$")
_EU_CT = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}$")

TRIAL_FIELDS = (
    "protocol_code",
    "title",
    "short_title",
    "eu_ct_number",
    "nct_number",
    "sponsor",
    "sponsor_type",
    "phase",
    "modality",
    "tumour_types",
    "targets",
    "eligibility",
)


def _choice(field: str, value: Any, choices: Any) -> str:
    allowed = [c.value for c in choices]
    if value not in allowed:
        raise ValidationError(
            f"{field} must be one of {', '.join(allowed)}; got {value!r}.", field=field
        )
    return str(value)


def _clean_trial_data(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = set(data) - set(TRIAL_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown trial field(s): {', '.join(sorted(unknown))}.")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in {"protocol_code", "title", "sponsor"}:
            value = (value or "").strip()
            if not value:
                raise ValidationError(f"{key} must not be empty.", field=key)
        elif key == "phase":
            value = _choice(key, value, Phase)
        elif key == "modality":
            value = _choice(key, value, Modality)
        elif key == "sponsor_type":
            value = _choice(key, value, SponsorType)
        elif key == "nct_number" and value and not _NCT.match(value):
            raise ValidationError(
                f"nct_number must look like NCT01234567; got {value!r}.", field=key
            )
        elif key == "eu_ct_number" and value and not _EU_CT.match(value):
            raise ValidationError(
                f"eu_ct_number must look like 2023-501234-12-00; got {value!r}.", field=key
            )
        elif key == "tumour_types":
            value = [str(v).strip().upper() for v in (value or [])]
            bad = [v for v in value if not _ONCOTREE_CODE.match(v)]
            if bad:
                raise ValidationError(
                    f"tumour_types must be OncoTree codes such as NSCLC; got {bad[0]!r}.",
                    field=key,
                )
        elif key == "targets":
            value = [str(v).strip() for v in (value or []) if str(v).strip()]
        elif key == "eligibility":
            value = list(value or [])
            for i, c in enumerate(value):
                if (
                    not isinstance(c, dict)
                    or c.get("kind") not in ("inclusion", "exclusion")
                    or not str(c.get("text", "")).strip()
                ):
                    raise ValidationError(
                        f"eligibility[{i}] must be {{'kind': 'inclusion'|'exclusion', 'text': ...}}; got {c!r}.",
                        field=key,
                    )
        out[key] = value
    if not partial:
        missing = {"protocol_code", "title", "sponsor", "sponsor_type", "phase", "modality"} - set(
            out
        )
        if missing:
            raise ValidationError(f"Missing trial field(s): {', '.join(sorted(missing))}.")
    return out


@transaction.atomic
def trial_create(
    *, data: Mapping[str, Any], sites: Sequence[Site], by: User, lead_site: Site | None = None
) -> Trial:
    clean = _clean_trial_data(data, partial=False)
    if not sites:
        raise ValidationError("A trial needs at least one participating site.", field="sites")
    if Trial.objects.filter(protocol_code=clean["protocol_code"]).exists():
        raise ConflictError(
            f"A trial with protocol code {clean['protocol_code']!r} already exists."
        )
    trial = Trial(**clean)
    trial._history_user = by  # type: ignore[attr-defined]
    trial.save()
    lead = lead_site or sites[0]
    for site in sites:
        TrialSite.objects.create(trial=trial, site=site, is_lead=site.pk == lead.pk)
    TrialStatusChange.objects.create(
        trial=trial,
        from_status="",
        to_status=trial.status,
        changed_at=timezone.now(),
        changed_by=by,
        reason="Created",
    )
    audit_record(
        action="create",
        instance=trial,
        changes={k: [None, v] for k, v in model_snapshot(trial).items()}
        | {"sites": [None, sorted(s.code for s in sites)]},
        by=by,
    )
    return trial


@transaction.atomic
def trial_update(
    *, trial: Trial, changes: Mapping[str, Any], by: User, reason: str, expected_version: int
) -> Trial:
    """Change trial fields. ``expected_version`` is the version the user edited: a stale edit is
    refused with a conflict, never silently applied over someone else's change."""
    if not reason.strip():
        raise ValidationError("A reason for change is required to edit a trial.", field="reason")
    clean = _clean_trial_data(changes, partial=True)
    locked = Trial.objects.select_for_update().get(pk=trial.pk)
    if locked.version != expected_version:
        raise ConflictError(
            f"Trial {locked.protocol_code} was changed by someone else (version {locked.version},"
            f" you edited version {expected_version}); reload and apply your change again.",
            current_version=locked.version,
        )
    before = model_snapshot(locked, clean.keys())
    for key, value in clean.items():
        setattr(locked, key, value)
    after = model_snapshot(locked, clean.keys())
    delta = diff(before, after)
    if not delta:
        return locked
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = reason  # type: ignore[attr-defined]
    try:
        locked.save()
    except IntegrityError:
        raise ConflictError("Another trial already uses that protocol code.") from None
    audit_record(action="update", instance=locked, changes=delta, reason=reason, by=by)
    return locked


@transaction.atomic
def trial_change_status(
    *, trial: Trial, to_status: str, by: User, reason: str, at: Any = None
) -> TrialStatusChange:
    to_status = _choice("status", to_status, TrialStatus)
    locked = Trial.objects.select_for_update().get(pk=trial.pk)
    allowed = STATUS_TRANSITIONS[locked.status]
    if to_status not in allowed:
        options = ", ".join(sorted(allowed)) or "none (the trial is closed)"
        raise ValidationError(
            f"A trial in status {locked.status} cannot move to {to_status}; allowed: {options}.",
            field="status",
        )
    if not reason.strip():
        raise ValidationError("A reason is required to change a trial's status.", field="reason")
    change = TrialStatusChange.objects.create(
        trial=locked,
        from_status=locked.status,
        to_status=to_status,
        changed_at=at or timezone.now(),
        changed_by=by,
        reason=reason,
    )
    old = locked.status
    locked.status = to_status
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = reason  # type: ignore[attr-defined]
    locked.save(update_fields=["status", "version"])
    audit_record(
        action="status", instance=locked, changes={"status": [old, to_status]}, reason=reason, by=by
    )
    return change


@transaction.atomic
def cohort_create(
    *,
    trial: Trial,
    code: str,
    name: str,
    kind: str,
    by: User,
    description: str = "",
    target_accrual: int | None = None,
    is_open: bool = True,
) -> Cohort:
    code = code.strip()
    if not code or not name.strip():
        raise ValidationError(
            "A cohort needs a code and a name.", field="code" if not code else "name"
        )
    kind = _choice("kind", kind, CohortKind)
    if target_accrual is not None and target_accrual < 0:
        raise ValidationError(
            f"target_accrual must be ≥ 0; got {target_accrual}.", field="target_accrual"
        )
    if Cohort.objects.filter(trial=trial, code=code).exists():
        raise ConflictError(f"Trial {trial} already has a cohort {code!r}.")
    cohort = Cohort(
        trial=trial,
        code=code,
        name=name.strip(),
        kind=kind,
        description=description,
        target_accrual=target_accrual,
        is_open=is_open,
    )
    cohort._history_user = by  # type: ignore[attr-defined]
    cohort.save()
    audit_record(
        action="create",
        instance=cohort,
        changes={k: [None, v] for k, v in model_snapshot(cohort).items()},
        by=by,
    )
    return cohort


@transaction.atomic
def dose_level_create(
    *,
    cohort: Cohort,
    level: int,
    agent: str,
    dose: Decimal | float | str,
    unit: str,
    by: User,
    schedule: str = "",
) -> DoseLevel:
    amount = _dose_amount(dose)
    if not agent.strip() or not unit.strip():
        raise ValidationError(
            "A dose level needs an agent and a unit.",
            field="agent" if not agent.strip() else "unit",
        )
    if DoseLevel.objects.filter(cohort=cohort, level=level, agent=agent.strip()).exists():
        raise ConflictError(f"Cohort {cohort} already has level {level} for {agent.strip()}.")
    dl = DoseLevel(
        cohort=cohort,
        level=level,
        agent=agent.strip(),
        dose=amount,
        unit=unit.strip(),
        schedule=schedule,
    )
    dl._history_user = by  # type: ignore[attr-defined]
    dl.save()
    audit_record(
        action="create",
        instance=dl,
        changes={k: [None, v] for k, v in model_snapshot(dl).items()},
        by=by,
    )
    return dl


COHORT_FIELDS = ("code", "name", "kind", "description", "target_accrual", "is_open")
DOSE_LEVEL_FIELDS = ("level", "agent", "dose", "unit", "schedule")
# What a patient was treated with: fixed once a row refers to the dose level.
_DOSE_DEFINING = ("level", "agent", "dose", "unit")


def _check_version(instance: Any, expected_version: int | None) -> None:
    if expected_version is not None and instance.version != expected_version:
        raise ConflictError(
            f"{instance} was changed by someone else (version {instance.version}, you edited"
            f" version {expected_version}); reload and apply your change again.",
            current_version=instance.version,
        )


def _referenced(instance: Any) -> bool:
    """True when a row of another table (a registration, an escalation plan or decision, ...)
    refers to ``instance``: the apps above this one are not imported, their relations are read."""
    for rel in instance._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one) or rel.related_model is type(instance):
            continue
        if rel.related_model._meta.model_name.startswith("historical"):
            continue
        if rel.related_model._default_manager.filter(**{rel.field.name: instance}).exists():
            return True
    return False


@transaction.atomic
def cohort_update(
    *,
    cohort: Cohort,
    changes: Mapping[str, Any],
    by: User,
    reason: str,
    expected_version: int | None = None,
) -> Cohort:
    """Change a cohort's fields (a reason is required); the change is audited."""
    unknown = set(changes) - set(COHORT_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown cohort field(s): {', '.join(sorted(unknown))}.")
    if not reason.strip():
        raise ValidationError("A reason for change is required to edit a cohort.", field="reason")
    locked = Cohort.objects.select_for_update().get(pk=cohort.pk)
    _check_version(locked, expected_version)
    clean = dict(changes)
    if "code" in clean:
        clean["code"] = str(clean["code"]).strip()
        if not clean["code"]:
            raise ValidationError("A cohort needs a code.", field="code")
        if (
            Cohort.objects.filter(trial_id=locked.trial_id, code=clean["code"])
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise ValidationError(
                f"Trial {locked.trial} already has a cohort {clean['code']!r}.", field="code"
            )
    if "name" in clean:
        clean["name"] = str(clean["name"]).strip()
        if not clean["name"]:
            raise ValidationError("A cohort needs a name.", field="name")
    if "kind" in clean:
        clean["kind"] = _choice("kind", clean["kind"], CohortKind)
        if clean["kind"] != locked.kind and _referenced_by_plan(locked):
            raise ValidationError(
                f"{locked} runs an escalation plan; its kind cannot change.", field="kind"
            )
    target = clean.get("target_accrual")
    if target is not None and target < 0:
        raise ValidationError(f"target_accrual must be ≥ 0; got {target}.", field="target_accrual")
    before = model_snapshot(locked, clean.keys())
    for key, value in clean.items():
        setattr(locked, key, value)
    delta = diff(before, model_snapshot(locked, clean.keys()))
    if not delta:
        return locked
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = reason  # type: ignore[attr-defined]
    locked.save()
    audit_record(action="update", instance=locked, changes=delta, reason=reason, by=by)
    return locked


def _referenced_by_plan(cohort: Cohort) -> bool:
    """True when a row of an app above holds the cohort one-to-one (its escalation plan)."""
    for rel in cohort._meta.related_objects:
        model: Any = rel.related_model
        if (
            rel.one_to_one
            and rel.field.name == "cohort"
            and model._default_manager.filter(cohort=cohort).exists()
        ):
            return True
    return False


def _dose_amount(dose: Any) -> Decimal:
    try:
        amount = Decimal(str(dose))
    except ArithmeticError:
        raise ValidationError(f"dose must be a number; got {dose!r}.", field="dose") from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError(f"dose must be a finite number ≥ 0; got {dose!r}.", field="dose")
    amount = amount.normalize()
    if amount != amount.quantize(Decimal("0.0001")) or amount >= Decimal("1e8"):
        raise ValidationError(
            f"dose is kept to 4 decimals below 100,000,000; got {dose!r}. Change the unit"
            " (e.g. µg instead of mg) rather than lose precision.",
            field="dose",
        )
    return amount


@transaction.atomic
def dose_level_update(
    *,
    dose_level: DoseLevel,
    changes: Mapping[str, Any],
    by: User,
    reason: str,
    expected_version: int | None = None,
) -> DoseLevel:
    """Change a dose level (a reason is required). Its level, agent, dose and unit are fixed
    once a patient, a plan or a decision refers to it: what was given is never rewritten."""
    unknown = set(changes) - set(DOSE_LEVEL_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown dose-level field(s): {', '.join(sorted(unknown))}.")
    if not reason.strip():
        raise ValidationError(
            "A reason for change is required to edit a dose level.", field="reason"
        )
    locked = DoseLevel.objects.select_for_update().get(pk=dose_level.pk)
    _check_version(locked, expected_version)
    clean = dict(changes)
    if "dose" in clean:
        clean["dose"] = _dose_amount(clean["dose"])
    for key in ("agent", "unit"):
        if key in clean:
            clean[key] = str(clean[key]).strip()
            if not clean[key]:
                raise ValidationError("A dose level needs an agent and a unit.", field=key)
    before = model_snapshot(locked, clean.keys())
    for key, value in clean.items():
        setattr(locked, key, value)
    delta = diff(before, model_snapshot(locked, clean.keys()))
    if not delta:
        return locked
    fixed = [k for k in _DOSE_DEFINING if k in delta]
    if fixed and _referenced(locked):
        raise ValidationError(
            f"{dose_level} is already in use (patients, an escalation plan or a decision refer"
            f" to it); its {fixed[0]} cannot change. Add a new dose level instead.",
            field=fixed[0],
        )
    if (
        DoseLevel.objects.filter(cohort_id=locked.cohort_id, level=locked.level, agent=locked.agent)
        .exclude(pk=locked.pk)
        .exists()
    ):
        raise ValidationError(
            f"Cohort {locked.cohort} already has level {locked.level} for {locked.agent}.",
            field="level",
        )
    locked.version += 1
    locked._history_user = by  # type: ignore[attr-defined]
    locked._change_reason = reason  # type: ignore[attr-defined]
    locked.save()
    audit_record(action="update", instance=locked, changes=delta, reason=reason, by=by)
    return locked


def schedule_problems(document: Any) -> list[Any]:
    """The core's problems for a schedule document (errors and warnings, with stable codes)."""
    from oncotrials.core.schedule import check_schedule_document

    return list(check_schedule_document(document))


@transaction.atomic
def schedule_set(
    *, trial: Trial, document: Mapping[str, Any], by: User, reason: str = ""
) -> VisitScheduleDefinition:
    """Declare or replace the trial's visit schedule; a schedule with errors is refused whole."""
    from oncotrials.core.schedule import load_schedule

    load_schedule(
        document, source=f"visit schedule of {trial.protocol_code}"
    )  # schema faults name the path
    errors = [p for p in schedule_problems(document) if p.is_error]
    if errors:
        raise ValidationError(
            f"The visit schedule has {len(errors)} error(s); first: {errors[0].code} {errors[0].message}",
            field="document",
            problems=[f"{p.code} {p.message}" for p in errors],
        )
    existing = VisitScheduleDefinition.objects.select_for_update().filter(trial=trial).first()
    if existing is None:
        definition = VisitScheduleDefinition.objects.create(trial=trial, document=dict(document))
        audit_record(
            action="create",
            instance=definition,
            changes={"document": [None, dict(document)]},
            by=by,
        )
        return definition
    if not reason.strip():
        raise ValidationError(
            "A reason (e.g. the protocol amendment) is required to change a schedule.",
            field="reason",
        )
    old = existing.document
    existing.document = dict(document)
    existing.version += 1
    existing.save()
    audit_record(
        action="update",
        instance=existing,
        changes={"document": [old, dict(document)]},
        reason=reason,
        by=by,
    )
    return existing
