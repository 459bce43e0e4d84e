"""An investigator sets up a trial from scratch in the browser and reaches its escalation page."""

from __future__ import annotations

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


def test_investigator_creates_a_trial_its_cohort_and_a_boin_plan(
    page, live_server, unit, add_dose_level
):
    _login(page, live_server, "investigator")
    page.click("text=Portfolio")
    page.click("[data-testid=trial-new]")

    page.fill("#id_protocol_code", "XB-101-001")
    page.fill("#id_title", "First-in-human study of XB-101 in KRAS G12C solid tumours")
    page.fill("#id_sponsor", "Institut")
    page.select_option("#id_sponsor_type", "academic")
    page.select_option("#id_phase", "I-esc")
    page.select_option("#id_modality", "drug")
    page.fill("#id_tumour_types", "NSCLC, COAD")
    page.fill("#id_targets", "KRAS G12C")
    page.check("input[name=sites]")
    with page.expect_navigation():
        page.click("[data-testid=trial-form] button[type=submit]")
    expect(page.locator("h1")).to_contain_text("XB-101-001")

    page.click("summary:has-text('Add a cohort')")
    page.fill("#id_cohort-code", "ESC-1")
    page.fill("#id_cohort-name", "Dose escalation")
    page.select_option("#id_cohort-kind", "escalation")
    with page.expect_navigation():
        page.click("[data-testid=cohort-form] button[type=submit]")
    add_dose_level(page, "ESC-1", "1", "50", agent="XB-101", schedule="QD d1-21 q28d")
    add_dose_level(page, "ESC-1", "2", "100", agent="XB-101", schedule="QD d1-21 q28d")
    cohort = page.locator("[data-testid=cohort]", has_text="ESC-1")
    expect(cohort.locator("[data-testid=dose-level]")).to_have_count(2)
    expect(cohort).to_contain_text("50 mg")
    expect(cohort).to_contain_text("100 mg")

    page.goto(page.url)  # the trial page, opened afresh
    page.click("[data-testid=plan-new]")
    page.select_option("#id_design", "boin")
    expect(page.locator("#id_param_skeleton")).to_be_hidden()  # a CRM parameter
    page.fill("#id_target", "0.3")
    page.click("[data-testid=plan-preview]")
    expect(page.locator("[data-testid=decision-table]")).to_contain_text("target 0.3")
    with page.expect_navigation():
        page.click("[data-testid=plan-save]")
    expect(page.locator("h1")).to_contain_text("Dose escalation")
    expect(page.locator("[data-testid=escalation-state] tbody tr")).to_have_count(2)
    expect(page.locator("[data-testid=recommendation]")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "escalation-after-setup.png"), full_page=True)
