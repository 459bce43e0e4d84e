"""Writes of unit operations: each checks its input (naming the field), owns its transaction and
records an audit event. Bad input writes nothing."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from oncotrials.apps.accounts.access import Action, require
from oncotrials.apps.accounts.models import Site, User
from oncotrials.apps.audit.services import audit_record, diff, model_snapshot
from oncotrials.apps.subjects.models import Registration, RegistrationStatus
from oncotrials.apps.subjects.selectors import calendars_for, registrations_with_calendar
from oncotrials.apps.trials.models import Cohort, Trial
from oncotrials.core.errors import ConflictError, NotFoundError, ValidationError
from oncotrials.core.scheduling import load_instance, reschedule, solve

from . import tasks
from .models import (
    AccrualPlan,
    Booking,
    BookingStatus,
    CareRequest,
    Closure,
    NurseShift,
    PlanKind,
    PlanRun,
    PlanStatus,
    RequestSource,
    RequestStatus,
    Resource,
    ResourceKind,
    Unit,
    UnitCalendar,
)
from .placement import Placed, PlacementChecker
from .requests import need_of
from .selectors import (
    DAYS,
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    calendar_of,
    local_start,
    site_zone,
    slot_of,
    week_instance,
    week_requests,
    week_solution,
)

DAY_MINUTES = 24 * 60
_CAL_TIMES = (
    "chair_open",
    "chair_close",
    "pharmacy_open",
    "pharmacy_close",
    "bed_admit_from",
    "bed_admit_to",
    "ward_open",
    "ward_close",
    "night_from",
)
_CAL_FIELDS = (*_CAL_TIMES, "ward_day_sampling", "ward_night_sampling")


def _manage(by: User, site: Site) -> None:
    require(by, Action.MANAGE_OPERATIONS, on=site)


def _time(value: Any, field: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(
            gettext("%(field)s must be a time of day such as 08:30; got %(value)s.")
            % {"field": field, "value": repr(value)},
            field=field,
        ) from None


def _count(value: Any, field: str) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ValidationError(
            gettext("%(field)s must be a whole number; got %(value)s.")
            % {"field": field, "value": repr(value)},
            field=field,
        ) from None
    if n < 0:
        raise ValidationError(
            gettext("%(field)s is a capacity and cannot be negative; got %(n)s.")
            % {"field": field, "n": n},
            field=field,
        )
    return n


# --- resources and calendar ----------------------------------------------------------------------


@transaction.atomic
def resource_save(
    *,
    site: Site,
    kind: str,
    code: str,
    name: str = "",
    active: bool = True,
    by: User,
    resource: Resource | None = None,
    reason: str = "",
) -> Resource:
    """Create a resource, or change ``resource`` (a reason is then required)."""
    _manage(by, site)
    if kind not in ResourceKind.values:
        raise ValidationError(
            gettext("kind must be one of %(values)s; got %(kind)s.")
            % {"values": ", ".join(ResourceKind.values), "kind": repr(kind)},
            field="kind",
        )
    code = code.strip()
    if not code or len(code) > 32:
        raise ValidationError(
            gettext("code must be 1 to 32 characters (e.g. CH-01)."), field="code"
        )
    clash = Resource.objects.filter(site=site, code=code)
    if resource is not None:
        clash = clash.exclude(pk=resource.pk)
    if clash.exists():
        raise ValidationError(
            gettext("%(site)s already has a resource %(code)s.")
            % {"site": site.code, "code": code},
            field="code",
        )
    old: dict[str, Any] = {}
    if resource is None:
        resource = Resource(site=site)
    else:
        if resource.site_id != site.pk:
            raise NotFoundError(
                gettext("No resource %(resource)s at %(site)s.")
                % {"resource": resource.pk, "site": site.code}
            )
        if not reason.strip():
            raise ValidationError(
                gettext("Changing a resource needs a reason for change."), field="reason"
            )
        old = model_snapshot(resource, ["kind", "code", "name", "active"])
        resource.version += 1
    resource.kind, resource.code, resource.name, resource.active = kind, code, name[:120], active
    resource.save()
    audit_record(
        action="update" if old else "create",
        instance=resource,
        changes=diff(old, model_snapshot(resource, ["kind", "code", "name", "active"])),
        reason=reason,
        by=by,
    )
    return resource


@transaction.atomic
def unit_calendar_save(
    *, site: Site, data: Mapping[str, Any], version: int, by: User, reason: str = ""
) -> UnitCalendar:
    """Opening hours and ward sampling capacity; every closing time after its opening."""
    _manage(by, site)
    values: dict[str, Any] = {}
    for f in _CAL_TIMES:
        if f in data:
            values[f] = _time(data[f], f)
    for f in ("ward_day_sampling", "ward_night_sampling"):
        if f in data:
            values[f] = _count(data[f], f)
    locked = UnitCalendar.objects.select_for_update().filter(site=site).first()
    current = locked.version if locked is not None else 0
    if version != current:
        raise ConflictError(
            gettext(
                "The opening hours of %(site)s were changed by someone else (version %(current)s, "
                "you edited %(version)s); reload and apply your change again."
            )
            % {"site": site.code, "current": current, "version": version},
            current_version=current,
        )
    cal = locked or calendar_of(site)
    old = model_snapshot(cal, list(_CAL_FIELDS)) if locked is not None else {}
    if locked is not None and not reason.strip():
        raise ValidationError(
            gettext("Changing opening hours needs a reason for change."), field="reason"
        )
    for k, v in values.items():
        setattr(cal, k, v)
    for start, end in (
        ("chair_open", "chair_close"),
        ("pharmacy_open", "pharmacy_close"),
        ("bed_admit_from", "bed_admit_to"),
    ):
        if getattr(cal, end) <= getattr(cal, start):
            raise ValidationError(
                gettext("%(end)s (%(end_time)s) must come after %(start)s (%(start_time)s).")
                % {
                    "end": end,
                    "end_time": format(getattr(cal, end), "%H:%M"),
                    "start": start,
                    "start_time": format(getattr(cal, start), "%H:%M"),
                },
                field=end,
            )
    cal.version = current + 1
    cal.save()
    audit_record(
        action="update" if old else "create",
        instance=cal,
        changes=diff(old, model_snapshot(cal, list(_CAL_FIELDS))),
        reason=reason,
        by=by,
    )
    return cal


@transaction.atomic
def nurse_shift_add(*, site: Site, starts: Any, ends: Any, nurses: Any, by: User) -> NurseShift:
    """A staffing band of the day unit, inside its opening hours."""
    _manage(by, site)
    s, e, n = _time(starts, "starts"), _time(ends, "ends"), _count(nurses, "nurses")
    cal = calendar_of(site)
    if e <= s:
        raise ValidationError(
            gettext("ends (%(ends)s) must come after starts (%(starts)s).")
            % {"ends": format(e, "%H:%M"), "starts": format(s, "%H:%M")},
            field="ends",
        )
    if s < cal.chair_open or e > cal.chair_close:
        raise ValidationError(
            gettext(
                "The shift %(starts)s-%(ends)s lies outside the day unit's opening hours "
                "(%(chair_open)s-%(chair_close)s)."
            )
            % {
                "starts": format(s, "%H:%M"),
                "ends": format(e, "%H:%M"),
                "chair_open": format(cal.chair_open, "%H:%M"),
                "chair_close": format(cal.chair_close, "%H:%M"),
            },
            field="starts" if s < cal.chair_open else "ends",
        )
    if NurseShift.objects.filter(site=site, starts__lt=e, ends__gt=s).exists():
        raise ValidationError(
            gettext(
                "The shift %(starts)s-%(ends)s overlaps another; staffing bands must not overlap."
            )
            % {"starts": format(s, "%H:%M"), "ends": format(e, "%H:%M")},
            field="starts",
        )
    shift = NurseShift.objects.create(site=site, starts=s, ends=e, nurses=n)
    audit_record(action="create", instance=shift, changes=diff({}, model_snapshot(shift)), by=by)
    return shift


@transaction.atomic
def nurse_shift_delete(*, shift: NurseShift, by: User, reason: str = "") -> None:
    _manage(by, shift.site)
    audit_record(
        action="delete",
        instance=shift,
        changes=diff(model_snapshot(shift), {}),
        reason=reason,
        by=by,
    )
    shift.delete()


@transaction.atomic
def closure_add(*, site: Site, on: dt.date, reason: str, by: User) -> Closure:
    _manage(by, site)
    if not reason.strip():
        raise ValidationError(
            gettext("Say why the unit is closed (e.g. Easter Monday)."), field="reason"
        )
    if Closure.objects.filter(site=site, on=on).exists():
        raise ValidationError(
            gettext("%(site)s is already closed on %(on)s.") % {"site": site.code, "on": on},
            field="on",
        )
    closure = Closure.objects.create(site=site, on=on, reason=reason[:200])
    audit_record(
        action="create", instance=closure, changes=diff({}, model_snapshot(closure)), by=by
    )
    return closure


# --- requests ------------------------------------------------------------------------------------


def _check_request(site: Site, d: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a care request, checked against the site's opening hours."""
    out: dict[str, Any] = {}
    unit = d.get("unit")
    if unit not in Unit.values:
        raise ValidationError(
            gettext("unit must be one of %(values)s; got %(unit)s.")
            % {"values": ", ".join(Unit.values), "unit": repr(unit)},
            field="unit",
        )
    out["unit"] = unit
    for f in ("earliest", "latest", "target"):
        v = d.get(f)
        if isinstance(v, str):
            try:
                v = dt.date.fromisoformat(v)
            except ValueError:
                v = None
        if not isinstance(v, dt.date):
            raise ValidationError(
                gettext("%(field)s must be a date (YYYY-MM-DD).") % {"field": f}, field=f
            )
        out[f] = v
    if not out["earliest"] <= out["target"] <= out["latest"]:
        raise ValidationError(
            gettext("The target day must lie in the window: earliest ≤ target ≤ latest."),
            field="target",
        )
    for f, default in (
        ("duration_min", None),
        ("pre_min", 0),
        ("prep_min", 0),
        ("setup_min", 15),
        ("dose_at_min", 0),
    ):
        out[f] = _count(d.get(f, default), f)
    if not 0 < out["duration_min"] <= DAY_MINUTES:
        raise ValidationError(
            gettext(
                "duration_min must lie in 1..%(day_minutes)s (a day); got %(duration_min)s. A longer "
                "stay is several requests."
            )
            % {"day_minutes": DAY_MINUTES, "duration_min": out["duration_min"]},
            field="duration_min",
        )
    offsets = d.get("sample_offsets") or []
    if not isinstance(offsets, list | tuple) or any(
        not isinstance(o, int) or o < 0 for o in offsets
    ):
        raise ValidationError(
            gettext("sample_offsets must be a list of whole minutes ≥ 0."), field="sample_offsets"
        )
    out["sample_offsets"] = sorted(offsets)
    weight = _count(d.get("weight", 1), "weight")
    if not 1 <= weight <= 10:
        raise ValidationError(
            gettext("weight must lie in 1..10; got %(weight)s.") % {"weight": weight},
            field="weight",
        )
    out["weight"] = weight
    cal = calendar_of(site)
    if unit == Unit.CHAIR:
        day = (slot_of(cal.chair_close) - slot_of(cal.chair_open)) * SLOT_MINUTES
        need = out["pre_min"] + out["prep_min"] + out["duration_min"]
        if need > day:
            raise ValidationError(
                gettext(
                    "The visit needs %(need)s minutes (assessment, preparation and chair) but the day "
                    "unit is open %(day)s minutes (%(chair_open)s-%(chair_close)s): its window lies "
                    "outside the opening hours; book a ward bed instead."
                )
                % {
                    "need": need,
                    "day": day,
                    "chair_open": format(cal.chair_open, "%H:%M"),
                    "chair_close": format(cal.chair_close, "%H:%M"),
                },
                field="duration_min",
            )
        if any(o >= out["duration_min"] for o in out["sample_offsets"]):
            raise ValidationError(
                gettext(
                    "Every sample of a chair visit must be taken while the patient is in the chair "
                    "(offset < duration_min)."
                ),
                field="sample_offsets",
            )
    out["label"] = str(d.get("label", "")).strip()[:60]
    if not out["label"]:
        raise ValidationError(gettext("label must name the patient and visit."), field="label")
    out["kind"] = str(d.get("kind") or "standard")[:20]
    out["visit_code"] = str(d.get("visit_code", ""))[:20]
    return out


