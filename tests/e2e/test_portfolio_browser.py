"""A research nurse logs in, filters the portfolio, opens a trial; a monitor sees one trial only."""

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


def test_nurse_logs_in_filters_the_portfolio_and_opens_a_trial(page, live_server, unit):
    _login(page, live_server, "nurse")
    assert page.locator("[data-testid=trials-total]").inner_text() == "3"

    page.click("text=Portfolio")
    page.wait_for_selector("[data-testid=trial-count]")
    assert page.locator("[data-testid=trial-count]").inner_text() == "3 trials"

    page.select_option("#filter-phase", "II")  # htmx swaps the table in place
    expect(page.locator("[data-testid=trial-count]")).to_have_text("1 trial")
    assert "phase=II" in page.url
    assert page.locator("table.grid tbody tr").count() == 1
    assert "T-SHARED" in page.locator("table.grid tbody").inner_text()

    page.select_option("#filter-phase", "")
    expect(page.locator("[data-testid=trial-count]")).to_have_text("3 trials")
    page.fill("#filter-target", "KRAS")
    expect(page.locator("[data-testid=trial-count]")).to_have_text("1 trial")
    page.click("text=T-MAIN")
    page.wait_for_selector("h1")
    assert "T-MAIN" in page.locator("h1").inner_text()
    assert page.locator("[data-testid=cohort]").count() == 1
    assert "Drug A" in page.locator("[data-testid=cohort]").inner_text()
    assert "Feasibility" in page.locator("text=Status history").locator("..").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "trial-detail.png"), full_page=True)


def test_monitor_sees_only_the_trial_monitored(page, live_server, unit):
    _login(page, live_server, "monitor")
    page.goto(f"{live_server.url}/trials/")
    assert page.locator("[data-testid=trial-count]").inner_text() == "1 trial"
    assert "T-MAIN" in page.locator("table.grid tbody").inner_text()
    response = page.goto(f"{live_server.url}/trials/{unit.trial_other.pk}/")
    assert response.status == 404
    assert "T-OTHER" not in page.content()


def test_outsider_sees_nothing(page, live_server, unit):
    _login(page, live_server, "outsider")
    assert "no active membership" in page.content()
    page.goto(f"{live_server.url}/trials/")
    assert page.locator("[data-testid=trial-count]").inner_text() == "0 trials"


def test_interface_in_french(page, live_server, unit):
    _login(page, live_server, "nurse")
    page.select_option("select[name=language]", "fr")
    assert page.locator("html").get_attribute("lang") == "en"  # choosing alone changes nothing
    with page.expect_navigation():
        page.click(".lang-apply")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Tableau de bord"
