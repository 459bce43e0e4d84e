"""Writes of case report forms, labs and exposure, and the generic data-cleaning services.

Generic services (usable on any registered record, see records.py)::

    query_raise(*, record, field, text, by) -> DataQuery
    query_answer(*, query, text, by) -> DataQuery
    query_close(*, query, text, by) -> DataQuery
    sdv_record(*, record, by, note="") -> SourceVerification
    signature_sign(*, record, meaning, password, by) -> Signature
    signature_is_valid(signature_or_record) -> bool

Each owns its transaction and audit event; each checks the caller's role on the record's
patient and trial (NotFoundError when the caller may not see it, PermissionDeniedError when
the role may not do it).

Many forms, lab values and administrations of one casebook are saved together, with the same
rules and audit events, by ``entries.casebook_entries_save`` (imports, the API, the demo).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, allows, require_roles, roles_on
from oncotrials.apps.accounts.models import Actor, User
from oncotrials.apps.accounts.prepared import PreparedRead
from oncotrials.apps.accounts.services import signing_reauthenticate
from oncotrials.apps.audit.services import audit_record, model_snapshot
from oncotrials.apps.crfs.core_messages import crf_all_translated
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.subjects.selectors import registration_calendar, roles_for_patient
from oncotrials.apps.trials.models import DoseLevel, Trial
from oncotrials.core.crf.declarations import (
    STANDARD_FORMS,
    DeclarationError,
    FormSpec,
    errors_of,
    form_spec_from_dict,
    run_checks,
)
from oncotrials.core.errors import (
    ConflictError,
    NotFoundError,
    OncotrialsError,
    PermissionDeniedError,
    ValidationError,
)
from oncotrials.core.numbers import plain

from .hooks import notify_record_changed
from .models import (
    DataQuery,
    DrugAdministration,
    FormInstance,
    FormStatus,
    LabResult,
    Modification,
    QueryEvent,
    QueryOrigin,
    QueryStatus,
    Signature,
    SignatureMeaning,
    SourceVerification,
    TrialFormDeclaration,
)
from .records import (
    record_field_names,
    record_fingerprint,
    record_owner,
    record_version,
    record_voided,
)

# ----------------------------------------------------------------------------- access


def registration_roles(user: Actor, registration: Registration) -> set[str]:
    """Roles on one registration: site-wide at the patient's site, or limited to its trial."""
    return roles_on(user, registration)


def record_roles(user: Actor, record: models.Model) -> set[str]:
    patient, registration = record_owner(record)
    if registration is not None:
        return registration_roles(user, registration)
    return roles_for_patient(user, patient)


def _require(user: Actor, record: models.Model, action: Action) -> None:
    roles = record_roles(user, record)
    if not roles:
        raise NotFoundError(
            gettext("No %(record)s %(id)s that you may see.")
            % {"record": record._meta.verbose_name, "id": record.pk}
        )
    require_roles(roles, action)


def _link(record: models.Model) -> dict[str, Any]:
    patient, registration = record_owner(record)
    return {
        "content_type": ContentType.objects.get_for_model(type(record)),
        "object_id": record.pk,
        "patient": patient,
        "registration": registration,
        "record_version": record_version(record),
    }


# ----------------------------------------------------------------------------- declarations


def forms_for_trial(trial: Trial) -> dict[str, FormSpec]:
    """The forms a trial may use: the standard library, overridden by its own declarations
    (prefetched with the trial, ``form_declarations``, by a caller saving many forms)."""
    specs = dict(STANDARD_FORMS)
    for decl in trial.form_declarations.all():
        try:
            specs[decl.name] = form_spec_from_dict(decl.document)
        except DeclarationError:
            continue  # reported by the start-up check (oncotrials.E101/E103)
    return specs


def form_field_names(instance: FormInstance) -> set[str]:
    """The declared fields of a form instance (what a query may point at)."""
    spec = forms_for_trial(instance.registration.trial).get(instance.form_name)
    return set(spec.field_names) if spec is not None else set(instance.data)


@transaction.atomic
def form_declaration_set(
    *, trial: Trial, document: Mapping[str, Any], by: User, reason: str = ""
) -> TrialFormDeclaration:
    """Declare (or replace, with a reason) a trial-specific form; a faulty one is refused whole."""
    try:
        form_spec_from_dict(document)
    except DeclarationError as exc:
        problems = crf_all_translated(exc.problems)
        raise ValidationError(
            gettext("The form declaration has %(count)s problem(s); first: %(code)s %(message)s")
            % {
                "count": len(problems),
                "code": problems[0].code,
                "message": problems[0].message,
            },
            field="document",
            problems=[f"{p.code} {p.message}" for p in problems],
        ) from None
    name = str(document["name"])
    existing = (
        TrialFormDeclaration.objects.select_for_update().filter(trial=trial, name=name).first()
    )
    if existing is None:
        decl = TrialFormDeclaration.objects.create(trial=trial, name=name, document=dict(document))
        audit_record(
            action="create", instance=decl, changes={"document": [None, decl.document]}, by=by
        )
        return decl
    if not reason.strip():
        raise ValidationError(
            gettext("A reason is required to change a form declaration."), field="reason"
        )
    old = existing.document
    existing.document = dict(document)
    existing.version += 1
    existing.save()
    audit_record(
        action="update",
        instance=existing,
        changes={"document": [old, existing.document]},
        reason=reason,
        by=by,
    )
    return existing


@transaction.atomic
def form_declarations_import(
    *, trial: Trial, documents: Sequence[Mapping[str, Any]], by: User, reason: str = ""
) -> list[TrialFormDeclaration]:
    """Declare several forms at once (an ODM import): all of them, or none if one is refused."""
    return [
        form_declaration_set(trial=trial, document=doc, by=by, reason=reason) for doc in documents
    ]


