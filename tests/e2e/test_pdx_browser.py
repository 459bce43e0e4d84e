"""An investigator opens a PDX model from the PDX list: the growth curves (server-rendered SVG)
load under the Content-Security-Policy, the plot's data table and the mRECIST table are there,
and a screenshot is kept to look at."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
TODAY = dt.date(2026, 11, 20)


def _build(unit, monkeypatch):
    from django.utils import timezone

    from oncotrials.apps.biobank.demo_pdx import demo_pdx_load
    from oncotrials.apps.subjects.services import patient_create

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    nurse = unit.users["nurse"]
    patient_create(
        site=unit.main,
        by=nurse,
        family_name="Xeno",
        given_name="Test",
        birth_date=dt.date(1961, 3, 1),
        hospital_number="H-PDX1",
        sex="F",
        referral_source="department",
        referral_date=dt.date(2026, 6, 1),
    )
    (model,) = demo_pdx_load(
        random.Random(11),
        lambda _msg: None,
        TODAY,
        users=(unit.users["admin"], nurse, unit.users["investigator"]),
    )
    return model


def test_investigator_sees_growth_curves_and_mrecist(page, live_server, unit, monkeypatch):
    model = _build(unit, monkeypatch)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "investigator")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/pdx/")
    page.locator("[data-testid=pdx-models]").get_by_role("link", name=model.model_id).click()
    page.wait_for_url(f"{live_server.url}/pdx/{model.pk}/")
    assert model.model_id in page.locator("h1").inner_text()
    assert page.locator("[data-testid=pdx-status]").inner_text() == "established"
    img = page.locator("[data-testid=pdx-growth-img]")
    img.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    assert img.evaluate("img => img.naturalWidth") > 200
    calls = page.locator("[data-testid=arm-call]").all_inner_texts()
    assert len(calls) == 2
    assert calls[0] == "PD"  # the control arm grows
    assert calls[1] in {"CR", "PR"}  # the treated arm of the first demo model regresses
    page.locator("[data-testid=pdx-growth-data] summary").click()
    assert page.locator("[data-testid=pdx-growth-data] tbody tr").count() > 20
    assert page.locator("[data-testid=pdx-passages] tbody tr").count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pdx-model.png"), full_page=True)
