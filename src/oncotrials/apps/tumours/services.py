"""Writes of tumour assessments. Each service owns its transaction, its locks and its audit event.

Every save re-reads the registration's whole record and evaluates it with
``oncotrials.core.recist`` inside the same transaction: input the engine refuses (a target missing
at follow-up, a lesion measured on or before baseline...) rolls everything back, and the stored
responses always match the stored measurements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from oncotrials.apps.accounts.access import Action, require
from oncotrials.apps.accounts.core_messages import Catalogue, core_errors_translated
from oncotrials.apps.accounts.models import User
from oncotrials.apps.audit.services import audit_record, diff, model_snapshot
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.services import date_not_future
from oncotrials.apps.trials.models import Trial
from oncotrials.core import recist
from oncotrials.core.errors import ConflictError, ValidationError

from .models import (
    Assessment,
    AssessmentKind,
    AssessmentStatus,
    Criteria,
    ImagingMethod,
    Lesion,
    LesionKind,
    LesionMeasurement,
    LesionRole,
    LesionStatus,
    NewLesion,
    ResponseEvaluation,
    ResponseOverride,
    TimepointResponse,
    TumourAssessmentSettings,
)

MAX_MM = Decimal("9999.99")
RECIST_RESPONSES = tuple(r.value for r in recist.Response)
IRECIST_RESPONSES = tuple(r.value for r in recist.IResponse)
_TARGET_STATUSES = {LesionStatus.ABSENT, LesionStatus.TOO_SMALL, LesionStatus.NOT_EVALUATED}

#: The engine's refusals that a person can meet on the tumour page, in their language.
RECIST_MESSAGES: Catalogue = {
    "recist_normal_node": _(
        "Lesion %(lesion_id)s: a lymph node with a short axis of %(short_axis_mm)s mm (under "
        "10 mm) is normal and is not recorded under RECIST 1.1; remove it."
    ),
    "recist_target_too_small": _(
        "Lesion %(lesion_id)s cannot be a target: its longest diameter, %(size_mm)s mm, is under "
        "the %(minimum_mm)s mm that RECIST 1.1 requires by %(method)s; record it as a non-target "
        "lesion."
    ),
    "recist_target_node_too_small": _(
        "Lymph node %(lesion_id)s cannot be a target: its short axis, %(size_mm)s mm, is under "
        "%(minimum_mm)s mm (RECIST 1.1); record it as a non-target lesion."
    ),
    "recist_too_many_targets": _(
        "%(count)s target lesions: RECIST 1.1 allows at most %(maximum)s; record the others as "
        "non-target lesions."
    ),
    "recist_too_many_targets_in_organ": _(
        "%(count)s target lesions in %(organ)s (%(lesion_ids)s): RECIST 1.1 allows at most "
        "%(maximum)s per organ (all lymph nodes count as one organ); record the others as "
        "non-target lesions."
    ),
    "recist_diameter_and_status": _(
        "Lesion %(lesion_id)s: a diameter of %(diameter_mm)s mm and the status %(status)s "
        "disagree; give the measurement, or the status alone."
    ),
    "recist_baseline_after_start": _(
        "The baseline scan of %(baseline_date)s is %(days)s days after the start of treatment "
        "(%(start_date)s): RECIST 1.1 needs it before treatment, at most 4 weeks before; check "
        "the dates."
    ),
}


@contextmanager
def _engine_refusals(rows: str, lesion_ids: Sequence[str]) -> Iterator[None]:
    """The engine's refusal in the user's language, pointing at the row of the lesion it names
    (``lesions[2].role``), as the input checks of this module do."""
    try:
        with core_errors_translated(RECIST_MESSAGES):
            yield
    except ValidationError as exc:
        lesion_id, name = str(exc.extra.get("lesion_id", "")), exc.extra.get("field")
        if name and lesion_id in lesion_ids:
            exc.extra = {
                **exc.extra,
                "field": f"{rows}[{list(lesion_ids).index(lesion_id)}].{name}",
            }
        raise


# --- settings --------------------------------------------------------------------------------


def settings_for(trial: Trial) -> TumourAssessmentSettings:
    """The trial's settings, or the default (RECIST 1.1, no confirmation) when none is stored."""
    found = TumourAssessmentSettings.objects.filter(trial=trial).first()
    return found if found is not None else TumourAssessmentSettings(trial=trial, version=0)


@transaction.atomic
def tumour_settings_save(
    *,
    trial: Trial,
    criteria: str,
    confirmation_required: bool,
    version: int,
    by: User,
    reason: str = "",
) -> TumourAssessmentSettings:
    """Set the response criteria of a trial; changing them re-reads every patient of the trial.

    ``version`` is the version the user edited (0 when none was stored yet).
    """
    require(by, Action.EDIT_PORTFOLIO, on=trial)
    if criteria not in Criteria.values:
        raise ValidationError(
            gettext("Choose the response criteria among %(allowed)s; got %(got)s.")
            % {"allowed": ", ".join(str(label) for label in Criteria.labels), "got": criteria},
            field="criteria",
        )
    locked = TumourAssessmentSettings.objects.select_for_update().filter(trial=trial).first()
    current = locked.version if locked is not None else 0
    if version != current:
        raise ConflictError(
            gettext(
                "The response settings of %(trial)s were changed by someone else (version "
                "%(current)s, you edited version %(version)s); reload and apply your change again."
            )
            % {"trial": trial, "current": current, "version": version},
            current_version=current,
        )
    if locked is None:
        locked = TumourAssessmentSettings(trial=trial, version=0)
        old: dict[str, Any] = {}
    else:
        old = model_snapshot(locked, ["criteria", "confirmation_required"])
        if not reason.strip():
            raise ValidationError(
                gettext("Changing the response criteria of a trial needs a reason for change."),
                field="reason",
            )
    locked.criteria = criteria
    locked.confirmation_required = confirmation_required
    locked.version += 1
    locked.save()
    changes = diff(old, model_snapshot(locked, ["criteria", "confirmation_required"]))
    audit_record(
        action="update" if old else "create",
        instance=locked,
        changes=changes,
        reason=reason,
        by=by,
    )
    if changes:
        for registration in Registration.objects.filter(trial=trial).order_by("pk"):
            _evaluate_and_store(registration)
    return locked


# --- input checking ----------------------------------------------------------------------------


