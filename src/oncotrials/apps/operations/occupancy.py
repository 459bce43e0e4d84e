"""Occupancy of a site's week from its bookings: utilisation per unit and day, the Gantt lanes,
the nurse load curve, and for each request left unscheduled, the resource that blocks it.

Profiles follow the ONC-WEEK semantics (5-minute slots; a chair visit uses one quarter-nurse
unit for its duration, three more during set-up and at each sample; a preparation holds one
isolator): the same rules the scheduler and its validator use, rebuilt here from the stored
bookings."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oncotrials.apps.accounts.models import Actor, Site

from .models import Booking, CareRequest, RequestStatus, Unit
from .selectors import (
    DAYS,
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    calendar_of,
    ceil_slots,
    site_zone,
    slot_of,
    week_bookings,
    week_instance,
    week_requests,
)


@dataclass
class DayUse:
    day: dt.date
    chair_hours: float = 0.0
    chair_available: float = 0.0
    bed_hours: float = 0.0
    bed_available: float = 0.0

    @property
    def chair_share(self) -> float | None:
        return self.chair_hours / self.chair_available if self.chair_available else None

    @property
    def bed_share(self) -> float | None:
        return self.bed_hours / self.bed_available if self.bed_available else None


@dataclass
class WeekOccupancy:
    site: Site
    monday: dt.date
    instance: dict[str, Any]
    bookings: list[Booking]
    days: list[DayUse]
    unscheduled: list[tuple[CareRequest, str]] = field(default_factory=list)
    chair: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per global slot
    nurse: np.ndarray = field(default_factory=lambda: np.zeros(0))
    nurse_capacity: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bed: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pharmacy: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def lanes(self, day: int) -> list[tuple[str, list[tuple[float, float, str, str]]]]:
        """Gantt rows of a day: one per resource booked, then lanes for bookings without a
        resource (first free lane)."""
        zone = site_zone(self.site)
        date = self.monday + dt.timedelta(days=day)
        named: dict[str, list[tuple[float, float, str, str]]] = {}
        free: list[list[tuple[float, float, str, str]]] = []
        for b in self.bookings:
            s, e = b.starts_at.astimezone(zone), b.ends_at.astimezone(zone)
            if s.date() > date or e.date() < date:
                continue
            start = 0.0 if s.date() < date else s.hour + s.minute / 60
            end = 24.0 if e.date() > date else e.hour + e.minute / 60
            bar = (start, end, b.request.label, b.request.unit)
            if b.resource is not None:
                named.setdefault(b.resource.code, []).append(bar)
                continue
            for lane in free:
                if all(end <= x[0] or start >= x[1] for x in lane):
                    lane.append(bar)
                    break
            else:
                free.append([bar])
        rows = sorted(named.items())
        rows += [(f"#{i + 1}", lane) for i, lane in enumerate(free)]
        return rows


def week_occupancy(*, user: Actor, site: Site, monday: dt.date) -> WeekOccupancy:
    inst = week_instance(site=site, monday=monday)
    bookings = week_bookings(user=user, site=site, monday=monday)
    cal = calendar_of(site)
    n = DAYS * SLOTS_PER_DAY
    chair, nurse, bed, pharm = (np.zeros(n) for _ in range(4))
    cap = np.zeros(n)
    week = week_requests(site, monday)
    for d in week.open_days:  # a closed day has no nurse on duty in the day unit
        for lo, hi, nurses in inst["nurse_profile"]:
            cap[d * SLOTS_PER_DAY + lo : d * SLOTS_PER_DAY + hi] = 4 * nurses
    zone = site_zone(site)
    start_of_week = dt.datetime.combine(monday, dt.time(0), tzinfo=zone)

    def slot(t: dt.datetime) -> int:
        return int((t - start_of_week).total_seconds() // (SLOT_MINUTES * 60))

    use = {d: DayUse(monday + dt.timedelta(days=d)) for d in range(DAYS)}
    open_h = (slot_of(cal.chair_close) - slot_of(cal.chair_open)) * SLOT_MINUTES / 60
    for d in range(DAYS):
        # The day unit closes on a closure; the ward keeps its patients.
        use[d].chair_available = inst["chairs"] * open_h if d in week.open_days else 0.0
        use[d].bed_available = inst["beds"] * 24.0
    for b in bookings:
        r = b.request
        s, e = max(slot(b.starts_at), 0), min(slot(b.ends_at), n)
        if s >= n or e <= 0:
            continue
        if r.unit == Unit.CHAIR:
            chair[s:e] += 1
            nurse[s:e] += 1
            nurse[s : s + ceil_slots(r.setup_min)] += 3
            for o in r.sample_offsets:
                if s + o // SLOT_MINUTES < n:
                    nurse[s + o // SLOT_MINUTES] += 3
        else:
            bed[s:e] += 1
        if b.prep_starts_at is not None:
            p = slot(b.prep_starts_at)
            pharm[p : p + ceil_slots(r.prep_min)] += 1
        for d in range(DAYS):
            lo, hi = d * SLOTS_PER_DAY, (d + 1) * SLOTS_PER_DAY
            overlap = max(0, min(e, hi) - max(s, lo)) * SLOT_MINUTES / 60
            if r.unit == Unit.CHAIR:
                use[d].chair_hours += overlap
            else:
                use[d].bed_hours += overlap
    occ = WeekOccupancy(
        site,
        monday,
        inst,
        bookings,
        [use[d] for d in range(DAYS)],
        chair=chair,
        nurse=nurse,
        nurse_capacity=cap,
        bed=bed,
        pharmacy=pharm,
    )
    booked = {b.request_id for b in bookings}
    for r in week.requests:
        if r.pk in booked or r.status == RequestStatus.CANCELLED:
            continue
        occ.unscheduled.append((r, blocking_resource(occ, r, week.open_days)))
    return occ


def blocking_resource(occ: WeekOccupancy, r: CareRequest, open_days: tuple[int, ...]) -> str:
    """The resource that most often stops the request at the starts its window allows, given
    the bookings (chairs, nurses, pharmacy isolators, beds), or why it has no start at all."""
    inst = occ.instance
    days = [d for d in open_days if r.earliest <= occ.monday + dt.timedelta(days=d) <= r.latest]
    if not days:
        return "no open day in the window"
    dur = ceil_slots(r.duration_min)
    blocked: Counter[str] = Counter()
    starts = 0
    for d in days:
        base = d * SLOTS_PER_DAY
        if r.unit == Unit.CHAIR:
            lo = inst["chair_open"] + ceil_slots(r.pre_min + r.prep_min)
            hi = inst["chair_close"] - dur
        else:
            lo, hi = inst["bed_admit_window"]
        for s in range(lo, hi + 1):
            g = base + s
            starts += 1
            if r.unit == Unit.CHAIR:
                if np.any(occ.chair[g : g + dur] + 1 > inst["chairs"]):
                    blocked["chairs"] += 1
                    continue
                need = np.zeros(dur)
                need += 1
                need[: ceil_slots(r.setup_min)] += 3
                for o in r.sample_offsets:
                    if o // SLOT_MINUTES < dur:
                        need[o // SLOT_MINUTES] += 3
                if np.any(occ.nurse[g : g + dur] + need > occ.nurse_capacity[g : g + dur]):
                    blocked["nurses"] += 1
                    continue
            else:
                end = min(g + dur, len(occ.bed))
                if g + dur > inst["bed_to"] or np.any(occ.bed[g:end] + 1 > inst["beds"]):
                    blocked["beds"] += 1
                    continue
            if r.prep_min:
                p = ceil_slots(r.prep_min)
                ready = g if r.unit == Unit.CHAIR else g + ceil_slots(r.dose_at_min)
                p_lo = base + inst["pharmacy_open"] + ceil_slots(r.pre_min)
                p_hi = min(ready, base + inst["pharmacy_close"]) - p
                if p_hi < p_lo or all(
                    np.any(occ.pharmacy[q : q + p] + 1 > inst["pharmacy_capacity"])
                    for q in range(p_lo, p_hi + 1)
                ):
                    blocked["pharmacy isolators"] += 1
                    continue
            return "none: a start is free (not yet planned)"
    if not starts:
        return "opening hours too short"
    return blocked.most_common(1)[0][0]
