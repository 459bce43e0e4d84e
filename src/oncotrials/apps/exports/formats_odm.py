"""The ODM 1.3.2 export format: a trial's form declarations, visit schedule and completed forms
at the cut's sites, selected into ``oncotrials.core.odm`` plain data.

Each value carries its last change from the audit trail (who, when, why), each form its last
change and its valid signature, and each data query goes out as an annotation. Subjects are
their research identifiers only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType

from oncotrials.apps.accounts.core_messages import core_errors_translated
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.crfs.models import (
    DataQuery,
    FormInstance,
    FormStatus,
    Signature,
    TrialFormDeclaration,
)
from oncotrials.apps.crfs.services import signature_is_valid
from oncotrials.apps.exports.core_messages import EXPORT_CORE_MESSAGES
from oncotrials.apps.subjects.models import Registration
from oncotrials.apps.trials.models import VisitScheduleDefinition
from oncotrials.core import odm
from oncotrials.core.crf import STANDARD_DECLARATIONS

from .registry import ExportFormat, cut_registrations, format_register


def _stamp(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _schedule_forms(document: Any) -> list[str]:
    """Form names in the order the schedule lists them (visits, cycles, imaging, EOT, FU)."""
    names: list[str] = []
    if not isinstance(document, dict):
        return names
    parts: list[Any] = list(document.get("visits") or [])
    parts += list((document.get("cycles") or {}).get("days") or [])
    parts += [document.get(k) for k in ("imaging", "end_of_treatment", "follow_up")]
    for part in parts:
        if isinstance(part, dict):
            names.extend(str(f) for f in part.get("forms") or [])
    return names


def _declarations(trial: Any, schedule: Any, used: set[str]) -> list[dict[str, Any]]:
    """The field forms of the trial: those its schedule lists, those it declares and those
    holding data, each by its trial declaration, else the standard one."""
    own = {
        d.name: dict(d.document)
        for d in TrialFormDeclaration.objects.filter(trial=trial).order_by("name")
    }
    standard = {str(d["name"]): d for d in STANDARD_DECLARATIONS}
    wanted = [*_schedule_forms(schedule), *sorted(own), *sorted(used)]
    out: dict[str, dict[str, Any]] = {}
    for name in wanted:
        doc = own.get(name) or standard.get(name)
        if doc is not None and name not in out:
            out[name] = doc
    return list(out.values())


def _events_by_form(instances: list[FormInstance]) -> dict[str, list[AuditEvent]]:
    ids = [str(i.pk) for i in instances]
    events: dict[str, list[AuditEvent]] = {}
    for ev in AuditEvent.objects.filter(
        object_type="crfs.forminstance", object_id__in=ids
    ).order_by("occurred_at", "seq", "pk"):
        events.setdefault(ev.object_id, []).append(ev)
    return events


def _audit(ev: AuditEvent | None) -> odm.Audit | None:
    if ev is None:
        return None
    return odm.Audit(user=ev.actor_username, at=_stamp(ev.occurred_at), reason=ev.reason)


def _signed(signature: Signature | None) -> odm.Signed | None:
    if signature is None or not signature_is_valid(signature):
        return None
    return odm.Signed(
        ref=signature.pk,
        user=signature.signer.username,
        at=_stamp(signature.signed_at),
        meaning=signature.meaning,
    )


def _form(
    instance: FormInstance,
    events: list[AuditEvent],
    queries: list[DataQuery],
    signature: Signature | None,
) -> odm.FormRecord:
    values = []
    for field, value in sorted(instance.data.items()):
        if value is None or value == "":
            continue
        last = next((e for e in reversed(events) if f"data.{field}" in (e.changes or {})), None)
        values.append(odm.Value(field=field, value=_text(value), audit=_audit(last)))
    return odm.FormRecord(
        visit=instance.visit_code,
        form=instance.form_name,
        values=tuple(values),
        audit=_audit(events[-1] if events else None),
        signature=_signed(signature),
        queries=tuple(
            odm.Query(
                ref=q.pk,
                field=q.field,
                text=q.text,
                status=q.status,
                raised_at=_stamp(q.raised_at),
                raised_by=q.raised_by.username if q.raised_by else "",
            )
            for q in queries
        ),
    )


@core_errors_translated(EXPORT_CORE_MESSAGES)
def odm_collect(trial: Any, sites: Sequence[Any]) -> str:
    """The trial's ODM plain data at ``sites`` (canonical JSON)."""
    definition = VisitScheduleDefinition.objects.filter(trial=trial).first()
    schedule = definition.document if definition is not None else None
    regs = list(cut_registrations(trial, sites))
    instances = list(
        FormInstance.objects.filter(registration__in=regs, status=FormStatus.COMPLETE).order_by(
            "registration_id", "visit_code", "form_name", "pk"
        )
    )
    events = _events_by_form(instances)
    ct = ContentType.objects.get_for_model(FormInstance)
    ids = [i.pk for i in instances]
    queries: dict[int, list[DataQuery]] = {}
    for q in (
        DataQuery.objects.filter(content_type=ct, object_id__in=ids)
        .select_related("raised_by")
        .order_by("raised_at", "pk")
    ):
        queries.setdefault(q.object_id, []).append(q)
    signatures: dict[int, Signature] = {}
    for s in (
        Signature.objects.filter(content_type=ct, object_id__in=ids)
        .select_related("signer")
        .order_by("signed_at", "pk")
    ):
        signatures[s.object_id] = s  # the latest one: it alone can still hold
    casebooks: dict[int, Signature] = {}
    for s in (
        Signature.objects.filter(
            content_type=ContentType.objects.get_for_model(Registration),
            object_id__in=[r.pk for r in regs],
        )
        .select_related("signer")
        .order_by("signed_at", "pk")
    ):
        casebooks[s.object_id] = s
    by_reg: dict[int, list[FormInstance]] = {}
    for i in instances:
        by_reg.setdefault(i.registration_id, []).append(i)
    subjects = tuple(
        odm.Subject(
            key=reg.patient.research_id,
            site=reg.patient.site.code,
            forms=tuple(
                _form(i, events.get(str(i.pk), []), queries.get(i.pk, []), signatures.get(i.pk))
                for i in by_reg.get(reg.pk, [])
            ),
            signature=_signed(casebooks.get(reg.pk)),
        )
        for reg in regs
    )
    study = odm.OdmStudy(
        study_id=trial.protocol_code,
        title=trial.title,
        declarations=tuple(_declarations(trial, schedule, {i.form_name for i in instances})),
        schedule=schedule,
        sites=tuple(odm.Site(s.code, s.name) for s in sorted(sites, key=lambda s: s.code)),
        subjects=subjects,
        effective=definition.updated_at.date().isoformat() if definition is not None else "",
        sponsor=trial.sponsor,
    )
    return odm.study_to_json(study)


@core_errors_translated(EXPORT_CORE_MESSAGES)
def odm_write(text: str, created: dt.datetime) -> dict[str, bytes]:
    return odm.odm_files(odm.study_from_json(text), created=created)


@core_errors_translated(EXPORT_CORE_MESSAGES)
def odm_subjects(text: str) -> int:
    return len(odm.study_from_json(text).subjects)


def register_odm_format() -> None:
    format_register(
        ExportFormat(
            name="odm",
            label="CDISC ODM 1.3.2",
            description=(
                "Study metadata (forms, items, code lists, visit schedule) and clinical data "
                "with audit records, signatures and queries, for other EDC systems."
            ),
            collect=odm_collect,
            write=odm_write,
            subjects=odm_subjects,
        )
    )
