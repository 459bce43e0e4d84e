"""A unit manager's path: the dashboard, a trial's accrual forecast (its SVG plot loads under the
Content-Security-Policy), the activity report with its definition, and a chair added on the
resources page. Screenshots are kept to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


def test_manager_dashboard_path(page, live_server, journey, enrol):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.operations.models import Resource
    from oncotrials.apps.operations.services import accrual_plan_save

    enrol(4)
    unit = journey.unit
    trial = journey.cohort.trial
    accrual_plan_save(
        trial=trial,
        cohort=None,
        target=24,
        starts_on=dt.date(2026, 6, 1),
        duration_months=12,
        certainty=0.5,
        external_centres=[
            {"name": "Lyon", "opens_on": "2026-07-01", "recruited": 3},
            {"name": "Nantes", "opens_on": "2026-08-01", "recruited": 2},
            {"name": "Lille", "opens_on": "2027-02-01", "recruited": 0},
        ],
        by=unit.users["admin"],
    )
    manager = user_create(username="manager", password=PASSWORD)
    membership_grant(user=manager, role=Role.UNIT_MANAGER, site=unit.main)

    # A loaded machine: the first page of a fresh live server may take a while.
    page.set_default_timeout(120_000)
    page.set_default_navigation_timeout(120_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "manager")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.get_by_role("link", name="Operations").click()
    page.wait_for_url(f"{live_server.url}/operations/")
    row = page.locator("[data-testid=accrual-row]", has_text=trial.protocol_code)
    expect(row).to_be_visible()
    expect(page.locator("[data-testid=share]")).to_contain_text("new patients referred")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "operations-dashboard.png"), full_page=True)

    row.get_by_role("link", name=trial.protocol_code).click()
    page.wait_for_url(f"{live_server.url}/trials/{trial.pk}/accrual/")
    expect(page.locator("[data-testid=simulated]")).to_be_visible()  # 4 centres: Poisson-gamma
    img = page.locator("[data-testid=accrual-plot] img")
    img.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert img.evaluate("img => img.naturalWidth") > 200
    page.screenshot(path=str(ARTIFACTS / "operations-accrual.png"), full_page=True)

    page.get_by_role("link", name="Activity report").first.click()
    expect(page.locator("[data-testid=share-in-study]")).to_contain_text("Definition")
    expect(page.locator("[data-testid=by-phase]")).to_contain_text("II")

    page.get_by_role("link", name="Resources and opening hours").first.click()
    form = page.locator("[data-testid=resource-form]")
    form.locator("input[name=code]").fill("CH-01")
    form.get_by_role("button", name="Add").click()
    expect(page.locator("[data-testid=resources]")).to_contain_text("CH-01")
    assert Resource.objects.filter(site=unit.main, code="CH-01").exists()
