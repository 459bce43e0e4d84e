"""A data manager makes a data cut of a trial on the Exports page, opens it, and downloads it:
for SDTM the zip holds the XPT v5, Dataset-JSON and Define-XML files whose digests the page
shows; for ODM one ODM 1.3.2 document, valid against the schema, with the completed vital-signs
form of the trial's patient and its audit records."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
SCHEDULE = Path(__file__).resolve().parents[2] / "docs" / "formats" / "visit-schedule.example.yaml"


def _trial_with_a_patient(journey, screen):
    from oncotrials.apps.safety.services import adverse_event_create
    from oncotrials.apps.subjects.services import registration_change_status, registration_create

    unit = journey.unit
    unit.main.country = "FR"
    unit.main.save()
    nurse = unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    reg = registration_change_status(
        registration=reg, to_status="on_treatment", on=dt.date(2026, 11, 13), by=nurse
    )
    adverse_event_create(
        registration=reg,
        data={
            "term": "Colitis",
            "grade": 2,
            "onset_date": "2026-11-14",
            "attribution": {"Drug B": "possible"},
            "action_taken": "none",
            "outcome": "recovering",
        },
        by=nurse,
        complete=True,
    )
    return journey.cohort.trial


def _cut_and_download(page, live_server, trial, name: str, fmt: str):
    """Log in as the data manager, make a cut of ``trial`` in format ``fmt`` on the Exports
    page, and download it: the digests the page shows, the files of the zip, each checked
    against its digest."""
    page.set_default_timeout(120_000)  # the shared machine can be slow to serve the first page
    page.set_default_navigation_timeout(120_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "datamanager")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.click("nav >> text=Exports")
    page.wait_for_url(f"{live_server.url}/exports/")
    form = page.locator("[data-testid=cut-form]")
    form.locator("select[name=trial]").select_option(label=trial.protocol_code)
    form.locator("input[name=name]").fill(name)
    for box in form.locator("input[name=formats]").all():
        box.set_checked(box.get_attribute("value") == fmt)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert name in page.locator("h1").inner_text()
    rows = page.locator("[data-testid=cut-files] tbody tr")
    shown = {
        rows.nth(i).locator("td").nth(1).inner_text(): rows.nth(i).locator("td").nth(3).inner_text()
        for i in range(rows.count())
    }
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"exports-cut-{fmt}.png"), full_page=True)
    with page.expect_download() as info:
        page.click(f"[data-testid=download-{fmt}]")
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    files = {Path(n).name: archive.read(n) for n in archive.namelist()}
    assert set(files) == set(shown)
    for file_name, data in files.items():
        assert hashlib.sha256(data).hexdigest() == shown[file_name], file_name
    return files


def test_data_manager_cuts_and_downloads_sdtm(page, live_server, journey, screen):
    trial = _trial_with_a_patient(journey, screen)
    files = _cut_and_download(page, live_server, trial, "Sponsor transfer 1", "sdtm")
    assert {"dm.xpt", "ae.json", "define.xml"} <= set(files)
    assert files["dm.xpt"][:80].startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD")
    page.goto(f"{live_server.url}/exports/")
    assert "Sponsor transfer 1" in page.locator("[data-testid=cuts]").inner_text()


def _trial_with_a_completed_form(journey, screen):
    from oncotrials.apps.crfs.services import form_save
    from oncotrials.apps.subjects.services import (
        registration_change_status,
        registration_create,
        visit_record,
    )
    from oncotrials.apps.trials.services import schedule_set

    unit = journey.unit
    nurse = unit.users["nurse"]
    trial = journey.cohort.trial
    schedule_set(trial=trial, document=yaml.safe_load(SCHEDULE.read_text()), by=unit.users["admin"])
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    reg = registration_change_status(
        registration=reg, to_status="on_treatment", on=dt.date(2026, 11, 13), by=nurse
    )
    visit_record(registration=reg, code="C1D1", on=dt.date(2026, 11, 13), by=nurse)
    form_save(
        registration=reg,
        visit_code="C1D1",
        form_name="vital_signs",
        data={"assessed_on": "2026-11-13", "systolic_bp": "125"},
        version=0,
        complete=True,
        by=nurse,
    )
    return trial


def test_data_manager_cuts_and_downloads_odm(page, live_server, journey, screen):
    from oncotrials.core.odm import odm_schema_errors

    trial = _trial_with_a_completed_form(journey, screen)
    files = _cut_and_download(page, live_server, trial, "EDC transfer 1", "odm")
    assert set(files) == {"odm.xml"}
    xml = files["odm.xml"]
    assert odm_schema_errors(xml) == []
    assert b'ItemOID="IT.VITAL_SIGNS.SYSTOLIC_BP" Value="125"' in xml
    assert journey.patient.research_id.encode() in xml
    assert b"Martin" not in xml  # the patient's family name never leaves
