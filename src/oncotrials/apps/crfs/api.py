"""API endpoints of the crfs app (mounted at /api/v1/): parse, authorise, call one service, render.

Every write goes through the same service as the web pages, so the API applies the same edit
checks, version checks and role rules.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Router, Status

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.schemas import ERRORS, Rendered, paged
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.crf.declarations import FormSpec
from oncotrials.core.errors import NotFoundError

from .entries import DoseEntry, Entry, FormEntry, LabEntry, casebook_entries_save
from .models import (
    DataQuery,
    DrugAdministration,
    FormInstance,
    LabResult,
    Signature,
    SourceVerification,
)
from .records import record_label
from .schemas import (
    CrfAdministrationIn,
    CrfAdministrationOut,
    CrfAdministrationUpdateIn,
    CrfCasebookOut,
    CrfDoseIntensityOut,
    CrfEntriesIn,
    CrfEntryFormIn,
    CrfEntryLabIn,
    CrfEntryOut,
    CrfFormIn,
    CrfFormOut,
    CrfFormSpecOut,
    CrfLabIn,
    CrfLabOut,
    CrfLabUpdateIn,
    CrfQueryAnswerIn,
    CrfQueryCloseIn,
    CrfQueryIn,
    CrfQueryOut,
    CrfRecordStatusOut,
    CrfSignatureIn,
    CrfSignatureOut,
    CrfVerificationIn,
    CrfVerificationOut,
)
from .selectors import (
    MAX_ID,
    administrations_for,
    casebook,
    dose_intensity,
    labs_for,
    queries_for_user,
    query_get_for_user,
    record_get_for_user,
    record_status,
    registration_get_for_user,
)
from .services import (
    administration_record,
    administration_update,
    form_save,
    forms_for_trial,
    lab_result_create,
    lab_result_update,
    query_answer,
    query_close,
    query_raise,
    sdv_record,
    signature_is_valid,
    signature_sign,
)

router = Router(tags=["crfs"])


def _spec_out(spec: FormSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "title": spec.title,
        "kind": spec.kind,
        "owner": spec.owner,
        "fields": [
            {
                **{k: getattr(f, k) for k in ("name", "type", "unit", "required", "min", "max")},
                "label": f.title,
                "required_if_field": f.required_if[0] if f.required_if else None,
                "expected_min": f.expected_min,
                "expected_max": f.expected_max,
                "choices": list(f.choices),
            }
            for f in spec.fields
        ],
    }


def _form_out(
    inst: FormInstance | None, registration_id: int, visit_code: str, form_name: str
) -> dict[str, Any]:
    if inst is None:
        return {
            "id": None,
            "registration_id": registration_id,
            "visit_code": visit_code,
            "form_name": form_name,
            "status": "new",
            "version": 0,
            "data": {},
            "issues": [],
            "updated_at": None,
            "updated_by": None,
        }
    return {
        "id": inst.pk,
        "registration_id": inst.registration_id,
        "visit_code": inst.visit_code,
        "form_name": inst.form_name,
        "status": inst.status,
        "version": inst.version,
        "data": inst.data,
        "issues": inst.issues,
        "updated_at": inst.updated_at,
        "updated_by": inst.updated_by.username,
    }


def _query_out(q: DataQuery) -> dict[str, Any]:
    return {
        "id": q.pk,
        "record_type": f"{q.content_type.app_label}.{q.content_type.model}",
        "record_id": q.object_id,
        "record_version": q.record_version,
        "patient": q.patient.research_id,
        "field": q.field,
        "text": q.text,
        "origin": q.origin,
        "check_code": q.check_code,
        "status": q.status,
        "raised_at": q.raised_at,
        "raised_by": q.raised_by.username if q.raised_by else None,
        "events": [
            {"action": e.action, "text": e.text, "at": e.at, "by": e.by.username if e.by else None}
            for e in q.events.all()
        ],
    }


def _sdv_out(s: SourceVerification) -> dict[str, Any]:
    return {
        "id": s.pk,
        "record_type": f"{s.content_type.app_label}.{s.content_type.model}",
        "record_id": s.object_id,
        "record_version": s.record_version,
        "verified_at": s.verified_at,
        "verified_by": s.verified_by.username,
        "note": s.note,
    }


def _sig_out(s: Signature, valid: bool) -> dict[str, Any]:
    return {
        "id": s.pk,
        "record_type": f"{s.content_type.app_label}.{s.content_type.model}",
        "record_id": s.object_id,
        "record_version": s.record_version,
        "signer": s.signer.username,
        "signer_name": s.signer_name,
        "signed_at": s.signed_at,
        "meaning": s.meaning,
        "valid": valid,
    }


# ----------------------------------------------------------------------------- forms


@router.get("/crfs/trials/{trial_id}/forms", response={200: list[CrfFormSpecOut], **ERRORS})
def crf_forms_declared(request: HttpRequest, trial_id: int) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    return [_spec_out(s) for s in forms_for_trial(trial).values()]


@router.get(
    "/crfs/registrations/{registration_id}/casebook", response={200: CrfCasebookOut, **ERRORS}
)
def crf_casebook(request: HttpRequest, registration_id: int) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    visits = []
    for v in casebook(registration=reg):
        row = {
            k: getattr(v, k)
            for k in ("code", "name", "target", "earliest", "latest", "visit_status", "done_on")
        }
        row["forms"] = [
            {
                "name": f.name,
                "title": f.title,
                "kind": f.kind,
                "status": f.status,
                "version": f.instance.version if f.instance else None,
                "open_queries": f.open_queries,
                "records": f.records,
            }
            for f in v.forms
        ]
        visits.append(row)
    return {
        "registration_id": reg.pk,
        "patient": reg.patient.research_id,
        "trial": reg.trial.protocol_code,
        "visits": visits,
        "signed": signature_is_valid(reg),
    }


def _instance(reg_id: int, visit_code: str, form_name: str) -> FormInstance | None:
    return (
        FormInstance.objects.filter(
            registration_id=reg_id, visit_code=visit_code, form_name=form_name
        )
        .select_related("updated_by")
        .first()
    )


@router.get(
    "/crfs/registrations/{registration_id}/forms/{visit_code}/{form_name}",
    response={200: CrfFormOut, **ERRORS},
)
def crf_form_get(
    request: HttpRequest, registration_id: int, visit_code: str, form_name: str
) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    return _form_out(_instance(reg.pk, visit_code, form_name), reg.pk, visit_code, form_name)


@router.put(
    "/crfs/registrations/{registration_id}/forms/{visit_code}/{form_name}",
    response={200: CrfFormOut, **ERRORS},
)
def crf_form_put(
    request: HttpRequest, registration_id: int, visit_code: str, form_name: str, payload: CrfFormIn
) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    inst = form_save(
        registration=reg,
        visit_code=visit_code,
        form_name=form_name,
        data=payload.data,
        version=payload.version,
        complete=payload.complete,
        reason=payload.reason,
        by=acting_user(request.user),
    )
    return _form_out(inst, reg.pk, visit_code, form_name)


# ----------------------------------------------------------------------------- labs, exposure


@router.get("/crfs/registrations/{registration_id}/labs", response={200: list[CrfLabOut], **ERRORS})
def crf_labs_list(request: HttpRequest, registration_id: int) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    return list(labs_for(registration=reg)[:1000])


@router.post("/crfs/registrations/{registration_id}/labs", response={201: CrfLabOut, **ERRORS})
def crf_labs_create(request: HttpRequest, registration_id: int, payload: CrfLabIn) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    data = payload.dict()
    for key in ("value", "lln", "uln"):
        data[key] = None if data[key] is None else str(data[key])
    return Status(201, lab_result_create(registration=reg, by=acting_user(request.user), **data))


@router.put("/crfs/labs/{lab_id}", response={200: CrfLabOut, **ERRORS})
def crf_labs_update(request: HttpRequest, lab_id: int, payload: CrfLabUpdateIn) -> Any:
    lab = LabResult.objects.filter(pk=lab_id).first() if 0 < lab_id < MAX_ID else None
    if lab is None:
        raise NotFoundError(
            gettext("No lab result %(lab_id)s that you may see.") % {"lab_id": lab_id}
        )
    registration_get_for_user(user=request.user, registration_id=lab.registration_id)
    data = payload.dict()
    for key in ("value", "lln", "uln"):
        data[key] = None if data[key] is None else str(data[key])
    return lab_result_update(lab=lab, by=acting_user(request.user), **data)


@router.get(
    "/crfs/registrations/{registration_id}/administrations",
    response={200: list[CrfAdministrationOut], **ERRORS},
)
def crf_administrations_list(request: HttpRequest, registration_id: int) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    return list(administrations_for(registration=reg)[:2000])


@router.post(
    "/crfs/registrations/{registration_id}/administrations",
    response={201: CrfAdministrationOut, **ERRORS},
)
def crf_administrations_create(
    request: HttpRequest, registration_id: int, payload: CrfAdministrationIn
) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    data = payload.dict()
    data["dose"] = str(data["dose"])
    return Status(
        201, administration_record(registration=reg, by=acting_user(request.user), **data)
    )


@router.post(
    "/crfs/registrations/{registration_id}/entries", response={201: list[CrfEntryOut], **ERRORS}
)
def crf_entries_create(request: HttpRequest, registration_id: int, payload: CrfEntriesIn) -> Any:
    """Forms, lab values and drug administrations of one casebook saved together (an import):
    as if saved one by one in their order, all or nothing."""
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    entries: list[Entry] = []
    for e in payload.entries:
        if isinstance(e, CrfEntryFormIn):
            entries.append(
                FormEntry(e.visit_code, e.form_name, e.data, e.version, e.complete, e.reason)
            )
        elif isinstance(e, CrfEntryLabIn):
            entries.append(
                LabEntry(
                    analyte=e.analyte,
                    value=str(e.value),
                    unit=e.unit,
                    sampled_on=e.sampled_on,
                    lln=None if e.lln is None else str(e.lln),
                    uln=None if e.uln is None else str(e.uln),
                    visit_code=e.visit_code,
                    limit_unit=e.limit_unit,
                )
            )
        else:
            entries.append(
                DoseEntry(
                    agent=e.agent,
                    dose=str(e.dose),
                    unit=e.unit,
                    administered_on=e.administered_on,
                    modification=e.modification,
                    modification_reason=e.modification_reason,
                    visit_code=e.visit_code,
                )
            )
    saved = casebook_entries_save(registration=reg, entries=entries, by=acting_user(request.user))
    kinds = {FormInstance: "form", LabResult: "lab", DrugAdministration: "administration"}
    return Status(201, [{"kind": kinds[type(r)], "id": r.pk, "version": r.version} for r in saved])


@router.put(
    "/crfs/administrations/{administration_id}", response={200: CrfAdministrationOut, **ERRORS}
)
def crf_administrations_update(
    request: HttpRequest, administration_id: int, payload: CrfAdministrationUpdateIn
) -> Any:
    admin = (
        DrugAdministration.objects.filter(pk=administration_id).first()
        if 0 < administration_id < MAX_ID
        else None
    )
    if admin is None:
        raise NotFoundError(
            gettext("No administration %(administration_id)s that you may see.")
            % {"administration_id": administration_id}
        )
    registration_get_for_user(user=request.user, registration_id=admin.registration_id)
    data = payload.dict()
    data["dose"] = str(data["dose"])
    return administration_update(administration=admin, by=acting_user(request.user), **data)


@router.get(
    "/crfs/registrations/{registration_id}/dose-intensity",
    response={200: list[CrfDoseIntensityOut], **ERRORS},
)
def crf_dose_intensity(request: HttpRequest, registration_id: int) -> Any:
    reg = registration_get_for_user(user=request.user, registration_id=registration_id)
    return [dataclasses.asdict(r) for r in dose_intensity(registration=reg)]


# ----------------------------------------------------------------------------- generic records


@router.get("/crfs/queries", response={200: list[CrfQueryOut], **ERRORS})
@paged
def crf_queries_list(
    request: HttpRequest, status: str = "open", trial_id: int | None = None
) -> Any:
    """Data queries on records you may see (``status``: open, closed or all). Paged:
    ``{"items": [...], "count": n}`` with ``?page=`` and ``?page_size=`` (default 100, at
    most 500)."""
    qs = queries_for_user(user=request.user, status=status[:10], trial_id=trial_id)
    return Rendered(qs.prefetch_related("events__by"), _query_out)


@router.post("/crfs/queries", response={201: CrfQueryOut, **ERRORS})
def crf_queries_raise(request: HttpRequest, payload: CrfQueryIn) -> Any:
    record = record_get_for_user(
        user=request.user, record_type=payload.record_type, record_id=payload.record_id
    )
    q = query_raise(
        record=record, field=payload.field, text=payload.text, by=acting_user(request.user)
    )
    return Status(201, _query_out(q))


@router.post("/crfs/queries/{query_id}/answer", response={200: CrfQueryOut, **ERRORS})
def crf_queries_answer(request: HttpRequest, query_id: int, payload: CrfQueryAnswerIn) -> Any:
    q = query_get_for_user(user=request.user, query_id=query_id)
    return _query_out(query_answer(query=q, text=payload.text, by=acting_user(request.user)))


@router.post("/crfs/queries/{query_id}/close", response={200: CrfQueryOut, **ERRORS})
def crf_queries_close(request: HttpRequest, query_id: int, payload: CrfQueryCloseIn) -> Any:
    q = query_get_for_user(user=request.user, query_id=query_id)
    return _query_out(
        query_close(query=q, text=payload.text, reopen=payload.reopen, by=acting_user(request.user))
    )


@router.post("/crfs/verifications", response={201: CrfVerificationOut, **ERRORS})
def crf_verify(request: HttpRequest, payload: CrfVerificationIn) -> Any:
    record = record_get_for_user(
        user=request.user, record_type=payload.record_type, record_id=payload.record_id
    )
    return Status(
        201, _sdv_out(sdv_record(record=record, note=payload.note, by=acting_user(request.user)))
    )


@router.post("/crfs/signatures", response={201: CrfSignatureOut, **ERRORS})
def crf_sign(request: HttpRequest, payload: CrfSignatureIn) -> Any:
    record = record_get_for_user(
        user=request.user, record_type=payload.record_type, record_id=payload.record_id
    )
    sig = signature_sign(
        record=record,
        meaning=payload.meaning,
        password=payload.password,
        by=acting_user(request.user),
    )
    return Status(201, _sig_out(sig, True))


@router.get(
    "/crfs/records/{record_type}/{record_id}/status", response={200: CrfRecordStatusOut, **ERRORS}
)
def crf_record_status(request: HttpRequest, record_type: str, record_id: int) -> Any:
    record = record_get_for_user(user=request.user, record_type=record_type, record_id=record_id)
    st = record_status(record)
    return {
        "record_type": record_label(record),
        "record_id": record.pk,
        "version": st.version,
        "verified_current": st.verified_current,
        "signed_valid": st.signed_valid,
        "queries": [_query_out(q) for q in st.queries],
        "verifications": [_sdv_out(s) for s in st.verifications],
        "signatures": [_sig_out(s.signature, s.valid) for s in st.signatures],
    }