# ----------------------------------------------------------------------------- forms


def visit_forms(registration: Registration) -> dict[str, tuple[str, ...]]:
    """Visit code -> form names, from the registration's visit calendar."""
    calendar = registration_calendar(registration=registration)
    if calendar is None:
        raise no_schedule_error(registration)
    return {v.code: v.forms for v in calendar.visits}


def no_schedule_error(registration: Registration) -> ValidationError:
    """The refusal of a form entry for a trial that declares no visit schedule."""
    return ValidationError(
        gettext(
            "Trial %(trial)s declares no visit schedule, so its forms cannot be entered; ask a "
            "data manager to declare one."
        )
        % {"trial": registration.trial.protocol_code},
        field="visit_code",
    )


def _known_visit_forms(registration: Registration) -> dict[str, tuple[str, ...]]:
    """The visits of the calendar reconciled without the other apps' evidence (no query for
    it): a subset of ``visit_forms`` (evidence only keeps visits, never drops one), with the
    same forms per visit; empty when the trial declares no schedule."""
    calendar = registration_calendar(registration=registration, evidence={})
    return {} if calendar is None else {v.code: v.forms for v in calendar.visits}


def _form_spec(registration: Registration, visit_code: str, form_name: str) -> FormSpec:
    forms = _known_visit_forms(registration)
    if form_name not in forms.get(visit_code, ()):
        forms = visit_forms(registration)  # a visit only its records keep: the full calendar
    return form_spec_checked(forms, forms_for_trial(registration.trial), visit_code, form_name)


def form_spec_checked(
    forms: Mapping[str, Sequence[str]],
    specs: Mapping[str, FormSpec],
    visit_code: str,
    form_name: str,
) -> FormSpec:
    """The declaration of ``form_name`` entered at ``visit_code``, given the calendar's forms
    per visit and the trial's declarations: refused when the visit is not in the calendar, the
    form not expected there, not declared, or kept as records on their own page."""
    if visit_code not in forms:
        raise NotFoundError(
            gettext(
                "Visit %(visit_code)s is not in the calendar of this registration; expected one of "
                "%(values)s."
            )
            % {"visit_code": repr(visit_code), "values": ", ".join(list(forms)[:30])},
        )
    if form_name not in forms[visit_code]:
        raise NotFoundError(
            gettext(
                "Form %(form_name)s is not expected at visit %(visit_code)s; that visit lists "
                "%(forms)s."
            )
            % {
                "form_name": repr(form_name),
                "visit_code": visit_code,
                "forms": ", ".join(forms[visit_code]) or gettext("no forms"),
            },
        )
    spec = specs.get(form_name)
    if spec is None:
        raise ValidationError(
            gettext("Form %(form_name)s is not declared.") % {"form_name": repr(form_name)},
            field="form_name",
        )
    if spec.kind != "fields":
        raise ValidationError(
            gettext(
                "Form %(form_name)s is kept as %(title)s records (%(owner)s); enter them on their "
                "own page or endpoint."
            )
            % {"form_name": repr(form_name), "title": spec.title.lower(), "owner": spec.owner},
            field="form_name",
        )
    return spec


def _stale(instance: FormInstance, version: int) -> ConflictError:
    who = instance.updated_by.get_full_name() or instance.updated_by.username
    return ConflictError(
        gettext(
            "This form was changed by %(who)s at %(updated_at)s UTC (now version %(version)s); "
            "your copy is version %(version_b)s. Nothing was saved: review the current values, "
            "re-apply your change and save again."
        )
        % {
            "who": who,
            "updated_at": format(instance.updated_at, "%Y-%m-%d %H:%M"),
            "version": instance.version,
            "version_b": version,
        },
        current_version=instance.version,
        current_status=instance.status,
        current_data=dict(instance.data),
        updated_by=instance.updated_by.username,
    )


@transaction.atomic
def form_save(
    *,
    registration: Registration,
    visit_code: str,
    form_name: str,
    data: Mapping[str, Any],
    version: int,
    complete: bool = False,
    reason: str = "",
    by: User,
) -> FormInstance:
    """Save a form as draft (errors shown) or complete (no errors allowed).

    ``version`` is the version the caller edited (0 for a new form); a stale one raises
    ConflictError carrying the current values. After the first completion every change needs
    a reason. Completing a form with values outside their expected range raises automatic
    queries; queries whose finding has gone are closed.
    """
    _require(by, registration, Action.EDIT_CRF)
    spec = _form_spec(registration, visit_code, form_name)
    clean, issues = _form_checked(spec, form_name, data, complete=complete)
    now = timezone.now()
    # No join in the locking query: on PostgreSQL a FOR UPDATE over a join drops the row when a
    # concurrent writer changes the join key (updated_by), and the row would look absent. The
    # model's ordering (by registration) would join the registration too: order by id instead
    # (one row at most, by the unique constraint).
    instance = (
        FormInstance.objects.select_for_update()
        .filter(registration=registration, visit_code=visit_code, form_name=form_name)
        .order_by("pk")
        .first()
    )
    created = instance is None
    if instance is None:
        _form_absent_check(form_name, visit_code, version)
        instance = _form_new(
            registration, visit_code, form_name, clean, issues, complete=complete, now=now, by=by
        )
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
        except IntegrityError:
            current = FormInstance.objects.select_related("updated_by").get(
                registration=registration, visit_code=visit_code, form_name=form_name
            )
            raise _stale(current, version) from None
        _form_audit_created(instance, by=by)
    elif not _form_update(
        instance, clean, issues, complete=complete, version=version, reason=reason, now=now, by=by
    ):
        return instance
    if complete:
        _sync_check_queries(instance, issues, by=by, created=created)
    return instance


