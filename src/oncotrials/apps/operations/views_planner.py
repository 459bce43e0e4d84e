"""The week planner: build the week's instance from the database, solve it as a background task
(progress polled with htmx), then save the plan as bookings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.view_helpers import int_or_none
from oncotrials.core.errors import ConflictError, NotFoundError, OncotrialsError
from oncotrials.core.scheduling import load_instance

from .forms import CancelForm, CareRequestForm, PageForm, PlanForm, ReplanForm
from .models import PlanRun
from .selectors import (
    bookings_visible_to,
    monday_of,
    plan_run_get_for_user,
    plan_runs_visible_to,
    site_get_for_user,
    sites_managed_by,
    sites_visible_to,
    week_bookings,
    week_instance,
)
from .services import (
    REPLAN_TIME_LIMIT,
    booking_cancel,
    care_request_create,
    plan_run_save,
    plan_run_start,
    replan_start,
)


def _site(request: HttpRequest) -> Any:
    raw = request.GET.get("site") or request.POST.get("site")
    try:
        return site_get_for_user(user=request.user, site_id=int_or_none(raw))
    except NotFoundError:
        raise Http404("No site whose operations you may see.") from None


def _monday(raw: str | None) -> dt.date:
    try:
        return monday_of(dt.date.fromisoformat(raw or ""))
    except ValueError:
        return monday_of(timezone.localdate())


@login_required
@require_http_methods(["GET", "POST"])
def planner(request: HttpRequest) -> HttpResponse:
    """The week's requests and bookings; a unit manager plans the week, cancels a booking,
    adds a request and re-plans the rest of the week (each through a service, audited). A refused
    step comes back with status 422, what was typed kept and each error beside its field."""
    site = _site(request)
    monday = _monday(request.GET.get("week") or request.POST.get("week"))
    may_plan = site in sites_managed_by(request.user)
    try:
        instance = week_instance(site=site, monday=monday)
    except OncotrialsError as exc:
        messages.error(request, exc.message)  # shown on this page, not after a redirect
        instance = {"visits": []}
    visits = instance["visits"]
    try:
        locked = {v.id for v in load_instance(instance).visits if v.locked} if visits else set()
    except OncotrialsError:
        locked = set()
    bookings = week_bookings(user=request.user, site=site, monday=monday)
    locked_bookings = [b for b in bookings if b.request.ref in locked]
    forms: dict[str, Any] = {
        "plan": PlanForm(),
        "request": CareRequestForm(),
        "replan": ReplanForm(locked=_locked(locked_bookings)),
    }
    cancel: dict[int, CancelForm] = {}
    status = 200
    if request.method == "POST":
        if not may_plan:
            return HttpResponse(_("You may not plan this site's week."), status=403)
        action = request.POST.get("action", "plan")
        if action not in _ACTIONS:
            return HttpResponse(_("Unknown action; nothing was saved."), status=400)
        form = _bound(action, request, locked_bookings)
        status = 422
        try:
            answer = _ACTIONS[action](request, site, monday, form) if form.is_valid() else None
        except OncotrialsError as exc:
            if exc.status == 403:
                return HttpResponse(exc.message, status=403)
            form.apply_error(exc)
            answer = None
            status = 409 if isinstance(exc, ConflictError) else 422
        if answer is not None:
            return answer
        if isinstance(form, CancelForm):
            cancel[form.booking] = form
        else:
            forms[action] = form
    return render(
        request,
        "operations/planner.html",
        {
            "site": site,
            "sites": sites_visible_to(request.user),
            "monday": monday,
            "instance": instance,
            "chair_visits": sum(1 for v in visits if v["unit"] == "chair"),
            "bed_stays": sum(1 for v in visits if v["unit"] == "bed"),
            "runs": plan_runs_visible_to(request.user).filter(site=site)[:10],
            "may_plan": may_plan,
            "rows": [(b, cancel.get(b.pk) or CancelForm(booking=b.pk)) for b in bookings],
            "locked_refs": locked,
            "forms": forms,
        },
        status=status,
    )


def _locked(bookings: list[Any]) -> list[tuple[str, str]]:
    return [(b.request.ref, b.request.label) for b in bookings]


def _bound(action: str, request: HttpRequest, locked: list[Any]) -> PageForm:
    """The form of ``action`` bound to what was posted."""
    data = request.POST
    if action == "cancel":
        booking = _booking(request)
        return CancelForm(data, booking=booking.pk)
    if action == "replan":
        return ReplanForm(data, locked=_locked(locked))
    if action == "request":
        return CareRequestForm(data)
    return PlanForm(data)


def _booking(request: HttpRequest) -> Any:
    site = _site(request)
    booking = (
        bookings_visible_to(request.user)
        .filter(site=site, pk=int_or_none(request.POST.get("booking")) or 0)
        .first()
    )
    if booking is None:
        raise Http404("No such booking.")
    return booking


def _back(site: Any, monday: dt.date) -> HttpResponse:
    return redirect(f"/operations/planner/?site={site.pk}&week={monday.isoformat()}")


def _plan(request: HttpRequest, site: Any, monday: dt.date, form: PageForm) -> HttpResponse:
    run = plan_run_start(
        site=site,
        monday=monday,
        time_limit=form.cleaned_data["time_limit"],
        by=acting_user(request.user),
    )
    return redirect("operations-plan-run", run_id=run.pk)


def _cancel(request: HttpRequest, site: Any, monday: dt.date, form: PageForm) -> HttpResponse:
    booking = _booking(request)
    booking_cancel(
        booking=booking, by=acting_user(request.user), reason=form.cleaned_data["reason"]
    )
    messages.success(request, _("Booking of %(l)s cancelled.") % {"l": booking.request.label})
    return _back(site, monday)


def _add_request(request: HttpRequest, site: Any, monday: dt.date, form: PageForm) -> HttpResponse:
    fields = {k: v for k, v in form.cleaned_data.items() if v is not None}
    req = care_request_create(site=site, data=fields, by=acting_user(request.user))
    messages.success(request, _("Request %(l)s added.") % {"l": req.label})
    return _back(site, monday)


def _replan(request: HttpRequest, site: Any, monday: dt.date, form: PageForm) -> HttpResponse:
    assert isinstance(form, ReplanForm)
    run = replan_start(
        site=site,
        monday=monday,
        by=acting_user(request.user),
        reasons=form.reasons(),
        time_limit=int_or_none(request.POST.get("time_limit")) or REPLAN_TIME_LIMIT,
    )
    return redirect("operations-plan-run", run_id=run.pk)


_ACTIONS = {"plan": _plan, "cancel": _cancel, "request": _add_request, "replan": _replan}


def _run(request: HttpRequest, run_id: int) -> PlanRun:
    try:
        return plan_run_get_for_user(user=request.user, run_id=run_id)
    except NotFoundError:
        raise Http404("No such plan run.") from None


def _context(request: HttpRequest, run: PlanRun) -> dict[str, Any]:
    gap = None
    if run.lower_bound is not None and run.objective:
        gap = max(0.0, (run.objective - run.lower_bound) / run.objective)
    return {
        "run": run,
        "gap": gap,
        "may_plan": run.site in sites_managed_by(request.user),
        "requests": len(run.instance.get("visits", [])),
    }


@login_required
@require_GET
def plan_run(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id)
    return render(request, "operations/plan_run.html", _context(request, run))


@login_required
@require_GET
def plan_run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The htmx partial polled every second while the solve runs."""
    run = _run(request, run_id)
    return render(request, "operations/_plan_progress.html", _context(request, run))


@login_required
@require_POST
def plan_run_save_view(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run(request, run_id)
    try:
        saved = plan_run_save(run=run, by=acting_user(request.user))
    except OncotrialsError as exc:
        if exc.status == 403:
            return HttpResponse(exc.message, status=403)
        # Said on the plan's page itself (409 when it was saved or failed meanwhile).
        context = {**_context(request, _run(request, run_id)), "save_error": exc.message}
        return render(request, "operations/plan_run.html", context, status=exc.status)
    if run.kind == "replan":
        messages.success(request, _("%(n)d bookings changed.") % {"n": len(saved)})
    else:
        messages.success(request, _("%(n)d bookings saved.") % {"n": len(saved)})
    return redirect(f"/operations/occupancy/?site={run.site_id}&week={run.monday.isoformat()}")
