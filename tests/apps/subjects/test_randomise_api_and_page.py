"""The arm of a randomised trial is always assigned by its scheme: the registration API refuses
a hand-picked arm; a real patient is randomised from the API or the patient page, and a blinded
arm stays hidden to roles that may not unblind."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from oncotrials.apps.subjects.models import RandomisationRecord, Registration
from oncotrials.apps.subjects.services import (
    patient_create,
    randomisation_scheme_create,
    registration_create,
)
from oncotrials.apps.trials.services import cohort_create
from oncotrials.core.errors import ValidationError


@pytest.fixture
def blinded(journey, screen):
    """A blinded, stratified block scheme over arms ARM-A and ARM-B of the journey's trial, and
    a patient found eligible for it."""
    admin, nurse = journey.unit.users["admin"], journey.unit.users["nurse"]
    trial = journey.cohort.trial
    arms = [
        cohort_create(trial=trial, code=code, name=code, kind="randomised_arm", by=admin)
        for code in ("ARM-A", "ARM-B")
    ]
    randomisation_scheme_create(
        trial=trial,
        method="blocks",
        arms={"ARM-A": 1, "ARM-B": 1},
        factors={"ecog": ["0", "1"]},
        block_sizes=[2],
        blinded=True,
        by=admin,
        list_size=8,
    )
    screen(journey, journey.patient, nurse)
    return journey, trial, arms


def _post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_registration_api_refuses_a_hand_picked_arm(blinded, client_for):
    journey, _, arms = blinded
    r = _post(
        client_for("investigator"),
        f"/api/v1/patients/{journey.patient.pk}/registrations",
        {"cohort_id": arms[0].pk, "registered_on": "2026-11-12"},
    )
    assert r.status_code == 422
    error = r.json()
    assert error["extra"]["field"] == "cohort_id"
    assert "cohort_id" in error["message"]
    assert f"/api/v1/patients/{journey.patient.pk}/randomisations" in error["message"]
    assert not Registration.objects.exists()
    with pytest.raises(ValidationError, match="assigned by its randomisation scheme"):
        registration_create(
            patient=journey.patient,
            cohort=arms[1],
            registered_on=dt.date(2026, 11, 12),
            by=journey.unit.users["admin"],
        )


def test_the_api_randomises_and_hides_a_blinded_arm_from_the_nurse(blinded, client_for):
    journey, trial, _arms = blinded
    url = f"/api/v1/patients/{journey.patient.pk}/randomisations"
    body = {"trial_id": trial.pk, "registered_on": "2026-11-12", "levels": {"ecog": "1"}}
    r = _post(client_for("nurse"), url, body)
    assert r.status_code == 201, r.content
    out = r.json()
    assert out["cohort_id"] is None  # blinded for a research nurse
    reg = Registration.objects.get(pk=out["id"])
    record = RandomisationRecord.objects.get(registration=reg)
    assert reg.cohort.code == record.arm
    assert record.stratum == "ecog=1"
    assert reg.screening is not None
    assert "ARM-" not in r.content.decode()
    admin_view = client_for("admin").get(f"/api/v1/registrations?trial_id={trial.pk}").json()
    assert [i["cohort_id"] for i in admin_view["items"]] == [reg.cohort_id]
    # Randomised once: a second call is refused and uses no row of the list.
    assert _post(client_for("nurse"), url, body).status_code in (409, 422)
    assert RandomisationRecord.objects.count() == 1


def test_randomisation_needs_an_eligible_screening(blinded, client_for):
    journey, trial, _ = blinded
    other = patient_create(
        site=journey.unit.main,
        by=journey.unit.users["nurse"],
        family_name="N",
        given_name="S",
        birth_date=dt.date(1960, 1, 1),
        hospital_number="NS-1",
        sex="M",
        referral_source="department",
        referral_date=dt.date(2026, 10, 1),
    )
    r = _post(
        client_for("nurse"),
        f"/api/v1/patients/{other.pk}/randomisations",
        {"trial_id": trial.pk, "registered_on": "2026-11-12", "levels": {"ecog": "0"}},
    )
    assert r.status_code == 422
    assert "consent" in r.json()["message"] or "screening" in r.json()["message"]
    assert not RandomisationRecord.objects.exists()


def test_a_monitor_cannot_randomise(blinded, client_for):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    journey, trial, _ = blinded
    membership_grant(
        user=journey.unit.users["monitor"],
        role=Role.SPONSOR_MONITOR,
        site=journey.unit.main,
        trial=trial,
    )
    r = _post(
        client_for("monitor"),
        f"/api/v1/patients/{journey.patient.pk}/randomisations",
        {"trial_id": trial.pk, "registered_on": "2026-11-12", "levels": {"ecog": "0"}},
    )
    assert r.status_code == 403
    assert not RandomisationRecord.objects.exists()


def test_the_patient_page_randomises_and_keeps_the_arm_blinded(blinded, client_for):
    journey, trial, arms = blinded
    nurse = client_for("nurse")
    page = nurse.get(f"/patients/{journey.patient.pk}/").content.decode()
    assert f'data-testid="form-randomise-{trial.pk}"' in page
    assert 'name="level_ecog"' in page
    assert "ARM-" not in page  # arms are never offered for registration by hand
    r = nurse.post(
        f"/patients/{journey.patient.pk}/journey/randomise/",
        {"trial": trial.pk, "registered_on": "2026-11-12", "level_ecog": "0"},
        follow=True,
    )
    body = r.content.decode()
    assert "the arm is blinded" in body
    assert "ARM-" not in body
    reg = journey.patient.registrations.get()
    assert reg.cohort in arms
    assert f'data-testid="form-randomise-{trial.pk}"' not in body  # randomised once
    admin_page = client_for("admin").get(f"/patients/{journey.patient.pk}/").content.decode()
    assert reg.cohort.code in admin_page


def test_the_page_refuses_a_bad_stratum_and_saves_nothing(blinded, client_for):
    journey, trial, _ = blinded
    r = client_for("nurse").post(
        f"/patients/{journey.patient.pk}/journey/randomise/",
        {"trial": trial.pk, "registered_on": "2026-11-12", "level_ecog": "4"},
        follow=True,
    )
    assert r.status_code == 422
    form = r.content.decode().split(f'data-testid="form-randomise-{trial.pk}"', 1)[1]
    form = form.split("</form>", 1)[0]
    # Shown again as typed, the error beside its field and in the form's summary.
    assert 'data-testid="error-summary"' in form
    assert 'data-testid="error-level_ecog"' in form
    assert f'aria-describedby="randomise-{trial.pk}-level_ecog-error"' in form
    assert 'aria-invalid="true"' in form
    assert 'value="2026-11-12"' in form
    assert not Registration.objects.exists()
