"""A nurse follows a patient from the list to the timeline, reveals the identity (audited), opens the
trial's patient section and the dose-escalation page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


def _login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_patient_journey_pages(page, live_server, journey, screen):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.dosing.services import plan_create
    from oncotrials.apps.subjects.services import registration_create

    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    plan_create(
        cohort=journey.cohort,
        design="3+3",
        start_level=journey.dose_level,
        by=journey.unit.users["investigator"],
    )

    _login(page, live_server, "nurse")
    page.click("nav >> text=Patients")
    expect(page.locator("[data-testid=patient-count]")).to_have_text("1 patient")
    page.click(f"text={journey.patient.research_id}")
    expect(page.locator("[data-testid=timeline]")).to_contain_text("Registered")
    assert "Martin" not in page.content()
    page.fill("#identity-purpose", "phone call about the next visit")
    page.click("text=Show identity")
    expect(page.locator("[data-testid=identity]")).to_contain_text("MARTIN")
    assert AuditEvent.objects.filter(
        action="read", reason="phone call about the next visit"
    ).exists()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "patient-detail.png"), full_page=True)

    page.goto(f"{live_server.url}/trials/{journey.cohort.trial_id}/")
    expect(page.locator("[data-testid=registrations]")).to_contain_text(journey.patient.research_id)
    expect(page.locator("[data-testid=screening-log]")).to_contain_text("Eligible")
    page.click("text=dose escalation")
    expect(page.locator("[data-testid=recommendation]")).to_contain_text("The design recommends")
    expect(page.locator("[data-testid=escalation-state]")).to_contain_text("DL1")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(ARTIFACTS / "escalation.png"), full_page=True)


def test_partner_nurse_cannot_open_a_main_site_patient(page, live_server, journey):
    _login(page, live_server, "partner_investigator")
    response = page.goto(f"{live_server.url}/patients/{journey.patient.pk}/")
    assert response.status == 404
    assert journey.patient.research_id not in page.content()