def _form_checked(
    spec: FormSpec, form_name: str, data: Any, *, complete: bool
) -> tuple[dict[str, Any], list[Any]]:
    """(clean values, edit-check issues) of a form's data; errors refuse a completion."""
    if not isinstance(data, Mapping):
        raise ValidationError(
            gettext("The form data must be an object of field: value."), field="data"
        )
    try:
        clean, found = run_checks(spec, data, today=timezone.localdate())
    except KeyError as exc:
        raise ValidationError(
            gettext("Form %(form_name)s has no field(s) %(names)s; its fields are %(values)s.")
            % {
                "form_name": repr(form_name),
                "names": exc.args[0],
                "values": ", ".join(spec.field_names),
            },
            field="data",
        ) from None
    issues = crf_all_translated(found)
    errors = errors_of(issues)
    if complete and errors:
        raise ValidationError(
            gettext(
                "The form cannot be completed: %(count)s edit check(s) fail; first: %(message)s Save "
                "it as a draft or correct the values."
            )
            % {"count": len(errors), "message": errors[0].message},
            field=errors[0].field,
            issues=[i.as_dict() for i in issues],
        )
    return clean, issues


def _form_absent_check(form_name: str, visit_code: str, version: int) -> None:
    """A form not saved yet is created from version 0 only."""
    if version != 0:
        raise ConflictError(
            gettext(
                "There is no saved %(form_name)s form at %(visit_code)s (version %(version)s was "
                "given); send version 0 to create it."
            )
            % {"form_name": form_name, "visit_code": visit_code, "version": version},
            current_version=0,
            current_data={},
        )


def _form_new(
    registration: Registration,
    visit_code: str,
    form_name: str,
    clean: dict[str, Any],
    issues: list[Any],
    *,
    complete: bool,
    now: dt.datetime,
    by: User,
) -> FormInstance:
    """The form instance a first save inserts (not saved here)."""
    return FormInstance(
        registration=registration,
        visit_code=visit_code,
        form_name=form_name,
        data=clean,
        issues=[i.as_dict() for i in issues],
        status=FormStatus.COMPLETE if complete else FormStatus.DRAFT,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
        first_completed_at=now if complete else None,
    )


def _form_audit_created(instance: FormInstance, *, by: User) -> None:
    audit_record(
        action="create",
        instance=instance,
        changes={
            **{f"data.{k}": [None, v] for k, v in instance.data.items()},
            "status": [None, instance.status],
        },
        by=by,
    )


def _form_update_check(instance: FormInstance, *, version: int, reason: str) -> None:
    """A saved form changes from its current version, with a reason once completed."""
    if instance.version != version:
        raise _stale(instance, version)
    if instance.first_completed_at is not None and not reason.strip():
        raise ValidationError(
            gettext("This form has been completed before: give a reason for the change."),
            field="reason",
        )


def _form_update(
    instance: FormInstance,
    clean: dict[str, Any],
    issues: list[Any],
    *,
    complete: bool,
    version: int,
    reason: str,
    now: dt.datetime,
    by: User,
) -> bool:
    """Save a new version of a locked form instance, audited; False when nothing changed."""
    status = FormStatus.COMPLETE if complete else FormStatus.DRAFT
    _form_update_check(instance, version=version, reason=reason)
    old = {f"data.{k}": v for k, v in instance.data.items()} | {"status": instance.status}
    new = {f"data.{k}": v for k, v in clean.items()} | {"status": str(status)}
    changes = {k: [old.get(k), new.get(k)] for k in sorted(old | new) if old.get(k) != new.get(k)}
    if not changes:
        return False
    instance.data = clean
    instance.issues = [i.as_dict() for i in issues]
    instance.status = status
    instance.version += 1
    instance.updated_at = now
    instance.updated_by = by
    if complete and instance.first_completed_at is None:
        instance.first_completed_at = now
    instance.save()
    audit_record(action="update", instance=instance, changes=changes, reason=reason, by=by)
    return True


def _sync_check_queries(
    instance: FormInstance, issues: list[Any], *, by: User, created: bool = False
) -> None:
    """Raise a query per warning of a completed form; close those whose finding has gone.

    ``created``: the form was inserted by this save, so no query points at it yet (ids are never
    reused) and there is none to read."""
    ct = ContentType.objects.get_for_model(FormInstance)
    wanted = _check_warnings(issues)
    existing: Iterable[DataQuery] = (
        []
        if created
        else DataQuery.objects.select_for_update()
        .filter(content_type=ct, object_id=instance.pk, origin=QueryOrigin.EDIT_CHECK)
        .exclude(status=QueryStatus.CLOSED)
        .order_by("pk")
    )
    now = timezone.now()
    have = set()
    for q in existing:
        key = (q.field, q.check_code)
        if key in wanted:
            have.add(key)
            continue
        old_status = q.status
        q.status = QueryStatus.CLOSED
        q.updated_at = now
        q.save(update_fields=["status", "updated_at"])
        text = f"Closed automatically: the finding is gone in version {instance.version}."
        QueryEvent.objects.create(query=q, action="closed", text=text, at=now, by=None)
        audit_record(
            action="query_close",
            instance=q,
            changes={"status": [old_status, "closed"]},
            reason=text,
            by=by,
        )
    for key, issue in wanted.items():
        if key in have:
            continue
        q = _check_query_new(instance, issue, now)
        q.save(force_insert=True)
        QueryEvent.objects.create(query=q, action="raised", text=issue.message, at=now, by=None)
        _check_query_audit(q, by=by)


