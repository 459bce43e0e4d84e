"""Casebook pages in a browser: a research nurse saves the C1D1 vital signs as a draft with an
impossible value (shown, completion refused), then completes them; a data manager's stale save is
refused with the nurse's change shown; a query is raised and answered; the investigator's
signature is shown and then invalidated by a later change. Screenshots are kept to look at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"  # tests/conftest.py
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-results"
SCHEDULE = ROOT / "docs" / "formats" / "visit-schedule.example.yaml"
C1D1 = dt.date(2026, 11, 13)  # today is 2026-11-20 (the journey fixture)


def _login(browser: Any, live_server: Any, username: str) -> Any:
    """A page of a fresh browser context, logged in as ``username``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(f"{page.url} {m.location} {m.text}") if m.type == "error" else None,
    )
    page.csp_errors = errors  # checked at the end
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return page


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # caret="initial": hiding the caret leaves empty style attributes on inputs, which htmx's
    # settle step then copies on the next swap (a CSP report that the application never makes)
    page.screenshot(path=str(ARTIFACTS / f"crfs-{name}.png"), full_page=True, caret="initial")


def _treated(journey: Any, screen: Any) -> Any:
    from oncotrials.apps.subjects.services import (
        registration_change_status,
        registration_create,
        visit_record,
    )
    from oncotrials.apps.trials.services import schedule_set

    unit = journey.unit
    nurse = unit.users["nurse"]
    schedule_set(
        trial=journey.cohort.trial,
        document=yaml.safe_load(SCHEDULE.read_text()),
        by=unit.users["admin"],
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


def _vitals() -> dict[str, str]:
    """The C1D1 vital signs as stored, with their status and version."""
    from oncotrials.apps.crfs.models import FormInstance

    inst = FormInstance.objects.filter(visit_code="C1D1", form_name="vital_signs").first()
    return (
        {}
        if inst is None
        else {k: str(v) for k, v in inst.data.items()}
        | {
            "_status": inst.status,
            "_version": str(inst.version),
        }
    )


def test_draft_completion_stale_save_query_and_signature(browser, live_server, journey, screen):
    reg = _treated(journey, screen)
    form_url = f"{live_server.url}/crfs/registrations/{reg.pk}/forms/C1D1/vital_signs/"

    # --- the nurse: a draft with an impossible blood pressure, then the completed form
    nurse = _login(browser, live_server, "nurse")
    nurse.goto(f"{live_server.url}/crfs/registrations/{reg.pk}/")
    assert nurse.locator("[data-form=C1D1-vital_signs]").inner_text() == "missing"
    nurse.goto(form_url)
    nurse.fill("#f-assessed_on", "2026-11-13")
    nurse.fill("#f-systolic_bp", "400")
    nurse.fill("#f-diastolic_bp", "80")
    nurse.fill("#f-heart_rate", "72")
    nurse.click("button[name=action][value=draft]")
    issue = nurse.locator("p.crf-issue[data-check=range]")
    issue.wait_for()
    assert "between 40 and 300 mmHg; got 400" in issue.inner_text()
    assert nurse.locator("[data-testid=form-status]").inner_text() == "Draft"
    assert _vitals()["_status"] == "draft"
    nurse.click("button[name=action][value=complete]")  # still 400: completion refused
    nurse.locator("[data-testid=form-error]").wait_for()
    assert "400" in nurse.locator("[data-testid=form-error]").inner_text()
    assert _vitals()["_status"] == "draft"
    _shot(nurse, "draft-with-errors")
    nurse.fill("#f-systolic_bp", "120")
    nurse.click("button[name=action][value=complete]")
    nurse.wait_for_selector("[data-testid=form-status] >> text=Complete")
    assert _vitals()["systolic_bp"] == "120"
    completed_version = _vitals()["_version"]

    # --- two users edit the completed form: the data manager's stale save is refused
    dm = _login(browser, live_server, "datamanager")
    dm.goto(form_url)
    nurse.fill("#f-heart_rate", "80")
    nurse.fill("#f-reason", "re-measured after rest")
    nurse.click("button[name=action][value=complete]")
    nurse.wait_for_selector(f"#crf-form >> text=version {int(completed_version) + 1},")
    assert _vitals()["heart_rate"] == "80"
    assert int(_vitals()["_version"]) == int(completed_version) + 1
    dm.fill("#f-weight_kg", "71.5")
    dm.fill("#f-reason", "weight from the pharmacy sheet")
    dm.click("button[name=action][value=complete]")
    conflict = dm.locator("[data-testid=conflict]")
    conflict.wait_for()
    text = conflict.inner_text()
    assert "Not saved: someone else changed this form." in text
    assert "heart_rate" in text
    assert "80" in text  # the nurse's change, shown
    assert "71.5" in text  # the data manager's own value, kept on screen
    assert "weight_kg" not in _vitals()  # nothing overwritten
    _shot(dm, "stale-save-refused")

    # --- the data manager raises a query; the nurse answers it
    dm.goto(form_url)
    panel = dm.locator("[data-testid=record-panel]")
    panel.locator("input[name=field]").fill("heart_rate")
    panel.locator(".panel-actions input[name=text]").fill("Please confirm 80 bpm at the source")
    panel.locator("button", has_text="Raise query").click()
    dm.wait_for_selector("[data-testid=record-panel] >> text=Please confirm 80 bpm at the source")
    nurse.goto(form_url)
    row = nurse.locator("[data-testid=record-panel] tbody tr", has_text="Please confirm")
    row.locator("input[name=text]").fill("80 bpm in the nursing notes")
    row.locator("button", has_text="Answer").click()
    nurse.wait_for_selector("[data-testid=record-panel] >> text=80 bpm in the nursing notes")
    row = nurse.locator("[data-testid=record-panel] tbody tr", has_text="Please confirm")
    assert "Answered" in row.inner_text()
    from oncotrials.apps.crfs.models import DataQuery

    query = DataQuery.objects.get(origin="manual")
    assert (query.status, query.field) == ("answered", "heart_rate")
    assert [e.action for e in query.events.order_by("at", "pk")] == ["raised", "answered"]
    _shot(nurse, "query-answered")

    # --- the investigator signs; a later change invalidates the signature
    inv = _login(browser, live_server, "investigator")
    inv.goto(form_url)
    panel = inv.locator("[data-testid=record-panel]")
    panel.locator("select[name=meaning]").select_option("reviewed")
    panel.locator("input[name=password]").fill(PASSWORD)
    panel.locator("button", has_text="Sign").click()
    signed = inv.locator("[data-testid=signatures] li.sig-valid")
    signed.wait_for()
    assert "investigator" in signed.inner_text()
    assert "I have reviewed these data and confirm them" in signed.inner_text()
    _shot(inv, "signed")
    nurse.goto(form_url)
    nurse.fill("#f-diastolic_bp", "78")
    nurse.fill("#f-reason", "transcription error")
    nurse.click("button[name=action][value=complete]")
    nurse.wait_for_selector("[data-testid=signatures] li.sig-invalid")
    inv.goto(form_url)
    invalid = inv.locator("[data-testid=signatures] li.sig-invalid")
    assert "invalidated by a later change" in invalid.inner_text()
    _shot(inv, "signature-invalidated")
    inv.goto(f"{live_server.url}/crfs/registrations/{reg.pk}/")
    assert inv.locator("[data-form=C1D1-vital_signs]").inner_text() == "complete"
    _shot(inv, "casebook")

    for pg in (nurse, dm, inv):
        assert not [e for e in pg.csp_errors if "Content Security Policy" in e], pg.csp_errors
        pg.context.close()