@transaction.atomic
def care_request_create(
    *, site: Site, data: Mapping[str, Any], by: User, trial: Trial | None = None
) -> CareRequest:
    """A request entered by hand (a consultation, an extra PK day, a transfusion)."""
    _manage(by, site)
    fields = _check_request(site, data)
    req = CareRequest.objects.create(site=site, trial=trial, source=RequestSource.MANUAL, **fields)
    audit_record(action="create", instance=req, changes=diff({}, model_snapshot(req)), by=by)
    return req


@transaction.atomic
def care_request_cancel(*, request: CareRequest, by: User, reason: str) -> CareRequest:
    _manage(by, request.site)
    if not reason.strip():
        raise ValidationError(gettext("Cancelling a request needs a reason."), field="reason")
    old = model_snapshot(request, ["status"])
    booking = Booking.objects.filter(request=request, status=BookingStatus.ACTIVE).first()
    if booking is not None:
        _booking_set_status(booking, BookingStatus.CANCELLED, by=by, reason=reason)
    request.status = RequestStatus.CANCELLED
    request.save(update_fields=["status"])
    audit_record(
        action="update",
        instance=request,
        changes=diff(old, model_snapshot(request, ["status"])),
        reason=reason,
        by=by,
    )
    return request


def _requests_locked(requests: Sequence[CareRequest]) -> list[CareRequest]:
    """``requests`` read again under a lock, taken in primary-key order (no deadlock)."""
    return list(
        CareRequest.objects.select_for_update()
        .filter(pk__in=[r.pk for r in requests])
        .order_by("pk")
    )


