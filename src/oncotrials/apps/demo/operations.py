"""The demo unit's operations: chairs, beds, rooms and isolators at both sites, opening hours,
nurse staffing, public holidays, a unit manager, an accrual plan with other centres (one still to
open) for the first trial, and this week's care requests from the visit calendars, booked by the first fit."""

from __future__ import annotations

import datetime as dt

from oncotrials.apps.accounts.models import Role, Site, User
from oncotrials.apps.accounts.services import membership_grant, user_create
from oncotrials.apps.operations.selectors import monday_of, week_instance
from oncotrials.apps.operations.services import (
    accrual_plan_save,
    bookings_save,
    care_requests_generate,
    closure_add,
    nurse_shift_add,
    resource_save,
    unit_calendar_save,
)
from oncotrials.apps.trials.models import Trial
from oncotrials.core.scheduling import first_fit, load_instance

# site code -> chairs, beds, rooms, isolators; nurse bands (from, to, nurses)
_EQUIPMENT = {
    "main": (17, 11, 6, 4, [("08:00", "10:00", 7), ("10:00", "16:00", 9), ("16:00", "19:00", 5)]),
    "partner": (6, 2, 2, 1, [("08:00", "13:00", 3), ("13:00", "18:00", 2)]),
}
# French public holidays on weekdays (a unit closes on them)
_HOLIDAYS = [
    ("01-01", "New Year's Day"),
    ("05-01", "Labour Day"),
    ("05-08", "Victory in Europe Day"),
    ("07-14", "Bastille Day"),
    ("08-15", "Assumption"),
    ("11-01", "All Saints' Day"),
    ("11-11", "Armistice Day"),
    ("12-25", "Christmas Day"),
]


def demo_operations_load(
    *, main: Site, partner: Site, admin: User, password_hash: str, today: dt.date
) -> tuple[str, str]:
    """Load the operations data; returns the unit manager's (username, site code)."""
    manager = user_create(
        username="manager", password_hash=password_hash, first_name="Manon", last_name="Manager"
    )
    membership_grant(user=manager, role=Role.UNIT_MANAGER, site=main)
    membership_grant(user=manager, role=Role.UNIT_MANAGER, site=partner)
    for site in (main, partner):
        chairs, beds, rooms, isolators, bands = _EQUIPMENT[site.code]
        for kind, n, prefix in (
            ("chair", chairs, "CH"),
            ("bed", beds, "BED"),
            ("room", rooms, "ROOM"),
            ("isolator", isolators, "ISO"),
        ):
            for i in range(n):
                resource_save(site=site, kind=kind, code=f"{prefix}-{i + 1:02d}", by=manager)
        close = "19:00" if site.code == "main" else "18:00"
        unit_calendar_save(
            site=site,
            data={"chair_open": "08:00", "chair_close": close, "pharmacy_close": "17:00"},
            version=0,
            by=manager,
        )
        for start, end, nurses in bands:
            nurse_shift_add(site=site, starts=start, ends=end, nurses=nurses, by=manager)
        for year in (today.year, today.year + 1):
            for md, name in _HOLIDAYS:
                day = dt.date.fromisoformat(f"{year}-{md}")
                if day.weekday() < 5:
                    closure_add(site=site, on=day, reason=name, by=manager)
    first = Trial.objects.order_by("pk").first()
    if first is not None:
        accrual_plan_save(
            trial=first,
            cohort=None,
            target=60,
            starts_on=today - dt.timedelta(days=540),
            duration_months=30,
            certainty=0.5,
            external_centres=[
                {
                    "name": "Centre Léon Bérard",
                    "opens_on": str(today - dt.timedelta(days=400)),
                    "recruited": 7,
                },
                {
                    "name": "Institut Bergonié",
                    "opens_on": str(today - dt.timedelta(days=300)),
                    "recruited": 5,
                },
                {
                    "name": "Institut Curie",
                    "opens_on": str(today - dt.timedelta(days=200)),
                    "recruited": 3,
                },
                {
                    "name": "Oscar Lambret",
                    "opens_on": str(today + dt.timedelta(days=45)),
                    "recruited": 0,
                },
            ],
            by=admin,
        )
    monday = monday_of(today)
    care_requests_generate(site=main, monday=monday, by=manager)
    # This week's plan: the deterministic first fit (the planner page improves on it).
    plan = first_fit(load_instance(week_instance(site=main, monday=monday)))
    bookings_save(site=main, monday=monday, solution=plan, by=manager)
    return manager.username, main.code
