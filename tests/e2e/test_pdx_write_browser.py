"""A biobank technician's PDX path in the browser: start a model from a consented specimen,
record the engraftment of P0, passage it, start a drug-study arm on P1, paste a table of
caliper readings, read the arm's mRECIST on the page and record a quality control of P1."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"
TODAY = dt.date(2026, 11, 20)


def _specimen(unit: Any) -> Any:
    from oncotrials.apps.biobank.services import specimen_collect
    from oncotrials.apps.subjects.services import (
        consent_form_create,
        consent_sign,
        patient_create,
    )

    nurse, admin = unit.users["nurse"], unit.users["admin"]
    patient = patient_create(
        site=unit.main,
        by=nurse,
        family_name="Xeno",
        given_name="Write",
        birth_date=dt.date(1961, 3, 1),
        hospital_number="H-PDX2",
        sex="F",
        referral_source="department",
        referral_date=dt.date(2026, 6, 1),
    )
    tiers = ["sample_storage", "future_research", "xenograft"]
    form = consent_form_create(
        kind="translational",
        programme="Xenografts",
        version="1.0",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
        options=tiers,
    )
    consent_sign(
        patient=patient,
        form=form,
        signed_on=dt.date(2026, 7, 3),
        by=nurse,
        options_granted=dict.fromkeys(tiers, True),
    )
    return specimen_collect(
        patient=patient,
        specimen_type="tissue_frozen",
        quantity="20",
        unit="mg",
        collected_at=dt.datetime(2026, 8, 3, 9, tzinfo=dt.UTC),
        anatomic_site="C34.1",
        pathology="malignant",
        by=nurse,
    )


def _submit(page: Any, testid: str, button: str) -> None:
    page.locator(f"[data-testid={testid}]").get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_technician_grows_a_model_and_reads_its_mrecist(
    page: Any, live_server: Any, unit: Any, monkeypatch: Any
) -> None:
    from django.utils import timezone

    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.biobank.models_pdx import PdxModel

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    specimen = _specimen(unit)
    tech = user_create(username="tech", password=PASSWORD)
    membership_grant(user=tech, role=Role.BIOBANK_TECHNICIAN, site=unit.main)

    page.set_default_timeout(60_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "tech")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/pdx/")
    page.locator("[data-testid=pdx-new]").click()
    page.wait_for_url(f"{live_server.url}/pdx/new/")
    page.select_option("#id_specimen", str(specimen.pk))
    for name, value in {
        "model_id": "OT-PDX-201",
        "host_strain_name": "NSG",
        "host_strain_nomenclature": "NOD.Cg-Prkdcscid Il2rgtm1Wjl/SzJ",
        "engraftment_site": "subcutaneous flank",
        "diagnosis": "lung adenocarcinoma",
        "primary_site": "lung",
        "contact_name": "Translational unit",
        "contact_email": "pdx@example.org",
        "implanted_on": "2026-08-04",
        "mice_implanted": "5",
    }.items():
        page.fill(f"#id_{name}", value)
    _submit(page, "pdx-model-form", "Start the model")
    pdx = PdxModel.objects.get(model_id="OT-PDX-201")
    page.wait_for_url(f"{live_server.url}/pdx/{pdx.pk}/")

    page.get_by_text("Engraftment of a passage").click()
    page.select_option("#id_engraftment-passage", label="P0")
    page.fill("#id_engraftment-mice_engrafted", "4")
    _submit(page, "engraftment-form", "Record the engraftment")
    expect(page.locator("ul.messages")).to_contain_text("P0")

    page.get_by_text("New passage").click()
    page.select_option("#id_passage-parent", label="P0")
    page.fill("#id_passage-implanted_on", "2026-09-01")
    page.fill("#id_passage-mice_implanted", "3")
    _submit(page, "passage-form", "Record the passage")
    expect(page.locator("[data-testid=pdx-passages]")).to_contain_text("P1")

    page.get_by_text("Engraftment of a passage").click()
    page.select_option("#id_engraftment-passage", label="P1")
    page.fill("#id_engraftment-mice_engrafted", "3")
    _submit(page, "engraftment-form", "Record the engraftment")

    page.get_by_text("New drug study arm").click()
    page.select_option("#id_arm-passage", label="P1")
    page.fill("#id_arm-name", "Binimetinib")
    page.fill("#id_arm-treatment_name", "binimetinib")
    page.fill("#id_arm-started_on", "2026-10-01")
    page.fill("#id_arm-mice", "T1")
    _submit(page, "arm-form", "Create the arm")
    expect(page.locator("ul.messages")).to_contain_text("Binimetinib")

    page.get_by_text("Tumour volume measurements").click()
    page.select_option("#id_measurements-arm", label="Binimetinib")
    page.fill(
        "#id_measurements-table",
        "mouse\tday\tlength\twidth\nT1\t0\t10\t8\nT1\t10\t9\t8\nT1\t14\t9\t7\nT1\t18\t1\t1\n"
        "T1\t21\t1\t1\n",
    )
    _submit(page, "measurements-form", "Record the measurements")
    expect(page.locator("ul.messages")).to_contain_text("5")
    call = page.locator("[data-testid=arm-call]")
    expect(call).to_have_text("CR")

    # A quality control of P1; without a passage ticked it is refused beside the field.
    page.get_by_text("Record a quality control").click()
    page.fill("#id_validation-technique", "STR profiling")
    page.select_option("#id_validation-result", "passed")
    page.fill("#id_validation-description", "16 STR loci match the patient tumour")
    page.fill("#id_validation-performed_on", "2026-11-15")
    _submit(page, "validation-form", "Record the quality control")
    expect(page.locator("#id_validation-passages_tested-error")).to_be_visible()
    page.get_by_label("P1", exact=True).check()
    _submit(page, "validation-form", "Record the quality control")
    expect(page.locator("ul.messages")).to_contain_text("STR profiling")
    expect(page.locator("[data-testid=pdx-qc]")).to_contain_text("16 STR loci match")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pdx-write.png"), full_page=True)