def _request_set_status(req: CareRequest, status: str, *, by: User, reason: str = "") -> None:
    """Set a request's status (booked by a plan, open again when a re-plan drops it) and audit
    the change on the request, so that its row still matches its last audit event."""
    if req.status == status:
        return
    old = model_snapshot(req, ["status"])
    req.status = status
    req.save(update_fields=["status"])
    audit_record(
        action="update",
        instance=req,
        changes=diff(old, model_snapshot(req, ["status"])),
        reason=reason,
        by=by,
    )


def _booking_set_status(booking: Booking, status: str, *, by: User, reason: str) -> None:
    old = model_snapshot(booking, ["status", "status_reason"])
    booking.status, booking.status_reason = status, reason[:500]
    booking.status_by, booking.status_at = by, timezone.now()
    booking.save(update_fields=["status", "status_reason", "status_by", "status_at"])
    audit_record(
        action="update",
        instance=booking,
        changes=diff(old, model_snapshot(booking, ["status", "status_reason"])),
        reason=reason,
        by=by,
    )


@transaction.atomic
def booking_cancel(*, booking: Booking, by: User, reason: str) -> Booking:
    """Cancel a booked visit: the booking and its request become cancelled (kept, with who,
    when and why); the freed place is offered to the next re-plan."""
    _manage(by, booking.site)
    if not reason.strip():
        raise ValidationError(gettext("Cancelling a booking needs a reason."), field="reason")
    locked = Booking.objects.select_for_update().select_related("request").get(pk=booking.pk)
    if locked.status != BookingStatus.ACTIVE:
        raise ConflictError(
            gettext("This booking is already %(status)s.")
            % {"status": locked.get_status_display().lower()},
            field="status",
        )
    care_request_cancel(request=locked.request, by=by, reason=reason)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def care_requests_generate(*, site: Site, monday: dt.date, by: User) -> list[CareRequest]:
    """Requests for the visits of the site's patients on treatment whose window meets the week
    (from each registration's calendar, reconciled with what was recorded). A visit already
    requested is not requested again. Returns the new requests."""
    _manage(by, site)
    friday = monday + dt.timedelta(days=DAYS - 1)
    cal = calendar_of(site)
    day_minutes = (slot_of(cal.chair_close) - slot_of(cal.chair_open)) * SLOT_MINUTES
    regs = registrations_with_calendar(
        Registration.objects.filter(
            patient__site=site,
            trial__visit_schedule__isnull=False,
            status__in=[RegistrationStatus.ON_TREATMENT, RegistrationStatus.REGISTERED],
        ).order_by("pk"),
        visits=False,
    )
    existing = set(
        CareRequest.objects.filter(site=site, registration__isnull=False).values_list(
            "registration_id", "visit_code", "target"
        )
    )
    created: list[CareRequest] = []
    for reg, calendar in calendars_for(regs, today=monday):
        for v in calendar.visits:
            if v.status.value not in ("due", "overdue", "upcoming"):
                continue
            if v.latest < monday or v.earliest > friday:
                continue
            if (reg.pk, v.code, v.target) in existing:
                continue
            need = need_of(v.procedures, cycle=v.cycle, day_minutes=day_minutes)
            if need is None:
                continue
            req = CareRequest(
                site=site,
                trial_id=reg.trial_id,
                registration=reg,
                label=f"{reg.patient.research_id} {v.code}"[:60],
                visit_code=v.code,
                unit=need.unit,
                kind=need.kind,
                earliest=v.earliest,
                latest=v.latest,
                target=v.target,
                duration_min=need.duration_min,
                pre_min=need.pre_min,
                prep_min=need.prep_min,
                setup_min=need.setup_min,
                dose_at_min=need.dose_at_min,
                sample_offsets=list(need.sample_offsets),
                weight=need.weight,
                source=RequestSource.CALENDAR,
            )
            if need.unit == Unit.CHAIR and need.duration_min > DAY_MINUTES:
                continue
            req.save()
            audit_record(
                action="create", instance=req, changes={"source": [None, "calendar"]}, by=by
            )
            created.append(req)
    return created


