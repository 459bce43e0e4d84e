"""Pages of unit operations: the manager dashboard, accrual forecasts, the activity report,
resources and opening hours, and the week's occupancy."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from oncotrials.apps.accounts.access import Action, acting_user, may
from oncotrials.apps.accounts.view_helpers import csv_response, int_or_none
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.activity import DENOMINATORS
from oncotrials.core.errors import ConflictError, NotFoundError, OncotrialsError

from . import services
from .analytics import accrual_overview, activity_for, trial_accrual
from .exports import activity_csv, activity_json, activity_xlsx
from .forms import (
    AccrualPlanForm,
    CalendarForm,
    CareRequestForm,
    ClosureForm,
    GenerateForm,
    PageForm,
    ResourceForm,
    ShiftForm,
)
from .models import AccrualPlan, Closure, NurseShift
from .occupancy import week_occupancy
from .selectors import (
    DAYS,
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    calendar_of,
    monday_of,
    resources_visible_to,
    site_get_for_user,
    sites_managed_by,
    sites_visible_to,
)


def _svg(svg: str, filename: str, download: bool) -> HttpResponse:
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _trial(request: HttpRequest, trial_id: int) -> Any:
    try:
        return trial_get_for_user(user=request.user, trial_id=trial_id)
    except NotFoundError:
        raise Http404("No such trial.") from None


def _cohort(request: HttpRequest, trial: Any) -> Any:
    cid = int_or_none(request.GET.get("cohort"))
    if cid is None:
        return None
    cohort = trial.cohorts.filter(pk=cid).first()
    if cohort is None:
        raise Http404("No such cohort in this trial.")
    return cohort


def _year(request: HttpRequest) -> int:
    y = int_or_none(request.GET.get("year"))
    return y if y is not None and 1990 <= y <= 2100 else timezone.localdate().year


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The manager's page: accrual of every open trial, this year's activity, links onwards."""
    year = _year(request)
    report = activity_for(user=request.user, year=year)
    return render(
        request,
        "operations/dashboard.html",
        {
            "accruals": accrual_overview(user=request.user),
            "report": report,
            "year": year,
            "sites": sites_visible_to(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def trial_accrual_page(request: HttpRequest, trial_id: int) -> HttpResponse:
    """The accrual forecast of a trial (or a cohort) and the plan it weighs against the data; a
    refused plan comes back with status 422, what was typed kept and each error beside its
    field, nothing saved."""
    trial = _trial(request, trial_id)
    cohort = _cohort(request, trial)
    may_plan = may(request.user, Action.EDIT_PORTFOLIO, on=trial)
    plan = AccrualPlan.objects.filter(trial=trial, cohort=cohort).first()
    form: AccrualPlanForm | None = None
    if request.method == "POST":
        if not may_plan:
            return HttpResponse(_("You may not change this trial's accrual plan."), status=403)
        form = AccrualPlanForm(request.POST, editing=plan is not None)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.accrual_plan_save(
                    trial=trial,
                    cohort=cohort,
                    target=data["target"],
                    starts_on=data["starts_on"],
                    duration_months=data["duration_months"],
                    certainty=data["certainty"],
                    external_centres=data["external_centres"],
                    reason=data.get("reason", ""),
                    by=acting_user(request.user),
                )
            except OncotrialsError as exc:
                form.apply_error(exc)
            else:
                messages.success(request, _("Accrual plan saved."))
                url = request.path + (f"?cohort={cohort.pk}" if cohort else "")
                return redirect(url)
    acc = trial_accrual(trial=trial, user=request.user, cohort=cohort)
    if form is None and may_plan:
        form = AccrualPlanForm(
            editing=plan is not None,
            initial={
                "target": plan.target if plan else acc.target,
                "starts_on": acc.start,
                "duration_months": acc.duration_months,
                "certainty": acc.certainty,
                "external_centres": "\n".join(
                    f"{c['name']}; {c['opens_on']}; {c.get('recruited', 0)}"
                    for c in (plan.external_centres if plan else [])
                ),
            },
        )
    f = acc.result
    band = []
    if f is not None:
        band = [
            {"months": g, "date": acc.month_date(g), "lower": lo, "median": me, "upper": up}
            for g, lo, me, up in zip(f.grid, f.lower, f.median, f.upper, strict=True)
        ][:: max(1, len(f.grid) // 15)]
    return render(
        request,
        "operations/trial_accrual.html",
        {
            "trial": trial,
            "cohort": cohort,
            "cohorts": trial.cohorts.all(),
            "acc": acc,
            "f": f,
            "band": band,
            "plan": plan,
            "may_plan": may_plan,
            "form": form,
            "ramp_message": f.ramp_up.message() if f is not None and f.ramp_up else "",
        },
        status=422 if form is not None and form.is_bound else 200,
    )


@login_required
@require_GET
def trial_accrual_plot(request: HttpRequest, trial_id: int) -> HttpResponse:
    from . import plots  # matplotlib loads on the first plot, not with the URLconf

    trial = _trial(request, trial_id)
    acc = trial_accrual(trial=trial, user=request.user, cohort=_cohort(request, trial))
    return _svg(
        plots.accrual_svg(acc),
        f"{trial.protocol_code}-accrual.svg".replace('"', ""),
        request.GET.get("download") == "1",
    )


@login_required
@require_GET
def activity_page(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    denominator = request.GET.get("denominator", "new_patients")
    treated = int_or_none(request.GET.get("treated"))
    try:
        report = activity_for(
            user=request.user, year=year, denominator=denominator, treated_total=treated
        )
    except OncotrialsError as exc:
        messages.error(request, exc.message)
        report = activity_for(user=request.user, year=year)
        denominator = "new_patients"
    fmt = request.GET.get("format")
    if fmt == "csv":
        response = HttpResponse(activity_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="activity-{year}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            activity_xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="activity-{year}.xlsx"'
        return response
    if fmt == "json":
        return HttpResponse(activity_json(report), content_type="application/json")
    return render(
        request,
        "operations/activity.html",
        {
            "report": report,
            "delays": [*report.delays, report.slot_turnaround],
            "year": year,
            "denominator": denominator,
            "denominators": DENOMINATORS,
            "treated": treated or "",
            "query": request.GET.urlencode(),
        },
    )


# --- resources and calendar ----------------------------------------------------------------------


def _site(request: HttpRequest) -> Any:
    try:
        return site_get_for_user(
            user=request.user,
            site_id=int_or_none(request.GET.get("site") or request.POST.get("site")),
        )
    except NotFoundError:
        raise Http404("No site whose operations you may see.") from None


@login_required
@require_http_methods(["GET", "POST"])
def resources_page(request: HttpRequest) -> HttpResponse:
    """A site's chairs, beds, rooms, isolators, opening hours, staffing and closures; a unit
    manager edits them here (each change through a service, audited). A refused form comes back
    with status 422 (409 when someone else changed the opening hours meanwhile), what was typed
    kept and each error beside its field; the other forms of the page start afresh."""
    site = _site(request)
    may_manage = site in sites_managed_by(request.user)
    cal = calendar_of(site)
    bound: PageForm | None = None
    status = 200
    if request.method == "POST":
        if not may_manage:
            return HttpResponse(_("You may not manage this site's operations."), status=403)
        action = request.POST.get("action", "")
        if action not in _RESOURCE_FORMS:
            return HttpResponse(_("Unknown action; nothing was saved."), status=400)
        bound = _resource_form(action, cal, request.POST)
        status = 422
        if bound.is_valid():
            try:
                done = _RESOURCE_SAVES[action](bound.cleaned_data, site, acting_user(request.user))
            except OncotrialsError as exc:
                if exc.status == 403:
                    return HttpResponse(exc.message, status=403)
                bound.apply_error(exc)
                status = 409 if isinstance(exc, ConflictError) else 422
            else:
                messages.success(request, done)
                return redirect(f"{request.path}?site={site.pk}")
    forms = {name: _resource_form(name, cal) for name in _RESOURCE_FORMS}
    if bound is not None:
        forms[bound.form_name] = bound
    return render(
        request,
        "operations/resources.html",
        {
            "site": site,
            "sites": sites_visible_to(request.user),
            "resources": resources_visible_to(request.user).filter(site=site),
            "calendar": cal,
            "shifts": NurseShift.objects.filter(site=site),
            "closures": Closure.objects.filter(site=site, on__gte=timezone.localdate()),
            "forms": forms,
            "refused": bound.form_name if bound is not None else "",
            "may_manage": may_manage,
        },
        status=status,
    )


_RESOURCE_FORMS: dict[str, type[PageForm]] = {
    f.form_name: f
    for f in (ResourceForm, CalendarForm, ShiftForm, ClosureForm, CareRequestForm, GenerateForm)
}


def _resource_form(action: str, cal: Any, data: Any = None) -> PageForm:
    """The page's form of ``action``, bound to ``data`` or showing the values in force."""
    if action == "calendar":
        initial = {f: getattr(cal, f) for f in CalendarForm.base_fields}
        initial["version"] = cal.version
        return CalendarForm(data, editing=cal.pk is not None, initial=initial)
    return _RESOURCE_FORMS[action](data)


def _save_resource(data: dict[str, Any], site: Any, by: Any) -> str:
    services.resource_save(
        site=site, kind=data["kind"], code=data["code"], name=data["name"], by=by
    )
    return _("Resource added.")


def _save_calendar(data: dict[str, Any], site: Any, by: Any) -> str:
    services.unit_calendar_save(
        site=site,
        data={k: v for k, v in data.items() if k not in ("version", "reason")},
        version=data["version"],
        reason=data.get("reason", ""),
        by=by,
    )
    return _("Opening hours saved.")


def _save_shift(data: dict[str, Any], site: Any, by: Any) -> str:
    services.nurse_shift_add(
        site=site, starts=data["starts"], ends=data["ends"], nurses=data["nurses"], by=by
    )
    return _("Staffing band added.")


def _save_closure(data: dict[str, Any], site: Any, by: Any) -> str:
    services.closure_add(site=site, on=data["on"], reason=data["reason"], by=by)
    return _("Closure added.")


def _save_request(data: dict[str, Any], site: Any, by: Any) -> str:
    fields = {k: v for k, v in data.items() if v is not None}
    services.care_request_create(site=site, data=fields, by=by)
    return _("Request added.")


def _save_generated(data: dict[str, Any], site: Any, by: Any) -> str:
    made = services.care_requests_generate(site=site, monday=monday_of(data["week"]), by=by)
    return _("%(n)d requests made from the visit calendars.") % {"n": len(made)}


_RESOURCE_SAVES = {
    "resource": _save_resource,
    "calendar": _save_calendar,
    "shift": _save_shift,
    "closure": _save_closure,
    "request": _save_request,
    "generate": _save_generated,
}


# --- occupancy -----------------------------------------------------------------------------------


def _week(request: HttpRequest) -> dt.date:
    try:
        return monday_of(dt.date.fromisoformat(request.GET.get("week", "")))
    except ValueError:
        return monday_of(timezone.localdate())


@login_required
@require_GET
def occupancy_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    site = _site(request)
    monday = _week(request)
    occ = week_occupancy(user=request.user, site=site, monday=monday)
    if request.GET.get("format") == "csv":
        zone = occ.site.time_zone
        return csv_response(
            f"occupancy-{site.code}-{monday.isoformat()}.csv",
            ["request", "unit", "kind", "resource", "starts", "ends", "prep_starts", "time_zone"],
            (
                [
                    b.request.label,
                    b.request.unit,
                    b.request.kind,
                    b.resource.code if b.resource else "",
                    timezone.localtime(b.starts_at, _zone(zone)).isoformat(),
                    timezone.localtime(b.ends_at, _zone(zone)).isoformat(),
                    timezone.localtime(b.prep_starts_at, _zone(zone)).isoformat()
                    if b.prep_starts_at
                    else "",
                    zone,
                ]
                for b in occ.bookings
            ),
        )
    day = int_or_none(request.GET.get("day"))
    day = day if day is not None and 0 <= day < DAYS else 0
    base = day * SLOTS_PER_DAY
    peak = [
        (
            u.day,
            float(occ.nurse[d * SLOTS_PER_DAY : (d + 1) * SLOTS_PER_DAY].max(initial=0)) / 4,
            float(occ.nurse_capacity[d * SLOTS_PER_DAY : (d + 1) * SLOTS_PER_DAY].max(initial=0))
            / 4,
        )
        for d, u in enumerate(occ.days)
    ]
    hourly = [
        {
            "hour": h,
            "load": float(occ.nurse[base + h * 12 : base + (h + 1) * 12].max(initial=0)) / 4,
            "capacity": float(
                occ.nurse_capacity[base + h * 12 : base + (h + 1) * 12].max(initial=0)
            )
            / 4,
            "chairs": int(occ.chair[base + h * 12 : base + (h + 1) * 12].max(initial=0)),
        }
        for h in range(6, 22)
    ]
    return render(
        request,
        "operations/occupancy.html",
        {
            "site": site,
            "sites": sites_visible_to(request.user),
            "monday": monday,
            "occ": occ,
            "day": day,
            "day_date": monday + dt.timedelta(days=day),
            "days": list(enumerate(occ.days)),
            "peak": peak,
            "hourly": hourly,
            "lanes": occ.lanes(day),
            "previous": (monday - dt.timedelta(days=7)).isoformat(),
            "next": (monday + dt.timedelta(days=7)).isoformat(),
        },
    )


def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


@login_required
@require_GET
def occupancy_plot(request: HttpRequest, plot: str) -> HttpResponse:
    from . import plots

    if plot not in ("gantt", "nurses"):
        raise Http404("No such plot.")
    site = _site(request)
    monday = _week(request)
    day = int_or_none(request.GET.get("day"))
    day = day if day is not None and 0 <= day < DAYS else 0
    occ = week_occupancy(user=request.user, site=site, monday=monday)
    date = monday + dt.timedelta(days=day)
    if plot == "gantt":
        svg = plots.gantt_svg(occ.lanes(day), title=f"{site.code} · {date:%A %d %B %Y}")
    else:
        base = day * SLOTS_PER_DAY
        hours = [s * SLOT_MINUTES / 60 for s in range(SLOTS_PER_DAY)]
        svg = plots.nurse_load_svg(
            hours,
            list(occ.nurse[base : base + SLOTS_PER_DAY] / 4),
            list(occ.nurse_capacity[base : base + SLOTS_PER_DAY] / 4),
        )
    return _svg(
        svg, f"{site.code}-{date.isoformat()}-{plot}.svg", request.GET.get("download") == "1"
    )
