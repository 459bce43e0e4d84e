"""A pharmacovigilance officer, in a browser, records the initial report of an SAE on its page
and downloads its E2B(R3) ICSR, which the ICH schema accepts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from fixtures import E2B_SCHEMA
from oncotrials.core.e2b import schema_errors

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


def _serious_ae(journey: Any, screen: Any) -> Any:
    from django.utils import timezone

    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.safety.services import adverse_event_create
    from oncotrials.apps.subjects.services import registration_create

    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    pv = user_create(username="pv", password=PASSWORD)
    membership_grant(user=pv, role=Role.PHARMACOVIGILANCE, site=journey.unit.main)
    return adverse_event_create(
        registration=reg,
        data={
            "term": "Sepsis",
            "grade": 4,
            "onset_date": "2026-11-15",
            "seriousness": ["hospitalisation", "life_threatening"],
            "awareness_at": (timezone.now() - dt.timedelta(hours=5)).isoformat(),
            "attribution": {"Drug B": "possible"},
            "outcome": "recovering",
            "action_taken": "interrupted",
        },
        by=nurse,
        complete=True,
    )


def test_pv_records_the_initial_report_and_downloads_its_icsr(page, live_server, journey, screen):
    from oncotrials.apps.audit.models import AuditEvent

    ae = _serious_ae(journey, screen)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "pv")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/safety/adverse-events/{ae.pk}/")
    sent = (ae.sae_aware_at + dt.timedelta(hours=2)).astimezone(dt.UTC)
    page.fill("input[name=sent_at]", sent.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("select[name=kind]", "initial")
    with page.expect_navigation():
        page.click("text=Record the report")
    link = page.locator("[data-testid=icsr-1]")
    assert link.inner_text() == "Download the E2B(R3) ICSR"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "safety-icsr-link.png"), full_page=True)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == f"XX-MAIN-SAE{ae.pk:06d}-v1.xml"
    xml = Path(download.path()).read_bytes()
    assert schema_errors(xml, E2B_SCHEMA) == []
    assert b"Martin" not in xml
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.actor_username == "pv"