# --- bookings ------------------------------------------------------------------------------------


@transaction.atomic
def bookings_save(
    *,
    site: Site,
    monday: dt.date,
    solution: Mapping[str, Sequence[int]],
    by: User,
    resources: Mapping[str, str] | None = None,
) -> list[Booking]:
    """Store a week's plan: ``solution`` maps a request id of the week's instance (``C12``,
    ``B3``) to ``[day, start, prep_start_or_-1]``, the scheduler's format, where ``start`` and
    ``prep_start`` are global slots of the week (``day * 288 + slot_of_day``). The week's
    bookings of those requests are replaced. ``resources`` optionally names the resource code
    of each request. Every booking is checked (known request, open day, opening hours, known
    resource of the right kind); one error and nothing is saved."""
    _manage(by, site)
    week = week_requests(site, monday)
    # Two planners saving the same week: the week's requests are locked in a fixed order, so
    # one save waits for the other and replaces its bookings whole, never half. They are read
    # again under the lock: their status changes here, audited from the row as it now is.
    by_ref = {r.ref: r for r in _requests_locked(week.requests)}
    checker = PlacementChecker(site)
    codes = {r.code: r for r in checker.resources.values()}
    replaced = [by_ref[ref].pk for ref in solution if ref in by_ref]
    others = checker.others(exclude=replaced)
    placed: list[tuple[CareRequest, Placed, Resource | None]] = []
    for ref, value in sorted(solution.items()):
        req = by_ref.get(ref)
        if req is None:
            raise ValidationError(
                gettext(
                    "solution.%(ref)s: no request %(ref)s in the week of %(monday)s at %(site)s."
                )
                % {"ref": ref, "monday": monday, "site": site.code},
                field=f"solution.{ref}",
            )
        try:
            day, start_global, prep_global = (int(x) for x in value)
        except (TypeError, ValueError):
            raise ValidationError(
                gettext(
                    "solution.%(ref)s must be [day, start_slot, prep_start_or_-1]; got %(value)s."
                )
                % {"ref": ref, "value": repr(value)},
                field=f"solution.{ref}",
            ) from None
        if day not in week.open_days:
            raise ValidationError(
                gettext(
                    "solution.%(ref)s: day %(day)s of the week of %(monday)s is not an open day."
                )
                % {"ref": ref, "day": day, "monday": monday},
                field=f"solution.{ref}",
            )
        resource = None
        if resources and ref in resources:
            resource = codes.get(resources[ref])
            if resource is None or resource.kind != req.unit:
                raise ValidationError(
                    gettext("resources.%(ref)s: unknown %(unit)s %(resources)s at %(site)s.")
                    % {
                        "ref": ref,
                        "unit": req.get_unit_display().lower(),
                        "resources": repr(resources[ref]),
                        "site": site.code,
                    },
                    field=f"resources.{ref}",
                )
        place = _check_place(
            checker, req, monday, day, start_global, prep_global, resource, others, ref
        )
        others.append(place)
        placed.append((req, place, resource))
    # The bookings being replaced are deleted through the trail: a row deleted without its
    # event would read as deleted outside the platform.
    replaced_bookings = Booking.objects.filter(request__in=[p[0] for p in placed])
    for gone in replaced_bookings.select_related("request").order_by("pk"):
        audit_record(
            action="delete",
            instance=gone,
            changes={
                "starts_at": [gone.starts_at.isoformat(), None],
                "status": [gone.status, None],
            },
            reason="replaced by a new plan of the week",
            by=by,
        )
        gone.delete()
    out = []
    for req, place, resource in placed:
        b = Booking.objects.create(
            request=req,
            site=site,
            resource=resource,
            starts_at=place.starts,
            ends_at=place.ends,
            prep_starts_at=place.prep_starts,
            booked_by=by,
        )
        _request_set_status(req, RequestStatus.BOOKED, by=by)
        audit_record(
            action="create",
            instance=b,
            changes={"starts_at": [None, place.starts.isoformat()], "request": [None, req.ref]},
            by=by,
        )
        out.append(b)
    return out


