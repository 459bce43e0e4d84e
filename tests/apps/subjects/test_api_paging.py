"""Lists of the API that grow with the unit answer one page: ``{"items": [...], "count": n}``."""

from __future__ import annotations

import datetime as dt

from oncotrials.apps.subjects.services import registration_create


def test_patients_list_is_paged(journey, client_for):
    c = client_for("admin")
    whole = c.get("/api/v1/patients").json()
    assert whole["count"] == 2
    first = c.get("/api/v1/patients?page_size=1").json()
    second = c.get("/api/v1/patients?page_size=1&page=2").json()
    assert first["count"] == second["count"] == 2
    assert [p["research_id"] for p in first["items"] + second["items"]] == [
        p["research_id"] for p in whole["items"]
    ]
    assert c.get("/api/v1/patients?page_size=100000").status_code == 200  # capped, not refused
    assert c.get("/api/v1/patients?page=0").status_code == 422
    # an offset past 64-bit integers is refused before it reaches the database
    assert c.get("/api/v1/patients?page=75135602995700908032").status_code == 422
    assert c.get("/api/v1/patients?page=10000000").json()["items"] == []


def test_registrations_list_is_paged_and_scoped(journey, screen, client_for):
    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    got = client_for("nurse").get("/api/v1/registrations?page_size=10").json()
    assert got["count"] == 1
    assert got["items"][0]["id"] == reg.pk
    assert got["items"][0]["cohort_id"] == journey.cohort.pk
    assert client_for("nurse").get("/api/v1/registrations?status=off_study").json()["count"] == 0
    assert client_for("partner_investigator").get("/api/v1/registrations").json() == {
        "items": [],
        "count": 0,
    }
