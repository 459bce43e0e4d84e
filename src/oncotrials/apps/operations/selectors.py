"""Reads of unit operations, always through the caller's memberships.

Resources, calendars, requests and bookings belong to a site and no trial: they are visible
through site-wide memberships only (a trial-limited membership, such as a sponsor monitor's,
sees none of the unit's planning).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, scope_condition, scope_for, sites_where
from oncotrials.apps.accounts.models import Actor, Site
from oncotrials.core.errors import NotFoundError, ValidationError

from .models import (
    AccrualPlan,
    Booking,
    BookingStatus,
    CareRequest,
    Closure,
    NurseShift,
    PlanRun,
    RequestStatus,
    Resource,
    ResourceKind,
    Unit,
    UnitCalendar,
)

SLOT_MINUTES = 5
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
DAYS = 5  # Monday to Friday


def _visible(qs: QuerySet[Any], user: Actor, site: str = "site_id") -> QuerySet[Any]:
    cond = scope_condition(user, site=site)
    return qs if cond is None else qs.filter(cond)


def sites_visible_to(user: Actor) -> QuerySet[Site]:
    """Sites where the user holds a site-wide membership (every site for an administrator)."""
    scope = scope_for(user)
    if scope.is_admin:
        return Site.objects.order_by("code")
    return Site.objects.filter(pk__in=sorted(scope.site_roles)).order_by("code")


def site_get_for_user(*, user: Actor, site_id: int | None) -> Site:
    """The site asked for, else the user's first; NotFoundError when there is none to see."""
    sites = sites_visible_to(user)
    site = sites.filter(pk=site_id).first() if site_id is not None else sites.first()
    if site is None:
        raise NotFoundError(gettext("No site whose operations you may see."))
    return site


def sites_managed_by(user: Actor) -> list[Site]:
    return sites_where(user, Action.MANAGE_OPERATIONS)


def resources_visible_to(user: Actor) -> QuerySet[Resource]:
    return _visible(Resource.objects.select_related("site"), user)


def bookings_visible_to(user: Actor, *, cancelled: bool = False) -> QuerySet[Booking]:
    """Bookings in force (with ``cancelled``, also the cancelled and released ones)."""
    qs = Booking.objects.select_related("request", "resource", "site")
    if not cancelled:
        qs = qs.filter(status=BookingStatus.ACTIVE)
    return _visible(qs, user)


def requests_visible_to(user: Actor) -> QuerySet[CareRequest]:
    return _visible(CareRequest.objects.select_related("site"), user)


def accrual_plans_visible_to(user: Actor) -> QuerySet[AccrualPlan]:
    cond = scope_condition(user, site="trial__trial_sites__site_id", trial="trial_id")
    qs = AccrualPlan.objects.select_related("trial", "cohort")
    return qs if cond is None else qs.filter(cond).distinct()


def calendar_of(site: Site) -> UnitCalendar:
    """The site's opening hours (the defaults until a manager saves them)."""
    found = UnitCalendar.objects.filter(site=site).first()
    return found if found is not None else UnitCalendar(site=site, version=0)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def slot_of(t: dt.time) -> int:
    return (t.hour * 60 + t.minute) // SLOT_MINUTES


