"""A randomised trial's path in the browser: a research nurse records the consent and an
eligible screening, randomises the patient from the patient page and never sees the arm
(blinded scheme); an administrator, who may unblind, sees it.

No page sets up a randomisation scheme: the fixture creates the arms and the scheme through the
services. That the registration API refuses a hand-picked arm is proved by
tests/apps/subjects/test_randomise_api_and_page.py::test_the_registration_api_refuses_a_hand_picked_arm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

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
    page.screenshot(path=str(ARTIFACTS / f"randomised-{name}.png"), full_page=True, caret="initial")


def _post(page: Any, testid: str, message: str) -> None:
    with page.expect_navigation():
        page.locator(f"[data-testid={testid}] button[type=submit]").click()
    errors = page.locator(".messages li.error")
    assert errors.count() == 0, errors.all_inner_texts()
    expect(page.locator(".messages")).to_contain_text(message)


@pytest.fixture
def blinded_trial(journey):
    """The journey's open trial with arms ARM-A and ARM-B and a blinded, stratified block
    scheme (services: there is no page for a scheme)."""
    from oncotrials.apps.subjects.services import randomisation_scheme_create
    from oncotrials.apps.trials.services import cohort_create

    admin = journey.unit.users["admin"]
    trial = journey.cohort.trial
    for code in ("ARM-A", "ARM-B"):
        cohort_create(trial=trial, code=code, name=code, kind="randomised_arm", by=admin)
    randomisation_scheme_create(
        trial=trial,
        method="blocks",
        arms={"ARM-A": 1, "ARM-B": 1},
        factors={"ecog": ["0", "1"]},
        block_sizes=[2],
        blinded=True,
        by=admin,
        list_size=8,
    )
    return journey, trial


def test_a_nurse_randomises_from_the_patient_page_and_never_sees_the_arm(
    page, browser, live_server, blinded_trial
):
    from oncotrials.apps.subjects.models import RandomisationRecord

    journey, trial = blinded_trial
    patient = journey.patient
    _login(page, live_server, "nurse")
    page.goto(f"{live_server.url}/patients/{patient.pk}/")

    # --- consent and an eligible screening, through the patient page
    consent = page.locator("[data-testid=form-consent]")
    consent.locator("[name=form]").select_option(label=str(journey.form))
    _post(page, "form-consent", "Consent to")
    screen = page.locator("[data-testid=form-screen]")
    label = next(
        o
        for o in screen.locator("[name=trial] option").all_inner_texts()
        if o.startswith(trial.protocol_code)
    )
    screen.locator("[name=trial]").select_option(label=label)
    screen.locator("[name=kind]").select_option("screening")
    _post(page, "form-screen", "Screening for")
    page.locator("[data-testid=form-close] [name=outcome]").select_option("eligible")
    _post(page, "form-close", "Screening closed.")

    # --- the arms are never offered for registration by hand; the scheme assigns them
    register = page.locator("[data-testid=form-register]")
    if register.count():
        options = register.locator("[name=cohort] option").all_inner_texts()
        assert not [o for o in options if "ARM-" in o], options
    form = page.locator(f"[data-testid=form-randomise-{trial.pk}]")
    expect(form).to_contain_text("The scheme assigns the arm")
    form.locator("[name=level_ecog]").select_option("1")
    _shot(page, "form")
    _post(page, f"form-randomise-{trial.pk}", "the arm is blinded")

    record = RandomisationRecord.objects.get()
    registration = patient.registrations.get()
    assert registration.cohort.code == record.arm
    assert registration.cohort.code in ("ARM-A", "ARM-B")

    # --- the nurse sees the registration, blinded, on every page of the patient
    expect(page.locator(f"[data-testid=form-randomise-{trial.pk}]")).to_have_count(0)
    row = page.locator("tr", has_text=trial.protocol_code).filter(has_text="blinded")
    expect(row).to_have_count(1)
    assert "ARM-" not in page.content()
    _shot(page, "patient-nurse")
    page.goto(f"{live_server.url}/patients/{patient.pk}/adverse-events/")
    expect(page.locator("h2", has_text=trial.protocol_code)).to_contain_text("blinded")
    assert "ARM-" not in page.content()
    page.goto(f"{live_server.url}/trials/{trial.pk}/")
    registrations = page.locator("[data-testid=registrations]")
    expect(registrations).to_contain_text(patient.research_id)
    expect(registrations).to_contain_text("blinded")
    assert "ARM-" not in registrations.inner_text()

    # --- an administrator, who may unblind, sees the arm
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    admin = context.new_page()
    _login(admin, live_server, "admin")
    admin.goto(f"{live_server.url}/patients/{patient.pk}/")
    expect(admin.locator("tr", has_text=trial.protocol_code).first).to_contain_text(
        registration.cohort.code
    )
    _shot(admin, "patient-admin")
    context.close()
