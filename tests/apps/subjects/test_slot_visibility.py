"""Slot allocations and bookings are seen under the rule of their site and trial.

An allocation belongs to its site and its cohort's trial; a booking to its patient's site and
that trial. A partner-site investigator of a shared trial never sees the main site's
allocations (nor their counts of slots held and used); a member limited to trial A sees a
patient of trial A, never that patient's slot in another trial.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.apps.operations.analytics import activity_for
from oncotrials.apps.subjects.selectors import patients_visible_to
from oncotrials.apps.subjects.services import (
    screening_start,
    slot_allocate,
    slot_book,
    slot_confirm,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(journey: Any) -> Any:
    """Patient of the main site: pre-screened in T-MAIN (the monitor's trial), holding a confirmed
    slot of T-SHARED at the main site (the allocation is valid for two weeks more)."""
    j = journey
    admin = j.unit.users["admin"]
    screening_start(
        patient=j.patient,
        trial=j.unit.trial_main,
        kind="pre_screening",
        started_on=dt.date(2026, 11, 2),
        by=admin,
    )
    slot_allocate(
        cohort=j.cohort,
        site=j.unit.main,
        slots=2,
        open_from=dt.date(2026, 11, 1),
        open_until=dt.date(2026, 11, 30),
        by=admin,
    )
    booking = slot_book(patient=j.patient, cohort=j.cohort, by=admin)
    return slot_confirm(booking=booking, by=j.unit.users["investigator"])


def _sites(rows: Any) -> set[str]:
    return {row["allocation"].site.code for row in rows}


def test_a_partner_investigator_sees_no_allocation_of_the_main_site(
    held: Any, journey: Any, client_for: Any
) -> None:
    trial = journey.cohort.trial
    c = client_for("partner_investigator")
    for url in (f"/trials/{trial.pk}/patients/", f"/trials/{trial.pk}/slots/"):
        r = c.get(url, HTTP_HX_REQUEST="true")
        assert r.status_code == 200, url
        assert _sites(r.context["slots"]) == set(), url
    worklist = c.get("/worklists/")
    assert worklist.status_code == 200
    assert _sites(worklist.context["expiring"]) == set()
    # The main site's own staff see it, on the same pages.
    main = client_for("investigator")
    r = main.get(f"/trials/{trial.pk}/patients/", HTTP_HX_REQUEST="true")
    assert _sites(r.context["slots"]) == {"main"}
    assert _sites(main.get("/worklists/").context["expiring"]) == {"main"}


def test_a_monitor_of_trial_a_never_counts_a_patients_slot_in_another_trial(
    held: Any, journey: Any
) -> None:
    users = journey.unit.users
    year = held.booked_at.year
    monitor = activity_for(user=users["monitor"], year=year)
    assert monitor.slot_turnaround.n == 0
    # The patient is in the monitor's sight (pre-screened in T-MAIN); the slot is counted for
    # the site's staff.
    assert list(patients_visible_to(users["monitor"])) == [journey.patient]
    assert activity_for(user=users["investigator"], year=year).slot_turnaround.n == 1
