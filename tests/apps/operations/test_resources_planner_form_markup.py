"""The small forms of the resources page and of the week planner render with the shared
accessible fields: a refused submit comes back with status 422 on the same page, the error
summary linking each error to its field, the field marked ``aria-invalid`` with its error beside
it in plain words, what was typed kept and nothing saved; a saved one still redirects with its
message (PRG)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from form_markup import form_html as _form
from form_markup import refused as _refused
from oncotrials.apps.operations.models import (
    Booking,
    BookingStatus,
    CareRequest,
    Closure,
    NurseShift,
    PlanRun,
    Resource,
    UnitCalendar,
)

MONDAY = dt.date(2026, 11, 16)  # tests/apps/operations/conftest.py

REQUEST = {
    "action": "request",
    "label": "P-77 extra infusion",
    "unit": "chair",
    "earliest": "2026-11-16",
    "target": "2026-11-17",
    "latest": "2026-11-20",
    "duration_min": "120",
    "pre_min": "30",
    "prep_min": "0",
    "sample_offsets": "0 60",
    "weight": "1",
}


def _post(c: Any, site: Any, data: dict[str, Any]) -> Any:
    return c.post(f"/operations/resources/?site={site.pk}", {"site": site.pk, **data})


@pytest.mark.django_db
def test_a_resource_code_twice_is_refused_beside_the_code_with_the_input_kept(
    equipped: Any, client_for: Any
) -> None:
    site = equipped.main
    c = client_for("manager")
    r = _post(c, site, {"action": "resource", "kind": "bed", "code": "CH-01", "name": "Window"})
    assert r.status_code == 422
    html = r.content.decode()
    form = _form(html, "resource-form")
    _refused(form, "resource-code", kept='value="CH-01"')
    assert "main already has a resource CH-01." in form
    assert 'value="Window"' in form
    assert re.search(r'<option value="bed" selected>', form)
    # the other forms of the page start afresh, without an error
    assert 'aria-invalid="true"' not in _form(html, "shift-form")
    assert html.count('data-testid="error-summary"') == 1
    assert Resource.objects.filter(site=site, code="CH-01").get().kind == "chair"
    r = _post(c, site, {"action": "resource", "kind": "bed", "code": "BED-3", "name": "Window"})
    assert r.status_code == 302
    assert r["Location"] == f"/operations/resources/?site={site.pk}"
    assert "Resource added." in c.get(r["Location"]).content.decode()
    assert Resource.objects.get(site=site, code="BED-3").name == "Window"


@pytest.mark.django_db
def test_opening_hours_closing_before_opening_are_refused_in_plain_words(
    equipped: Any, client_for: Any
) -> None:
    site = equipped.main
    c = client_for("manager")
    page = _form(c.get(f"/operations/resources/?site={site.pk}").content.decode(), "calendar-form")
    assert 'value="08:00"' in page  # the hours in force are shown
    data = {
        "action": "calendar",
        "version": "0",
        "chair_open": "09:00",
        "chair_close": "08:30",
        "pharmacy_open": "07:30",
        "pharmacy_close": "18:00",
        "bed_admit_from": "14:00",
        "bed_admit_to": "18:00",
        "ward_day_sampling": "-2",
        "ward_night_sampling": "2",
    }
    r = _post(c, site, data)
    assert r.status_code == 422
    form = _form(r.content.decode(), "calendar-form")
    _refused(form, "calendar-chair_close", kept='value="08:30"')
    assert "Must come after “Day unit opens” (09:00)." in form
    assert "chair_close" not in re.sub(r'(id|for|name|href|aria-describedby)="[^"]*"', "", form)
    _refused(form, "calendar-ward_day_sampling", kept='value="-2"')
    assert 'value="09:00"' in form
    assert not UnitCalendar.objects.filter(site=site).exists()
    c.cookies["django_language"] = "fr"
    r = _post(c, site, data)
    form = _form(r.content.decode(), "calendar-form")
    assert "Doit venir après « Ouverture de l’hôpital de jour » (09:00)." in form
    del c.cookies["django_language"]
    r = _post(c, site, {**data, "chair_close": "18:00", "ward_day_sampling": "3"})
    assert r.status_code == 302
    calendar = UnitCalendar.objects.get(site=site)
    assert (calendar.chair_open, calendar.ward_day_sampling) == (dt.time(9), 3)
    # a change needs a reason, asked beside its own field
    r = _post(c, site, {**data, "version": "1", "chair_close": "17:00", "ward_day_sampling": "3"})
    assert r.status_code == 422
    _refused(_form(r.content.decode(), "calendar-form"), "calendar-reason", kept='value="17:00"')
    calendar.refresh_from_db()
    assert calendar.chair_close == dt.time(18)


@pytest.mark.django_db
def test_a_staffing_band_and_a_closure_keep_what_was_typed(equipped: Any, client_for: Any) -> None:
    site = equipped.main
    c = client_for("manager")
    shifts = NurseShift.objects.count()
    r = _post(c, site, {"action": "shift", "starts": "12:00", "ends": "11:00", "nurses": "2"})
    assert r.status_code == 422
    form = _form(r.content.decode(), "shift-form")
    _refused(form, "shift-ends", kept='value="12:00"')
    assert "Must come after “From” (12:00)." in form
    assert 'value="2"' in form
    # the service's refusal (an overlap) is beside the field it names
    r = _post(c, site, {"action": "shift", "starts": "10:00", "ends": "12:00", "nurses": "1"})
    assert r.status_code == 422
    _refused(_form(r.content.decode(), "shift-form"), "shift-starts", kept='value="12:00"')
    assert NurseShift.objects.count() == shifts
    r = _post(c, site, {"action": "closure", "on": "2026-13-40", "reason": "Easter Monday"})
    assert r.status_code == 422
    form = _form(r.content.decode(), "closure-form")
    _refused(form, "closure-on", kept='value="Easter Monday"')
    assert 'value="2026-13-40"' in form
    r = _post(c, site, {"action": "closure", "on": str(MONDAY + dt.timedelta(days=2))})
    form = _form(r.content.decode(), "closure-form")
    _refused(form, "closure-reason")
    assert Closure.objects.filter(site=site).count() == 1


@pytest.mark.django_db
def test_a_request_by_hand_marks_each_bad_field_and_opens_its_box(
    equipped: Any, client_for: Any
) -> None:
    site = equipped.main
    c = client_for("manager")
    bad = {**REQUEST, "target": "2026-11-27", "sample_offsets": "0, sixty", "weight": "11"}
    r = _post(c, site, bad)
    assert r.status_code == 422
    html = r.content.decode()
    assert re.search(r"<details open><summary>Add a request by hand", html)
    form = _form(html, "request-form")
    _refused(form, "request-target", kept='value="P-77 extra infusion"')
    assert "The target day must lie between the earliest and the latest day." in form
    _refused(form, "request-sample_offsets", kept='value="0, sixty"')
    assert "got “sixty”" in form
    _refused(form, "request-weight", kept='value="11"')
    r = _post(c, site, {**REQUEST, "sample_offsets": "0 60 150"})
    form = _form(r.content.decode(), "request-form")
    _refused(form, "request-sample_offsets", kept='value="0 60 150"')
    assert "each before 120 minutes" in form
    _refused(
        _form(_post(c, site, {"action": "generate"}).content.decode(), "generate-form"),
        "generate-week",
    )
    assert not CareRequest.objects.exists()
    r = _post(c, site, REQUEST)
    assert r.status_code == 302
    req = CareRequest.objects.get()
    assert (req.label, req.sample_offsets, req.pre_min) == ("P-77 extra infusion", [0, 60], 30)


@pytest.mark.django_db
def test_an_unknown_action_and_a_reader_are_refused_without_a_form(
    equipped: Any, client_for: Any
) -> None:
    site = equipped.main
    assert _post(client_for("manager"), site, {"action": "nothing"}).status_code == 400
    assert (
        _post(client_for("nurse"), site, {"action": "resource", "kind": "bed", "code": "X"})
    ).status_code == 403
    assert not Resource.objects.filter(code="X").exists()


# --- the week planner --------------------------------------------------------------------------


def _planner(c: Any, site: Any, data: dict[str, Any]) -> Any:
    return c.post(
        f"/operations/planner/?site={site.pk}&week={MONDAY}",
        {"site": site.pk, "week": MONDAY.isoformat(), **data},
    )


@pytest.mark.django_db
def test_the_planner_refuses_a_request_and_a_time_limit_beside_their_fields(
    equipped: Any, client_for: Any
) -> None:
    site = equipped.main
    c = client_for("manager")
    r = _planner(c, site, {**REQUEST, "duration_min": "", "unit": "sofa"})
    assert r.status_code == 422
    form = _form(r.content.decode(), "add-request-form")
    _refused(form, "request-duration_min", kept='value="P-77 extra infusion"')
    _refused(form, "request-unit")
    assert "sofa" in form  # Django's own words: "Select a valid choice. sofa is not one of…"
    assert not CareRequest.objects.exists()
    r = _planner(c, site, {"action": "plan", "time_limit": "0"})
    assert r.status_code == 422
    _refused(_form(r.content.decode(), "solve-form"), "plan-time_limit", kept='value="0"')
    # a refusal that names no field of the form (an empty week) is said in the summary
    r = _planner(c, site, {"action": "plan", "time_limit": "5"})
    assert r.status_code == 422
    form = _form(r.content.decode(), "solve-form")
    assert 'data-testid="error-summary"' in form
    assert "No request to plan in the week of 2026-11-16" in form
    assert 'value="5"' in form
    assert not PlanRun.objects.exists()
    r = _planner(c, site, REQUEST)
    assert r.status_code == 302
    assert r["Location"] == f"/operations/planner/?site={site.pk}&week={MONDAY}"
    assert "Request P-77 extra infusion added." in c.get(r["Location"]).content.decode()


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_booking_without_reason_marks_its_own_row(
    equipped: Any, manager: Any, client_for: Any, monkeypatch: Any
) -> None:
    from oncotrials.apps.operations import tasks
    from oncotrials.apps.operations.services import (
        care_request_create,
        plan_run_execute,
        plan_run_save,
        plan_run_start,
    )

    monkeypatch.setattr(tasks, "plan_run_dispatch", lambda run_id: None)
    site = equipped.main
    for i in range(2):
        care_request_create(
            site=site,
            data={**REQUEST, "label": f"P-0{i} C2D1", "sample_offsets": []},
            by=manager,
        )
    run = plan_run_start(site=site, monday=MONDAY, time_limit=1, by=manager)
    plan_run_save(run=plan_run_execute(run_id=run.pk, deterministic=True), by=manager)
    first, second = Booking.objects.order_by("pk")
    c = client_for("manager")
    # saving the same plan again is said on the plan's page, not after a redirect
    again = c.post(f"/operations/planner/runs/{run.pk}/save/")
    assert again.status_code == 409
    assert re.search(
        r'<p class="field-error" role="alert" data-testid="save-error">Nothing was saved: '
        r"This plan(&#x27;|')s status is “bookings saved”; only a finished plan",
        again.content.decode(),
    )
    assert Booking.objects.count() == 2
    r = _planner(c, site, {"action": "cancel", "booking": first.pk, "reason": "  "})
    assert r.status_code == 422
    html = r.content.decode()
    row = html[html.index(f'data-testid="booking-{first.request.ref}"') :]
    row = row[: row.index("</tr>")]
    _refused(row, f"cancel-{first.pk}-reason")
    assert f'aria-label="Reason for cancelling ({first.request.label})"' in row
    other = html[html.index(f'data-testid="booking-{second.request.ref}"') :]
    assert 'aria-invalid="true"' not in other[: other.index("</tr>")]
    first.refresh_from_db()
    assert first.status == BookingStatus.ACTIVE
    r = _planner(c, site, {"action": "cancel", "booking": first.pk, "reason": "Declined"})
    assert r.status_code == 302
    first.refresh_from_db()
    assert first.status == BookingStatus.CANCELLED