def _check_warnings(issues: list[Any]) -> dict[tuple[str, str], Any]:
    """The warnings of a completed form that each keep one automatic query, by (field, check)."""
    return {(i.field, i.code): i for i in issues if i.severity == "warning"}


def _check_query_new(instance: FormInstance, issue: Any, now: dt.datetime) -> DataQuery:
    """The automatic query an edit-check warning of a completed form raises (not saved here)."""
    return DataQuery(
        **_link(instance),
        field=issue.field,
        text=issue.message,
        origin=QueryOrigin.EDIT_CHECK,
        check_code=issue.code,
        raised_at=now,
        raised_by=None,
        updated_at=now,
    )


def _check_query_audit(query: DataQuery, *, by: User) -> None:
    audit_record(action="query_raise", instance=query, changes={"text": [None, query.text]}, by=by)


# ----------------------------------------------------------------------------- labs


def _decimal(value: Any, field: str, *, required: bool = True, places: int = 6) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(gettext("%(field)s is required.") % {"field": field}, field=field)
        return None
    try:
        d = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise ValidationError(
            gettext("%(field)s must be a number; got %(value)s.")
            % {"field": field, "value": repr(value)},
            field=field,
        ) from None
    if not d.is_finite() or abs(d) >= Decimal("1e9"):
        raise ValidationError(
            gettext("%(field)s must be a finite number below 10^9; got %(value)s.")
            % {"field": field, "value": repr(value)},
            field=field,
        )
    if d != d.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError(
            gettext("%(field)s has more than %(places)s decimal places; got %(value)s.")
            % {"field": field, "places": places, "value": repr(value)},
            field=field,
        )
    return d


def _required_decimal(value: Any, field: str, places: int = 6) -> Decimal:
    d = _decimal(value, field, places=places)
    if d is None:
        raise ValidationError(gettext("%(field)s is required.") % {"field": field}, field=field)
    return d


def _date_in_course(registration: Registration, on: dt.date, field: str) -> None:
    if on > timezone.localdate():
        raise ValidationError(
            gettext("%(field)s cannot be in the future; got %(on)s.")
            % {"field": field, "on": on.isoformat()},
            field=field,
        )
    earliest = registration.registered_on - dt.timedelta(days=60)
    if on < earliest:
        raise ValidationError(
            gettext(
                "%(field)s %(on)s is more than 60 days before registration (%(registered_on)s); "
                "check the date."
            )
            % {
                "field": field,
                "on": on.isoformat(),
                "registered_on": registration.registered_on.isoformat(),
            },
            field=field,
        )


def _baseline(
    registration: Registration, analyte: str, unit: str, sampled_on: dt.date, exclude: int | None
) -> Decimal | None:
    """The pre-treatment value of the analyte (latest on or before treatment start, same unit);
    None before treatment starts or when there is none."""
    start = registration.treatment_start
    if start is None or sampled_on <= start:
        return None
    earlier = LabResult.objects.filter(
        registration=registration, analyte=analyte, unit=unit.strip(), sampled_on__lte=start
    )
    if exclude is not None:
        earlier = earlier.exclude(pk=exclude)
    baseline = earlier.order_by("-sampled_on", "-id").values_list("value", flat=True).first()
    return baseline