def _check_place(
    checker: PlacementChecker,
    req: CareRequest,
    monday: dt.date,
    day: int,
    start_global: int,
    prep_global: int,
    resource: Resource | None,
    others: Sequence[Placed],
    ref: str,
) -> Placed:
    """A slot-format place (the scheduler's) checked by the one placement check, its error
    named after the solution entry."""
    date = monday + dt.timedelta(days=day)
    site = checker.site
    starts = local_start(site, date, start_global - day * SLOTS_PER_DAY)
    prep_at = (
        local_start(site, date, prep_global - day * SLOTS_PER_DAY) if prep_global >= 0 else None
    )
    try:
        return checker.check(
            request=req, starts_at=starts, prep_starts_at=prep_at, resource=resource, others=others
        )
    except ValidationError as exc:
        raise ValidationError(
            gettext("solution.%(ref)s: %(message)s") % {"ref": ref, "message": exc.message},
            field=f"solution.{ref}",
        ) from None


# --- accrual plans -------------------------------------------------------------------------------


@transaction.atomic
def accrual_plan_save(
    *,
    trial: Trial,
    cohort: Cohort | None,
    target: int,
    starts_on: dt.date,
    duration_months: float,
    certainty: float,
    external_centres: Sequence[Mapping[str, Any]] = (),
    by: User,
    reason: str = "",
) -> AccrualPlan:
    """The plan of a trial (or a cohort) that accrual forecasts weigh against the data."""
    require(by, Action.EDIT_PORTFOLIO, on=trial)
    if cohort is not None and cohort.trial_id != trial.pk:
        raise ValidationError(
            gettext("Cohort %(cohort)s is not a cohort of %(trial)s.")
            % {"cohort": cohort.code, "trial": trial},
            field="cohort",
        )
    if target <= 0:
        raise ValidationError(
            gettext("target must be positive; got %(target)s.") % {"target": target}, field="target"
        )
    if not duration_months > 0:
        raise ValidationError(
            gettext("duration_months must be positive; got %(duration_months)s.")
            % {"duration_months": duration_months},
            field="duration_months",
        )
    if not 0 < certainty <= 1:
        raise ValidationError(
            gettext("certainty must lie in (0, 1]; got %(certainty)s.") % {"certainty": certainty},
            field="certainty",
        )
    centres = []
    for i, c in enumerate(external_centres):
        name = str(c.get("name", "")).strip()
        if not name:
            raise ValidationError(
                gettext("external_centres[%(index)s].name is empty.") % {"index": i},
                field="external_centres",
            )
        try:
            opens = dt.date.fromisoformat(str(c.get("opens_on")))
        except ValueError:
            raise ValidationError(
                gettext("external_centres[%(index)s].opens_on must be a date (YYYY-MM-DD).")
                % {"index": i},
                field="external_centres",
            ) from None
        recruited = _count(c.get("recruited", 0), f"external_centres[{i}].recruited")
        centres.append({"name": name[:100], "opens_on": opens.isoformat(), "recruited": recruited})
    plan = (
        AccrualPlan.objects.select_for_update()
        .filter(trial=trial, cohort=cohort)
        .order_by("pk")
        .first()
    )
    old = {}
    if plan is None:
        plan = AccrualPlan(trial=trial, cohort=cohort, version=0)
    else:
        old = model_snapshot(plan)
        if not reason.strip():
            raise ValidationError(
                gettext("Changing an accrual plan needs a reason."), field="reason"
            )
    plan.target, plan.starts_on, plan.duration_months = target, starts_on, duration_months
    plan.certainty, plan.external_centres = certainty, centres
    plan.version += 1
    plan.save()
    audit_record(
        action="update" if old else "create",
        instance=plan,
        changes=diff(old, model_snapshot(plan)),
        reason=reason,
        by=by,
    )
    return plan


