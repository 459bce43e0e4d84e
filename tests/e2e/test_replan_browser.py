"""A unit manager's re-plan: in next week's planner, cancel a booking with a reason, add a
request, re-plan the rest of the week, read the proposed moves and apply them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


def test_cancel_replan_apply(page: Any, live_server: Any, unit: Any, monkeypatch: Any) -> None:
    from django.utils import timezone

    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.operations import tasks
    from oncotrials.apps.operations.models import Booking, BookingStatus, PlanRun
    from oncotrials.apps.operations.selectors import monday_of, week_instance, week_solution
    from oncotrials.apps.operations.services import (
        care_request_create,
        nurse_shift_add,
        plan_run_execute,
        plan_run_save,
        plan_run_start,
        resource_save,
    )
    from oncotrials.core.scheduling import load_instance, validate

    # The solve runs in the request (deterministic, no thread) so the test can wait on it.
    monkeypatch.setattr(
        tasks,
        "plan_run_dispatch",
        lambda run_id: plan_run_execute(run_id=run_id, deterministic=True),
    )
    manager = user_create(username="manager", password=PASSWORD)
    membership_grant(user=manager, role=Role.UNIT_MANAGER, site=unit.main)
    site = unit.main
    for i in range(2):
        resource_save(site=site, kind="chair", code=f"CH-{i + 1:02d}", by=manager)
    resource_save(site=site, kind="isolator", code="ISO-1", by=manager)
    nurse_shift_add(site=site, starts="08:00", ends="19:00", nurses=3, by=manager)
    monday = monday_of(timezone.localdate()) + dt.timedelta(days=7)
    reqs = []
    for i in range(6):
        reqs.append(
            care_request_create(
                site=site,
                data={
                    "label": f"P-{i:02d} C2D1",
                    "unit": "chair",
                    "earliest": monday,
                    "latest": monday + dt.timedelta(days=4),
                    "target": monday + dt.timedelta(days=i % 3),
                    "duration_min": 240,
                    "pre_min": 30,
                    "prep_min": 30,
                },
                by=manager,
            )
        )
    run = plan_run_start(site=site, monday=monday, time_limit=2, by=manager)
    plan_run_save(run=PlanRun.objects.get(pk=run.pk), by=manager)
    cancelled = Booking.objects.get(request=reqs[0])

    page.set_default_timeout(120_000)
    page.set_default_navigation_timeout(120_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/operations/planner/?site={site.pk}&week={monday.isoformat()}")
    row = page.locator(f"[data-testid=booking-{reqs[0].ref}]")
    row.locator("input[name=reason]").fill("Patient hospitalised")
    row.get_by_role("button", name="Cancel").click()
    expect(page.locator(f"[data-testid=booking-{reqs[0].ref}]")).to_have_count(0)
    cancelled.refresh_from_db()
    assert cancelled.status == BookingStatus.CANCELLED

    form = page.locator("[data-testid=add-request-form]")
    form.locator("input[name=label]").fill("P-77 extra infusion")
    tuesday = (monday + dt.timedelta(days=1)).isoformat()
    form.locator("input[name=earliest]").fill(monday.isoformat())
    form.locator("input[name=target]").fill(tuesday)
    form.locator("input[name=latest]").fill((monday + dt.timedelta(days=4)).isoformat())
    form.locator("input[name=duration_min]").fill("120")
    form.locator("input[name=prep_min]").fill("30")
    form.get_by_role("button", name="Add the request").click()
    expect(page.locator("ul.messages")).to_contain_text("P-77 extra infusion")

    page.locator("[data-testid=replan-form]").get_by_role(
        "button", name="Re-plan the rest of the week"
    ).click()
    page.wait_for_url("**/operations/planner/runs/*/")
    moves = page.locator("[data-testid=replan-moves]")
    expect(moves).to_contain_text("P-77 extra infusion")
    expect(moves).to_contain_text("New request placed")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "operations-replan.png"), full_page=True)
    page.get_by_role("button", name="Apply the changes").click()
    page.wait_for_url("**/operations/occupancy/**")

    after = week_solution(site=site, monday=monday)
    new = next(r for r in site.care_requests.filter(label="P-77 extra infusion"))
    assert new.ref in after
    assert reqs[0].ref not in after
    assert validate(load_instance(week_instance(site=site, monday=monday)), after) == []
