"""The one check of a booking's place: open day, the request's window, opening hours, pharmacy
hours, the resource's kind and the site's capacity. The plan save, the re-plan apply and the
admin's booking form all call :class:`PlacementChecker`; none has a copy of these rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext

from oncotrials.apps.accounts.models import Site
from oncotrials.core.errors import ValidationError

from .models import (
    Booking,
    BookingStatus,
    CareRequest,
    Closure,
    RequestStatus,
    Resource,
    ResourceKind,
    Unit,
)
from .selectors import (
    DAYS,
    SLOT_MINUTES,
    calendar_of,
    ceil_slots,
    local_start,
    monday_of,
    site_zone,
    slot_of,
)


@dataclass(frozen=True)
class Placed:
    """What a booking occupies: its unit's resource from ``starts`` to ``ends`` and, when it
    has a preparation, an isolator from ``prep_starts`` to ``prep_ends``."""

    unit: str
    resource_id: int | None
    starts: dt.datetime
    ends: dt.datetime
    prep_starts: dt.datetime | None = None
    prep_ends: dt.datetime | None = None


def placed_of(bookings: Iterable[Booking]) -> list[Placed]:
    out = []
    for b in bookings:
        prep_end = None
        if b.prep_starts_at is not None:
            prep_end = b.prep_starts_at + dt.timedelta(
                minutes=ceil_slots(b.request.prep_min) * SLOT_MINUTES
            )
        out.append(
            Placed(
                b.request.unit, b.resource_id, b.starts_at, b.ends_at, b.prep_starts_at, prep_end
            )
        )
    return out


def _peak(
    others: Sequence[tuple[dt.datetime, dt.datetime]], lo: dt.datetime, hi: dt.datetime
) -> int:
    """The most intervals of ``others`` in force at one instant of ``[lo, hi)``."""
    points = [lo, *(s for s, _ in others if lo < s < hi)]
    return max(sum(1 for s, e in others if s <= p < e) for p in points)


class PlacementChecker:
    """Checks places at one site (its calendar, closures and resources read once)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.calendar = calendar_of(site)
        self.closed = set(Closure.objects.filter(site=site).values_list("on", flat=True))
        self.resources = {r.pk: r for r in Resource.objects.filter(site=site, active=True)}
        self.capacity = {
            k: sum(1 for r in self.resources.values() if r.kind == k) for k in ResourceKind.values
        }

    def others(self, *, exclude: Iterable[int] = ()) -> list[Placed]:
        """The site's bookings in force, but for the requests ``exclude`` (being replaced)."""
        qs = (
            Booking.objects.filter(site=self.site, status=BookingStatus.ACTIVE)
            .exclude(request_id__in=list(exclude))
            .select_related("request")
        )
        return placed_of(qs)

    def check(
        self,
        *,
        request: CareRequest,
        starts_at: dt.datetime,
        prep_starts_at: dt.datetime | None,
        resource: Resource | None,
        others: Sequence[Placed],
    ) -> Placed:
        """The place the booking takes, or ValidationError naming the field at fault."""
        cal = self.calendar
        if request.site_id != self.site.pk:
            raise ValidationError(gettext("The request belongs to another site."), field="request")
        if request.status == RequestStatus.CANCELLED:
            raise ValidationError(
                gettext("%(request)s is cancelled; it cannot be booked.")
                % {"request": request.label},
                field="request",
            )
        zone = site_zone(self.site)
        local = starts_at.astimezone(zone)
        day = local.date()
        if day.weekday() >= DAYS or day in self.closed:
            raise ValidationError(
                gettext("%(day)s is not an open day of %(site)s.")
                % {"day": date_format(day, "l d F Y"), "site": self.site.code},
                field="starts_at",
            )
        if not request.earliest <= day <= request.latest:
            raise ValidationError(
                gettext("%(day)s lies outside the request's window %(earliest)s..%(latest)s.")
                % {"day": day, "earliest": request.earliest, "latest": request.latest},
                field="starts_at",
            )
        if local.minute % SLOT_MINUTES or local.second or local.microsecond:
            raise ValidationError(
                gettext("A booking starts on a %(slot_minutes)s-minute slot; got %(local)s.")
                % {"slot_minutes": SLOT_MINUTES, "local": format(local, "%H:%M:%S")},
                field="starts_at",
            )
        start = slot_of(local.time())
        dur = ceil_slots(request.duration_min)
        if request.unit == Unit.CHAIR:
            lo = slot_of(cal.chair_open) + ceil_slots(request.pre_min + request.prep_min)
            hi = slot_of(cal.chair_close) - dur
            what = _hours(lo, hi + dur)
        else:
            lo, hi = slot_of(cal.bed_admit_from), slot_of(cal.bed_admit_to)
            what = _hours(lo, hi)
            friday = monday_of(day) + dt.timedelta(days=DAYS - 1)
            if local_start(self.site, day, start + dur) > local_start(
                self.site, friday, slot_of(cal.ward_close)
            ):
                raise ValidationError(
                    gettext("The stay would end after the ward closes on Friday (%(ward_close)s).")
                    % {"ward_close": format(cal.ward_close, "%H:%M")},
                    field="starts_at",
                )
        if not lo <= start <= hi:
            raise ValidationError(
                gettext(
                    "The start %(local)s lies outside the opening hours of the %(unit)s for this request "
                    "(%(what)s)."
                )
                % {
                    "local": format(local, "%H:%M"),
                    "unit": request.get_unit_display().lower(),
                    "what": what,
                },
                field="starts_at",
            )
        ends_at = starts_at + dt.timedelta(minutes=dur * SLOT_MINUTES)
        prep_ends_at = None
        if request.prep_min > 0:
            if prep_starts_at is None:
                raise ValidationError(
                    gettext(
                        "%(request)s needs a pharmacy preparation of %(prep_min)s minutes: give its start."
                    )
                    % {"request": request.label, "prep_min": request.prep_min},
                    field="prep_starts_at",
                )
            p_local = prep_starts_at.astimezone(zone)
            p_slot = slot_of(p_local.time())
            ready = start + (ceil_slots(request.dose_at_min) if request.unit == Unit.BED else 0)
            p_lo = slot_of(cal.pharmacy_open) + ceil_slots(request.pre_min)
            p_end = min(ready, slot_of(cal.pharmacy_close))
            prep = ceil_slots(request.prep_min)
            if p_local.date() != day or not p_lo <= p_slot <= p_end - prep:
                raise ValidationError(
                    gettext(
                        "The preparation at %(p_local)s must start and end the same day within pharmacy "
                        "hours (%(pharmacy_open)s-%(pharmacy_close)s), after the assessment and before the "
                        "dose."
                    )
                    % {
                        "p_local": format(p_local, "%Y-%m-%d %H:%M"),
                        "pharmacy_open": format(cal.pharmacy_open, "%H:%M"),
                        "pharmacy_close": format(cal.pharmacy_close, "%H:%M"),
                    },
                    field="prep_starts_at",
                )
            prep_ends_at = prep_starts_at + dt.timedelta(minutes=prep * SLOT_MINUTES)
        elif prep_starts_at is not None:
            raise ValidationError(
                gettext("%(request)s needs no pharmacy preparation.") % {"request": request.label},
                field="prep_starts_at",
            )
        if resource is not None:
            if resource.pk not in self.resources or resource.kind != request.unit:
                raise ValidationError(
                    gettext("%(resource)s is not an active %(unit)s of %(site)s.")
                    % {
                        "resource": resource.code,
                        "unit": request.get_unit_display().lower(),
                        "site": self.site.code,
                    },
                    field="resource",
                )
            if any(
                o.resource_id == resource.pk and o.starts < ends_at and starts_at < o.ends
                for o in others
            ):
                raise ValidationError(
                    gettext("%(resource)s is already booked at that time.")
                    % {"resource": resource.code},
                    field="resource",
                )
        same = [(o.starts, o.ends) for o in others if o.unit == request.unit]
        cap = self.capacity[request.unit]
        if _peak(same, starts_at, ends_at) + 1 > cap:
            raise ValidationError(
                gettext(
                    "Every %(unit)s of %(site)s (%(cap)s) is taken at some time between %(local)s and "
                    "%(ends)s."
                )
                % {
                    "unit": request.get_unit_display().lower(),
                    "site": self.site.code,
                    "cap": cap,
                    "local": format(local, "%H:%M"),
                    "ends": format(ends_at.astimezone(zone), "%H:%M"),
                },
                field="starts_at",
            )
        if prep_starts_at is not None and prep_ends_at is not None:
            preps = [
                (o.prep_starts, o.prep_ends)
                for o in others
                if o.prep_starts is not None and o.prep_ends is not None
            ]
            iso = self.capacity[ResourceKind.ISOLATOR]
            if _peak(preps, prep_starts_at, prep_ends_at) + 1 > iso:
                raise ValidationError(
                    gettext(
                        "Every pharmacy isolator of %(site)s (%(iso)s) is taken during the preparation."
                    )
                    % {"site": self.site.code, "iso": iso},
                    field="prep_starts_at",
                )
        return Placed(
            request.unit,
            resource.pk if resource else None,
            starts_at,
            ends_at,
            prep_starts_at,
            prep_ends_at,
        )


def _hours(lo: int, hi: int) -> str:
    def hm(slot: int) -> str:
        minutes = slot * SLOT_MINUTES
        return f"{minutes // 60:02d}:{minutes % 60:02d}"

    return f"{hm(lo)}-{hm(hi)}"
