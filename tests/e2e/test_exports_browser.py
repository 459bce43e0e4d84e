"""A data manager makes a data cut of a trial on the Exports page, opens it, and downloads the SDTM
files: the zip holds the XPT v5, Dataset-JSON and Define-XML files whose digests the page shows."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


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


def test_data_manager_cuts_and_downloads_sdtm(page, live_server, journey, screen):
    trial = _trial_with_a_patient(journey, screen)
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
    form.locator("input[name=name]").fill("Sponsor transfer 1")
    form.locator("input[name=formats][value=sdtm]").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "Sponsor transfer 1" in page.locator("h1").inner_text()
    rows = page.locator("[data-testid=cut-files] tbody tr")
    shown = {
        rows.nth(i).locator("td").nth(1).inner_text(): rows.nth(i).locator("td").nth(3).inner_text()
        for i in range(rows.count())
    }
    assert {"dm.xpt", "ae.json", "define.xml"} <= set(shown)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "exports-cut.png"), full_page=True)
    with page.expect_download() as info:
        page.click("[data-testid=download-sdtm]")
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    files = {Path(n).name: archive.read(n) for n in archive.namelist()}
    assert set(files) == set(shown)
    for name, data in files.items():
        assert hashlib.sha256(data).hexdigest() == shown[name], name
    assert files["dm.xpt"][:80].startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD")
    page.goto(f"{live_server.url}/exports/")
    assert "Sponsor transfer 1" in page.locator("[data-testid=cuts]").inner_text()
