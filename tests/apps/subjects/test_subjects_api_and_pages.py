"""The patient endpoints and pages keep to the caller's memberships, and bad input changes nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.subjects.models import Patient, Registration


def _post(c, url, body):
    return c.post(url, json.dumps(body, default=str), content_type="application/json")


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("nurse", {"main"}),
        ("investigator", {"main"}),
        ("partner_investigator", {"partner"}),
        ("outsider", set()),
        ("monitor_other", set()),
        ("admin", {"main", "partner"}),
    ],
)
def test_patient_list_is_scoped(journey, client_for, persona, sees):
    got = client_for(persona).get("/api/v1/patients").json()
    assert got["count"] == len(got["items"])
    assert {p["site"] for p in got["items"]} == sees


@pytest.mark.parametrize("persona", ["partner_investigator", "outsider", "monitor"])
def test_other_sites_patient_is_404_everywhere(journey, client_for, persona):
    c = client_for(persona)
    pid = journey.patient.pk
    assert c.get(f"/api/v1/patients/{pid}").status_code == 404
    assert c.get(f"/api/v1/patients/{pid}/identity?purpose=x").status_code == 404
    assert c.get(f"/patients/{pid}/").status_code == 404
    r = _post(
        c,
        f"/api/v1/patients/{pid}/consents",
        {"form_id": journey.form.pk, "signed_on": "2026-11-02"},
    )
    assert r.status_code == 404
    assert not journey.patient.consents.exists()


def test_identity_through_the_api_is_audited_and_denied_to_data_managers(journey, client_for):
    r = client_for("nurse").get(
        f"/api/v1/patients/{journey.patient.pk}/identity?purpose=phone%20call"
    )
    assert r.status_code == 200
    assert r.json()["family_name"] == "Martin"
    assert AuditEvent.objects.filter(action="read", reason="phone call").count() == 1
    r = client_for("datamanager").get(f"/api/v1/patients/{journey.patient.pk}/identity?purpose=x")
    assert r.status_code == 403
    assert "Martin" not in r.content.decode()


def test_research_data_endpoints_never_carry_identity(journey, client_for):
    body = client_for("nurse").get(f"/api/v1/patients/{journey.patient.pk}").content.decode()
    assert "Martin" not in body
    assert "H-0001" not in body
    assert "1961-04-02" not in body


def test_registration_through_the_api(journey, client_for, screen):
    screen(journey, journey.patient, journey.unit.users["nurse"])
    c = client_for("nurse")
    r = _post(
        c,
        f"/api/v1/patients/{journey.patient.pk}/registrations",
        {
            "cohort_id": journey.cohort.pk,
            "dose_level_id": journey.dose_level.pk,
            "registered_on": "2026-11-12",
        },
    )
    assert r.status_code == 201, r.content
    reg_id = r.json()["id"]
    r = _post(
        c, f"/api/v1/registrations/{reg_id}/status", {"status": "on_treatment", "on": "2026-11-13"}
    )
    assert r.json()["status"] == "on_treatment"
    r = _post(
        c, f"/api/v1/registrations/{reg_id}/status", {"status": "off_study", "on": "2026-11-14"}
    )
    assert r.status_code == 422
    assert "allowed: end_of_treatment" in r.json()["message"]


def test_registration_without_consent_is_422_and_writes_nothing(journey, client_for):
    r = _post(
        client_for("nurse"),
        f"/api/v1/patients/{journey.patient.pk}/registrations",
        {
            "cohort_id": journey.cohort.pk,
            "dose_level_id": journey.dose_level.pk,
            "registered_on": "2026-11-12",
        },
    )
    assert r.status_code == 422
    assert r.json()["extra"] == {"field": "consent"}
    assert not Registration.objects.exists()


def test_monitor_cannot_write(journey, client_for, screen):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    membership_grant(
        user=journey.unit.users["monitor"],
        role=Role.SPONSOR_MONITOR,
        site=journey.unit.main,
        trial=journey.cohort.trial,
    )
    screen(journey, journey.patient, journey.unit.users["nurse"])
    c = client_for("monitor")
    assert c.get(f"/api/v1/patients/{journey.patient.pk}").status_code == 200
    r = _post(
        c,
        f"/api/v1/patients/{journey.patient.pk}/registrations",
        {
            "cohort_id": journey.cohort.pk,
            "dose_level_id": journey.dose_level.pk,
            "registered_on": "2026-11-12",
        },
    )
    assert r.status_code == 403


def test_create_patient_via_api_for_a_site_of_the_user_only(journey, client_for):
    body = {
        "site": "main",
        "family_name": "X",
        "given_name": "Y",
        "birth_date": "1970-01-01",
        "hospital_number": "H-77",
        "sex": "F",
        "referral_source": "department",
        "referral_date": "2026-11-01",
    }
    assert _post(client_for("partner_investigator"), "/api/v1/patients", body).status_code == 404
    before = Patient.objects.count()
    r = _post(client_for("nurse"), "/api/v1/patients", body)
    assert r.status_code == 201
    assert r.json()["research_id"].startswith("OTP-")
    assert Patient.objects.count() == before + 1


def test_pages(journey, client_for, screen):
    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    c = client_for("nurse")
    detail = c.get(f"/patients/{journey.patient.pk}/").content.decode()
    assert journey.patient.research_id in detail
    assert "Martin" not in detail  # identity only on request
    r = c.post(f"/patients/{journey.patient.pk}/identity/", {"purpose": "call"})
    assert "MARTIN" in r.content.decode()
    section = c.get(f"/trials/{journey.cohort.trial_id}/patients/").content.decode()
    assert journey.patient.research_id in section
    assert "Eligible" in section
    assert c.get("/worklists/").status_code == 200
    assert journey.patient.research_id in c.get("/patients/").content.decode()
    assert journey.partner_patient.research_id not in c.get("/patients/").content.decode()


def test_dashboard_counts_inclusions_per_phase_and_year(journey, client_for, screen):
    from oncotrials.apps.subjects.services import registration_create

    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    body = client_for("nurse").get("/").content.decode()
    assert "2026" in body
    assert "1 patients included of 1 screened" in body
    assert "(100 %)" in body
    assert "No patient included yet" in client_for("partner_investigator").get("/").content.decode()


def test_admin_never_shows_identity_or_the_concealed_list(journey, client_for):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=journey.unit.users["admin"].pk).update(
        is_staff=True, is_superuser=True
    )
    c = client_for("admin")
    page = c.get(f"/admin/subjects/patient/{journey.patient.pk}/change/").content.decode()
    assert journey.patient.research_id in page
    assert "Martin" not in page
    assert "H-0001" not in page
    assert c.get("/admin/subjects/patient/").status_code == 200
