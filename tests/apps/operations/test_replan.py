"""Re-planning the rest of a week: a cancelled booking stays (as a state), an added request is
placed, the re-plan moves no more bookings than a fresh plan would, a PK visit on its fixed day
stays unless the manager gives a reason, and the applied week passes the independent
validator. The planner page offers it to the site's unit manager only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.operations import tasks
from oncotrials.apps.operations.models import Booking, BookingStatus, PlanRun, PlanStatus
from oncotrials.apps.operations.selectors import week_instance, week_solution
from oncotrials.apps.operations.services import (
    booking_cancel,
    care_request_create,
    plan_run_execute,
    plan_run_save,
    plan_run_start,
    replan_start,
)
from oncotrials.core.errors import ConflictError, ValidationError
from oncotrials.core.scheduling import load_instance, solve, validate

MONDAY = dt.date(2026, 11, 16)
# The Sunday before the week (Paris): every day of the week is still to come.
BEFORE = dt.datetime(2026, 11, 15, 18, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch: Any) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(tasks, "plan_run_dispatch", ids.append)
    return ids


def _chair(site: Any, by: Any, label: str, day: int, **extra: Any) -> Any:
    data = {
        "label": label,
        "unit": "chair",
        "earliest": MONDAY,
        "latest": MONDAY + dt.timedelta(days=4),
        "target": MONDAY + dt.timedelta(days=day),
        "duration_min": 120,
        "pre_min": 30,
        "prep_min": 30,
        "weight": 1,
        **extra,
    }
    return care_request_create(site=site, data=data, by=by)


@pytest.fixture
def booked_week(equipped: Any, manager: Any, queued: list[int]) -> dict[str, Any]:
    """A planned and saved week: ten infusions and one PK day fixed on Thursday."""
    site = equipped.main
    reqs = [_chair(site, manager, f"P-{i:02d} infusion", i % 5) for i in range(10)]
    thursday = MONDAY + dt.timedelta(days=3)
    pk = _chair(
        site,
        manager,
        "P-99 C1D1 PK",
        3,
        earliest=thursday,
        latest=thursday,
        sample_offsets=[0, 30, 60, 90],
        weight=3,
    )
    run = plan_run_start(site=site, monday=MONDAY, time_limit=2, by=manager)
    run = plan_run_execute(run_id=run.pk, deterministic=True)
    assert run.status == "done", run.error
    plan_run_save(run=run, by=manager)
    return {"site": site, "requests": reqs, "pk": pk}


def _replan(site: Any, manager: Any, **kw: Any) -> PlanRun:
    run = replan_start(site=site, monday=MONDAY, by=manager, time_limit=2, now=BEFORE, **kw)
    return plan_run_execute(run_id=run.pk, deterministic=True)


def test_cancel_is_a_state_and_the_replan_moves_no_more_than_a_fresh_plan(
    booked_week: dict[str, Any], manager: Any
) -> None:
    site, pk = booked_week["site"], booked_week["pk"]
    first = Booking.objects.get(request=booked_week["requests"][0])
    booking_cancel(booking=first, by=manager, reason="Patient admitted elsewhere")
    first.refresh_from_db()
    assert first.status == BookingStatus.CANCELLED
    assert first.status_reason == "Patient admitted elsewhere"
    assert AuditEvent.objects.filter(
        object_id=str(first.pk), reason="Patient admitted elsewhere"
    ).exists()
    added = _chair(site, manager, "P-50 extra dose", 1, weight=3)
    before = week_solution(site=site, monday=MONDAY)

    run = _replan(site, manager)
    assert run.status == PlanStatus.DONE, run.error
    assert run.kind == "replan"
    moved = [m for m in run.moves if m["why"] not in ("new", "prep")]
    assert {m["ref"] for m in run.moves if m["why"] == "new"} == {added.ref}
    assert pk.ref not in {m["ref"] for m in run.moves}  # the PK day stays

    # A fresh plan of the same instance moves at least as many bookings.
    fresh = solve(load_instance(run.instance), time_limit=2, deterministic=True, workers=1)
    fresh_moved = [
        k for k, v in before.items() if tuple(fresh.solution.get(k, (-1, -1)))[:2] != tuple(v[:2])
    ]
    assert len(moved) <= len(fresh_moved)

    plan_run_save(run=run, by=manager)
    after = week_solution(site=site, monday=MONDAY)
    assert after[pk.ref] == before[pk.ref]
    assert added.ref in after
    assert first.request.ref not in after
    assert validate(load_instance(week_instance(site=site, monday=MONDAY)), after) == []
    assert Booking.objects.filter(pk=first.pk, status=BookingStatus.CANCELLED).exists()
    # The saved plan and the re-plan booked requests: each change is audited on the request,
    # so every audited row is still the one its last event recorded.
    from oncotrials.apps.audit.services import audit_verify

    assert added.ref in {
        f"C{pk}"
        for pk in AuditEvent.objects.filter(
            object_type="operations.carerequest", changes={"status": ["open", "booked"]}
        ).values_list("object_id", flat=True)
    }
    report = audit_verify(rows=True)
    assert report.ok, report


def test_a_pk_day_moves_only_with_a_reason_and_a_reason_elsewhere_is_refused(
    booked_week: dict[str, Any], manager: Any
) -> None:
    site, pk = booked_week["site"], booked_week["pk"]
    other = booked_week["requests"][1]
    with pytest.raises(ValidationError) as err:
        replan_start(
            site=site, monday=MONDAY, by=manager, reasons={other.ref: "why not"}, now=BEFORE
        )
    assert err.value.extra["field"] == f"reasons.{other.ref}"
    run = _replan(site, manager, reasons={pk.ref: "Sponsor moved the PK lab slot"})
    assert run.status == PlanStatus.DONE, run.error
    assert run.reasons == {pk.ref: "Sponsor moved the PK lab slot"}
    for m in run.moves:
        if m["ref"] == pk.ref and m["why"] != "prep":
            assert m["why"] == "reason"
            assert m["reason"] == "Sponsor moved the PK lab slot"


def test_days_under_way_are_frozen(booked_week: dict[str, Any], manager: Any) -> None:
    site = booked_week["site"]
    tuesday_noon = dt.datetime(2026, 11, 17, 11, 0, tzinfo=dt.UTC)
    run = replan_start(site=site, monday=MONDAY, by=manager, time_limit=1, now=tuesday_noon)
    before = week_solution(site=site, monday=MONDAY)
    for v in run.instance["visits"]:
        if v["id"] in before and before[v["id"]][0] <= 1:
            assert v["confirmed"] is True
        else:
            assert min(v["days"]) >= 2
    friday = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    with pytest.raises(ValidationError):
        replan_start(site=site, monday=MONDAY, by=manager, now=friday)


def test_a_stale_replan_is_refused_and_changes_nothing(
    booked_week: dict[str, Any], manager: Any
) -> None:
    site = booked_week["site"]
    _chair(site, manager, "P-51 extra dose", 2)
    run = _replan(site, manager)
    second = Booking.objects.get(request=booked_week["requests"][2])
    booking_cancel(booking=second, by=manager, reason="Toxicity: dose held")
    before = week_solution(site=site, monday=MONDAY)
    with pytest.raises(ConflictError):
        plan_run_save(run=PlanRun.objects.get(pk=run.pk), by=manager)
    assert week_solution(site=site, monday=MONDAY) == before
    assert PlanRun.objects.get(pk=run.pk).status == PlanStatus.DONE


def test_planner_page_cancels_and_replans_for_its_manager_only(
    booked_week: dict[str, Any], manager: Any, unit: Any, client_for: Any
) -> None:
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create

    site = booked_week["site"]
    other = user_create(username="other_manager", password="a-long-test-password-42")
    membership_grant(user=other, role=Role.UNIT_MANAGER, site=unit.partner)
    unit.users["other_manager"] = other
    booking = Booking.objects.get(request=booked_week["requests"][3])
    url = f"/operations/planner/?site={site.pk}&week={MONDAY}"
    # A manager of another site sees no planner of this site and changes nothing.
    for action in ({"action": "replan"}, {"action": "cancel", "booking": booking.pk}):
        answer = client_for("other_manager").post(
            url, {**action, "site": site.pk, "week": MONDAY, "reason": "x"}
        )
        assert answer.status_code in (403, 404)
    # A nurse of the site may look but not cancel.
    answer = client_for("nurse").post(
        url, {"action": "cancel", "booking": booking.pk, "site": site.pk, "reason": "x"}
    )
    assert answer.status_code in (403, 404)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.ACTIVE
    assert not PlanRun.objects.filter(kind="replan").exists()
    # Without a reason nothing is cancelled.
    mgr = client_for("manager")
    answer = mgr.post(url, {"action": "cancel", "booking": booking.pk, "site": site.pk})
    assert answer.status_code == 422
    booking.refresh_from_db()
    assert booking.status == BookingStatus.ACTIVE
    answer = mgr.post(
        url, {"action": "cancel", "booking": booking.pk, "site": site.pk, "reason": "Declined"}
    )
    assert answer.status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    page = mgr.get(url)
    assert page.status_code == 200
    assert 'data-testid="replan-form"' in page.content.decode()


def test_admin_edits_of_a_booking_pass_the_planner_checks(
    booked_week: dict[str, Any], unit: Any, client_for: Any
) -> None:
    from django.contrib.auth import get_user_model

    admin = unit.users["admin"]
    get_user_model().objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
    booking = Booking.objects.get(request=booked_week["requests"][4])
    before = (booking.starts_at, booking.ends_at)
    url = f"/admin/operations/booking/{booking.pk}/change/"
    c = client_for("admin")
    tuesday = MONDAY + dt.timedelta(days=1)
    form = {
        "resource": "",
        "starts_at_0": tuesday.isoformat(),
        "starts_at_1": "18:30:00",  # a 2-hour infusion ending after the 19:00 closing
        "prep_starts_at_0": tuesday.isoformat(),
        "prep_starts_at_1": "08:30:00",
        "change_reason": "Patient asked for the evening",
    }
    answer = c.post(url, form)
    assert answer.status_code == 200
    assert "opening hours" in answer.content.decode()
    booking.refresh_from_db()
    assert (booking.starts_at, booking.ends_at) == before
    wednesday = MONDAY + dt.timedelta(days=2)  # closed for works
    answer = c.post(url, {**form, "starts_at_0": wednesday.isoformat(), "starts_at_1": "10:00:00"})
    assert answer.status_code == 200
    assert "not an open day" in answer.content.decode()
    # Friday at 15:00 is inside the hours, with its preparation before (capacity permitting).
    friday = MONDAY + dt.timedelta(days=4)
    answer = c.post(
        url,
        {
            **form,
            "starts_at_0": friday.isoformat(),
            "starts_at_1": "16:00:00",
            "prep_starts_at_0": friday.isoformat(),
            "prep_starts_at_1": "15:00:00",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    booking.refresh_from_db()
    assert booking.ends_at - booking.starts_at == dt.timedelta(minutes=120)
    assert AuditEvent.objects.filter(
        object_id=str(booking.pk), reason="Patient asked for the evening"
    ).exists()


def test_the_api_cancels_replans_and_applies_for_the_sites_manager_only(
    booked_week: dict[str, Any],
    manager: Any,
    unit: Any,
    client_for: Any,
    queued: list[int],
    monkeypatch: Any,
) -> None:
    """The planner's cancel → re-plan → apply, through the API: a reason is required, the run
    lists its moves before anything changes, and a nurse of the site changes nothing."""
    import json
    from types import SimpleNamespace

    from django.utils import timezone

    from oncotrials.apps.operations import services

    # The services' clock only (the session's stays real): the Sunday before the planned week.
    clock = SimpleNamespace(now=lambda: BEFORE, localtime=timezone.localtime)
    monkeypatch.setattr(services, "timezone", clock)
    site = booked_week["site"]
    booking = Booking.objects.get(request=booked_week["requests"][2])
    url = f"/api/v1/operations/bookings/{booking.pk}/cancel"
    nurse = client_for("nurse")
    assert nurse.post(
        url, json.dumps({"reason": "x"}), content_type="application/json"
    ).status_code in (403, 404)
    mgr = client_for("manager")
    assert (
        mgr.post(url, json.dumps({"reason": ""}), content_type="application/json").status_code
        == 422
    )
    booking.refresh_from_db()
    assert booking.status == BookingStatus.ACTIVE
    done = mgr.post(url, json.dumps({"reason": "Declined"}), content_type="application/json")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "cancelled"
    body = {"site_id": site.pk, "week": str(MONDAY), "time_limit": 2}
    refused = nurse.post(
        "/api/v1/operations/replans", json.dumps(body), content_type="application/json"
    )
    assert refused.status_code in (403, 404)
    started = mgr.post(
        "/api/v1/operations/replans", json.dumps(body), content_type="application/json"
    )
    assert started.status_code == 202, started.content
    run = started.json()
    assert run["kind"] == "replan"
    assert queued[-1] == run["id"]
    plan_run_execute(run_id=run["id"], deterministic=True)
    polled = mgr.get(f"/api/v1/operations/plan-runs/{run['id']}").json()
    assert polled["status"] == "done", polled["error"]
    assert booking.request.ref not in polled["solution"]
    assert all({"ref", "why"} <= set(m) for m in polled["moves"])
    saved = mgr.post(f"/api/v1/operations/plan-runs/{run['id']}/save")
    assert saved.status_code == 200, saved.content
    after = week_solution(site=site, monday=MONDAY)
    assert booking.request.ref not in after
    assert validate(load_instance(week_instance(site=site, monday=MONDAY)), after) == []


def test_an_over_long_reason_is_refused_not_cut(booked_week: dict[str, Any], manager: Any) -> None:
    pk = booked_week["pk"]
    with pytest.raises(ValidationError, match="at most 500 characters"):
        replan_start(
            site=booked_week["site"],
            monday=MONDAY,
            by=manager,
            reasons={pk.ref: "x" * 501},
            now=BEFORE,
        )
    assert not PlanRun.objects.filter(kind="replan").exists()
