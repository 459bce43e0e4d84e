"""API endpoints of unit operations (mounted at /api/v1/): parse, authorise, call one service,
render. Every read is scoped to the caller's trials and sites."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Router

from oncotrials.apps.accounts.access import acting_user
from oncotrials.apps.accounts.schemas import ERRORS, Rendered, paged
from oncotrials.apps.trials.selectors import trial_get_for_user
from oncotrials.core.accrual import Interval
from oncotrials.core.errors import NotFoundError

from . import services
from .analytics import TrialAccrual, activity_for, trial_accrual
from .exports import activity_json
from .models import Booking, CareRequest, PlanRun, Resource
from .schemas import (
    AccrualForecastOut,
    AccrualPlanIn,
    BookingCancelIn,
    BookingOut,
    CareRequestIn,
    CareRequestOut,
    PlanRunIn,
    PlanRunOut,
    ReplanIn,
    ResourceIn,
    ResourceOut,
)
from .selectors import (
    bookings_visible_to,
    monday_of,
    plan_run_get_for_user,
    requests_visible_to,
    resources_visible_to,
    site_get_for_user,
    week_instance,
)

router = Router(tags=["operations"])


def _interval(acc: TrialAccrual, iv: Interval | None) -> dict[str, Any] | None:
    if iv is None:
        return None

    def num(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return {
        "median": num(iv.median),
        "lower": num(iv.lower),
        "upper": num(iv.upper),
        "median_date": acc.month_date(iv.median),
        "lower_date": acc.month_date(iv.lower),
        "upper_date": acc.month_date(iv.upper),
    }


def accrual_out(acc: TrialAccrual) -> dict[str, Any]:
    f = acc.result
    return {
        "trial_id": acc.trial.pk,
        "protocol_code": acc.trial.protocol_code,
        "cohort_id": acc.cohort.pk if acc.cohort else None,
        "start": acc.start,
        "target": acc.target,
        "duration_months": acc.duration_months,
        "certainty": acc.certainty,
        "plan_saved": acc.plan_saved,
        "accrued": f.accrued if f else None,
        "gajewski": _interval(acc, f.gajewski) if f else None,
        "poisson_gamma_open_centres": _interval(acc, f.pg_closed_form) if f else None,
        "poisson_gamma_simulated": _interval(acc, f.pg_simulated) if f else None,
        "alpha": f.poisson_gamma.alpha if f and f.poisson_gamma else None,
        "beta": f.poisson_gamma.beta if f and f.poisson_gamma else None,
        "ramp_up": f.ramp_up.message() if f and f.ramp_up else None,
        "problem": acc.problem,
    }


def _cohort(trial: Any, cohort_id: int | None) -> Any:
    if cohort_id is None:
        return None
    cohort = trial.cohorts.filter(pk=cohort_id).first()
    if cohort is None:
        raise NotFoundError(
            gettext("No cohort %(cohort_id)s in %(trial)s.")
            % {"cohort_id": cohort_id, "trial": trial.protocol_code}
        )
    return cohort


@router.get(
    "/operations/trials/{trial_id}/accrual-forecast",
    response={200: AccrualForecastOut, **ERRORS},
)
def accrual_forecast_get(request: HttpRequest, trial_id: int, cohort_id: int | None = None) -> Any:
    """When the trial (or a cohort) reaches its target: Gajewski's model and, with three or
    more centres, the Poisson–gamma closed form and Monte Carlo (times in months since the
    start, with dates). Counts only registrations you may see."""
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    return accrual_out(
        trial_accrual(trial=trial, user=request.user, cohort=_cohort(trial, cohort_id))
    )


@router.put(
    "/operations/trials/{trial_id}/accrual-plan", response={200: AccrualForecastOut, **ERRORS}
)
def accrual_plan_put(request: HttpRequest, trial_id: int, payload: AccrualPlanIn) -> Any:
    trial = trial_get_for_user(user=request.user, trial_id=trial_id)
    cohort = _cohort(trial, payload.cohort_id)
    services.accrual_plan_save(
        trial=trial,
        cohort=cohort,
        target=payload.target,
        starts_on=payload.starts_on,
        duration_months=payload.duration_months,
        certainty=payload.certainty,
        external_centres=payload.external_centres,
        reason=payload.reason,
        by=acting_user(request.user),
    )
    return accrual_out(trial_accrual(trial=trial, user=request.user, cohort=cohort))


@router.get("/operations/activity", response={200: dict[str, Any], **ERRORS})
def activity_get(
    request: HttpRequest,
    year: int,
    denominator: str = "new_patients",
    treated_total: int | None = None,
) -> Any:
    """The activity report of ``year`` over what you may see (tables with their definitions)."""
    report = activity_for(
        user=request.user, year=year, denominator=denominator, treated_total=treated_total
    )
    return json.loads(activity_json(report))


def resource_out(r: Resource) -> dict[str, Any]:
    return {
        "id": r.pk,
        "site_id": r.site_id,
        "kind": r.kind,
        "code": r.code,
        "name": r.name,
        "active": r.active,
    }


@router.get("/operations/resources", response={200: list[ResourceOut], **ERRORS})
@paged
def resources_list(request: HttpRequest, site_id: int | None = None) -> Any:
    """Chairs, beds, rooms and isolators of the sites you belong to. Paged."""
    qs = resources_visible_to(request.user)
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    return qs.order_by("site_id", "kind", "code")


@router.post("/operations/resources", response={201: ResourceOut, **ERRORS})
def resources_create(request: HttpRequest, payload: ResourceIn) -> Any:
    site = site_get_for_user(user=request.user, site_id=payload.site_id)
    r = services.resource_save(
        site=site,
        kind=payload.kind,
        code=payload.code,
        name=payload.name,
        by=acting_user(request.user),
    )
    return 201, resource_out(r)


def request_out(r: CareRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "ref": r.ref,
        "site_id": r.site_id,
        "label": r.label,
        "unit": r.unit,
        "kind": r.kind,
        "earliest": r.earliest,
        "latest": r.latest,
        "target": r.target,
        "duration_min": r.duration_min,
        "weight": r.weight,
        "source": r.source,
        "status": r.status,
    }


@router.get("/operations/requests", response={200: list[CareRequestOut], **ERRORS})
@paged
def requests_list(request: HttpRequest, week: dt.date | None = None) -> Any:
    """Care requests of your sites, whose window meets the week of ``week`` when given. Paged."""
    qs = requests_visible_to(request.user)
    if week is not None:
        monday = monday_of(week)
        qs = qs.filter(earliest__lte=monday + dt.timedelta(days=4), latest__gte=monday)
    return qs.order_by("target", "pk")


@router.post("/operations/requests", response={201: CareRequestOut, **ERRORS})
def requests_create(request: HttpRequest, payload: CareRequestIn) -> Any:
    site = site_get_for_user(user=request.user, site_id=payload.site_id)
    data = payload.dict(exclude={"site_id"})
    r = services.care_request_create(site=site, data=data, by=acting_user(request.user))
    return 201, request_out(r)


def booking_out(b: Booking) -> dict[str, Any]:
    return {
        "id": b.pk,
        "request_id": b.request_id,
        "site_id": b.site_id,
        "status": b.status,
        "resource": b.resource.code if b.resource else None,
        "starts_at": b.starts_at,
        "ends_at": b.ends_at,
        "prep_starts_at": b.prep_starts_at,
    }


@router.get("/operations/bookings", response={200: list[BookingOut], **ERRORS})
@paged
def bookings_list(request: HttpRequest, site_id: int | None = None) -> Any:
    """Bookings of chairs and beds at your sites, by start. Paged."""
    qs = bookings_visible_to(request.user)
    if site_id is not None:
        qs = qs.filter(site_id=site_id)
    return Rendered(qs.order_by("starts_at", "pk"), booking_out)


@router.post("/operations/bookings/{booking_id}/cancel", response={200: BookingOut, **ERRORS})
def bookings_cancel(request: HttpRequest, booking_id: int, payload: BookingCancelIn) -> Any:
    """Cancel a booked visit, with the reason: the booking and its request are kept as
    cancelled (audited) and the place is offered to the next re-plan."""
    booking = bookings_visible_to(request.user).filter(pk=booking_id).first()
    if booking is None:
        raise NotFoundError(
            gettext("No booking %(booking_id)s that you may see.") % {"booking_id": booking_id}
        )
    cancelled = services.booking_cancel(
        booking=booking, by=acting_user(request.user), reason=payload.reason
    )
    return booking_out(cancelled)


@router.get("/operations/week-instance", response={200: dict[str, Any], **ERRORS})
def week_instance_get(request: HttpRequest, week: dt.date, site_id: int | None = None) -> Any:
    """The week's scheduling instance (ONC-WEEK format) built from the site's resources,
    opening hours, staffing, closures and requests."""
    site = site_get_for_user(user=request.user, site_id=site_id)
    return week_instance(site=site, monday=monday_of(week))


def plan_run_out(run: PlanRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "kind": run.kind,
        "site_id": run.site_id,
        "monday": run.monday,
        "status": run.status,
        "time_limit": run.time_limit,
        "requests": len(run.instance.get("visits", [])),
        "objective": run.objective,
        "first_fit_objective": run.first_fit_objective,
        "lower_bound": run.lower_bound,
        "unscheduled": run.unscheduled,
        "progress": run.progress,
        "solution": run.solution,
        "moves": run.moves,
        "error": run.error,
    }


@router.post("/operations/plan-runs", response={202: PlanRunOut, **ERRORS})
def plan_runs_create(request: HttpRequest, payload: PlanRunIn) -> Any:
    """Build the week's instance from the database and solve it in the background; poll the
    run for its progress, then save it."""
    site = site_get_for_user(user=request.user, site_id=payload.site_id)
    run = services.plan_run_start(
        site=site,
        monday=monday_of(payload.week),
        time_limit=payload.time_limit,
        by=acting_user(request.user),
    )
    return 202, plan_run_out(run)


@router.post("/operations/replans", response={202: PlanRunOut, **ERRORS})
def replans_create(request: HttpRequest, payload: ReplanIn) -> Any:
    """Re-plan the rest of the week from the bookings in force, after cancelled or added
    requests, in the background. Days up to today stay as they are; a PK visit on a fixed day
    moves only with a reason in ``reasons``. Poll the run: its ``moves`` list every change (from,
    to, why); ``POST /operations/plan-runs/{id}/save`` applies them (refused if the bookings
    changed meanwhile)."""
    site = site_get_for_user(user=request.user, site_id=payload.site_id)
    run = services.replan_start(
        site=site,
        monday=monday_of(payload.week),
        by=acting_user(request.user),
        reasons=payload.reasons,
        time_limit=payload.time_limit,
    )
    return 202, plan_run_out(run)


@router.get("/operations/plan-runs/{run_id}", response={200: PlanRunOut, **ERRORS})
def plan_runs_get(request: HttpRequest, run_id: int) -> Any:
    return plan_run_out(plan_run_get_for_user(user=request.user, run_id=run_id))


@router.post("/operations/plan-runs/{run_id}/save", response={200: list[BookingOut], **ERRORS})
def plan_runs_save(request: HttpRequest, run_id: int) -> Any:
    """Store the finished plan as the week's bookings."""
    run = plan_run_get_for_user(user=request.user, run_id=run_id)
    return [booking_out(b) for b in services.plan_run_save(run=run, by=acting_user(request.user))]