def ceil_slots(minutes: int) -> int:
    return -(-minutes // SLOT_MINUTES)


def site_zone(site: Site) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(site.time_zone)


def local_start(site: Site, day: dt.date, slot: int) -> dt.datetime:
    """The aware datetime of a slot of a day, in the site's time zone."""
    midnight = dt.datetime.combine(day, dt.time(0, 0), tzinfo=site_zone(site))
    return midnight + dt.timedelta(minutes=slot * SLOT_MINUTES)


@dataclass(frozen=True)
class Week:
    site: Site
    monday: dt.date
    open_days: tuple[int, ...]  # weekday indexes 0-4 that are not closures
    requests: tuple[CareRequest, ...]

    @property
    def days(self) -> list[dt.date]:
        return [self.monday + dt.timedelta(days=i) for i in range(DAYS)]


def week_requests(site: Site, monday: dt.date) -> Week:
    """The requests of a site whose window meets the week, and the week's open days."""
    friday = monday + dt.timedelta(days=DAYS - 1)
    closed = set(
        Closure.objects.filter(site=site, on__range=(monday, friday)).values_list("on", flat=True)
    )
    open_days = tuple(i for i in range(DAYS) if monday + dt.timedelta(days=i) not in closed)
    reqs = tuple(
        CareRequest.objects.filter(site=site, earliest__lte=friday, latest__gte=monday)
        .exclude(status=RequestStatus.CANCELLED)
        .order_by("pk")
    )
    return Week(site, monday, open_days, reqs)


def week_instance(*, site: Site, monday: dt.date) -> dict[str, Any]:
    """The week as an instance dict in the ONC-WEEK format (5-minute slots; a global slot is
    ``day * 288 + slot_of_day``) for the scheduler: capacities from the site's active
    resources, hours from its calendar, nurses from its staffing profile; requests whose
    window meets the week, with their allowed open days. A request with no open day in the
    week is left out (``week_unplaceable`` lists them)."""
    if monday.weekday() != 0:
        raise ValidationError(
            gettext("A week starts on a Monday; got %(weekday)s %(date)s.")
            % {"weekday": date_format(monday, "l"), "date": monday},
            field="week",
        )
    cal = calendar_of(site)
    week = week_requests(site, monday)
    counts = {
        k: Resource.objects.filter(site=site, kind=k, active=True).count()
        for k in (ResourceKind.CHAIR, ResourceKind.BED, ResourceKind.ISOLATOR)
    }
    shifts = list(NurseShift.objects.filter(site=site).order_by("starts"))
    night = slot_of(cal.night_from)
    ward_open = slot_of(cal.ward_open)
    visits = []
    for r in week.requests:
        days = [
            i for i in week.open_days if r.earliest <= monday + dt.timedelta(days=i) <= r.latest
        ]
        if not days:
            continue
        # The target day, or (closed, or outside the week) the nearest allowed day, earlier first.
        wanted = (r.target - monday).days
        target = min(days, key=lambda d: (abs(d - wanted), d))
        v: dict[str, Any] = {
            "id": r.ref,
            "unit": r.unit,
            "kind": r.kind,
            "days": days,
            "target_day": target,
            "dur": ceil_slots(r.duration_min),
            "pre": ceil_slots(r.pre_min),
            "prep": ceil_slots(r.prep_min),
            "setup": ceil_slots(r.setup_min),
            "samples": [o // SLOT_MINUTES for o in r.sample_offsets],
            "weight": r.weight,
        }
        if r.unit == Unit.BED:
            v["dose_at"] = ceil_slots(r.dose_at_min)
        visits.append(v)
    return {
        "name": f"{site.code}-{monday.isoformat()}",
        "slot_minutes": SLOT_MINUTES,
        "days": DAYS,
        "chairs": counts[ResourceKind.CHAIR],
        "beds": counts[ResourceKind.BED],
        "pharmacy_capacity": counts[ResourceKind.ISOLATOR],
        "chair_open": slot_of(cal.chair_open),
        "chair_close": slot_of(cal.chair_close),
        "pharmacy_open": slot_of(cal.pharmacy_open),
        "pharmacy_close": slot_of(cal.pharmacy_close),
        "bed_admit_window": [slot_of(cal.bed_admit_from), slot_of(cal.bed_admit_to)],
        "bed_from": ward_open,
        "bed_to": (DAYS - 1) * SLOTS_PER_DAY + slot_of(cal.ward_close),
        "nurse_profile": [[slot_of(s.starts), slot_of(s.ends), s.nurses] for s in shifts],
        "ward_sampling_capacity": [
            [ward_open, night, cal.ward_day_sampling],
            [night, SLOTS_PER_DAY + ward_open, cal.ward_night_sampling],
        ],
        "visits": visits,
    }


def week_solution(*, site: Site, monday: dt.date) -> dict[str, list[int]]:
    """The week's bookings in force in the scheduler's format: ``{request id: [day, start,
    prep_start_or_-1]}`` with global slots of the week (a booking on another week is left out)."""
    week = week_requests(site, monday)
    zone = site_zone(site)
    out: dict[str, list[int]] = {}
    bookings = Booking.objects.filter(
        request__in=week.requests, status=BookingStatus.ACTIVE
    ).select_related("request")
    for b in bookings:
        local = b.starts_at.astimezone(zone)
        day = (local.date() - monday).days
        if not 0 <= day < DAYS:
            continue
        start = day * SLOTS_PER_DAY + slot_of(local.time())
        prep = -1
        if b.prep_starts_at is not None:
            p = b.prep_starts_at.astimezone(zone)
            prep = (p.date() - monday).days * SLOTS_PER_DAY + slot_of(p.time())
        out[b.request.ref] = [day, start, prep]
    return out


def week_bookings(*, user: Actor, site: Site, monday: dt.date) -> list[Booking]:
    start = local_start(site, monday, 0)
    end = local_start(site, monday + dt.timedelta(days=7), 0)
    return list(
        bookings_visible_to(user)
        .filter(site=site)
        .filter(Q(starts_at__lt=end) & Q(ends_at__gt=start))
        .order_by("starts_at", "pk")
    )


def plan_runs_visible_to(user: Actor) -> QuerySet[PlanRun]:
    return _visible(PlanRun.objects.select_related("site", "created_by"), user)


def plan_run_get_for_user(*, user: Actor, run_id: int) -> PlanRun:
    run = plan_runs_visible_to(user).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError(
            gettext("No plan run %(run_id)s that you may see.") % {"run_id": run_id}
        )
    return run
