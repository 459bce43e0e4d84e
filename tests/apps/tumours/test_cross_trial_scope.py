"""A patient in two trials: a member limited to one trial sees nothing of the other.

Regression test of a leak: the sponsor monitor of T-MAIN could read the RECIST lesions,
assessments and responses of the same patient's registration in T-SHARED, and saw that trial's
screening on the patient page and its inclusions on the dashboard.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest


def _register_in_trial_main(journey: Any, patient: Any) -> Any:
    from oncotrials.apps.subjects.services import (
        consent_form_create,
        consent_sign,
        registration_create,
        screening_close,
        screening_start,
    )
    from oncotrials.apps.trials.services import trial_change_status

    unit = journey.unit
    admin, nurse = unit.users["admin"], unit.users["nurse"]
    trial = unit.trial_main
    for status in ("set_up", "open"):
        trial_change_status(trial=trial, to_status=status, by=admin, reason="ready")
    cohort = trial.cohorts.get(code="ESC")
    form = consent_form_create(
        kind="trial",
        trial=trial,
        version="1.0",
        version_date=dt.date(2026, 1, 5),
        ethics_approval_date=dt.date(2026, 2, 1),
        valid_from=dt.date(2026, 2, 1),
        by=admin,
    )
    consent_sign(patient=patient, form=form, signed_on=dt.date(2026, 11, 2), by=nurse)
    episode = screening_start(
        patient=patient, trial=trial, kind="screening", started_on=dt.date(2026, 11, 2), by=nurse
    )
    screening_close(episode=episode, outcome="eligible", closed_on=dt.date(2026, 11, 10), by=nurse)
    return registration_create(
        patient=patient,
        cohort=cohort,
        dose_level=cohort.dose_levels.first(),
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )


@pytest.fixture
def two_trials(registered: Any, tm: Any) -> Any:
    from oncotrials.apps.tumours.services import baseline_save

    cohort = registered(1)
    shared = cohort.reg  # T-SHARED
    baseline_save(
        registration=shared,
        date=tm.BASELINE,
        method="CT",
        lesions=tm.lesions(),
        by=cohort.journey.unit.users["investigator"],
    )
    main = _register_in_trial_main(cohort.journey, shared.patient)
    return cohort.journey, shared, main


@pytest.mark.parametrize("what", ["lesions", "tumour-assessments", "tumour-responses"])
def test_monitor_of_one_trial_cannot_read_the_other_trials_tumours(two_trials, client_for, what):
    _journey, shared, main = two_trials
    monitor = client_for("monitor")  # sponsor monitor of T-MAIN at the main site
    assert monitor.get(f"/api/v1/registrations/{main.pk}/{what}").status_code == 200
    response = monitor.get(f"/api/v1/registrations/{shared.pk}/{what}")
    assert response.status_code == 404, response.content
    # A site-wide investigator sees both.
    investigator = client_for("investigator")
    assert investigator.get(f"/api/v1/registrations/{shared.pk}/{what}").status_code == 200


def test_patient_pages_show_the_monitor_only_their_trial(two_trials, client_for):
    _journey, _shared, main = two_trials
    monitor = client_for("monitor")
    for url in (
        f"/patients/{main.patient_id}/",
        f"/patients/{main.patient_id}/tumours/",
        "/patients/",
    ):
        response = monitor.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "T-MAIN" in body, url
        assert "T-SHARED" not in body, url
    # The investigator of the site sees both on the patient page.
    body = client_for("investigator").get(f"/patients/{main.patient_id}/").content.decode()
    assert "T-MAIN" in body
    assert "T-SHARED" in body


def test_timeline_and_dashboard_figures_follow_the_trial_scope(two_trials, unit):
    from oncotrials.apps.subjects.selectors import inclusion_figures, patient_timeline

    _journey, _shared, main = two_trials
    monitor = unit.users["monitor"]
    texts = " ".join(e["text"] for e in patient_timeline(patient=main.patient, user=monitor))
    assert "T-MAIN" in texts
    assert "T-SHARED" not in texts
    figures = inclusion_figures(user=monitor)
    assert figures["included"] == 1
    assert sum(sum(counts) for _, counts in figures["rows"]) == 1  # T-MAIN only
    everyone = inclusion_figures(user=unit.users["investigator"])
    assert sum(sum(counts) for _, counts in everyone["rows"]) == 2
