"""Rights on a patient: its trials are read only for a user with a trial-limited membership."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncotrials.apps.accounts.access import Action, may, roles_on, scope_for
from oncotrials.apps.subjects.models import Patient
from oncotrials.apps.subjects.services import screening_start


def test_site_wide_member_needs_no_read_of_the_patients_trials(journey):
    nurse = journey.unit.users["nurse"]
    patient = Patient.objects.get(pk=journey.patient.pk)
    scope_for(nurse)  # the memberships, read once per user
    with CaptureQueriesContext(connection) as queries:
        assert may(nurse, Action.WRITE_JOURNEY, on=patient)
        assert not may(journey.unit.users["partner_investigator"], Action.WRITE_JOURNEY, on=patient)
    # The partner investigator's memberships are read; neither user's check reads the trials.
    assert not [q for q in queries if "subjects_screeningepisode" in q["sql"]]


def test_trial_limited_member_still_sees_by_the_patients_trials(journey, unit):
    monitor = unit.users["monitor"]  # limited to T-MAIN at the main site
    patient = Patient.objects.get(pk=journey.patient.pk)
    assert roles_on(monitor, patient) == set()
    screening_start(
        patient=patient,
        trial=unit.trial_main,
        kind="pre_screening",
        started_on=dt.date(2026, 11, 2),
        by=unit.users["nurse"],
    )
    assert roles_on(monitor, patient) == {"sponsor_monitor"}
    # A site-wide member's roles are the same with or without the trials.
    assert roles_on(unit.users["nurse"], patient) == {"research_nurse"}
