"""Web pages of the crfs app: casebooks, form entry, labs, exposure, the query work list, and
the record panel (queries, source verification, signatures) shared by every record.

Views parse, authorise (404 for what the caller may not see), call one service, render. A
refusal keeps its status (403, 409, 422), with htmx as without: htmx swaps a 409 or a 422 into
the partial like a 200 (the ``htmx-config`` of base.html) and says that anything else failed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.view_helpers import form_refused, list_page
from oncotrials.apps.subjects.selectors import registrations_visible_to
from oncotrials.core.errors import ConflictError, NotFoundError, OncotrialsError

from .forms import AdministrationForm, LabResultForm
from .models import FormInstance, SignatureMeaning
from .selectors import (
    Permissions,
    administrations_for,
    casebook,
    dose_intensity,
    labs_for,
    permissions_for,
    queries_for_user,
    query_get_for_user,
    record_get_for_user,
    record_status,
    registration_get_for_user,
)
from .services import (
    administration_record,
    form_save,
    forms_for_trial,
    lab_result_create,
    query_answer,
    query_close,
    query_raise,
    record_roles,
    regimen_for,
    sdv_record,
    signature_sign,
    visit_forms,
)


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _registration(request: HttpRequest, registration_id: int) -> Any:
    try:
        return registration_get_for_user(user=request.user, registration_id=registration_id)
    except NotFoundError:
        raise Http404("No such registration.") from None


def _date(value: str, field: str) -> dt.date:
    from oncotrials.core.errors import ValidationError

    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(
            gettext("%(field)s must be a date (YYYY-MM-DD); got %(value)s.")
            % {"field": field, "value": repr(value)}
        ) from None


@login_required
def casebook_list(request: HttpRequest) -> HttpResponse:
    regs = (
        registrations_visible_to(request.user)
        .select_related("patient", "trial", "cohort")
        .order_by("trial__protocol_code", "patient__research_id", "pk")
    )
    page, query = list_page(request, regs)
    return render(
        request,
        "crfs/casebook_list.html",
        {
            "registrations": page.object_list,
            "page": page,
            "page_query": query,
            "pager_testid": "casebook-pages",
        },
    )


@login_required
def casebook_page(request: HttpRequest, registration_id: int) -> HttpResponse:
    reg = _registration(request, registration_id)
    context = {
        "registration": reg,
        "visits": casebook(registration=reg),
        "perms": permissions_for(request.user, reg),
        "panel": _panel_context(request, reg),
        "today": timezone.localdate(),
    }
    return render(request, "crfs/casebook.html", context)


# ----------------------------------------------------------------------------- form entry


def _form_context(
    request: HttpRequest,
    reg: Any,
    visit_code: str,
    form_name: str,
    *,
    values: dict[str, Any] | None = None,
    error: str = "",
    conflict: ConflictError | None = None,
    issues: list[dict[str, Any]] | None = None,
    version: int | None = None,
) -> dict[str, Any]:
    spec = forms_for_trial(reg.trial)[form_name]
    inst = (
        FormInstance.objects.filter(registration=reg, visit_code=visit_code, form_name=form_name)
        .select_related("updated_by", "created_by")
        .first()
    )
    data = values if values is not None else (inst.data if inst else {})
    shown_issues = issues if issues is not None else (inst.issues if inst else [])
    by_field: dict[str, list[dict[str, Any]]] = {}
    for i in shown_issues:
        by_field.setdefault(i["field"], []).append(i)
    rows = [
        {
            "spec": f,
            "value": data.get(f.name, ""),
            "issues": by_field.get(f.name, []),
            # an error blocks completion: the field is invalid; a warning raises a query only
            "invalid": any(i.get("severity") == "error" for i in by_field.get(f.name, [])),
            "input_type": {"date": "date", "integer": "number", "decimal": "text"}.get(
                f.type, "text"
            ),
        }
        for f in spec.fields
    ]
    # Refused: the summary lists each field's errors as links to the field (focused on arrival).
    summary = (
        [
            (f"f-{row['spec'].name}", row["spec"].title, i["message"])
            for row in rows
            for i in row["issues"]
            if i.get("severity") == "error"
        ]
        if error
        else []
    )
    return {
        "summary": summary,
        "any_required": any(f.required for f in spec.fields),
        "registration": reg,
        "visit_code": visit_code,
        "spec": spec,
        "instance": inst,
        "rows": rows,
        "version": version if version is not None else (inst.version if inst else 0),
        "needs_reason": bool(inst and inst.first_completed_at),
        "error": error,
        "conflict": conflict,
        "perms": permissions_for(request.user, reg),
        "panel": _panel_context(request, inst) if inst else None,
    }


@login_required
def form_page(
    request: HttpRequest, registration_id: int, visit_code: str, form_name: str
) -> HttpResponse:
    reg = _registration(request, registration_id)
    try:
        forms = visit_forms(reg)
    except OncotrialsError:
        raise Http404("No visit schedule.") from None
    spec = forms_for_trial(reg.trial).get(form_name)
    if form_name not in forms.get(visit_code, ()) or spec is None or spec.kind != "fields":
        raise Http404("No such form at this visit.")
    if request.method != "POST":
        return render(
            request, "crfs/form_page.html", _form_context(request, reg, visit_code, form_name)
        )
    values = {f.name: request.POST.get(f.name, "") for f in spec.fields}
    try:
        version = int(request.POST.get("version", "0"))
    except ValueError:
        version = -1
    try:
        form_save(
            registration=reg,
            visit_code=visit_code,
            form_name=form_name,
            data=values,
            version=version,
            complete=request.POST.get("action") == "complete",
            reason=request.POST.get("reason", "")[:500],
            by=acting_user(request.user),
        )
    except NotFoundError:
        raise Http404("No such form.") from None
    except ConflictError as exc:
        # Show the other user's values, and the version to edit next.
        ctx = _form_context(request, reg, visit_code, form_name, conflict=exc)
        ctx["mine"] = values
        return _render_form(request, ctx, exc.status)
    except OncotrialsError as exc:
        issues = list(exc.extra.get("issues", []))
        ctx = _form_context(
            request,
            reg,
            visit_code,
            form_name,
            values=values,
            error=exc.message,
            issues=issues or None,
            version=version,
        )
        return _render_form(request, ctx, exc.status)
    if _htmx(request):
        return _render_form(request, _form_context(request, reg, visit_code, form_name), 200)
    return redirect("crfs-form", registration_id=reg.pk, visit_code=visit_code, form_name=form_name)


def _render_form(request: HttpRequest, ctx: dict[str, Any], status: int) -> HttpResponse:
    template = "crfs/_partials/form.html" if _htmx(request) else "crfs/form_page.html"
    return render(request, template, ctx, status=status)


# ----------------------------------------------------------------------------- labs, exposure


@login_required
def labs_page(request: HttpRequest, registration_id: int) -> HttpResponse:
    reg = _registration(request, registration_id)
    form = LabResultForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            d = form.cleaned_data
            try:
                lab_result_create(
                    registration=reg,
                    analyte=d["analyte"],
                    value=d["value"],
                    unit=d["unit"],
                    lln=d["lln"] or None,
                    uln=d["uln"] or None,
                    limit_unit=d["limit_unit"],
                    sampled_on=d["sampled_on"],
                    visit_code=d["visit_code"],
                    by=acting_user(request.user),
                )
            except OncotrialsError as exc:
                form_refused(form, exc)
                status = exc.status
            else:
                return redirect("crfs-labs", registration_id=reg.pk)
    context = {
        "registration": reg,
        "labs": labs_for(registration=reg)[:500],
        "perms": permissions_for(request.user, reg),
        "form": form,
    }
    return render(request, "crfs/labs.html", context, status=status)


@login_required
def exposure_page(request: HttpRequest, registration_id: int) -> HttpResponse:
    reg = _registration(request, registration_id)
    regimen = regimen_for(reg)
    form = AdministrationForm(request.POST or None, regimen=regimen)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            d = form.cleaned_data
            try:
                administration_record(
                    registration=reg,
                    agent=d["agent"],
                    dose=d["dose"],
                    unit=d["unit"],
                    administered_on=d["administered_on"],
                    modification=d["modification"],
                    modification_reason=d["modification_reason"],
                    visit_code=d["visit_code"],
                    by=acting_user(request.user),
                )
            except OncotrialsError as exc:
                form_refused(form, exc)
                status = exc.status
            else:
                return redirect("crfs-exposure", registration_id=reg.pk)
    context = {
        "registration": reg,
        "administrations": administrations_for(registration=reg),
        "intensity": dose_intensity(registration=reg),
        "perms": permissions_for(request.user, reg),
        "form": form,
    }
    return render(request, "crfs/exposure.html", context, status=status)


# ----------------------------------------------------------------------------- queries


@login_required
def query_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")[:10]
    queries = queries_for_user(user=request.user, status=status).prefetch_related(
        "events__by", "record"
    )
    page, query = list_page(request, queries)
    return render(
        request,
        "crfs/queries.html",
        {
            "queries": page.object_list,
            "page": page,
            "page_query": query,
            "pager_testid": "query-pages",
            "status": status,
            "statuses": ["open", "answered", "closed", "all"],
        },
    )


# ----------------------------------------------------------------------------- record panel


def record_panel_context(request: HttpRequest, record: Any, error: str = "") -> dict[str, Any]:
    """Context of ``crfs/_partials/record_panel.html`` (as ``panel``) for any registered record."""
    return _panel_context(request, record, error)


def _panel_context(request: HttpRequest, record: Any, error: str = "") -> dict[str, Any]:
    roles = record_roles(request.user, record)
    return {
        "record": record,
        "record_type": record._meta.label_lower,
        "status": record_status(record),
        "can": Permissions.of(roles),
        "meanings": SignatureMeaning.choices,
        "error": error,
    }


def _after(request: HttpRequest, record: Any, error: OncotrialsError | None) -> HttpResponse:
    if _htmx(request):
        ctx = _panel_context(request, record, error.message if error else "")
        status = error.status if error is not None else 200
        return render(request, "crfs/_partials/record_panel.html", {"panel": ctx}, status=status)
    if error is not None:
        ctx = _panel_context(request, record, error.message)
        return render(request, "crfs/record_panel_page.html", {"panel": ctx}, status=error.status)
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect(reverse("crfs-queries"))


def _record(request: HttpRequest, record_type: str, record_id: int) -> Any:
    try:
        return record_get_for_user(user=request.user, record_type=record_type, record_id=record_id)
    except NotFoundError:
        raise Http404("No such record.") from None


@login_required
@require_POST
def record_query(request: HttpRequest, record_type: str, record_id: int) -> HttpResponse:
    record = _record(request, record_type, record_id)
    try:
        query_raise(
            record=record,
            field=request.POST.get("field", "")[:63],
            text=request.POST.get("text", "")[:2000],
            by=acting_user(request.user),
        )
    except OncotrialsError as exc:
        return _after(request, record, exc)
    return _after(request, record, None)


@login_required
@require_POST
def record_verify(request: HttpRequest, record_type: str, record_id: int) -> HttpResponse:
    record = _record(request, record_type, record_id)
    try:
        sdv_record(
            record=record, note=request.POST.get("note", "")[:300], by=acting_user(request.user)
        )
    except OncotrialsError as exc:
        return _after(request, record, exc)
    return _after(request, record, None)


@login_required
@require_POST
def record_sign(request: HttpRequest, record_type: str, record_id: int) -> HttpResponse:
    record = _record(request, record_type, record_id)
    try:
        signature_sign(
            record=record,
            meaning=request.POST.get("meaning", "")[:16],
            password=request.POST.get("password", "")[:200],
            by=acting_user(request.user),
        )
    except OncotrialsError as exc:
        return _after(request, record, exc)
    return _after(request, record, None)


@login_required
@require_POST
def query_action(request: HttpRequest, query_id: int, action: str) -> HttpResponse:
    try:
        q = query_get_for_user(user=request.user, query_id=query_id)
    except NotFoundError:
        raise Http404("No such query.") from None
    record = q.record
    if record is None:
        raise Http404("The record is gone.")
    text = request.POST.get("text", "")[:2000]
    try:
        if action == "answer":
            query_answer(query=q, text=text, by=acting_user(request.user))
        elif action == "reopen":
            query_close(query=q, text=text, reopen=True, by=acting_user(request.user))
        else:
            query_close(query=q, text=text, by=acting_user(request.user))
    except OncotrialsError as exc:
        return _after(request, record, exc)
    return _after(request, record, None)
