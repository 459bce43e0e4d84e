"""Forms in a browser: an adverse event sent with two errors shows both beside their fields
(aria-invalid, aria-describedby), keeps what was typed and moves the focus to the error summary;
a trial's edit page adds a participating site and sets the principal investigator."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


def _login(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"forms-{name}.png"), full_page=True, caret="initial")


def test_an_adverse_event_with_two_errors_shows_both_beside_their_fields(
    page, live_server, journey, screen
):
    from oncotrials.apps.safety.models import AdverseEvent
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
    _login(page, live_server, "nurse")
    page.goto(f"{live_server.url}/safety/registrations/{reg.pk}/adverse-events/new/")
    form = page.locator("#ae-form")
    assert form.locator("label[for=id_term] abbr.required").count() == 1
    assert page.locator(".required-note").count() == 1
    form.locator("input[name=term]").fill("Nausea")  # CTCAE v5.0 defines grades 1 to 3
    form.locator("input[name=verbatim]").fill("felt sick after the dose")
    form.locator("select[name=grade]").select_option("5")
    form.locator("input[name=onset_date]").fill("2026-11-15")
    form.locator("input[name=resolution_date]").fill("2026-11-10")  # before the onset
    form.locator("button[name=action][value=draft]").click()
    summary = page.locator("[data-testid=error-summary]")
    summary.wait_for()
    assert summary.get_attribute("role") == "alert"
    page.wait_for_function(
        "document.activeElement && document.activeElement.dataset.testid === 'error-summary'"
    )
    assert summary.locator("a").count() == 2
    form = page.locator("#ae-form")
    for name, text in (
        ("grade", "Grade 5 does not exist for Nausea; its grades are 1, 2, 3."),
        ("resolution_date", "The event cannot resolve before its onset (2026-11-15)."),
    ):
        field = form.locator(f"[name={name}]")
        assert field.get_attribute("aria-invalid") == "true"
        assert field.get_attribute("aria-describedby") == f"id_{name}-error"
        error = page.locator(f"#id_{name}-error")
        assert error.is_visible()
        assert text in error.inner_text()
    assert form.locator("[name=onset_date]").get_attribute("aria-invalid") is None
    # what was typed is kept
    assert form.locator("input[name=term]").input_value() == "Nausea"
    assert form.locator("input[name=verbatim]").input_value() == "felt sick after the dose"
    assert form.locator("input[name=onset_date]").input_value() == "2026-11-15"
    assert form.locator("select[name=grade]").input_value() == "5"
    _shot(page, "ae-two-errors")
    # a link of the summary leads to its field
    summary.locator("a[href='#id_grade']").click()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_grade'")
    # typing a term asks the server for suggestions (htmx): the focus stays where the user types
    term = form.locator("input[name=term]")
    term.click()
    with page.expect_response(lambda r: "/safety/terms" in r.url):
        term.press("End")
        term.type("a")
    page.wait_for_timeout(300)
    assert page.evaluate("document.activeElement.id") == "id_term"
    assert not AdverseEvent.objects.exists()


def test_a_trial_edit_adds_a_site_and_sets_the_principal_investigator(page, live_server, unit):
    from oncotrials.apps.trials.models import Trial, TrialSite

    trial = unit.trial_main
    _login(page, live_server, "admin")
    page.goto(f"{live_server.url}/trials/{trial.pk}/")
    page.click("[data-testid=trial-edit]")
    page.wait_for_url(f"{live_server.url}/trials/{trial.pk}/edit/")
    form = page.locator("[data-testid=trial-form]")
    form.locator(f"input[name=sites][value='{unit.partner.pk}']").check()
    form.locator("select[name=principal_investigator]").select_option(
        str(unit.users["investigator"].pk)
    )
    form.locator(f"select[name=site_pi_{unit.partner.pk}]").select_option(
        str(unit.users["partner_investigator"].pk)
    )
    form.locator("input[name=reason]").fill("Amendment 3: partner centre opens")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/trials/{trial.pk}/")
    assert page.locator("[data-testid=trial-pi]").inner_text() == "investigator"
    sites = page.locator("[data-testid=trial-site]")
    assert sites.count() == 2
    assert "PI: partner_investigator" in page.locator("[data-testid=trial-sites]").inner_text()
    _shot(page, "trial-sites-pi")
    assert Trial.objects.get(pk=trial.pk).principal_investigator == unit.users["investigator"]
    assert TrialSite.objects.filter(trial=trial).count() == 2
