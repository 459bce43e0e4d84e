"""ECOG and laboratory results of a referred or screened patient, before any registration:
recorded from the patient page (audited), refused in plain words when wrong, read by the tumour
board's clinical summary and by matching."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.subjects.models import BaselineObservation
from oncotrials.apps.subjects.services import baseline_observation_record
from oncotrials.core.errors import PermissionDeniedError, ValidationError


def test_ecog_and_a_lab_of_a_referred_patient_are_recorded_and_audited(journey):
    nurse = journey.unit.users["nurse"]
    ecog = baseline_observation_record(
        patient=journey.patient, kind="ecog", observed_on=dt.date(2026, 11, 2), value="1", by=nurse
    )
    lab = baseline_observation_record(
        patient=journey.patient,
        kind="lab",
        observed_on=dt.date(2026, 11, 2),
        analyte="ANC",
        value="1,8",
        unit="10^9/L",
        lln="1.5",
        uln="7.5",
        by=nurse,
    )
    assert (ecog.value, ecog.analyte) == (Decimal(1), "")
    assert (lab.analyte, lab.value, lab.lln) == ("neutrophils", Decimal("1.8"), Decimal("1.5"))
    events = AuditEvent.objects.filter(object_type="subjects.baselineobservation", action="create")
    assert {e.object_id for e in events} == {str(ecog.pk), str(lab.pk)}
    assert all(e.actor_username == "nurse" for e in events)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "ecog", "value": "6"}, "value"),
        ({"kind": "ecog", "value": "1.5"}, "value"),
        ({"kind": "lab", "analyte": "unobtainium", "value": "1", "unit": "g/L"}, "analyte"),
        ({"kind": "lab", "analyte": "ANC", "value": "1", "unit": ""}, "unit"),
        (
            {"kind": "lab", "analyte": "ANC", "value": "1", "unit": "g", "lln": "3", "uln": "2"},
            "uln",
        ),
    ],
)
def test_a_wrong_observation_is_refused_by_field_and_nothing_written(journey, kwargs, field):
    with pytest.raises(ValidationError) as exc:
        baseline_observation_record(
            patient=journey.patient,
            observed_on=dt.date(2026, 11, 2),
            by=journey.unit.users["nurse"],
            **kwargs,
        )
    assert exc.value.extra["field"] == field
    assert not BaselineObservation.objects.exists()


def test_only_clinical_staff_of_the_patient_site_record(journey):
    with pytest.raises(PermissionDeniedError):
        baseline_observation_record(
            patient=journey.patient,
            kind="ecog",
            observed_on=dt.date(2026, 11, 2),
            value="0",
            by=journey.unit.users["partner_investigator"],
        )


def test_the_patient_page_records_ecog_and_labs_before_registration(journey, client_for):
    c = client_for("nurse")
    page = c.get(f"/patients/{journey.patient.pk}/").content.decode()
    assert 'data-testid="form-ecog"' in page
    base = f"/patients/{journey.patient.pk}/journey"
    r = c.post(f"{base}/ecog/", {"ecog": "1", "ecog_on": "2026-11-02"})
    assert r.status_code == 302
    r = c.post(
        f"{base}/baseline-lab/",
        {"analyte": "neutrophils", "lab_value": "x", "lab_unit": "", "sampled_on": "2026-11-02"},
    )
    assert r.status_code == 422
    form = r.context["baseline_lab_form"]
    assert set(form.errors) == {"lab_value", "lab_unit"}
    assert 'value="x"' in r.content.decode()
    r = c.post(
        f"{base}/baseline-lab/",
        {
            "analyte": "neutrophils",
            "lab_value": "1.8",
            "lab_unit": "10^9/L",
            "lab_lln": "1.5",
            "lab_uln": "7.5",
            "sampled_on": "2026-11-02",
        },
    )
    assert r.status_code == 302
    page = c.get(f"/patients/{journey.patient.pk}/").content.decode()
    panel = page.split('data-testid="baseline-observations"', 1)[1].split("</section>", 1)[0]
    assert panel.count('data-testid="observation"') == 2
    assert "1.8 10^9/L" in panel
    assert "1.5–7.5" in panel


def test_the_board_summary_and_matching_read_the_ecog_before_registration(journey):
    from oncotrials.apps.matching.engine import _patient_signatures
    from oncotrials.apps.mtb.selectors import clinical_summary

    nurse = journey.unit.users["nurse"]
    baseline_observation_record(
        patient=journey.patient, kind="ecog", observed_on=dt.date(2026, 11, 2), value="2", by=nurse
    )
    baseline_observation_record(
        patient=journey.patient,
        kind="lab",
        observed_on=dt.date(2026, 11, 2),
        analyte="ANC",
        value="1.8",
        unit="10^9/L",
        by=nurse,
    )
    summary = clinical_summary(journey.patient, user=nurse, today=dt.date(2026, 11, 20))
    assert (summary.ecog, summary.ecog_on) == ("2", "2026-11-02")
    _, clinical, _ = _patient_signatures(dt.date(2026, 11, 20))
    facts = clinical[journey.patient.pk]
    assert facts.ecog == 2
    assert dict(facts.labs)["neutrophils"] == pytest.approx(1.8)