def _limits_in_value_unit(
    analyte: str, unit: str, limit_unit: str, lln: Decimal | None, uln: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    """The limits given in ``limit_unit`` converted to the value's unit (stored so, and graded
    so on a later correction); unchanged without a limit unit. A unit of another scale
    (mass vs molar...) or unknown for the analyte is refused, naming the field."""
    if not limit_unit.strip():
        return lln, uln
    from oncotrials.core.grading.ctcae import find_analyte
    from oncotrials.core.grading.units import resolve_unit

    try:
        a = find_analyte(analyte)
        scale, factor = resolve_unit(unit, family=a.family, what=a.label)
        limit_scale, limit_factor = resolve_unit(limit_unit, family=a.family, what=a.label)
    except OncotrialsError as exc:
        raise ValidationError(exc.message, field="limit_unit") from None
    if limit_scale != scale:
        raise ValidationError(
            gettext(
                "%(test)s: the limits' unit %(limit_unit)s is on the %(limit_scale)s scale and the "
                "value's unit %(unit)s on the %(scale)s scale; give both in units of one scale."
            )
            % {
                "test": a.label,
                "limit_unit": repr(limit_unit),
                "limit_scale": limit_scale,
                "unit": repr(unit),
                "scale": scale,
            },
            field="limit_unit",
        )
    q = Decimal("0.000001")

    def convert(x: Decimal | None) -> Decimal | None:
        return None if x is None else (x * limit_factor / factor).quantize(q)

    return convert(lln), convert(uln)


def _grade(
    analyte: str,
    value: Decimal,
    unit: str,
    lln: Decimal | None,
    uln: Decimal | None,
    *,
    registration: Registration,
    sampled_on: dt.date,
    exclude: int | None = None,
    baseline_of: Callable[[str], Decimal | None] | None = None,
) -> Any:
    """The CTCAE grade of a value; ``baseline_of(analyte key)`` gives the baseline when the
    caller knows it (a batch of values), else it is read (:func:`_baseline`)."""
    from oncotrials.core.grading import grade_lab
    from oncotrials.core.grading.ctcae import find_analyte

    try:
        key = find_analyte(analyte).key
        baseline = (
            baseline_of(key)
            if baseline_of is not None
            else _baseline(registration, key, unit, sampled_on, exclude)
        )
        return grade_lab(analyte, value, unit, lln=lln, uln=uln, baseline=baseline)
    except OncotrialsError as exc:  # unknown analyte, a unit that does not fit, LLN >= ULN
        text = exc.message
        field = "unit" if "Unit" in text or "unit" in text.split(";")[0] else "analyte"
        if "LLN" in text:
            field = "lln"
        elif "ULN" in text:
            field = "uln"
        raise ValidationError(text, field=field) from None


LAB_AUDIT_FIELDS = ["analyte", "value", "unit", "lln", "uln", "sampled_on", "grade"]


def _lab_new(
    registration: Registration,
    *,
    analyte: str,
    value: Any,
    unit: str,
    sampled_on: dt.date,
    lln: Any,
    uln: Any,
    visit_code: str,
    limit_unit: str,
    now: dt.datetime,
    by: User,
    baseline_of: Callable[[str], Decimal | None] | None = None,
) -> LabResult:
    """A new lab value after every rule, graded (not saved here)."""
    num = _required_decimal(value, "value")
    lo, hi = _decimal(lln, "lln", required=False), _decimal(uln, "uln", required=False)
    lo, hi = _limits_in_value_unit(analyte, unit, limit_unit, lo, hi)
    _date_in_course(registration, sampled_on, "sampled_on")
    g = _grade(
        analyte,
        num,
        unit,
        lo,
        hi,
        registration=registration,
        sampled_on=sampled_on,
        baseline_of=baseline_of,
    )
    return LabResult(
        registration=registration,
        visit_code=visit_code[:20],
        analyte=g.analyte,
        analyte_label=g.term or g.analyte,
        value=num,
        unit=unit.strip(),
        lln=lo,
        uln=hi,
        sampled_on=sampled_on,
        ctcae_version=g.version,
        grade=g.grade,
        term=g.term or "",
        rule=g.rule,
        criterion=g.criterion[:300],
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def _lab_audit_created(lab: LabResult, *, by: User) -> None:
    audit_record(
        action="create",
        instance=lab,
        changes={k: [None, v] for k, v in model_snapshot(lab, LAB_AUDIT_FIELDS).items()},
        by=by,
    )


@transaction.atomic
def lab_result_create(
    *,
    registration: Registration,
    analyte: str,
    value: Any,
    unit: str,
    sampled_on: dt.date,
    lln: Any = None,
    uln: Any = None,
    visit_code: str = "",
    limit_unit: str = "",
    by: User,
) -> LabResult:
    """Record one lab value, graded with CTCAE v5 (after treatment start, against the
    pre-treatment value of the same analyte as baseline); a unit that does not fit the analyte,
    an unknown analyte or LLN >= ULN saves nothing. ``limit_unit``: the unit of LLN and ULN
    when it is not the value's (they are stored converted to the value's unit)."""
    _require(by, registration, Action.EDIT_CRF)
    lab = _lab_new(
        registration,
        analyte=analyte,
        value=value,
        unit=unit,
        sampled_on=sampled_on,
        lln=lln,
        uln=uln,
        visit_code=visit_code,
        limit_unit=limit_unit,
        now=timezone.now(),
        by=by,
    )
    lab.save(force_insert=True)
    _lab_audit_created(lab, by=by)
    notify_record_changed(lab, on=sampled_on, by=by)
    return lab


@transaction.atomic
def lab_result_update(
    *,
    lab: LabResult,
    version: int,
    value: Any,
    unit: str,
    sampled_on: dt.date,
    lln: Any = None,
    uln: Any = None,
    reason: str,
    limit_unit: str = "",
    by: User,
) -> LabResult:
    """Correct a lab value (with a reason); it is graded again (``limit_unit`` as for
    :func:`lab_result_create`)."""
    locked = LabResult.objects.select_for_update().get(pk=lab.pk)
    _require(by, locked, Action.EDIT_CRF)
    if locked.version != version:
        raise ConflictError(
            gettext(
                "This lab result was changed by another user (now version %(version)s; yours is "
                "%(version_b)s); current value %(value)s %(unit)s. Nothing was saved."
            )
            % {
                "version": locked.version,
                "version_b": version,
                "value": plain(locked.value),
                "unit": locked.unit,
            },
            current_version=locked.version,
            current_value=plain(locked.value),
            current_unit=locked.unit,
        )
    if not reason.strip():
        raise ValidationError(gettext("Give a reason for changing a lab result."), field="reason")
    num = _required_decimal(value, "value")
    lo, hi = _decimal(lln, "lln", required=False), _decimal(uln, "uln", required=False)
    lo, hi = _limits_in_value_unit(locked.analyte, unit, limit_unit, lo, hi)
    _date_in_course(locked.registration, sampled_on, "sampled_on")
    g = _grade(
        locked.analyte,
        num,
        unit,
        lo,
        hi,
        registration=locked.registration,
        sampled_on=sampled_on,
        exclude=locked.pk,
    )
    fields = ["value", "unit", "lln", "uln", "sampled_on", "grade"]
    old = model_snapshot(locked, fields)
    locked.value, locked.unit, locked.lln, locked.uln = num, unit.strip(), lo, hi
    locked.sampled_on, locked.grade, locked.rule = sampled_on, g.grade, g.rule
    locked.criterion = g.criterion[:300]
    locked.version += 1
    locked.updated_at, locked.updated_by = timezone.now(), by
    locked.save()
    locked.refresh_from_db()
    audit_record(
        action="update",
        instance=locked,
        changes=_diff(old, model_snapshot(locked, fields)),
        reason=reason,
        by=by,
    )
    notify_record_changed(
        locked, on=sampled_on, before=dt.date.fromisoformat(old["sampled_on"]), by=by
    )
    return locked


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {k: [old.get(k), new.get(k)] for k in new if str(old.get(k)) != str(new.get(k))}


# ----------------------------------------------------------------------------- exposure


# Read for every casebook and dose saved: compiled once.
_REGIMEN = PreparedRead(
    lambda cohort, level: DoseLevel.objects.filter(cohort_id=cohort, level=level).order_by("agent"),
    "cohort",
    "level",
)


def regimen_for(registration: Registration) -> list[DoseLevel]:
    """The planned agents and doses: every agent of the registration's dose level."""
    if registration.dose_level_id is None:
        return []
    dl = registration.dose_level
    assert dl is not None
    return _REGIMEN.objects(cohort=dl.cohort_id, level=dl.level)


def _administration_checked(
    registration: Registration,
    *,
    agent: str,
    dose: Any,
    unit: str,
    administered_on: dt.date,
    modification: str,
    modification_reason: str,
    regimen: list[DoseLevel] | None = None,
) -> tuple[str, Decimal, Decimal | None]:
    """(agent as planned, dose, planned dose) after every rule of an administration
    (``regimen``: the registration's, when the caller read it already)."""
    amount = _required_decimal(dose, "dose", places=4)
    if amount < 0:
        raise ValidationError(
            gettext("dose cannot be negative; got %(dose)s.") % {"dose": dose}, field="dose"
        )
    if modification not in Modification.values:
        raise ValidationError(
            gettext("modification must be one of %(values)s; got %(modification)s.")
            % {"values": ", ".join(Modification.values), "modification": repr(modification)},
            field="modification",
        )
    if modification != Modification.NONE and not modification_reason.strip():
        raise ValidationError(
            gettext("A %(modification)s needs a reason (e.g. the toxicity that caused it).")
            % {"modification": modification},
            field="modification_reason",
        )
    _date_in_course(registration, administered_on, "administered_on")
    if not agent.strip() or not unit.strip():
        raise ValidationError(gettext("agent and unit are required."), field="agent")
    agent = agent.strip()
    if regimen is None:
        regimen = regimen_for(registration)
    planned: Decimal | None = None
    if regimen:
        match = [d for d in regimen if d.agent.casefold() == agent.casefold()]
        if not match:
            raise ValidationError(
                gettext("Agent %(agent)s is not in this patient's regimen; expected %(values)s.")
                % {"agent": repr(agent), "values": ", ".join(d.agent for d in regimen)},
                field="agent",
            )
        planned_level = match[0]
        agent = planned_level.agent
        if unit.strip() != planned_level.unit:
            raise ValidationError(
                gettext(
                    "%(agent)s is planned in %(unit)s; got a dose in %(unit_b)s. Convert the dose to "
                    "%(unit)s."
                )
                % {"agent": agent, "unit": planned_level.unit, "unit_b": repr(unit)},
                field="unit",
            )
        planned = planned_level.dose
        if modification == Modification.REDUCTION and amount >= planned:
            raise ValidationError(
                gettext(
                    "A dose reduction must be below the planned %(planned)s %(unit)s; got %(amount)s."
                )
                % {"planned": plain(planned), "unit": unit, "amount": plain(amount)},
                field="dose",
            )
    if amount == 0 and modification != Modification.INTERRUPTION:
        raise ValidationError(
            gettext(
                "A dose of 0 is a missed or held dose: record it as an interruption with its reason."
            ),
            field="dose",
        )
    return agent, amount, planned


ADMINISTRATION_FIELDS = [
    "agent",
    "dose",
    "unit",
    "planned_dose",
    "administered_on",
    "modification",
    "modification_reason",
]


@transaction.atomic
def administration_record(
    *,
    registration: Registration,
    agent: str,
    dose: Any,
    unit: str,
    administered_on: dt.date,
    modification: str = Modification.NONE,
    modification_reason: str = "",
    visit_code: str = "",
    by: User,
) -> DrugAdministration:
    """Record one administration of a study agent, checked against the planned regimen."""
    _require(by, registration, Action.EDIT_CRF)
    admin = _administration_new(
        registration,
        agent=agent,
        dose=dose,
        unit=unit,
        administered_on=administered_on,
        modification=modification,
        modification_reason=modification_reason,
        visit_code=visit_code,
        now=timezone.now(),
        by=by,
    )
    admin.save(force_insert=True)
    _administration_audit_created(admin, by=by)
    notify_record_changed(
        admin, on=administered_on, delayed=modification == Modification.DELAY, by=by
    )
    return admin


def _administration_new(
    registration: Registration,
    *,
    agent: str,
    dose: Any,
    unit: str,
    administered_on: dt.date,
    modification: str,
    modification_reason: str,
    visit_code: str,
    now: dt.datetime,
    by: User,
    regimen: list[DoseLevel] | None = None,
) -> DrugAdministration:
    """A new administration after every rule of the regimen (not saved here)."""
    agent, amount, planned = _administration_checked(
        registration,
        agent=agent,
        dose=dose,
        unit=unit,
        administered_on=administered_on,
        modification=modification,
        modification_reason=modification_reason,
        regimen=regimen,
    )
    return DrugAdministration(
        registration=registration,
        visit_code=visit_code[:20],
        agent=agent,
        dose=amount,
        unit=unit.strip(),
        planned_dose=planned,
        administered_on=administered_on,
        modification=modification,
        modification_reason=modification_reason.strip()[:300],
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def _administration_audit_created(admin: DrugAdministration, *, by: User) -> None:
    audit_record(
        action="create",
        instance=admin,
        changes={k: [None, v] for k, v in model_snapshot(admin, ADMINISTRATION_FIELDS).items()},
        by=by,
    )


@transaction.atomic
def administration_update(
    *,
    administration: DrugAdministration,
    version: int,
    agent: str,
    dose: Any,
    unit: str,
    administered_on: dt.date,
    modification: str = Modification.NONE,
    modification_reason: str = "",
    reason: str,
    by: User,
) -> DrugAdministration:
    """Correct an administration record (current version and a reason required)."""
    locked = DrugAdministration.objects.select_for_update().get(pk=administration.pk)
    _require(by, locked, Action.EDIT_CRF)
    if locked.version != version:
        raise ConflictError(
            gettext(
                "This administration was changed by another user (now version %(version)s; yours is "
                "%(version_b)s): %(administration)s. Nothing was saved."
            )
            % {"version": locked.version, "version_b": version, "administration": locked},
            current_version=locked.version,
            current_dose=plain(locked.dose),
            current_administered_on=locked.administered_on.isoformat(),
        )
    if not reason.strip():
        raise ValidationError(
            gettext("Give a reason for changing an administration."), field="reason"
        )
    agent, amount, planned = _administration_checked(
        locked.registration,
        agent=agent,
        dose=dose,
        unit=unit,
        administered_on=administered_on,
        modification=modification,
        modification_reason=modification_reason,
    )
    old = model_snapshot(locked, ADMINISTRATION_FIELDS)
    locked.agent, locked.dose, locked.unit, locked.planned_dose = (
        agent,
        amount,
        unit.strip(),
        planned,
    )
    locked.administered_on, locked.modification = administered_on, modification
    locked.modification_reason = modification_reason.strip()[:300]
    locked.version += 1
    locked.updated_at, locked.updated_by = timezone.now(), by
    locked.save()
    locked.refresh_from_db()
    audit_record(
        action="update",
        instance=locked,
        changes=_diff(old, model_snapshot(locked, ADMINISTRATION_FIELDS)),
        reason=reason,
        by=by,
    )
    notify_record_changed(
        locked,
        on=administered_on,
        before=dt.date.fromisoformat(old["administered_on"]),
        delayed=Modification.DELAY in (modification, old["modification"]),
        by=by,
    )
    return locked


# ----------------------------------------------------------------------------- queries


@transaction.atomic
def query_raise(*, record: models.Model, field: str, text: str, by: User) -> DataQuery:
    """Raise a manual query on one field of any registered record ("" for the whole record)."""
    _require(by, record, Action.RAISE_QUERY)
    if record_voided(record):
        raise ConflictError(
            gettext("The %(record)s %(id)s was voided; a voided record takes no new query.")
            % {"record": record._meta.verbose_name, "id": record.pk}
        )
    if field and field not in record_field_names(record):
        raise ValidationError(
            gettext("The %(record)s has no field %(field)s; fields are %(values)s.")
            % {
                "record": record._meta.verbose_name,
                "field": repr(field),
                "values": ", ".join(sorted(record_field_names(record))),
            },
            field="field",
        )
    if not text.strip():
        raise ValidationError(gettext("Say what is wrong or what to check."), field="text")
    now = timezone.now()
    q = DataQuery.objects.create(
        **_link(record),
        field=field,
        text=text.strip(),
        origin=QueryOrigin.MANUAL,
        raised_at=now,
        raised_by=by,
        updated_at=now,
    )
    QueryEvent.objects.create(query=q, action="raised", text=q.text, at=now, by=by)
    audit_record(action="query_raise", instance=q, changes={"text": [None, q.text]}, by=by)
    return q


def _record_of(query: DataQuery) -> models.Model:
    record = query.record
    if record is None:
        raise NotFoundError(
            gettext("The record of query %(query)s no longer exists.") % {"query": query.pk}
        )
    return record  # type: ignore[no-any-return]


def _query_roles(user: Actor, query: DataQuery) -> set[str]:
    """Roles on the query's record; on its registration (or patient) when the record is gone,
    so that a query on a record deleted before voiding existed can still be closed."""
    record = query.record
    if record is not None:
        return record_roles(user, record)
    if query.registration is not None:
        return registration_roles(user, query.registration)
    return roles_for_patient(user, query.patient)


def _query_locked(query: DataQuery) -> DataQuery:
    return DataQuery.objects.select_for_update().get(pk=query.pk)


@transaction.atomic
def query_answer(*, query: DataQuery, text: str, by: User) -> DataQuery:
    """The site answers an open query (the data, if wrong, are corrected on the record)."""
    q = _query_locked(query)
    _require(by, _record_of(q), Action.ANSWER_QUERY)
    if q.status != QueryStatus.OPEN:
        raise ConflictError(
            gettext("Query #%(query)s is %(status)s; only an open query can be answered.")
            % {"query": q.pk, "status": q.status}
        )
    if not text.strip():
        raise ValidationError(gettext("An answer cannot be empty."), field="text")
    now = timezone.now()
    q.status, q.updated_at = QueryStatus.ANSWERED, now
    q.save(update_fields=["status", "updated_at"])
    QueryEvent.objects.create(query=q, action="answered", text=text.strip(), at=now, by=by)
    audit_record(
        action="query_answer",
        instance=q,
        changes={"status": ["open", "answered"]},
        reason=text.strip(),
        by=by,
    )
    return q


@transaction.atomic
def query_close(*, query: DataQuery, text: str = "", by: User, reopen: bool = False) -> DataQuery:
    """Close a query (or, with ``reopen``, send an answered one back to the site)."""
    q = _query_locked(query)
    roles = _query_roles(by, q)
    is_raiser = q.raised_by_id is not None and q.raised_by_id == by.pk
    if not roles:
        raise NotFoundError(gettext("No query %(query)s that you may see.") % {"query": q.pk})
    if not (is_raiser or allows(roles, Action.CLOSE_QUERY)):
        raise PermissionDeniedError(
            gettext(
                "Only the person who raised the query, a data manager, a CRA or a monitor may close "
                "it."
            )
        )
    if q.status == QueryStatus.CLOSED:
        raise ConflictError(gettext("Query #%(query)s is already closed.") % {"query": q.pk})
    if reopen:
        if q.status != QueryStatus.ANSWERED or not text.strip():
            raise ValidationError(
                gettext("Only an answered query can be re-opened, with a comment."), field="text"
            )
        new_status, action = QueryStatus.OPEN, "reopened"
    else:
        new_status, action = QueryStatus.CLOSED, "closed"
    now = timezone.now()
    old = q.status
    q.status, q.updated_at = new_status, now
    q.save(update_fields=["status", "updated_at"])
    QueryEvent.objects.create(query=q, action=action, text=text.strip(), at=now, by=by)
    audit_record(
        action=f"query_{action}",
        instance=q,
        changes={"status": [old, new_status]},
        reason=text.strip(),
        by=by,
    )
    return q


def queries_close_for_void(*, record: models.Model, reason: str, by: User) -> list[DataQuery]:
    """Close every query still open or answered on ``record``, which its owner has just voided,
    with a system note (call inside the voiding service's transaction). Nobody is left with a
    query that can be neither answered nor closed."""
    ct = ContentType.objects.get_for_model(type(record))
    queries = list(
        DataQuery.objects.select_for_update()
        .filter(content_type=ct, object_id=record.pk)
        .exclude(status=QueryStatus.CLOSED)
        .order_by("pk")
    )
    now = timezone.now()
    note = f"Closed by the system: the {record._meta.verbose_name} was voided ({reason})."
    for q in queries:
        old = q.status
        q.status, q.updated_at = QueryStatus.CLOSED, now
        q.save(update_fields=["status", "updated_at"])
        QueryEvent.objects.create(query=q, action="closed", text=note, at=now, by=None)
        audit_record(
            action="query_closed",
            instance=q,
            changes={"status": [old, QueryStatus.CLOSED]},
            reason=note,
            by=by,
        )
    return queries


# ----------------------------------------------------------------------------- SDV


@transaction.atomic
def sdv_record(*, record: models.Model, by: User, note: str = "") -> SourceVerification:
    """A monitor verifies a record against the source at its current version (read-only on data)."""
    _require(by, record, Action.VERIFY_SOURCE)
    link = _link(record)
    ct, oid = link["content_type"], link["object_id"]
    if SourceVerification.objects.filter(
        content_type=ct, object_id=oid, record_version=link["record_version"]
    ).exists():
        raise ConflictError(
            gettext("Version %(record_version)s of this record is already verified.")
            % {"record_version": link["record_version"]}
        )
    sdv = SourceVerification.objects.create(
        **link, verified_at=timezone.now(), verified_by=by, note=note.strip()[:300]
    )
    audit_record(
        action="sdv", instance=sdv, changes={"record_version": [None, sdv.record_version]}, by=by
    )
    return sdv


def sdv_is_current(record: models.Model) -> bool:
    """Whether the record's current version has been source-verified."""
    return SourceVerification.objects.filter(
        content_type=ContentType.objects.get_for_model(type(record)),
        object_id=record.pk,
        record_version=record_version(type(record)._default_manager.get(pk=record.pk)),
    ).exists()


# ----------------------------------------------------------------------------- signatures


def signature_sign(*, record: models.Model, meaning: str, password: str, by: User) -> Signature:
    """An investigator signs a record (or a casebook: a Registration) with their password.

    The password is checked by ``accounts.signing_reauthenticate`` (wrong ones audited, signing
    locked after repeated ones), in its own transaction before the signature's.
    The signature keeps a fingerprint of the signed content; ``signature_is_valid`` compares it
    with the record as it is now, so any later change invalidates the signature.
    """
    _require(by, record, Action.SIGN_CRF)
    if meaning not in SignatureMeaning.values:
        raise ValidationError(
            gettext("meaning must be one of %(values)s; got %(meaning)s.")
            % {"values": ", ".join(SignatureMeaning.values), "meaning": repr(meaning)},
            field="meaning",
        )
    signing_reauthenticate(user=by, password=password)
    return _signature_apply(record=record, meaning=meaning, by=by)


@transaction.atomic
def _signature_apply(*, record: models.Model, meaning: str, by: User) -> Signature:
    locked = type(record)._default_manager.select_for_update().get(pk=record.pk)
    sig = Signature.objects.create(
        **_link(locked),
        signer=by,
        signer_name=by.get_full_name() or by.username,
        signed_at=timezone.now(),
        meaning=meaning,
        fingerprint=record_fingerprint(locked),
    )
    audit_record(
        action="sign",
        instance=sig,
        changes={"meaning": [None, meaning], "record_version": [None, sig.record_version]},
        by=by,
    )
    return sig


def signature_is_valid(target: Signature | models.Model) -> bool:
    """A signature holds while the record is unchanged; for a record: its latest signature holds."""
    if isinstance(target, Signature):
        sig: Signature | None = target
    else:
        sig = (
            Signature.objects.filter(
                content_type=ContentType.objects.get_for_model(type(target)), object_id=target.pk
            )
            .order_by("-signed_at", "-id")
            .first()
        )
    if sig is None:
        return False
    record = sig.record
    return record is not None and record_fingerprint(record) == sig.fingerprint