def _decimal(value: Any, where: str, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(
            gettext(
                "%(where)s, field %(field)s: %(value)s is not a number; give millimetres, e.g. 23.5."
            )
            % {"where": where, "field": field, "value": repr(value)},
            field=field,
        ) from None
    if not number.is_finite() or number < 0:
        raise ValidationError(
            gettext(
                "%(where)s, field %(field)s: %(value)s is negative or not finite; diameters are "
                "millimetres, zero or more."
            )
            % {"where": where, "field": field, "value": value},
            field=field,
        )
    if number > MAX_MM or number != number.quantize(Decimal("0.01")):
        raise ValidationError(
            gettext(
                "%(where)s, field %(field)s: %(value)s must lie between 0 and %(max_mm)s mm with at "
                "most two decimals."
            )
            % {"where": where, "field": field, "value": value, "max_mm": MAX_MM},
            field=field,
        )
    return number


def _choice(value: Any, choices: Iterable[str], where: str, field: str, blank: bool = False) -> str:
    value = "" if value is None else str(value)
    allowed = list(choices)
    if (blank and value == "") or value in allowed:
        return str(value)
    raise ValidationError(
        gettext("%(where)s, field %(field)s: %(value)s is not one of %(values)s.")
        % {"where": where, "field": field, "value": repr(value), "values": ", ".join(allowed)},
        field=field,
    )


def _clean_baseline_lesions(lesions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if not lesions:
        raise ValidationError(
            gettext("A baseline needs at least one lesion; record targets and non-targets."),
            field="lesions",
        )
    seen: set[str] = set()
    out = []
    for i, raw in enumerate(lesions):
        where = gettext("Baseline lesion %(n)s") % {"n": i + 1}
        lesion_id = str(raw.get("lesion_id") or "").strip()
        if not lesion_id or len(lesion_id) > 20:
            raise ValidationError(
                gettext(
                    "%(where)s, field lesion_id: give an identifier of 1 to 20 characters (e.g. T1)."
                )
                % {"where": where},
                field=f"lesions[{i}].lesion_id",
            )
        if lesion_id in seen:
            raise ValidationError(
                gettext(
                    "%(where)s, field lesion_id: %(lesion_id)s is given twice; every lesion of a patient "
                    "needs its own identifier."
                )
                % {"where": where, "lesion_id": lesion_id},
                field=f"lesions[{i}].lesion_id",
            )
        seen.add(lesion_id)
        where = gettext("Baseline lesion %(n)s") % {"n": lesion_id}
        organ = str(raw.get("organ") or "").strip()
        if not organ or len(organ) > 60:
            raise ValidationError(
                gettext("%(where)s, field organ: give the organ or site (1 to 60 characters).")
                % {"where": where},
                field=f"lesions[{i}].organ",
            )
        out.append(
            {
                "lesion_id": lesion_id,
                "organ": organ,
                "role": _choice(raw.get("role"), LesionRole.values, where, f"lesions[{i}].role"),
                "nodal": bool(raw.get("nodal", False)),
                "method": _choice(
                    raw.get("method") or "CT", ImagingMethod.values, where, f"lesions[{i}].method"
                ),
                "kind": _choice(
                    raw.get("kind") or LesionKind.SOFT_TISSUE,
                    LesionKind.values,
                    where,
                    f"lesions[{i}].kind",
                ),
                "slice_thickness_mm": _decimal(
                    raw.get("slice_thickness_mm"), where, f"lesions[{i}].slice_thickness_mm"
                ),
                "baseline_diameter_mm": _decimal(
                    raw.get("diameter_mm"), where, f"lesions[{i}].diameter_mm"
                ),
            }
        )
    return out


def _clean_measurements(
    measurements: Sequence[Mapping[str, Any]], lesions: Mapping[str, Lesion], when: str
) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for i, raw in enumerate(measurements):
        lesion_id = str(raw.get("lesion_id") or "").strip()
        where = gettext("Assessment of %(date)s, measurement %(n)s") % {"date": when, "n": i + 1}
        if lesion_id not in lesions:
            raise ValidationError(
                gettext(
                    "%(where)s, field lesion_id: lesion %(lesion_id)s was never recorded at baseline; "
                    "record it at baseline first, or under new_lesions if it appeared since."
                )
                % {"where": where, "lesion_id": repr(lesion_id)},
                field=f"measurements[{i}].lesion_id",
            )
        if lesion_id in seen:
            raise ValidationError(
                gettext(
                    "%(where)s, field lesion_id: lesion %(lesion_id)s is measured twice; give one "
                    "measurement per lesion."
                )
                % {"where": where, "lesion_id": lesion_id},
                field=f"measurements[{i}].lesion_id",
            )
        seen.add(lesion_id)
        where = gettext("Assessment of %(date)s, lesion %(lesion_id)s") % {
            "date": when,
            "lesion_id": lesion_id,
        }
        diameter = _decimal(raw.get("diameter_mm"), where, f"measurements[{i}].diameter_mm")
        status = _choice(
            raw.get("status"), LesionStatus.values, where, f"measurements[{i}].status", blank=True
        )
        lesion = lesions[lesion_id]
        if lesion.role == LesionRole.TARGET:
            if diameter is None and status not in _TARGET_STATUSES:
                raise ValidationError(
                    gettext(
                        "%(where)s (target), fields diameter_mm/status: give the diameter, or a status "
                        "absent, too_small or not_evaluated."
                    )
                    % {"where": where},
                    field=f"measurements[{i}].diameter_mm",
                )
        elif not status:
            raise ValidationError(
                gettext(
                    "%(where)s (non-target), field status: missing; record absent, present, increased, "
                    "unequivocal_progression or not_evaluated."
                )
                % {"where": where},
                field=f"measurements[{i}].status",
            )
        out.append({"lesion": lesion, "diameter_mm": diameter, "status": status})
    missing = [lid for lid in lesions if lid not in seen]
    if missing:
        lesion = lesions[missing[0]]
        template = (
            gettext(
                "Assessment of %(when)s, target lesion %(lesion_id)s: missing from this "
                "assessment; every baseline lesion needs a diameter or a status (not_evaluated when "
                "it was not assessed)."
            )
            if lesion.role == LesionRole.TARGET
            else gettext(
                "Assessment of %(when)s, non-target lesion %(lesion_id)s: missing from this "
                "assessment; every baseline lesion needs a diameter or a status (not_evaluated when "
                "it was not assessed)."
            )
        )
        raise ValidationError(
            template % {"when": when, "lesion_id": lesion.lesion_id},
            field="measurements",
            lesion_id=lesion.lesion_id,
        )
    return out


def _clean_new_lesions(
    new_lesions: Sequence[Mapping[str, Any]], baseline_ids: Iterable[str], when: str
) -> list[dict[str, Any]]:
    taken = set(baseline_ids)
    seen: set[str] = set()
    out = []
    for i, raw in enumerate(new_lesions):
        lesion_id = str(raw.get("lesion_id") or "").strip()
        where = gettext("Assessment of %(date)s, new lesion %(n)s") % {"date": when, "n": i + 1}
        if not lesion_id or len(lesion_id) > 20:
            raise ValidationError(
                gettext(
                    "%(where)s, field lesion_id: give an identifier of 1 to 20 characters (e.g. N1)."
                )
                % {"where": where},
                field=f"new_lesions[{i}].lesion_id",
            )
        if lesion_id in taken or lesion_id in seen:
            raise ValidationError(
                gettext(
                    "%(where)s, field lesion_id: %(lesion_id)s is already used by another lesion of this "
                    "patient; give the new lesion its own identifier."
                )
                % {"where": where, "lesion_id": lesion_id},
                field=f"new_lesions[{i}].lesion_id",
            )
        seen.add(lesion_id)
        where = gettext("Assessment of %(date)s, new lesion %(lesion_id)s") % {
            "date": when,
            "lesion_id": lesion_id,
        }
        out.append(
            {
                "lesion_id": lesion_id,
                "organ": str(raw.get("organ") or "")[:60],
                "nodal": bool(raw.get("nodal", False)),
                "diameter_mm": _decimal(
                    raw.get("diameter_mm"), where, f"new_lesions[{i}].diameter_mm"
                ),
                "status": _choice(
                    raw.get("status") or LesionStatus.PRESENT,
                    LesionStatus.values,
                    where,
                    f"new_lesions[{i}].status",
                ),
                "equivocal": bool(raw.get("equivocal", False)),
            }
        )
    return out


def _check_version(obj: Assessment, version: int | None) -> None:
    if version is None or version != obj.version:
        raise ConflictError(
            gettext(
                "%(record)s was changed by someone else (version %(version)s, you edited version "
                "%(edited)s); reload it and apply your change again."
            )
            % {"record": obj, "version": obj.version, "edited": version},
            current_version=obj.version,
        )


def _needs_reason(obj: Assessment, reason: str) -> None:
    if obj.status == AssessmentStatus.COMPLETE and not reason.strip():
        raise ValidationError(
            gettext("%(record)s is complete; a change needs a reason for change.")
            % {"record": obj},
            field="reason",
        )


def _new_assessment(
    reg: Registration, kind: str, by: User, now: dt.datetime, **fields: Any
) -> Assessment:
    """A draft assessment of ``reg``, not yet saved (the single saves and the batch alike)."""
    return Assessment(
        registration=reg,
        kind=kind,
        created_by=by,
        created_at=now,
        status=AssessmentStatus.DRAFT,
        **fields,
    )


def _lock_registration(registration: Registration) -> Registration:
    return (
        Registration.objects.select_for_update()
        .select_related("patient", "trial")
        .get(pk=registration.pk)
    )


# --- baseline --------------------------------------------------------------------------------


def _assessment_snapshot(
    a: Assessment,
    measurements: Iterable[Sequence[Any]] | None = None,
    new_lesions: Iterable[Sequence[Any]] | None = None,
    lesions: Iterable[Lesion] | None = None,
) -> dict[str, Any]:
    """What the audit event of ``a`` records. A baseline's stored lesions, a follow-up's stored
    measurements (the values ``_MEASURED`` of each) and new lesions (``_APPEARED``) are read,
    unless given as read already, in lesion order."""
    snap = model_snapshot(
        a, ["date", "method", "status", "tumour_markers_normal", "clinical_symptoms"]
    )
    if a.kind == AssessmentKind.BASELINE:
        if lesions is None:
            lesions = Lesion.objects.filter(registration_id=a.registration_id).order_by(
                "role", "lesion_id"
            )
        for lesion in lesions:
            snap[f"lesion {lesion.lesion_id}"] = (
                f"{lesion.role} {lesion.organ} {lesion.baseline_diameter_mm or '-'} mm"
                f"{' nodal' if lesion.nodal else ''} {lesion.method} {lesion.kind}"
            )
    else:
        if measurements is None:
            measurements = a.measurements.order_by("lesion__lesion_id").values_list(*_MEASURED)
        if new_lesions is None:
            new_lesions = a.new_lesions.order_by("lesion_id").values_list(*_APPEARED)
        for lesion_id, diameter_mm, status in measurements:
            snap[f"lesion {lesion_id}"] = f"{diameter_mm or ''} {status}".strip()
        for lesion_id, organ, diameter_mm, status, equivocal in new_lesions:
            snap[f"new lesion {lesion_id}"] = (
                f"{organ} {diameter_mm or ''} {status}{' equivocal' if equivocal else ''}"
            )
    return snap


# What the audit snapshot of a follow-up shows of each measurement and new lesion.
_MEASURED = ("lesion__lesion_id", "diameter_mm", "status")
_APPEARED = ("lesion_id", "organ", "diameter_mm", "status", "equivocal")


@transaction.atomic
def baseline_save(
    *,
    registration: Registration,
    date: dt.date,
    method: str,
    lesions: Sequence[Mapping[str, Any]],
    by: User,
    version: int | None = None,
    complete: bool = True,
    reason: str = "",
) -> Assessment:
    """Record (or correct) the baseline assessment and its lesions.

    The first save creates it (``version`` None); later saves give the version edited and, once
    complete, a reason. Lesions left out are removed, unless a follow-up measured them.
    """
    require(by, Action.EDIT_CRF, on=registration)
    reg = _lock_registration(registration)
    date_not_future(date, "date")
    method = _choice(method, ImagingMethod.values, gettext("Baseline"), "method")
    cleaned = _clean_baseline_lesions(lesions)
    now = timezone.now()
    baseline = (
        Assessment.objects.select_for_update()
        .filter(registration=reg, kind=AssessmentKind.BASELINE)
        .order_by("pk")  # one at most (tumour_baseline_once); no join to the registration
        .first()
    )
    if baseline is None:
        if version not in (None, 0):
            raise ConflictError(
                gettext(
                    "Registration %(registration)s has no baseline any more (you edited version %(version)s); "
                    "reload it."
                )
                % {"registration": reg.pk, "version": version},
                current_version=0,
            )
        old: dict[str, Any] = {}
        baseline = _new_assessment(reg, AssessmentKind.BASELINE, by, now, version=0)
    else:
        _check_version(baseline, version)
        _needs_reason(baseline, reason)
        old = _assessment_snapshot(baseline)
    if Assessment.objects.filter(registration=reg, date=date).exclude(pk=baseline.pk).exists():
        raise ValidationError(
            gettext(
                "Registration %(registration)s already has an assessment on %(date)s; the "
                "baseline must come before every follow-up."
            )
            % {"registration": reg.pk, "date": date.isoformat()},
            field="date",
        )
    baseline.date, baseline.method, baseline.updated_at = date, method, now
    _complete(baseline, complete, now)
    baseline.version += 1
    baseline.save()
    existing = {
        lesion.lesion_id: lesion
        for lesion in Lesion.objects.filter(registration=reg).order_by("role", "lesion_id")
    }
    keep = {row["lesion_id"] for row in cleaned}
    for lesion_id, lesion in existing.items():
        if lesion_id not in keep:
            if lesion.measurements.exists():
                raise ValidationError(
                    gettext(
                        "Baseline lesion %(lesion_id)s, field lesion_id: it was measured at a follow-up and "
                        "cannot be removed; correct it instead."
                    )
                    % {"lesion_id": lesion_id},
                    field="lesions",
                )
            lesion.delete()
    added: list[Lesion] = []
    for row in cleaned:
        lesion = existing.get(row["lesion_id"]) or Lesion(registration=reg)
        for name, value in row.items():
            setattr(lesion, name, value)
        if lesion.pk is None:
            added.append(lesion)
        else:
            lesion.save()
    if added:  # with their history rows, as a save of each writes them
        bulk_create_with_history(added, Lesion)
    new = _assessment_snapshot(baseline)
    audit_record(
        action="update" if old else "create",
        instance=baseline,
        changes=diff(old, new),
        reason=reason,
        by=by,
    )
    with _engine_refusals("lesions", [row["lesion_id"] for row in cleaned]):
        _evaluate_and_store(reg)
    return baseline


def _complete(a: Assessment, complete: bool, now: dt.datetime) -> None:
    if complete:
        if a.status != AssessmentStatus.COMPLETE:
            a.completed_at = now
        a.status = AssessmentStatus.COMPLETE
    elif a.status == AssessmentStatus.COMPLETE:
        raise ValidationError(
            gettext(
                "%(assessment)s is complete and cannot return to draft; correct it with a reason instead."
            )
            % {"assessment": a},
            field="complete",
        )


# --- follow-up assessments -----------------------------------------------------------------


def _baseline_and_lesions(reg: Registration) -> tuple[Assessment | None, dict[str, Lesion]]:
    """The registration's baseline assessment (None before one) and its lesions by id."""
    baseline = (
        Assessment.objects.filter(registration=reg, kind=AssessmentKind.BASELINE)
        .order_by("pk")
        .first()
    )
    lesions = {
        lesion.lesion_id: lesion
        for lesion in Lesion.objects.filter(registration=reg).order_by("role", "lesion_id")
    }
    return baseline, lesions


def _follow_up_cleaned(
    reg: Registration,
    baseline: Assessment | None,
    lesions: Mapping[str, Lesion],
    date: dt.date,
    measurements: Sequence[Mapping[str, Any]],
    new_lesions: Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The checks of a follow-up against the baseline: its measurements and new lesions,
    cleaned."""
    if baseline is None:
        raise ValidationError(
            gettext(
                "Registration %(registration)s (%(patient)s) has no baseline assessment; record the baseline "
                "lesions before any follow-up."
            )
            % {"registration": reg.pk, "patient": reg.patient.research_id},
            field="date",
        )
    if date <= baseline.date:
        raise ValidationError(
            gettext(
                "Assessment of %(date)s, field date: on or before the baseline (%(baseline)s); lesions "
                "cannot be measured before baseline."
            )
            % {"date": date.isoformat(), "baseline": baseline.date.isoformat()},
            field="date",
        )
    when = date.isoformat()
    rows = _clean_measurements(measurements, lesions, when)
    news = _clean_new_lesions(new_lesions, lesions, when)
    return rows, news


@transaction.atomic
def assessment_save(
    *,
    registration: Registration,
    date: dt.date,
    measurements: Sequence[Mapping[str, Any]],
    by: User,
    method: str = "CT",
    new_lesions: Sequence[Mapping[str, Any]] = (),
    tumour_markers_normal: bool | None = None,
    clinical_symptoms: bool = False,
    complete: bool = True,
    assessment: Assessment | None = None,
    version: int | None = None,
    reason: str = "",
) -> Assessment:
    """Record a follow-up assessment (``assessment`` None) or correct one.

    Every baseline lesion needs a diameter or a status; lesions not recorded at baseline go under
    ``new_lesions``. Nothing is saved when any field is wrong.
    """
    require(by, Action.EDIT_CRF, on=registration)
    reg = _lock_registration(registration)
    date_not_future(date, "date")
    method = _choice(
        method,
        ImagingMethod.values,
        gettext("Assessment of %(date)s") % {"date": date.isoformat()},
        "method",
    )
    baseline, lesions = _baseline_and_lesions(reg)
    rows, news = _follow_up_cleaned(reg, baseline, lesions, date, measurements, new_lesions)
    now = timezone.now()
    if assessment is None:
        old: dict[str, Any] = {}
        target = _new_assessment(reg, AssessmentKind.FOLLOW_UP, by, now, version=0)
    else:
        target = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if target.registration_id != reg.pk or target.kind != AssessmentKind.FOLLOW_UP:
            raise ValidationError(
                gettext("%(target)s is not a follow-up of this registration.") % {"target": target}
            )
        _check_version(target, version)
        _needs_reason(target, reason)
        old = _assessment_snapshot(target)
    if Assessment.objects.filter(registration=reg, date=date).exclude(pk=target.pk).exists():
        raise _date_taken(date, "date")
    target.date, target.method, target.updated_at = date, method, now
    target.tumour_markers_normal = tumour_markers_normal
    target.clinical_symptoms = clinical_symptoms
    _complete(target, complete, now)
    target.version += 1
    target.save()
    if assessment is not None:  # a correction replaces the rows; a new one has none yet
        target.measurements.all().delete()
        target.new_lesions.all().delete()
    LesionMeasurement.objects.bulk_create(LesionMeasurement(assessment=target, **r) for r in rows)
    NewLesion.objects.bulk_create(NewLesion(assessment=target, **n) for n in news)
    audit_record(
        action="update" if old else "create",
        instance=target,
        changes=diff(old, _assessment_snapshot(target)),
        reason=reason,
        by=by,
    )
    with _engine_refusals("measurements", [r["lesion"].lesion_id for r in rows]):
        _evaluate_and_store(reg)
    return target


def _date_taken(date: dt.date, field: str) -> ValidationError:
    return ValidationError(
        gettext(
            "Assessment of %(date)s, field date: this registration already has an assessment "
            "on that date; correct that one instead."
        )
        % {"date": date.isoformat()},
        field=field,
    )


_FOLLOW_UP_FIELDS = frozenset(
    {
        "date",
        "measurements",
        "method",
        "new_lesions",
        "tumour_markers_normal",
        "clinical_symptoms",
        "complete",
    }
)


@contextmanager
def _in_row(prefix: str) -> Iterator[None]:
    """A refusal about one row of a batch names it: ``follow_ups[1].date``."""
    try:
        yield
    except ValidationError as exc:
        name = exc.extra.get("field")
        exc.extra = {**exc.extra, "field": prefix + (f".{name}" if name else "")}
        raise


def _in_follow_up(i: int) -> Any:
    """A refusal about the ``i``-th follow-up of a series names it: ``follow_ups[i].date``."""
    return _in_row(f"follow_ups[{i}]")


def _known_fields(raw: Mapping[str, Any], known: frozenset[str], message: str) -> None:
    """Refuse a field that is not in ``known`` (``message`` names it and lists them)."""
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ValidationError(
            message % {"name": unknown[0], "known": ", ".join(sorted(known))},
            field=unknown[0],
        )


def _given_date(value: Any) -> dt.date:
    """The date of an assessment given in a mapping: a date (not a date-time) not in the
    future."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValidationError(
            gettext("Give the date of the assessment; got %(got)s.") % {"got": repr(value)},
            field="date",
        )
    date_not_future(value, "date")
    return value


Cleaned = tuple[Assessment, list[dict[str, Any]], list[dict[str, Any]]]


def _series_cleaned(
    reg: Registration,
    baseline: Assessment | None,
    lesions: Mapping[str, Lesion],
    taken: set[dt.date],
    follow_ups: Sequence[Mapping[str, Any]],
    by: User,
    now: dt.datetime,
) -> list[Cleaned]:
    """The checks of a series of new follow-ups of ``reg`` (``assessments_record``): each
    one's unsaved assessment with its measurements and new lesions, cleaned. ``taken``: the
    dates of the registration's assessments, to which theirs are added."""
    cleaned: list[Cleaned] = []
    for i, raw in enumerate(follow_ups):
        with _in_follow_up(i):
            _known_fields(
                raw,
                _FOLLOW_UP_FIELDS,
                gettext("Unknown field %(name)s; a follow-up has %(known)s."),
            )
            date = _given_date(raw.get("date"))
            when = date.isoformat()
            method = _choice(
                raw.get("method", "CT"), ImagingMethod.values, f"Assessment of {when}", "method"
            )
            rows, news = _follow_up_cleaned(
                reg,
                baseline,
                lesions,
                date,
                raw.get("measurements") or (),
                raw.get("new_lesions") or (),
            )
            if date in taken:
                raise _date_taken(date, "date")
            taken.add(date)
            target = _new_assessment(
                reg,
                AssessmentKind.FOLLOW_UP,
                by,
                now,
                version=1,
                date=date,
                method=method,
                updated_at=now,
                tumour_markers_normal=raw.get("tumour_markers_normal"),
                clinical_symptoms=bool(raw.get("clinical_symptoms", False)),
            )
            _complete(target, bool(raw.get("complete", True)), now)
            cleaned.append((target, rows, news))
    return cleaned


def _follow_up_rows_create(cleaned: Sequence[Cleaned]) -> None:
    """The measurements and new lesions of follow-ups just created, in the order given."""
    LesionMeasurement.objects.bulk_create(
        LesionMeasurement(assessment=a, **r) for a, rows, _ in cleaned for r in rows
    )
    NewLesion.objects.bulk_create(
        NewLesion(assessment=a, **n) for a, _, news in cleaned for n in news
    )


def _follow_up_rows_read(
    created: Sequence[Assessment],
) -> tuple[dict[int, list[Sequence[Any]]], dict[int, list[Sequence[Any]]]]:
    """What the audit snapshots of follow-ups show of their stored measurements and new
    lesions (``_MEASURED``, ``_APPEARED``), by assessment, in lesion order: one query of each
    kind."""
    measured: dict[int, list[Sequence[Any]]] = {a.pk: [] for a in created}
    appeared: dict[int, list[Sequence[Any]]] = {a.pk: [] for a in created}
    ids = [a.pk for a in created]
    for start in range(0, len(ids), _MANY_CHUNK):
        chunk = ids[start : start + _MANY_CHUNK]
        for assessment_id, *measurement in (
            LesionMeasurement.objects.filter(assessment_id__in=chunk)
            .order_by("lesion__lesion_id", "pk")
            .values_list("assessment_id", *_MEASURED)
        ):
            measured[assessment_id].append(measurement)
        for assessment_id, *new_lesion in (
            NewLesion.objects.filter(assessment_id__in=chunk)
            .order_by("lesion_id", "pk")
            .values_list("assessment_id", *_APPEARED)
        ):
            appeared[assessment_id].append(new_lesion)
    return measured, appeared


@transaction.atomic
def assessments_record(
    *, registration: Registration, follow_ups: Sequence[Mapping[str, Any]], by: User
) -> list[Assessment]:
    """Record several new follow-up assessments of one registration at once (a series of scans
    read together, a record transcribed), each as ``assessment_save`` records it: the same
    rights, checks, rows and audit events, in the order given.

    Each follow-up is a mapping of ``assessment_save``'s arguments: ``date`` and
    ``measurements``, and optionally ``method``, ``new_lesions``, ``tumour_markers_normal``,
    ``clinical_symptoms`` and ``complete``. The registration is locked once, its baseline and
    lesions read once, and its response evaluated once, from all of them (what the last of the
    single saves would store). Nothing is saved when any field is wrong; the error names the
    follow-up (``follow_ups[1].measurements[0].diameter_mm``).
    """
    require(by, Action.EDIT_CRF, on=registration)
    reg = _lock_registration(registration)
    baseline: Assessment | None = None
    lesions: dict[str, Lesion] = {}
    taken: set[dt.date] = set()
    if follow_ups:
        baseline, lesions = _baseline_and_lesions(reg)
        taken = set(Assessment.objects.filter(registration=reg).values_list("date", flat=True))
    cleaned = _series_cleaned(reg, baseline, lesions, taken, follow_ups, by, timezone.now())
    if not cleaned:
        return []
    created: list[Assessment] = bulk_create_with_history([a for a, _, _ in cleaned], Assessment)
    _follow_up_rows_create(cleaned)
    # What each event records, read back as the single save reads it (one query of each kind).
    measured, appeared = _follow_up_rows_read(created)
    for a in created:
        audit_record(
            action="create",
            instance=a,
            changes=diff({}, _assessment_snapshot(a, measured[a.pk], appeared[a.pk])),
            reason="",
            by=by,
        )
    with _series_engine_refusals(cleaned):
        _evaluate_and_store(reg)
    return created


def _refusal_field(
    exc: ValidationError, prefix: str, rows: str, lesion_ids: Sequence[str], keep_name: bool
) -> str:
    """Where the engine's refusal ``exc`` points in a batch: under ``prefix``, at the row of
    ``rows`` of the lesion it names (``prefix.measurements[2].status``); otherwise at
    ``prefix`` itself, followed by the engine's field when ``keep_name``."""
    lesion_id, name = str(exc.extra.get("lesion_id", "")), exc.extra.get("field")
    if name and lesion_id in lesion_ids:
        return f"{prefix}.{rows}[{list(lesion_ids).index(lesion_id)}].{name}"
    return f"{prefix}.{name}" if name and keep_name else prefix


@contextmanager
def _series_engine_refusals(
    cleaned: Sequence[tuple[Assessment, Sequence[Mapping[str, Any]], Any]],
) -> Iterator[None]:
    """The engine's refusal about one follow-up of a series (it names the date and the
    lesion) points at that follow-up's row, as ``assessment_save`` points at its own."""
    try:
        with core_errors_translated(RECIST_MESSAGES):
            yield
    except ValidationError as exc:
        for i, (a, rows, _) in enumerate(cleaned):
            if exc.extra.get("date") != a.date.isoformat():
                continue
            ids = [r["lesion"].lesion_id for r in rows]
            exc.extra = {
                **exc.extra,
                "field": _refusal_field(exc, f"follow_ups[{i}]", "measurements", ids, False),
            }
            break
        raise


# --- many registrations at once ----------------------------------------------------------------

_RECORD_FIELDS = frozenset({"registration", "baseline", "follow_ups"})
_BASELINE_FIELDS = frozenset({"date", "method", "lesions", "complete"})


def _lock_registrations(pks: Sequence[int]) -> dict[int, Registration]:
    """The registrations read locked (with their patient and trial, as ``_lock_registration``
    reads one), in the order of their ids, by id."""
    locked: dict[int, Registration] = {}
    ordered = sorted(set(pks))
    for start in range(0, len(ordered), _MANY_CHUNK):
        for reg in (
            Registration.objects.select_for_update()
            .select_related("patient", "trial")
            .filter(pk__in=ordered[start : start + _MANY_CHUNK])
            .order_by("pk")
        ):
            locked[reg.pk] = reg
    if len(locked) != len(ordered):
        raise Registration.DoesNotExist("Registration matching query does not exist.")
    return locked


@contextmanager
def _record_engine_refusals(
    i: int, baseline_ids: Sequence[str], cleaned: Sequence[Cleaned]
) -> Iterator[None]:
    """The engine's refusal about the ``i``-th record of a batch points at its row: a
    follow-up's (it names the date) as ``assessments_record`` points at it, or the baseline's
    as ``baseline_save`` points at it, under ``records[i]``."""
    try:
        with core_errors_translated(RECIST_MESSAGES):
            yield
    except ValidationError as exc:
        prefix = f"records[{i}]"
        for j, (a, rows, _) in enumerate(cleaned):
            if exc.extra.get("date") == a.date.isoformat():
                ids = [r["lesion"].lesion_id for r in rows]
                field = _refusal_field(exc, f"{prefix}.follow_ups[{j}]", "measurements", ids, False)
                break
        else:
            field = _refusal_field(exc, f"{prefix}.baseline", "lesions", baseline_ids, True)
        exc.extra = {**exc.extra, "field": field}
        raise


@transaction.atomic
def tumour_records_create(*, records: Sequence[Mapping[str, Any]], by: User) -> list[Assessment]:
    """Create the baseline and the follow-ups of several registrations that have no assessment
    yet (records transcribed, the demo's patients), each as a first ``baseline_save`` and then
    ``assessments_record`` create them: the same rights, checks, rows, history rows and audit
    events, in the order given. Returns the assessments created, in that order.

    Each record is a mapping of ``registration``, ``baseline`` (a mapping of ``date``,
    ``method``, ``lesions`` and optionally ``complete``, as ``baseline_save`` takes them) and
    optionally ``follow_ups`` (as ``assessments_record`` takes them). The registrations are
    locked together in the order of their ids; their assessments are read, and the lesions and
    assessments written, once for all of them; each one's response is evaluated once, from all
    its assessments (what the last of the single saves would store). Nothing is saved when any
    record is refused; the error names it (``records[1].follow_ups[0].measurements[2].status``).
    """
    given: list[Registration] = []
    for i, raw in enumerate(records):
        with _in_row(f"records[{i}]"):
            _known_fields(
                raw, _RECORD_FIELDS, gettext("Unknown field %(name)s; a record has %(known)s.")
            )
            registration = raw.get("registration")
            if not isinstance(registration, Registration):
                raise ValidationError(
                    gettext("Give the registration of the record; got %(got)s.")
                    % {"got": repr(registration)},
                    field="registration",
                )
            if any(r.pk == registration.pk for r in given):
                raise ValidationError(
                    gettext(
                        "Registration %(registration)s is given twice; give the baseline and "
                        "follow-ups of each registration in one record."
                    )
                    % {"registration": registration.pk},
                    field="registration",
                )
        require(by, Action.EDIT_CRF, on=registration)
        given.append(registration)
    locked = _lock_registrations([r.pk for r in given])
    stored: dict[int, list[Assessment]] = {pk: [] for pk in locked}
    ids = list(locked)
    for start in range(0, len(ids), _MANY_CHUNK):
        for a in Assessment.objects.filter(
            registration_id__in=ids[start : start + _MANY_CHUNK]
        ).order_by("pk"):
            stored[a.registration_id].append(a)
    now = timezone.now()
    regs = [locked[r.pk] for r in given]
    baselines: list[Assessment] = []
    baseline_ids: list[list[str]] = []  # each baseline's lesions, in the order given
    added: list[Lesion] = []
    for i, (raw, reg) in enumerate(zip(records, regs, strict=True)):
        with _in_row(f"records[{i}].baseline"):
            base: Mapping[str, Any] = raw.get("baseline") or {}
            _known_fields(
                base, _BASELINE_FIELDS, gettext("Unknown field %(name)s; a baseline has %(known)s.")
            )
            date = _given_date(base.get("date"))
            method = _choice(
                base.get("method"), ImagingMethod.values, gettext("Baseline"), "method"
            )
            cleaned = _clean_baseline_lesions(base.get("lesions") or ())
            for a in stored[reg.pk]:
                if a.kind == AssessmentKind.BASELINE:
                    _check_version(a, None)  # a first save of an existing baseline: a conflict
            if any(a.date == date for a in stored[reg.pk]):
                raise ValidationError(
                    gettext(
                        "Registration %(registration)s already has an assessment on %(date)s; the "
                        "baseline must come before every follow-up."
                    )
                    % {"registration": reg.pk, "date": date.isoformat()},
                    field="date",
                )
            baseline = _new_assessment(
                reg,
                AssessmentKind.BASELINE,
                by,
                now,
                version=1,
                date=date,
                method=method,
                updated_at=now,
            )
            _complete(baseline, bool(base.get("complete", True)), now)
        baselines.append(baseline)
        baseline_ids.append([row["lesion_id"] for row in cleaned])
        added.extend(Lesion(registration=reg, **row) for row in cleaned)
    # The lesions first: the follow-ups are checked against them as stored (their order, ids).
    bulk_create_with_history(added, Lesion)
    lesions: dict[int, list[Lesion]] = {pk: [] for pk in locked}
    for start in range(0, len(ids), _MANY_CHUNK):
        for lesion in Lesion.objects.filter(
            registration_id__in=ids[start : start + _MANY_CHUNK]
        ).order_by("role", "lesion_id"):
            lesions[lesion.registration_id].append(lesion)
    series: list[list[Cleaned]] = []
    for i, (raw, reg, baseline) in enumerate(zip(records, regs, baselines, strict=True)):
        with _in_row(f"records[{i}]"):
            series.append(
                _series_cleaned(
                    reg,
                    baseline,
                    {lesion.lesion_id: lesion for lesion in lesions[reg.pk]},
                    {a.date for a in stored[reg.pk]} | {baseline.date},
                    raw.get("follow_ups") or (),
                    by,
                    now,
                )
            )
    # Each registration's baseline, then its follow-ups: the ids the single saves give them.
    created: list[Assessment] = bulk_create_with_history(
        [
            a
            for baseline, cleaned in zip(baselines, series, strict=True)
            for a in (baseline, *(f for f, _, _ in cleaned))
        ],
        Assessment,
    )
    _follow_up_rows_create([c for cleaned in series for c in cleaned])
    measured, appeared = _follow_up_rows_read(
        [a for a in created if a.kind == AssessmentKind.FOLLOW_UP]
    )
    for a in created:
        snapshot = (
            _assessment_snapshot(a, lesions=lesions[a.registration_id])
            if a.kind == AssessmentKind.BASELINE
            else _assessment_snapshot(a, measured[a.pk], appeared[a.pk])
        )
        audit_record(action="create", instance=a, changes=diff({}, snapshot), reason="", by=by)
    refusals = {
        reg.pk: (i, ids, cleaned)
        for i, (reg, ids, cleaned) in enumerate(zip(regs, baseline_ids, series, strict=True))
    }
    _evaluate_and_store_all(regs, lambda reg: _record_engine_refusals(*refusals[reg.pk]))
    return created


# --- evaluation ------------------------------------------------------------------------------


def patient_record(registration: Registration) -> recist.PatientRecord | None:
    """The registration's complete assessments as the engine's input (None without a baseline)."""
    baseline = (
        Assessment.objects.filter(
            registration=registration,
            kind=AssessmentKind.BASELINE,
            status=AssessmentStatus.COMPLETE,
        )
        .order_by("pk")
        .first()
    )
    if baseline is None:
        return None
    follow_ups = (
        Assessment.objects.filter(
            registration=registration,
            kind=AssessmentKind.FOLLOW_UP,
            status=AssessmentStatus.COMPLETE,
        )
        .order_by("date")
        .prefetch_related("measurements__lesion", "new_lesions")
    )
    return _record_of(
        registration,
        baseline,
        Lesion.objects.filter(registration=registration).order_by("pk"),
        follow_ups,
    )


def _record_of(
    registration: Registration,
    baseline: Assessment,
    lesions: Iterable[Lesion],
    follow_ups: Iterable[Assessment],
) -> recist.PatientRecord:
    """The engine's input from the rows read: the complete baseline, the lesions in id order
    and the complete follow-ups by date (with their measurements and new lesions)."""
    assessments = tuple(
        recist.Assessment(
            date=a.date,
            lesions=tuple(
                recist.LesionObservation(
                    lesion_id=m.lesion.lesion_id,
                    diameter_mm=m.diameter_mm,
                    status=recist.LesionStatus(m.status) if m.status else None,
                )
                for m in a.measurements.all()
            ),
            new_lesions=tuple(
                recist.NewLesion(
                    lesion_id=n.lesion_id,
                    organ=n.organ,
                    nodal=n.nodal,
                    diameter_mm=n.diameter_mm,
                    status=recist.LesionStatus(n.status),
                    equivocal=n.equivocal,
                )
                for n in a.new_lesions.all()
            ),
            tumour_markers_normal=a.tumour_markers_normal,
            clinical_symptoms=a.clinical_symptoms,
        )
        for a in follow_ups
    )
    return recist.PatientRecord(
        patient_id=registration.patient.research_id,
        start_date=registration.treatment_start or registration.registered_on,
        baseline=recist.Baseline(
            date=baseline.date,
            lesions=tuple(
                recist.BaselineLesion(
                    lesion_id=lesion.lesion_id,
                    organ=lesion.organ,
                    diameter_mm=lesion.baseline_diameter_mm,
                    nodal=lesion.nodal,
                    role=recist.LesionRole(lesion.role),
                    method=recist.Method(lesion.method),
                    slice_thickness_mm=lesion.slice_thickness_mm,
                    kind=recist.LesionKind(lesion.kind),
                )
                for lesion in lesions
            ),
        ),
        assessments=assessments,
    )


Evaluated = tuple[TumourAssessmentSettings, recist.RecistResult | recist.IRecistResult]


def evaluate_registration(registration: Registration) -> Evaluated | None:
    """Evaluate with the trial's criteria; None without a complete baseline."""
    record = patient_record(registration)
    if record is None:
        return None
    return _evaluated(record, settings_for(registration.trial))


def _evaluated(record: recist.PatientRecord, settings: TumourAssessmentSettings) -> Evaluated:
    options = recist.RecistOptions(confirmation=settings.confirmation_required)
    result: recist.RecistResult | recist.IRecistResult
    if settings.criteria == Criteria.IRECIST:
        result = recist.evaluate_irecist(record, recist.IRecistOptions(recist=options))
    else:
        result = recist.evaluate_recist(record, options)
    return settings, result


_DEFERRED: ContextVar[dict[int, Registration] | None] = ContextVar(
    "tumours_evaluations_deferred", default=None
)


@contextmanager
def evaluations_deferred() -> Iterator[None]:
    """Evaluate each registration whose assessments change inside the block once, when the
    block ends, instead of after every save (for loading many assessments at once, e.g. the
    demo). The stored evaluation is the one the last save would have stored: the engine reads
    only the final assessments. The block runs in a transaction; an error of the engine at
    the end rolls the whole block back. A nested block joins the outer one."""
    if _DEFERRED.get() is not None:
        yield
        return
    pending: dict[int, Registration] = {}
    with transaction.atomic():
        token = _DEFERRED.set(pending)
        try:
            yield
        finally:
            _DEFERRED.reset(token)
        _evaluate_and_store_many(list(pending.values()))


def _evaluate_and_store(registration: Registration) -> ResponseEvaluation | None:
    """Re-read the registration with the engine and store what it says (inside the caller's
    transaction: an error of the engine rolls the whole save back). Inside
    ``evaluations_deferred`` the registration is only noted, and evaluated when the block ends."""
    pending = _DEFERRED.get()
    if pending is not None:
        pending.setdefault(registration.pk, registration)
        return None
    evaluated = evaluate_registration(registration)
    ResponseEvaluation.objects.filter(registration=registration).delete()
    if evaluated is None:
        return None
    evaluation, timepoints = _evaluation_rows(registration, *evaluated)
    evaluation.save(force_insert=True)
    by_date = {
        a.date: a
        for a in Assessment.objects.filter(
            registration=registration, kind=AssessmentKind.FOLLOW_UP
        ).order_by()
    }
    TimepointResponse.objects.bulk_create(timepoints(evaluation, by_date))
    return evaluation


_MANY_CHUNK = 500  # registrations per read (far below SQLite's limit of parameters)


def _evaluate_and_store_all(
    registrations: Sequence[Registration],
    refusals: Callable[[Registration], AbstractContextManager[None]],
) -> None:
    """``_evaluate_and_store`` of each registration, in the order given, the engine's refusal
    of each one read through ``refusals(registration)``: noted inside ``evaluations_deferred``,
    otherwise evaluated and stored together (``_evaluate_and_store_many``)."""
    pending = _DEFERRED.get()
    if pending is None:
        _evaluate_and_store_many(registrations, refusals)
        return
    for registration in registrations:
        pending.setdefault(registration.pk, registration)


def _evaluate_and_store_many(
    registrations: Sequence[Registration],
    refusals: Callable[[Registration], AbstractContextManager[None]] | None = None,
) -> None:
    """``_evaluate_and_store`` of each registration, in the order given, with each kind of row
    read and written once per chunk instead of once per registration: the same engine input
    (``_record_of``), the same rows in the same order. ``refusals(registration)``: the context
    in which the engine evaluates it (that points its refusals at the caller's rows)."""
    for start in range(0, len(registrations), _MANY_CHUNK):
        chunk = registrations[start : start + _MANY_CHUNK]
        pks = [r.pk for r in chunk]
        baselines: dict[int, Assessment] = {}
        for a in Assessment.objects.filter(
            registration_id__in=pks,
            kind=AssessmentKind.BASELINE,
            status=AssessmentStatus.COMPLETE,
        ).order_by("-pk"):  # the first of each registration wins, as .first() by pk
            baselines[a.registration_id] = a
        lesions: dict[int, list[Lesion]] = {pk: [] for pk in pks}
        for lesion in Lesion.objects.filter(registration_id__in=pks).order_by("pk"):
            lesions[lesion.registration_id].append(lesion)
        follow_ups: dict[int, list[Assessment]] = {pk: [] for pk in pks}
        for a in (
            Assessment.objects.filter(registration_id__in=pks, kind=AssessmentKind.FOLLOW_UP)
            .order_by("date", "pk")
            .prefetch_related("measurements__lesion", "new_lesions")
        ):
            follow_ups[a.registration_id].append(a)
        trial_ids = {r.trial_id for r in chunk}
        settings = {
            s.trial_id: s
            for s in TumourAssessmentSettings.objects.filter(trial_id__in=trial_ids).order_by("-pk")
        }
        stored: list[tuple[ResponseEvaluation, Any, dict[dt.date, Assessment]]] = []
        for reg in chunk:
            baseline = baselines.get(reg.pk)
            if baseline is None:
                continue
            found = settings.get(reg.trial_id)
            trial_settings = (
                found
                if found is not None
                else TumourAssessmentSettings(trial_id=reg.trial_id, version=0)
            )
            with nullcontext() if refusals is None else refusals(reg):
                record = _record_of(
                    reg,
                    baseline,
                    lesions[reg.pk],
                    [a for a in follow_ups[reg.pk] if a.status == AssessmentStatus.COMPLETE],
                )
                evaluated = _evaluated(record, trial_settings)
            evaluation, timepoints = _evaluation_rows(reg, *evaluated)
            stored.append((evaluation, timepoints, {a.date: a for a in follow_ups[reg.pk]}))
        ResponseEvaluation.objects.filter(registration_id__in=pks).delete()
        ResponseEvaluation.objects.bulk_create([e for e, _, _ in stored])
        TimepointResponse.objects.bulk_create(
            [row for e, timepoints, by_date in stored for row in timepoints(e, by_date)]
        )


def _evaluation_rows(
    registration: Registration,
    settings: TumourAssessmentSettings,
    result: recist.RecistResult | recist.IRecistResult,
) -> tuple[ResponseEvaluation, Any]:
    """The evaluation row of the engine's result (unsaved) and a function giving its timepoint
    rows once it is saved, from the registration's follow-ups by date."""
    if isinstance(result, recist.IRecistResult):
        bor, bor_u, bor_c = result.ibor, result.ibor_unconfirmed, result.ibor_confirmed
        first = result.timepoints[0].recist if result.timepoints else None
        target_ids: tuple[str, ...] = ()
        non_target_ids: tuple[str, ...] = ()
        baseline_sum = first.baseline_sum_mm if first else None
        notes: tuple[str, ...] = ()
    else:
        bor, bor_u, bor_c = result.bor, result.bor_unconfirmed, result.bor_confirmed
        target_ids, non_target_ids = result.target_ids, result.non_target_ids
        baseline_sum = result.baseline_sum_mm
        notes = result.selection_notes
    evaluation = ResponseEvaluation(
        registration=registration,
        criteria=settings.criteria,
        confirmation_required=settings.confirmation_required,
        bor=bor.response.value,
        bor_date=bor.date,
        bor_rule=bor.rule,
        bor_unconfirmed=bor_u.response.value,
        bor_unconfirmed_rule=bor_u.rule,
        bor_confirmed=bor_c.response.value,
        bor_confirmed_rule=bor_c.rule,
        confirmed_by=bor.confirmed_by,
        response_date=result.response_date,
        progression_date=result.progression_date,
        last_adequate_date=result.last_adequate_date,
        baseline_sum_mm=baseline_sum,
        target_ids=list(target_ids),
        non_target_ids=list(non_target_ids),
        notes=list(notes),
        computed_at=timezone.now(),
    )

    def timepoints(
        saved: ResponseEvaluation, by_date: Mapping[dt.date, Assessment]
    ) -> list[TimepointResponse]:
        rows = []
        for tp in result.timepoints:
            base = tp.recist if isinstance(tp, recist.ITimepointResult) else tp
            rows.append(
                TimepointResponse(
                    evaluation=saved,
                    assessment=by_date[tp.date],
                    date=tp.date,
                    overall=tp.overall.value,
                    rule=tp.rule,
                    target=base.target.value if base.target else "",
                    target_rule=base.target_rule or "",
                    non_target=base.non_target.value if base.non_target else "",
                    non_target_rule=base.non_target_rule or "",
                    new_lesions=base.new_lesions,
                    recist_overall=base.overall.value,
                    sum_mm=base.sum_mm,
                    nadir_mm=base.nadir_mm,
                    change_from_baseline_pct=base.change_from_baseline_pct,
                    change_from_nadir_pct=base.change_from_nadir_pct,
                )
            )
        return rows

    return evaluation, timepoints


# --- overrides -------------------------------------------------------------------------------


@transaction.atomic
def response_override(
    *,
    registration: Registration,
    response: str,
    reason: str,
    by: User,
    assessment: Assessment | None = None,
) -> ResponseOverride:
    """An investigator's reading of a time point (or of the BOR, ``assessment`` None).

    The computed response stays stored and shown beside it; the override records what the engine
    said at the time.
    """
    require(by, Action.OVERRIDE_RESPONSE, on=registration)
    reg = _lock_registration(registration)
    evaluation = ResponseEvaluation.objects.filter(registration=reg).first()
    if evaluation is None:
        raise ValidationError(
            gettext(
                "Registration %(registration)s has no computed response yet; record a complete "
                "baseline and assessments first."
            )
            % {"registration": reg.pk},
            field="assessment_id",
        )
    allowed = IRECIST_RESPONSES if evaluation.criteria == Criteria.IRECIST else RECIST_RESPONSES
    if response not in allowed:
        raise ValidationError(
            gettext("response must be one of %(allowed)s under %(criteria)s; got %(got)s.")
            % {
                "allowed": ", ".join(allowed),
                "criteria": Criteria(evaluation.criteria).label,
                "got": repr(response),
            },
            field="response",
        )
    if not reason.strip():
        raise ValidationError(gettext("An override needs the reason for it."), field="reason")
    if assessment is None:
        computed, rule = evaluation.bor, evaluation.bor_rule
    else:
        tp = evaluation.timepoints.filter(assessment=assessment).first()
        if assessment.registration_id != reg.pk or tp is None:
            raise ValidationError(
                gettext(
                    "Assessment %(assessment)s has no computed response in registration "
                    "%(registration)s; only complete follow-ups can be overridden."
                )
                % {"assessment": assessment.pk, "registration": reg.pk},
                field="assessment_id",
            )
        computed, rule = tp.overall, tp.rule
    override = ResponseOverride.objects.create(
        registration=reg,
        assessment=assessment,
        response=response,
        computed_response=computed,
        computed_rule=rule,
        reason=reason.strip(),
        created_by=by,
        created_at=timezone.now(),
    )
    audit_record(
        action="override",
        instance=override,
        changes={"response": [computed, response]},
        reason=override.reason,
        by=by,
    )
    return override
