"""A biobank technician scans a barcode, reads the specimen's lineage tree and custody timeline,
and opens the box map where its aliquot sits."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-42"
TIERS = ["sample_storage", "future_research", "genetic_analysis"]


def login(page, live_server, username):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_scan_specimen_lineage_custody_and_box_map(page, live_server, journey):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant, user_create
    from oncotrials.apps.biobank.services import (
        container_create,
        specimen_aliquot,
        specimen_collect,
        specimen_derive,
        specimen_store,
    )
    from oncotrials.apps.subjects.services import consent_form_create, consent_sign

    unit = journey.unit
    admin = unit.users["admin"]
    tech = user_create(username="tech", password=PASSWORD)
    membership_grant(user=tech, role=Role.BIOBANK_TECHNICIAN, site=unit.main)
    form = consent_form_create(
        kind="translational",
        programme="Serial biopsies",
        version="1",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
        options=TIERS,
    )
    consent_sign(
        patient=journey.patient,
        form=form,
        signed_on=dt.date(2026, 11, 2),
        by=unit.users["nurse"],
        options_granted=dict.fromkeys(TIERS, True),
    )
    box = container_create(
        site=unit.main,
        kind="box",
        name="Box 7",
        by=tech,
        parent=container_create(
            site=unit.main,
            kind="rack",
            name="R2",
            by=tech,
            parent=container_create(site=unit.main, kind="freezer", name="Freezer 3", by=tech),
        ),
        rows=9,
        columns=9,
    )
    at = dt.datetime(2026, 11, 10, 9, tzinfo=dt.UTC)
    blood = specimen_collect(
        patient=journey.patient,
        specimen_type="whole_blood",
        quantity="10",
        unit="mL",
        collected_at=at,
        received_at=at + dt.timedelta(hours=1),
        procedure="blood_draw",
        barcode="4006381333931",
        by=tech,
        pre_analytics={
            "container_type": "EDTA",
            "centrifugations": 2,
            "precentrifugation_delay_min": 45,
            "precentrifugation_temp": "RT",
        },
    )
    plasma = specimen_derive(
        parent=blood,
        specimen_type="plasma",
        consumed="10",
        consumed_unit="mL",
        quantity="4",
        unit="mL",
        by=tech,
    )
    (aliquot,) = specimen_aliquot(parent=plasma, count=1, quantity="1", unit="mL", by=tech)
    specimen_store(specimen=aliquot, box=box, row=3, column=5, by=tech)

    page.set_default_timeout(120_000)  # a loaded shared machine serves slowly
    login(page, live_server, "tech")
    page.goto(f"{live_server.url}/biobank/")
    page.fill("#scan", "4006381333931")
    with page.expect_navigation():
        page.press("#scan", "Enter")
    assert page.locator("h1").inner_text().endswith(blood.label)
    tree = page.locator("ul.tree li")
    assert tree.count() == 3
    assert tree.nth(2).get_attribute("data-depth") == "2"
    assert aliquot.label in tree.nth(2).inner_text()
    custody = page.locator("[data-testid=custody]").inner_text()
    assert "Collected" in custody
    assert "Received" in custody
    assert "PL" not in page.locator("[data-testid=sprec]").inner_text()  # whole blood: BLD-...
    assert page.locator("[data-testid=sprec]").inner_text().startswith("BLD-PED-A-")

    page.click(f"text={aliquot.label}")
    assert "Stored" in page.locator("[data-testid=custody]").inner_text()
    page.click("text=Freezer 3 / R2 / Box 7 C5")
    cell = page.locator("table.box-map tbody tr").nth(2).locator("td").nth(4)
    assert cell.inner_text() == aliquot.label
    assert "1 of 81 positions used" in page.content()
    page.goto(f"{live_server.url}/biobank/?scan=nope")
    assert (
        "No specimen with barcode nope"
        in page.locator("[role=alert]:not([data-request-error])").inner_text()
    )
