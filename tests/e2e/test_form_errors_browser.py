"""Forms in a browser: an adverse event sent with two errors shows both beside their fields
(aria-invalid, aria-describedby), keeps what was typed and moves the focus to the error summary;
a consent form refused in an htmx panel answers 422 and is swapped in with its error beside
the field; a trial's edit page adds a participating site and sets the principal investigator."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
AXE = Path(__file__).resolve().parents[2] / ".tools" / "axe" / "node_modules" / "axe-core"


def _login(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _axe_blocking(page: Any) -> list[str]:
    """Serious and critical axe-core findings of the page as it stands (as in
    test_accessibility_browser.py); none when axe-core is not installed, except under CI."""
    source = AXE / "axe.min.js"
    if not source.exists():
        assert os.environ.get("CI") != "true", "axe-core is missing: `make e2e-deps`"
        return []
    # evaluated through the browser's DevTools, which the Content-Security-Policy leaves alone
    page.evaluate(source.read_text(encoding="utf-8"))
    result = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}, "
        "resultTypes: ['violations']})"
    )
    return [
        f"{v['id']}: {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


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


def test_a_refused_htmx_form_answers_422_and_shows_the_error_beside_its_field(
    page, live_server, unit
):
    """The trial page's consent form panel posts with htmx: the refusal answers 422, which the
    site-wide htmx-config swaps into the panel like a 200 (the error beside its field, what was
    typed kept, nothing saved); the corrected version is then saved and listed."""
    from oncotrials.apps.subjects.models import ConsentForm

    trial = unit.trial_main
    _login(page, live_server, "datamanager")
    page.goto(f"{live_server.url}/trials/{trial.pk}/")
    panel = page.locator("#trial-consent-forms")
    panel.locator("summary", has_text="Add a consent form version").click()
    form = panel.locator("[data-testid=consent-form-form]")
    form.locator("input[name=icf-version]").fill("2.0")
    form.locator("input[name=icf-version_date]").fill("2027-01-05")
    form.locator("input[name=icf-ethics_approval_date]").fill("2027-02-01")
    form.locator("input[name=icf-valid_from]").fill("2027-01-01")  # before the approval
    with page.expect_response(lambda r: r.url.endswith("/consent-forms/")) as answer:
        form.get_by_role("button", name="Add the version").click()
    assert answer.value.status == 422
    assert answer.value.request.headers.get("hx-request") == "true"
    error = panel.locator("#id_icf-valid_from-error")
    error.wait_for()
    assert "valid before its ethics approval" in error.inner_text()
    field = panel.locator("[name=icf-valid_from]")
    assert field.get_attribute("aria-invalid") == "true"
    assert "id_icf-valid_from-error" in (field.get_attribute("aria-describedby") or "")
    assert field.input_value() == "2027-01-01"
    assert panel.locator("input[name=icf-version]").input_value() == "2.0"
    assert page.locator("[data-request-error]").is_hidden()  # a refusal is no failed request
    assert page.url == f"{live_server.url}/trials/{trial.pk}/"  # swapped, not navigated
    _shot(page, "htmx-consent-refused")
    assert not ConsentForm.objects.filter(trial=trial).exists()
    field.fill("2027-02-01")
    with page.expect_response(lambda r: r.url.endswith("/consent-forms/")) as answer:
        panel.get_by_role("button", name="Add the version").click()
    assert answer.value.status == 200
    panel.locator("[data-testid=consent-form]").wait_for()
    assert "2.0" in panel.locator("[data-testid=consent-form]").inner_text()
    assert panel.locator("[aria-invalid=true]").count() == 0
    assert ConsentForm.objects.get(trial=trial).valid_from == dt.date(2027, 2, 1)


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


def test_a_manager_corrects_a_refused_resource_and_a_refused_request(page, live_server, unit):
    from django.utils import timezone

    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.operations.models import CareRequest, Resource
    from oncotrials.apps.operations.selectors import monday_of
    from oncotrials.apps.operations.services import resource_save

    manager = user_create(username="manager", password=PASSWORD)
    membership_grant(user=manager, role=Role.UNIT_MANAGER, site=unit.main)
    resource_save(site=unit.main, kind="chair", code="CH-01", by=manager)
    page.set_default_timeout(120_000)
    page.set_default_navigation_timeout(120_000)
    _login(page, live_server, "manager")

    # resources page: a code already taken is refused beside the code, what was typed kept
    page.goto(f"{live_server.url}/operations/resources/?site={unit.main.pk}")
    form = page.locator("[data-testid=resource-form]")
    form.locator("select[name=kind]").select_option("bed")
    form.locator("input[name=code]").fill("CH-01")
    form.locator("input[name=name]").fill("Window bed")
    form.get_by_role("button", name="Add").click()
    summary = page.locator("[data-testid=resource-form] [data-testid=error-summary]")
    summary.wait_for()
    code = page.locator("#resource-code")
    assert code.get_attribute("aria-invalid") == "true"
    assert code.get_attribute("aria-describedby") == "resource-code-error"
    assert "main already has a resource CH-01." in page.locator("#resource-code-error").inner_text()
    assert page.locator("#resource-name").input_value() == "Window bed"
    assert page.locator("#resource-kind").input_value() == "bed"
    _shot(page, "resource-refused")
    assert _axe_blocking(page) == []
    code.fill("BED-01")
    page.locator("[data-testid=resource-form]").get_by_role("button", name="Add").click()
    page.wait_for_url(f"{live_server.url}/operations/resources/?site={unit.main.pk}")
    assert "Resource added." in page.locator("ul.messages").inner_text()
    assert "BED-01" in page.locator("[data-testid=resources]").inner_text()
    assert page.locator("[aria-invalid=true]").count() == 0
    assert Resource.objects.get(site=unit.main, code="BED-01").name == "Window bed"

    # planner: sample times that are not minutes are refused beside their field
    monday = monday_of(timezone.localdate()) + dt.timedelta(days=7)
    page.goto(
        f"{live_server.url}/operations/planner/?site={unit.main.pk}&week={monday.isoformat()}"
    )
    form = page.locator("[data-testid=add-request-form]")
    form.locator("input[name=label]").fill("P-77 extra PK day")
    form.locator("input[name=earliest]").fill(monday.isoformat())
    form.locator("input[name=target]").fill((monday + dt.timedelta(days=1)).isoformat())
    form.locator("input[name=latest]").fill((monday + dt.timedelta(days=4)).isoformat())
    form.locator("input[name=duration_min]").fill("180")
    form.locator("input[name=sample_offsets]").fill("0 sixty 120")
    form.get_by_role("button", name="Add the request").click()
    page.locator("[data-testid=add-request-form] [data-testid=error-summary]").wait_for()
    offsets = page.locator("#request-sample_offsets")
    assert offsets.get_attribute("aria-invalid") == "true"
    assert "got “sixty”" in page.locator("#request-sample_offsets-error").inner_text()
    assert offsets.input_value() == "0 sixty 120"
    assert page.locator("#request-label").input_value() == "P-77 extra PK day"
    assert page.locator("#request-duration_min").input_value() == "180"
    _shot(page, "planner-request-refused")
    assert _axe_blocking(page) == []
    offsets.fill("0 60 120")
    page.locator("[data-testid=add-request-form]").get_by_role(
        "button", name="Add the request"
    ).click()
    page.wait_for_url("**/operations/planner/?site=*")
    assert "P-77 extra PK day" in page.locator("ul.messages").inner_text()
    assert CareRequest.objects.get(label="P-77 extra PK day").sample_offsets == [0, 60, 120]
