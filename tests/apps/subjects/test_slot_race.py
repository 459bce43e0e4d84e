"""Two users book the last slot at the same moment: exactly one wins, the other is told."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections

from oncotrials.apps.subjects.models import SlotBooking
from oncotrials.apps.subjects.services import patient_create, slot_allocate, slot_book
from oncotrials.core.errors import ConflictError


@pytest.mark.django_db(transaction=True)
def test_last_slot_goes_to_exactly_one_of_two_simultaneous_bookings(journey):
    nurse, investigator = journey.unit.users["nurse"], journey.unit.users["investigator"]
    slot_allocate(
        cohort=journey.cohort,
        site=journey.unit.main,
        slots=1,
        open_from=dt.date(2026, 11, 1),
        by=journey.unit.users["admin"],
    )
    other = patient_create(
        site=journey.unit.main,
        by=nurse,
        family_name="B",
        given_name="B",
        birth_date=dt.date(1950, 1, 1),
        hospital_number="H-2",
        sex="M",
        referral_source="department",
        referral_date=dt.date(2026, 11, 1),
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def book(patient, user):
        try:
            barrier.wait()
            slot_book(patient=patient, cohort=journey.cohort, by=user, on=dt.date(2026, 11, 5))
            outcomes.append("booked")
        except ConflictError as exc:
            outcomes.append(f"conflict: {exc.message}")
        finally:
            close_old_connections()

    threads = [
        threading.Thread(target=book, args=(journey.patient, nurse)),
        threading.Thread(target=book, args=(other, investigator)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.split(":")[0] for o in outcomes) == ["booked", "conflict"]
    assert any("No free slot" in o for o in outcomes)
    assert SlotBooking.objects.exclude(status="released").count() == 1
