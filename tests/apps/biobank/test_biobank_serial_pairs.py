"""The biobank's serial-sample view classifies the same serial pairs as the genomics pages
(one rule: genomics.selectors.serial_pairs)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_the_serial_view_shows_every_pair_of_the_reported_samples(unit, tmp_path, client_for):
    from oncotrials.apps.biobank.selectors import serial_samples
    from oncotrials.apps.subjects.models import Patient
    from serial_resistance import four_samples

    patient: Any = Patient.objects.create(
        research_id="P-BANK",
        site=unit.main,
        sex="U",
        year_of_birth=1960,
        diagnosis="LUAD",
        referral_source="department",
        referral_date="2026-01-05",
    )
    four_samples(unit, patient, tmp_path)
    view = serial_samples(patient=patient, user=unit.users["investigator"])
    assert [(p.earlier.sample_id, p.later.sample_id) for p in view.series.pairs] == [
        ("P-BANK-S1", "P-BANK-S2"),
        ("P-BANK-S2", "P-BANK-S3"),
        ("P-BANK-S1", "P-BANK-S3"),
        ("P-BANK-S3", "P-BANK-S4"),
        ("P-BANK-S1", "P-BANK-S4"),
    ]
    page = client_for("investigator").get(f"/patients/{patient.pk}/serial-samples/")
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="serial-pair"') == 5
    assert (
        client_for("partner_investigator")
        .get(f"/patients/{patient.pk}/serial-samples/")
        .status_code
        == 404
    )
