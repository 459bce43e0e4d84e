"""Adverse events and tumour assessments take part in the casebook's queries and e-signatures:
a signature is invalidated by any later change of what it signed."""

from __future__ import annotations

import datetime as dt

from oncotrials.apps.crfs.services import query_raise, signature_is_valid, signature_sign
from oncotrials.apps.safety.services import adverse_event_create, adverse_event_update
from oncotrials.apps.subjects.services import registration_change_status, registration_create

PASSWORD = "a-long-test-password-42"


def _ae(journey, screen):
    nurse = journey.unit.users["nurse"]
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
    data = {
        "term": "Fatigue",
        "grade": 1,
        "onset_date": "2026-11-14",
        "outcome": "recovering",
        "attribution": {"Drug B": "possible"},
        "action_taken": "none",
    }
    return reg, adverse_event_create(registration=reg, data=data, by=nurse, complete=True), data


def test_signing_an_adverse_event_and_changing_it_invalidates_the_signature(journey, screen):
    reg, ae, data = _ae(journey, screen)
    investigator = journey.unit.users["investigator"]
    record_signature = signature_sign(
        record=ae, meaning="reviewed", password=PASSWORD, by=investigator
    )
    casebook_signature = signature_sign(
        record=reg, meaning="approved", password=PASSWORD, by=investigator
    )
    assert signature_is_valid(record_signature)
    assert signature_is_valid(casebook_signature)
    adverse_event_update(
        ae=ae,
        data={**data, "grade": 2},
        version=ae.version,
        by=journey.unit.users["nurse"],
        reason="Grade revised after review",
        complete=True,
    )
    assert not signature_is_valid(record_signature)
    assert not signature_is_valid(casebook_signature)


def test_a_query_on_an_adverse_event_field(journey, screen):
    _, ae, _ = _ae(journey, screen)
    query = query_raise(
        record=ae,
        field="grade",
        text="Grade 1 fatigue with dose interruption?",
        by=journey.unit.users["datamanager"],
    )
    assert query.status == "open"
