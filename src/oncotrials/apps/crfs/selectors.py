"""Reads of casebooks, forms, labs, exposure and the data-cleaning work lists, always through
the caller's memberships."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, allows, scope_condition
from oncotrials.apps.accounts.models import Actor
from oncotrials.apps.subjects.models import Registration, RegistrationStatus
from oncotrials.apps.subjects.selectors import (
    calendars_for,
    registration_calendar,
    registrations_visible_to,
    registrations_with_calendar,
)
from oncotrials.core.crf.declarations import FormSpec
from oncotrials.core.errors import NotFoundError

from .models import (
    DataQuery,
    DrugAdministration,
    FormInstance,
    FormStatus,
    LabResult,
    Modification,
    QueryStatus,
    Signature,
    SourceVerification,
)
from .records import RECORD_TYPES, record_fingerprint, record_version
from .services import (
    forms_for_trial,
    record_roles,
    regimen_for,
    registration_roles,
)

MAX_ID = 2**62


def registration_get_for_user(*, user: Actor, registration_id: int) -> Registration:
    if not 0 < registration_id < MAX_ID:
        raise NotFoundError(
            gettext("No registration %(registration_id)s that you may see.")
            % {"registration_id": registration_id}
        )
    reg = (
        registrations_visible_to(user)
        .filter(pk=registration_id)
        .select_related(
            "patient__site", "trial__visit_schedule", "cohort", "dose_level", "screening"
        )
        .first()
    )
    if reg is None:
        raise NotFoundError(
            gettext("No registration %(registration_id)s that you may see.")
            % {"registration_id": registration_id}
        )
    return reg


def record_get_for_user(*, user: Actor, record_type: str, record_id: int) -> models.Model:
    """Any registered record by its type label ("crfs.forminstance") and id, or NotFoundError."""
    model = RECORD_TYPES.get(record_type.lower())
    if model is None:
        raise NotFoundError(
            gettext("Unknown record type %(record_type)s; known: %(values)s.")
            % {"record_type": repr(record_type), "values": ", ".join(sorted(RECORD_TYPES))}
        )
    record = model._default_manager.filter(pk=record_id).first() if 0 < record_id < MAX_ID else None
    if record is None or not record_roles(user, record):
        raise NotFoundError(
            gettext("No %(record_type)s %(record_id)s that you may see.")
            % {"record_type": record_type, "record_id": record_id}
        )
    return record


@dataclass
class Permissions:
    edit: bool
    raise_query: bool
    answer_query: bool
    verify: bool
    sign: bool

    @classmethod
    def of(cls, roles: set[str]) -> Permissions:
        return cls(
            edit=allows(roles, Action.EDIT_CRF),
            raise_query=allows(roles, Action.RAISE_QUERY),
            answer_query=allows(roles, Action.ANSWER_QUERY),
            verify=allows(roles, Action.VERIFY_SOURCE),
            sign=allows(roles, Action.SIGN_CRF),
        )


def permissions_for(user: Actor, registration: Registration) -> Permissions:
    return Permissions.of(registration_roles(user, registration))


# ----------------------------------------------------------------------------- casebook


@dataclass
class CasebookForm:
    name: str
    title: str
    kind: str
    # complete, draft, expected, missing, overdue, recorded (record forms: labs, exposure, and
    # the AEs / tumour assessments the calendar reconciles), not_required (visit not done / n.a.)
    status: str
    instance: FormInstance | None = None
    open_queries: int = 0
    records: int = 0


@dataclass
class CasebookVisit:
    code: str
    name: str
    target: dt.date
    earliest: dt.date
    latest: dt.date
    visit_status: str
    done_on: dt.date | None
    forms: list[CasebookForm] = field(default_factory=list)


def _open_query_counts(ct: ContentType, ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for oid in DataQuery.objects.filter(
        content_type=ct, object_id__in=ids, status__in=[QueryStatus.OPEN, QueryStatus.ANSWERED]
    ).values_list("object_id", flat=True):
        counts[oid] += 1
    return counts


def casebook(*, registration: Registration, today: dt.date | None = None) -> list[CasebookVisit]:
    """Every expected visit with its forms and their status.

    Visit statuses are the reconciled calendar's (``subjects.selectors.registration_calendar``),
    the same the patient page and the work list show. A form without data is ``expected`` while
    its visit is upcoming or due, ``missing`` once the visit is done, ``overdue`` once the visit
    window has closed without the visit, and ``not_required`` when the visit was marked not done
    or not applicable. A record form (``adverse_events``, ``recist``...) is ``recorded`` when
    the module holds records in its scope (the cycle for the AE log, the visit window else).
    """
    calendar = registration_calendar(registration=registration, today=today)
    if calendar is None:
        return []
    return _casebooks([(registration, calendar)])[registration.pk]


def _casebooks(calendars: list[tuple[Registration, Any]]) -> dict[int, list[CasebookVisit]]:
    """The casebooks of registrations whose calendars are given: forms, open queries, labs and
    doses of all of them read at once."""
    ids = [r.pk for r, _ in calendars]
    specs_of: dict[int, dict[str, FormSpec]] = {}
    for reg, _ in calendars:
        if reg.trial_id not in specs_of:
            specs_of[reg.trial_id] = forms_for_trial(reg.trial)
    instances: dict[tuple[int, str, str], FormInstance] = {
        (f.registration_id, f.visit_code, f.form_name): f
        for f in FormInstance.objects.filter(registration_id__in=ids).select_related("updated_by")
    }
    queries = _open_query_counts(
        ContentType.objects.get_for_model(FormInstance), [f.pk for f in instances.values()]
    )
    labs: dict[tuple[int, str], int] = defaultdict(int)
    for reg_id, code in LabResult.objects.filter(registration_id__in=ids).values_list(
        "registration_id", "visit_code"
    ):
        labs[reg_id, code] += 1
    doses: dict[tuple[int, str], int] = defaultdict(int)
    for reg_id, code in DrugAdministration.objects.filter(registration_id__in=ids).values_list(
        "registration_id", "visit_code"
    ):
        doses[reg_id, code] += 1
    books: dict[int, list[CasebookVisit]] = {}
    for reg, calendar in calendars:
        specs = specs_of[reg.trial_id]
        out = []
        for v in calendar.visits:
            visit = CasebookVisit(
                v.code, v.name, v.target, v.earliest, v.latest, v.status.value, v.done_on
            )
            for name in v.forms:
                spec = specs.get(name)
                title = spec.title if spec else name
                kind = spec.kind if spec else "fields"
                inst = instances.get((reg.pk, v.code, name))
                records = {
                    "labs": labs[reg.pk, v.code],
                    "exposure": doses[reg.pk, v.code],
                }.get(name, 0)
                if inst is not None:
                    status = inst.status
                elif kind == "records" and (records or name in v.recorded_forms):
                    status = "recorded"
                elif v.status.value in ("not_done", "not_applicable"):
                    status = "not_required"
                elif v.status.value in ("done", "done_out_of_window"):
                    status = "missing"
                elif v.status.value == "overdue":
                    status = "overdue"
                else:
                    status = "expected"
                visit.forms.append(
                    CasebookForm(
                        name,
                        title,
                        kind,
                        status,
                        inst,
                        queries.get(inst.pk, 0) if inst else 0,
                        records,
                    )
                )
            out.append(visit)
        books[reg.pk] = out
    return books


# ----------------------------------------------------------------------------- record status


@dataclass
class SignatureView:
    signature: Signature
    valid: bool


@dataclass
class RecordStatus:
    record_type: str
    record_id: int
    version: int
    queries: list[DataQuery]
    verifications: list[SourceVerification]
    verified_current: bool
    signatures: list[SignatureView]

    @property
    def signed_valid(self) -> bool:
        return any(s.valid for s in self.signatures)


def record_status(record: models.Model) -> RecordStatus:
    """Queries, source verification and signatures of one record, each signature checked."""
    ct = ContentType.objects.get_for_model(type(record))
    fresh = type(record)._default_manager.get(pk=record.pk)
    version = record_version(fresh)
    fingerprint = record_fingerprint(fresh)
    sdv = list(
        SourceVerification.objects.filter(content_type=ct, object_id=record.pk).select_related(
            "verified_by"
        )
    )
    return RecordStatus(
        record_type=record._meta.label_lower,
        record_id=record.pk,
        version=version,
        queries=list(
            DataQuery.objects.filter(content_type=ct, object_id=record.pk).prefetch_related(
                "events__by"
            )
        ),
        verifications=sdv,
        verified_current=any(s.record_version == version for s in sdv),
        signatures=[
            SignatureView(s, s.fingerprint == fingerprint)
            for s in Signature.objects.filter(content_type=ct, object_id=record.pk)
        ],
    )


# ----------------------------------------------------------------------------- queries


def queries_for_user(
    *, user: Actor, status: str = "open", trial_id: int | None = None
) -> QuerySet[DataQuery]:
    """The query work list: queries on records of patients the user may see."""
    qs = DataQuery.objects.select_related(
        "patient", "registration__trial", "raised_by", "content_type"
    )
    cond = scope_condition(user, site="patient__site_id", trial="registration__trial_id")
    if cond is not None:
        qs = qs.filter(cond)
    if status == "open":
        qs = qs.filter(status__in=[QueryStatus.OPEN, QueryStatus.ANSWERED])
    elif status in QueryStatus.values:
        qs = qs.filter(status=status)
    if trial_id is not None:
        qs = qs.filter(registration__trial_id=trial_id)
    return qs.order_by("raised_at", "id")


def query_get_for_user(*, user: Actor, query_id: int) -> DataQuery:
    if not 0 < query_id < MAX_ID:
        raise NotFoundError(
            gettext("No query %(query_id)s that you may see.") % {"query_id": query_id}
        )
    q = queries_for_user(user=user, status="all").filter(pk=query_id).first()
    if q is None:
        raise NotFoundError(
            gettext("No query %(query_id)s that you may see.") % {"query_id": query_id}
        )
    return q


# ----------------------------------------------------------------------------- labs, exposure


def labs_for(*, registration: Registration) -> QuerySet[LabResult]:
    return LabResult.objects.filter(registration=registration).order_by(
        "-sampled_on", "analyte", "-id"
    )


def administrations_for(*, registration: Registration) -> QuerySet[DrugAdministration]:
    return DrugAdministration.objects.filter(registration=registration).order_by(
        "administered_on", "agent", "id"
    )


@dataclass
class DoseIntensityRow:
    agent: str
    unit: str
    planned_dose: Decimal | None
    administrations: int
    actual_total: Decimal
    planned_total: Decimal | None
    relative_dose_intensity: Decimal | None  # actual / planned, as a fraction
    delays: int
    reductions: int
    interruptions: int
    first_on: dt.date | None
    last_on: dt.date | None


def dose_intensity(*, registration: Registration) -> list[DoseIntensityRow]:
    """Per agent: cumulative actual dose against the planned dose of the registration's dose
    level over the administrations recorded (held doses recorded as interruptions count as
    planned, with an actual dose of 0). Relative dose intensity = actual / planned."""
    planned = {d.agent: d for d in regimen_for(registration)}
    rows: dict[str, list[DrugAdministration]] = defaultdict(list)
    for a in administrations_for(registration=registration):
        rows[a.agent].append(a)
    for agent in planned:
        rows.setdefault(agent, [])
    out = []
    for agent in sorted(rows):
        admins = rows[agent]
        plan = planned.get(agent)
        actual = sum((a.dose for a in admins), Decimal(0))
        planned_total = plan.dose * len(admins) if plan is not None else None
        rdi = (actual / planned_total).quantize(Decimal("0.001")) if planned_total else None
        mods = [a.modification for a in admins]
        out.append(
            DoseIntensityRow(
                agent=agent,
                unit=plan.unit if plan else (admins[0].unit if admins else ""),
                planned_dose=plan.dose if plan else None,
                administrations=len(admins),
                actual_total=actual,
                planned_total=planned_total,
                relative_dose_intensity=rdi,
                delays=mods.count(Modification.DELAY),
                reductions=mods.count(Modification.REDUCTION),
                interruptions=mods.count(Modification.INTERRUPTION),
                first_on=admins[0].administered_on if admins else None,
                last_on=admins[-1].administered_on if admins else None,
            )
        )
    return out


# ----------------------------------------------------------------------------- home-page lists


@dataclass
class MissingForm:
    registration: Registration
    visit_code: str
    form: CasebookForm


def missing_forms_for_user(
    *, user: Actor, limit: int = 10, scan: int = 20, today: dt.date | None = None
) -> list[MissingForm]:
    """Forms missing or overdue in the casebooks of the user's active registrations (the ``scan``
    most recently registered ones), at most ``limit`` of them, oldest visit first."""
    regs = list(
        registrations_with_calendar(
            registrations_visible_to(user)
            .exclude(status=RegistrationStatus.OFF_STUDY)
            .filter(trial__visit_schedule__isnull=False)
            .order_by("-registered_on", "-pk")
        )[:scan]
    )
    books = _casebooks(calendars_for(regs, today=today))
    out: list[tuple[dt.date, MissingForm]] = []
    for reg in regs:
        for visit in books.get(reg.pk, []):
            for form in visit.forms:
                if form.status in ("missing", "overdue"):
                    out.append((visit.target, MissingForm(reg, visit.code, form)))
    out.sort(key=lambda pair: pair[0])
    return [m for _, m in out[:limit]]


def forms_awaiting_sdv(*, user: Actor) -> QuerySet[FormInstance]:
    """Complete forms of registrations the user may see whose current version is not
    source-verified, oldest change first."""
    verified = SourceVerification.objects.filter(
        content_type=ContentType.objects.get_for_model(FormInstance),
        object_id=models.OuterRef("pk"),
        record_version=models.OuterRef("version"),
    )
    return (
        FormInstance.objects.filter(
            registration__in=registrations_visible_to(user), status=FormStatus.COMPLETE
        )
        .exclude(models.Exists(verified))
        .select_related("registration__patient", "registration__trial")
        .order_by("updated_at", "pk")
    )
