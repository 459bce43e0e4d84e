"""The slots and waitlist panel of the trial page: allocations, holds, the waitlist in order."""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrials.apps.accounts.models import Role
from oncotrials.apps.accounts.services import membership_grant
from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.subjects.models import SlotAllocation, SlotBooking, WaitlistEntry
from oncotrials.apps.subjects.services import slot_allocate, waitlist_add


def _url(trial) -> str:
    return f"/trials/{trial.pk}/slots/"


def _alloc(j, slots=1, site=None):
    return slot_allocate(
        cohort=j.cohort,
        site=site or j.unit.main,
        slots=slots,
        open_from=dt.date(2026, 11, 1),
        by=j.unit.users["admin"],
    )


def test_an_allocation_is_added_listed_and_audited(journey, client_for):
    j = journey
    trial = j.cohort.trial
    client = client_for("datamanager")
    r = client.get(_url(trial), HTTP_HX_REQUEST="true")
    assert "No slot allocation yet." in r.content.decode()
    assert [s.code for s in r.context["alloc_form"].fields["site"].queryset] == ["main"]
    data = {
        "action": "allocate",
        "alloc-site": j.unit.main.pk,
        "alloc-cohort": j.cohort.pk,
        "alloc-dose_level": j.dose_level.pk,
        "alloc-slots": "3",
        "alloc-open_from": "2026-11-01",
        "alloc-open_until": "2026-12-31",
    }
    r = client.post(_url(trial), data, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    alloc = SlotAllocation.objects.get(cohort=j.cohort)
    assert (alloc.slots, alloc.open_until, alloc.dose_level) == (
        3,
        dt.date(2026, 12, 31),
        j.dose_level,
    )
    (row,) = r.context["slots"]
    assert (row["held"], row["used"], row["free"]) == (0, 0, 3)
    assert 'data-testid="slot-allocation"' in r.content.decode()
    (event,) = AuditEvent.objects.filter(
        object_type="subjects.slotallocation", object_id=str(alloc.pk)
    )
    assert (event.action, event.actor_username) == ("create", "datamanager")


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx-partial"])
def test_an_invalid_allocation_keeps_the_input_and_shows_the_errors(journey, client_for, htmx):
    """With htmx too the refusal answers 422 (htmx swaps it into the panel like a 200)."""
    j = journey
    data = {
        "action": "allocate",
        "alloc-site": j.unit.partner.pk,  # not a site where the data manager may edit
        "alloc-cohort": j.cohort.pk,
        "alloc-slots": "0",
        "alloc-open_from": "2026-11-10",
        "alloc-open_until": "2026-11-01",
    }
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    r = client_for("datamanager").post(_url(j.cohort.trial), data, **headers)
    assert r.status_code == 422
    assert set(r.context["alloc_form"].errors) == {"site", "slots", "open_until"}
    page = r.content.decode()
    assert 'value="2026-11-10"' in page
    assert "The end cannot be before the start." in page
    assert ("<html" not in page) is htmx  # the panel's fragment, not a page
    assert not SlotAllocation.objects.exists()


def test_under_htmx_a_refused_waitlist_step_answers_409_or_422_in_the_panel(
    journey, client_for, unit
):
    """A step the trial's state refuses (already waiting, already confirmed) answers 409, a
    release without its reason 422; each in the panel's fragment, nothing written."""
    j = journey
    trial = j.cohort.trial
    entry = waitlist_add(patient=j.patient, cohort=j.cohort, by=unit.users["nurse"])
    nurse = client_for("nurse")
    data = {
        "action": "waitlist",
        "wait-research_id": j.patient.research_id,
        "wait-cohort": j.cohort.pk,
    }
    r = nurse.post(_url(trial), data, HTTP_HX_REQUEST="true")
    assert r.status_code == 409
    page = r.content.decode()
    assert "already on the waitlist" in page
    assert f'value="{j.patient.research_id}"' in page
    assert "<html" not in page
    assert list(WaitlistEntry.objects.all()) == [entry]
    _alloc(j, slots=1)
    assert nurse.post(_url(trial), {"action": "offer", "entry": entry.pk}).status_code == 302
    booking = SlotBooking.objects.get()
    r = nurse.post(
        _url(trial),
        {"action": "release", "booking": booking.pk, "reason": " "},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 422
    assert "Say why the slot is released." in r.content.decode()
    assert SlotBooking.objects.get().status == "held"
    investigator = client_for("investigator")
    confirm = {"action": "confirm", "booking": booking.pk}
    assert investigator.post(_url(trial), confirm, HTTP_HX_REQUEST="true").status_code == 200
    confirmed_at = SlotBooking.objects.get().confirmed_at
    r = investigator.post(_url(trial), confirm, HTTP_HX_REQUEST="true")
    assert r.status_code == 409
    assert "already confirmed" in r.content.decode()
    assert SlotBooking.objects.get().confirmed_at == confirmed_at


def test_allocations_need_the_right_and_the_trial_in_sight(journey, client_for):
    j = journey
    trial = j.cohort.trial
    data = {
        "action": "allocate",
        "alloc-site": j.unit.main.pk,
        "alloc-cohort": j.cohort.pk,
        "alloc-slots": "2",
        "alloc-open_from": "2026-11-01",
    }
    nurse = client_for("nurse")
    r = nurse.get(_url(trial), HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert 'data-testid="allocation-form"' not in r.content.decode()
    assert nurse.post(_url(trial), data).status_code == 403
    assert client_for("outsider").post(_url(trial), data).status_code == 404
    assert client_for("monitor").get(_url(trial)).status_code == 404
    assert not SlotAllocation.objects.exists()


def test_the_waitlist_add_offer_release_and_promote_in_order(journey, client_for, unit):
    j = journey
    trial = j.cohort.trial
    from oncotrials.apps.subjects.services import patient_create

    second = patient_create(
        site=unit.main,
        by=unit.users["nurse"],
        family_name="Petit",
        given_name="Anne",
        birth_date=dt.date(1965, 3, 3),
        hospital_number="H-0002",
        sex="F",
        referral_source="tumour_board",
        referral_date=dt.date(2026, 10, 3),
    )
    client = client_for("nurse")
    r = client.post(
        _url(trial),
        {
            "action": "waitlist",
            "wait-research_id": j.patient.research_id,
            "wait-cohort": j.cohort.pk,
        },
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200
    entry = WaitlistEntry.objects.get(patient=j.patient, active=True)
    assert AuditEvent.objects.filter(
        object_type="subjects.waitlistentry", object_id=str(entry.pk), action="create"
    ).exists()
    waitlist_add(patient=second, cohort=j.cohort, by=unit.users["nurse"])
    # a duplicate is refused and the input kept
    r = client.post(
        _url(trial),
        {
            "action": "waitlist",
            "wait-research_id": j.patient.research_id,
            "wait-cohort": j.cohort.pk,
        },
    )
    assert "already on the waitlist" in r.context["wait_form"].non_field_errors()[0]
    assert f'value="{j.patient.research_id}"' in r.content.decode()
    # no slot yet: promotion places nobody
    r = client.post(
        _url(trial), {"action": "promote", "cohort": j.cohort.pk}, HTTP_HX_REQUEST="true"
    )
    assert "No waiting patient could take a free slot." in r.content.decode()
    _alloc(j, slots=1)
    r = client.post(
        _url(trial), {"action": "promote", "cohort": j.cohort.pk}, HTTP_HX_REQUEST="true"
    )
    booking = SlotBooking.objects.get()
    assert booking.patient == j.patient  # first come, first served
    assert not WaitlistEntry.objects.get(pk=entry.pk).active
    assert 'data-testid="held-slot"' in r.content.decode()
    # release needs a reason, then the slot is free again and can be offered to the next one
    r = client.post(_url(trial), {"action": "release", "booking": booking.pk, "reason": ""})
    assert r.status_code == 422
    assert "Say why" in r.context["error"]
    r = client.post(_url(trial), {"action": "release", "booking": booking.pk, "reason": "declined"})
    assert r.status_code == 302
    assert SlotBooking.objects.get(pk=booking.pk).status == "released"
    assert AuditEvent.objects.filter(
        object_type="subjects.slotbooking", object_id=str(booking.pk), action="release"
    ).exists()
    next_entry = WaitlistEntry.objects.get(patient=second, active=True)
    r = client.post(_url(trial), {"action": "offer", "entry": next_entry.pk})
    assert r.status_code == 302
    assert SlotBooking.objects.get(status="held").patient == second


def test_the_waitlist_needs_the_right_and_the_patient_in_sight(journey, client_for, unit):
    j = journey
    trial = j.cohort.trial
    membership_grant(
        user=unit.users["monitor"], role=Role.SPONSOR_MONITOR, site=unit.main, trial=trial
    )
    data = {
        "action": "waitlist",
        "wait-research_id": j.patient.research_id,
        "wait-cohort": j.cohort.pk,
    }
    assert client_for("monitor").post(_url(trial), data).status_code == 403
    # the partner investigator sees the shared trial but not the main site's patient
    r = client_for("partner_investigator").post(_url(trial), data)
    assert r.status_code == 422
    assert "research_id" in r.context["wait_form"].errors
    assert not WaitlistEntry.objects.exists()
    entry = waitlist_add(patient=j.patient, cohort=j.cohort, by=unit.users["nurse"])
    r = client_for("partner_investigator").post(_url(trial), {"action": "offer", "entry": entry.pk})
    assert r.status_code == 404
    page = client_for("partner_investigator").get(_url(trial)).content.decode()
    assert j.patient.research_id not in page


def test_an_offered_slot_is_confirmed_by_the_investigator_and_audited(journey, client_for, unit):
    j = journey
    trial = j.cohort.trial
    _alloc(j, slots=1)
    entry = waitlist_add(patient=j.patient, cohort=j.cohort, by=unit.users["nurse"])
    nurse = client_for("nurse")
    assert nurse.post(_url(trial), {"action": "offer", "entry": entry.pk}).status_code == 302
    booking = SlotBooking.objects.get(status="held")
    page = nurse.get(_url(trial), HTTP_HX_REQUEST="true").content.decode()
    assert (
        "Offered, awaiting the investigator’s confirmation" in page
        or "awaiting the investigator" in page
    )
    assert 'data-testid="confirm-slot"' not in page  # the nurse may not confirm
    # the nurse's confirmation is refused, nothing written
    assert nurse.post(_url(trial), {"action": "confirm", "booking": booking.pk}).status_code == 403
    assert SlotBooking.objects.get(pk=booking.pk).confirmed_at is None
    investigator = client_for("investigator")
    assert 'data-testid="confirm-slot"' in investigator.get(_url(trial)).content.decode()
    r = investigator.post(
        _url(trial), {"action": "confirm", "booking": booking.pk}, HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200
    assert "is confirmed" in r.context["message"]
    booking.refresh_from_db()
    assert booking.status == "held"
    assert booking.confirmed_by == unit.users["investigator"]
    assert "Confirmed by investigator on" in r.content.decode()
    (event,) = AuditEvent.objects.filter(
        object_type="subjects.slotbooking", object_id=str(booking.pk), action="confirm"
    )
    assert event.actor_username == "investigator"
    # a second confirmation is refused with the reason
    r = investigator.post(_url(trial), {"action": "confirm", "booking": booking.pk})
    assert "already confirmed" in r.context["error"]
    # a released slot cannot be confirmed
    investigator.post(_url(trial), {"action": "release", "booking": booking.pk, "reason": "no"})
    r = investigator.post(_url(trial), {"action": "confirm", "booking": booking.pk})
    assert "Only a held slot can be confirmed" in r.context["error"]
    # the trial page shows the panel with the confirmation control
    assert (
        client_for("partner_investigator")
        .post(_url(trial), {"action": "confirm", "booking": booking.pk})
        .status_code
        == 404
    )