# --- the week's solve ------------------------------------------------------------------------------

MAX_TIME_LIMIT = 600


@transaction.atomic
def plan_run_start(*, site: Site, monday: dt.date, time_limit: int, by: User) -> PlanRun:
    """Build the week's instance from the database and queue its solve (after the commit)."""
    _manage(by, site)
    if not 1 <= time_limit <= MAX_TIME_LIMIT:
        raise ValidationError(
            gettext("time_limit must lie in 1..%(max_time_limit)s seconds; got %(time_limit)s.")
            % {"max_time_limit": MAX_TIME_LIMIT, "time_limit": time_limit},
            field="time_limit",
        )
    instance = week_instance(site=site, monday=monday)
    if not instance["visits"]:
        raise ValidationError(
            gettext(
                "No request to plan in the week of %(monday)s at %(site)s: make requests from the "
                "visit calendars first."
            )
            % {"monday": monday, "site": site.code},
            field="week",
        )
    load_instance(instance, source=f"week of {monday}")  # refuse a bad instance before queuing
    run = PlanRun.objects.create(
        site=site, monday=monday, time_limit=time_limit, instance=instance, created_by=by
    )
    audit_record(action="create", instance=run, changes={"monday": [None, str(monday)]}, by=by)
    transaction.on_commit(lambda: tasks.plan_run_dispatch(run.pk))
    return run


