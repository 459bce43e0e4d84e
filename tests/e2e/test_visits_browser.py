"""Visits in a browser: a research nurse marks a visit not applicable from the patient page's
calendar (with a reason, shown back), and the work list no longer lists it; the work list's
filters and its CSV link keep the filters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
ROOT = Path(__file__).resolve().parents[2]
SCHEDULE = ROOT / "docs" / "formats" / "visit-schedule.example.yaml"
C1D1 = dt.date(2026, 11, 13)  # today is 2026-11-20 (the journey fixture): C1D8 is due


def _treated(journey: Any, screen: Any) -> Any:
    from oncotrials.apps.subjects.services import (
        registration_change_status,
        registration_create,
        visit_record,
    )
    from oncotrials.apps.trials.services import schedule_set

    nurse = journey.unit.users["nurse"]
    schedule_set(
        trial=journey.cohort.trial,
        document=yaml.safe_load(SCHEDULE.read_text()),
        by=journey.unit.users["admin"],
    )
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    reg = registration_change_status(registration=reg, to_status="on_treatment", on=C1D1, by=nurse)
    visit_record(registration=reg, code="C1D1", on=C1D1, by=nurse)
    return reg


def test_mark_a_visit_not_applicable_and_filter_the_work_list(page, live_server, journey, screen):
    reg = _treated(journey, screen)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "nurse")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/worklists/")
    assert page.locator("[data-testid=visits-due]").inner_text().count("C1D8") == 1
    assert page.locator("[data-testid=visits-due] >> text=SCR").count() == 0  # registered
    page.select_option("#id_site", str(journey.unit.main.pk))
    page.click("[data-testid=visit-filters] button[type=submit]")
    page.wait_for_url(f"**site={journey.unit.main.pk}**")
    href = page.locator("[data-testid=visits-csv]").get_attribute("href")
    assert f"site={journey.unit.main.pk}" in href
    assert "format=csv" in href

    page.goto(f"{live_server.url}/patients/{journey.patient.pk}/")
    form = page.locator(f"[data-testid=mark-{reg.pk}-C1D8]")
    form.locator("select[name=outcome]").select_option("not_applicable")
    form.locator("input[name=reason]").fill("no PK sampling in this cohort")
    form.locator("button[type=submit]").click()
    row = page.locator("[data-testid=calendar] tr[data-visit=C1D8]")
    row.locator(".v-not_applicable").wait_for()
    assert "no PK sampling in this cohort" in row.inner_text()

    page.goto(f"{live_server.url}/worklists/")
    assert "C1D8" not in page.locator("[data-testid=visits-due]").inner_text()
