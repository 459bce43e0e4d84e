"""What a member limited to one trial reads of a patient who also takes part in another trial.

The patient of the main site signed the consent of T-SHARED and was screened for it, and was
pre-screened for T-MAIN: the monitor of T-MAIN sees the patient, never the patient's consent
to T-SHARED, nor (by filtering the patient list on T-SHARED) that the patient takes part in it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from oncotrials.apps.subjects.services import screening_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(journey: Any, screen: Any) -> Any:
    j = journey
    screen(j, j.patient, j.unit.users["nurse"])  # consent to T-SHARED, eligible screening
    screening_start(
        patient=j.patient,
        trial=j.unit.trial_main,
        kind="pre_screening",
        started_on=dt.date(2026, 11, 2),
        by=j.unit.users["nurse"],
    )
    return j


def test_a_monitor_reads_no_consent_of_another_trial(shared: Any, client_for: Any) -> None:
    url = f"/api/v1/patients/{shared.patient.pk}/consents"
    monitor = client_for("monitor").get(url)
    assert monitor.status_code == 200  # the patient is in the monitor's trial
    assert monitor.json() == []
    (consent,) = client_for("investigator").get(url).json()
    assert consent["form_id"] == shared.form.pk


def test_filtering_patients_on_another_trial_tells_a_monitor_nothing(
    shared: Any, client_for: Any
) -> None:
    j = shared
    monitor = client_for("monitor")
    own = monitor.get(f"/api/v1/patients?trial_id={j.unit.trial_main.pk}").json()["items"]
    assert [p["research_id"] for p in own] == [j.patient.research_id]
    other = monitor.get(f"/api/v1/patients?trial_id={j.cohort.trial.pk}")
    assert other.status_code == 200
    assert other.json()["items"] == []
    staff = client_for("investigator").get(f"/api/v1/patients?trial_id={j.cohort.trial.pk}")
    assert [p["research_id"] for p in staff.json()["items"]] == [j.patient.research_id]