def plan_run_execute(*, run_id: int, deterministic: bool = False) -> PlanRun:
    """Solve a queued run (first-fit hint, CP-SAT within its time limit), recording progress."""
    run = PlanRun.objects.get(pk=run_id)
    PlanRun.objects.filter(pk=run.pk).update(status=PlanStatus.RUNNING)
    trace: list[list[float]] = []
    last = [0.0]

    def progress(seconds: float, value: int, bound: float) -> None:
        trace.append([round(seconds, 2), int(value), round(float(bound), 1)])
        now = time.monotonic()
        if now - last[0] >= 0.5:  # one write per half second at most
            last[0] = now
            PlanRun.objects.filter(pk=run.pk).update(progress=list(trace), objective=int(value))

    moves: list[dict[str, Any]] = []
    try:
        inst = load_instance(run.instance, source=f"plan run {run.pk}")
        if run.kind == PlanKind.REPLAN:
            result = reschedule(
                inst,
                run.previous,
                reasons=run.reasons,
                time_limit=float(run.time_limit),
                deterministic=deterministic,
                workers=1 if deterministic else None,
                progress=progress,
            )
            moves = _moves(run, inst, result.solution)
        else:
            result = solve(
                inst,
                time_limit=float(run.time_limit),
                deterministic=deterministic,
                workers=1 if deterministic else None,
                progress=progress,
            )
    except Exception as exc:  # a failed solve is shown, never lost
        PlanRun.objects.filter(pk=run.pk).update(
            status=PlanStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        run.refresh_from_db()
        return run
    PlanRun.objects.filter(pk=run.pk).update(
        status=PlanStatus.DONE,
        progress=trace,
        objective=result.objective,
        first_fit_objective=result.first_fit_objective,
        lower_bound=result.lower_bound,
        unscheduled=list(result.unscheduled),
        solution=result.solution_document(),
        moves=moves,
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    return run


@transaction.atomic
def plan_run_save(*, run: PlanRun, by: User) -> list[Booking]:
    """Store a finished run's plan as the week's bookings (checked again against today's
    requests and hours: a request cancelled since the solve fails the whole save)."""
    _manage(by, run.site)
    locked = PlanRun.objects.select_for_update().get(pk=run.pk)
    if locked.status != PlanStatus.DONE:
        raise ConflictError(
            gettext(
                "This plan's status is “%(status)s”; only a finished plan that was not saved yet "
                "can be saved."
            )
            % {"status": locked.get_status_display().lower()},
            field="status",
        )
    if locked.kind == PlanKind.REPLAN:
        saved = _replan_apply(locked, by=by)
    else:
        saved = bookings_save(
            site=locked.site, monday=locked.monday, solution=locked.solution, by=by
        )
    locked.status = PlanStatus.SAVED
    locked.save(update_fields=["status"])
    audit_record(action="update", instance=locked, changes={"status": ["done", "saved"]}, by=by)
    return saved


# --- re-planning the rest of the week ------------------------------------------------------------

#: Seconds a re-plan searches by default: it starts from the plan in force and moves little.
REPLAN_TIME_LIMIT = 10


def _hm(slot: int) -> str:
    minutes = (slot % SLOTS_PER_DAY) * SLOT_MINUTES
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@transaction.atomic
def replan_start(
    *,
    site: Site,
    monday: dt.date,
    by: User,
    reasons: Mapping[str, str] | None = None,
    time_limit: int = REPLAN_TIME_LIMIT,
    now: dt.datetime | None = None,
) -> PlanRun:
    """Queue a re-plan of the rest of the week from the bookings in force, after cancelled or
    added requests. Days up to today are under way: their bookings are confirmed (never moved)
    and nothing new is placed on them. Locked bookings (confirmed, or PK visits on a fixed day)
    move only when ``reasons`` gives a reason for their request id (``C12``)."""
    _manage(by, site)
    if not 1 <= time_limit <= MAX_TIME_LIMIT:
        raise ValidationError(
            gettext("time_limit must lie in 1..%(max_time_limit)s seconds; got %(time_limit)s.")
            % {"max_time_limit": MAX_TIME_LIMIT, "time_limit": time_limit},
            field="time_limit",
        )
    today = timezone.localtime(now or timezone.now(), site_zone(site)).date()
    done = (today - monday).days  # days 0..done are under way or past
    if done >= DAYS - 1:
        raise ValidationError(
            gettext("The week of %(monday)s has no day left to re-plan (today is %(today)s).")
            % {"monday": monday, "today": today},
            field="week",
        )
    instance = week_instance(site=site, monday=monday)
    previous = week_solution(site=site, monday=monday)
    if not previous:
        raise ValidationError(
            gettext("Nothing is booked in the week of %(monday)s at %(site)s: plan the week first.")
            % {"monday": monday, "site": site.code},
            field="week",
        )
    reasons = {k: str(v).strip() for k, v in (reasons or {}).items() if str(v).strip()}
    for ref, text in reasons.items():
        if len(text) > 500:
            raise ValidationError(
                gettext("reasons.%(ref)s: a reason holds at most 500 characters; got %(count)s.")
                % {"ref": ref, "count": len(text)},
                field=f"reasons.{ref}",
            )
    visits = []
    for v in instance["visits"]:
        booked = previous.get(v["id"])
        if booked is not None and booked[0] <= done:
            v["confirmed"] = True  # under way: never moved
            if v["id"] in reasons:
                raise ValidationError(
                    gettext(
                        "reasons.%(id)s: the booking is on a day already under way; it cannot be moved."
                    )
                    % {"id": v["id"]},
                    field=f"reasons.{v['id']}",
                )
            visits.append(v)
            continue
        days = [d for d in v["days"] if d > done]
        if not days:
            continue
        if v["target_day"] not in days:
            v["target_day"] = min(days, key=lambda d: (abs(d - v["target_day"]), d))
        v["days"] = days
        visits.append(v)
    instance["visits"] = visits
    inst = load_instance(instance, source=f"week of {monday}")
    for ref in reasons:
        found = next((x for x in inst.visits if x.id == ref), None)
        if found is None or ref not in previous or not found.locked:
            raise ValidationError(
                gettext(
                    "reasons.%(ref)s: only a booked visit that is kept in place (confirmed, or a PK "
                    "visit on a fixed day) takes a reason to move."
                )
                % {"ref": ref},
                field=f"reasons.{ref}",
            )
    run = PlanRun.objects.create(
        site=site,
        monday=monday,
        kind=PlanKind.REPLAN,
        time_limit=time_limit,
        instance=instance,
        previous=previous,
        reasons=reasons,
        created_by=by,
    )
    audit_record(
        action="create",
        instance=run,
        changes={"kind": [None, "replan"], "monday": [None, str(monday)]},
        reason="; ".join(f"{k}: {v}" for k, v in sorted(reasons.items())),
        by=by,
    )
    transaction.on_commit(lambda: tasks.plan_run_dispatch(run.pk))
    return run


def _moves(run: PlanRun, inst: Any, solution: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What a re-plan changes, booking by booking, with why: the manager's reason, back to the
    target day, making room, left unplaced; and the requests it places for the first time."""
    labels = dict(
        CareRequest.objects.filter(
            pk__in=[int(v.id[1:]) for v in inst.visits if v.id[1:].isdigit()]
        ).values_list("pk", "label")
    )
    out: list[dict[str, Any]] = []

    def at(value: Any) -> dict[str, Any]:
        day, start = int(value[0]), int(value[1])
        return {"date": (run.monday + dt.timedelta(days=day)).isoformat(), "time": _hm(start)}

    for v in inst.visits:
        old, new = run.previous.get(v.id), solution.get(v.id)
        if old is None and new is None:
            continue
        if old is not None and new is not None and tuple(old) == tuple(new):
            continue
        if old is None:
            why = "new"
        elif new is None:
            why = "dropped"
        elif tuple(old)[:2] == tuple(new)[:2]:
            why = "prep"
        elif v.id in run.reasons:
            why = "reason"
        elif int(new[0]) == v.target_day and int(old[0]) != v.target_day:
            why = "target"
        else:
            why = "room"
        out.append(
            {
                "ref": v.id,
                "label": labels.get(int(v.id[1:]), v.id),
                "from": at(old) if old is not None else None,
                "to": at(new) if new is not None else None,
                "why": why,
                "reason": run.reasons.get(v.id, ""),
            }
        )
    order = {"reason": 0, "room": 1, "target": 2, "dropped": 3, "prep": 4, "new": 5}
    return sorted(out, key=lambda m: (order[m["why"]], m["ref"]))


def _replan_apply(run: PlanRun, *, by: User) -> list[Booking]:
    """Apply a finished re-plan: moved bookings change in place, new ones are made, dropped
    ones are released; each change is audited with its why. Refused (nothing changes) when the
    week's bookings changed since the re-plan started."""
    site, monday = run.site, run.monday
    week = week_requests(site, monday)
    locked = _requests_locked(week.requests)
    current = week_solution(site=site, monday=monday)
    if {k: list(v) for k, v in current.items()} != {k: list(v) for k, v in run.previous.items()}:
        raise ConflictError(
            gettext("The week's bookings changed since this re-plan started; re-plan again."),
            field="previous",
        )
    by_ref = {r.ref: r for r in locked}
    changes = list(run.moves)
    for m in changes:
        if m["ref"] not in by_ref:
            raise ConflictError(
                gettext("%(label)s was cancelled since this re-plan started; re-plan again.")
                % {"label": m["label"]},
                field="previous",
            )
    checker = PlacementChecker(site)
    touched = [by_ref[m["ref"]].pk for m in changes]
    others = checker.others(exclude=touched)
    out: list[Booking] = []
    for m in changes:
        req = by_ref[m["ref"]]
        why = m["reason"] or f"re-plan {run.pk}: {m['why']}"
        booking = Booking.objects.filter(request=req).first()
        if m["to"] is None:
            if booking is not None:
                _booking_set_status(booking, BookingStatus.RELEASED, by=by, reason=why)
            _request_set_status(req, RequestStatus.OPEN, by=by, reason=why)
            continue
        day, start, prep = (int(x) for x in run.solution[m["ref"]])
        place = _check_place(checker, req, monday, day, start, prep, None, others, m["ref"])
        others.append(place)
        old = (
            model_snapshot(booking, ["starts_at", "ends_at", "prep_starts_at", "status"])
            if booking is not None
            else {}
        )
        if booking is None:
            booking = Booking(request=req, site=site, booked_by=by)
        booking.starts_at, booking.ends_at = place.starts, place.ends
        booking.prep_starts_at = place.prep_starts
        booking.status, booking.status_reason = BookingStatus.ACTIVE, ""
        booking.save()
        _request_set_status(req, RequestStatus.BOOKED, by=by, reason=why)
        audit_record(
            action="update" if old else "create",
            instance=booking,
            changes=diff(
                old, model_snapshot(booking, ["starts_at", "ends_at", "prep_starts_at", "status"])
            ),
            reason=why,
            by=by,
        )
        out.append(booking)
    return out
