"""Who sees and changes tumour assessments: partner-site staff and outsiders see nothing (404),
a sponsor monitor reads but cannot write (403)."""

from __future__ import annotations

import json

import pytest

from oncotrials.apps.tumours.models import Assessment, Lesion, TumourAssessmentSettings
from oncotrials.apps.tumours.services import baseline_save


@pytest.fixture
def assessed(registered, tm):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    c = registered(1)
    baseline_save(
        registration=c.reg,
        date=tm.BASELINE,
        method="CT",
        lesions=tm.lesions(),
        by=c.journey.unit.users["nurse"],
    )
    unit = c.journey.unit
    membership_grant(
        user=unit.users["monitor"], role=Role.SPONSOR_MONITOR, site=unit.main, trial=c.reg.trial
    )
    return c


def _reads(c):
    reg = c.reg
    a = Assessment.objects.get()
    return [
        f"/api/v1/registrations/{reg.pk}/lesions",
        f"/api/v1/registrations/{reg.pk}/tumour-assessments",
        f"/api/v1/tumour-assessments/{a.pk}",
        f"/api/v1/registrations/{reg.pk}/tumour-responses",
        f"/api/v1/registrations/{reg.pk}/tumour-overrides",
        f"/patients/{reg.patient_id}/tumours/",
    ]


def _writes(c, tm):
    reg = c.reg
    return [
        (
            "post",
            f"/api/v1/registrations/{reg.pk}/tumour-assessments",
            {"date": "2027-01-08", "measurements": tm.visit("20", "15")},
        ),
        (
            "put",
            f"/api/v1/registrations/{reg.pk}/tumour-baseline",
            {"date": "2026-11-05", "lesions": tm.lesions(), "version": 1, "reason": "x"},
        ),
        (
            "post",
            f"/api/v1/registrations/{reg.pk}/tumour-overrides",
            {"response": "PR", "reason": "x"},
        ),
    ]


def _send(client, method, url, body):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("persona", ["partner_investigator", "outsider", "monitor_other"])
def test_patients_of_other_sites_and_trials_are_404_everywhere(assessed, client_for, tm, persona):
    c = client_for(persona)
    for url in _reads(assessed):
        assert c.get(url).status_code == 404, url
    for method, url, body in _writes(assessed, tm):
        assert _send(c, method, url, body).status_code == 404, url
    assert Assessment.objects.count() == 1
    assert Lesion.objects.count() == 3


@pytest.mark.parametrize("persona", ["outsider", "monitor_other"])
def test_trial_pages_of_other_trials_are_404(assessed, client_for, persona):
    c = client_for(persona)
    trial = assessed.reg.trial_id
    assert c.get(f"/trials/{trial}/efficacy/").status_code == 404
    assert c.get(f"/trials/{trial}/efficacy/waterfall.svg").status_code == 404
    assert c.get(f"/api/v1/trials/{trial}/efficacy/pfs.svg").status_code == 404
    assert c.get(f"/api/v1/trials/{trial}/tumour-settings").status_code == 404


def test_partner_investigator_sees_the_shared_trial_without_our_patients(assessed, client_for):
    c = client_for("partner_investigator")
    trial = assessed.reg.trial_id
    r = c.get(f"/api/v1/trials/{trial}/efficacy")
    assert r.status_code == 200
    assert r.json()["patients"] == []
    page = c.get(f"/trials/{trial}/efficacy/").content.decode()
    assert assessed.reg.patient.research_id not in page
    assert "No patient that you may see" in page


def test_monitor_reads_but_cannot_write(assessed, client_for, tm):
    c = client_for("monitor")
    for url in _reads(assessed):
        assert c.get(url).status_code == 200, url
    for method, url, body in _writes(assessed, tm):
        assert _send(c, method, url, body).status_code == 403, url
    r = _send(
        c,
        "put",
        f"/api/v1/trials/{assessed.reg.trial_id}/tumour-settings",
        {"criteria": "irecist", "version": 0},
    )
    assert r.status_code == 403
    assert not TumourAssessmentSettings.objects.exists()
    assert Assessment.objects.count() == 1
    page = c.get(f"/patients/{assessed.reg.patient_id}/tumours/").content.decode()
    assert 'data-testid="override-form"' not in page


def test_nurse_records_through_the_api(assessed, client_for, tm):
    c = client_for("nurse")
    r = _send(c, *_writes(assessed, tm)[0])
    assert r.status_code == 201, r.content
    assert r.json()["version"] == 1
    responses = c.get(f"/api/v1/registrations/{assessed.reg.pk}/tumour-responses").json()
    assert responses["timepoints"][0]["computed"] == "PR"
    assert "Table 1 row 4" in responses["timepoints"][0]["rule"]
