"""From referral to off-study: consent, screening, slots, registration, status flow."""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrials.apps.audit.models import AuditEvent
from oncotrials.apps.subjects.models import Registration, SlotBooking
from oncotrials.apps.subjects.selectors import patients_for_user, reconsent_worklist
from oncotrials.apps.subjects.services import (
    consent_form_create,
    consent_sign,
    consent_withdraw,
    identity_read,
    registration_change_status,
    registration_create,
    screening_close,
    screening_start,
    slot_allocate,
    slot_book,
)
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError

TODAY = dt.date(2026, 11, 20)  # the journey fixture freezes localdate() here


def test_full_journey(journey, screen):
    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    slot_allocate(
        cohort=journey.cohort,
        site=journey.unit.main,
        slots=1,
        open_from=dt.date(2026, 11, 1),
        by=journey.unit.users["admin"],
    )
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    assert reg.booking.status == "used"
    for status, on, reason in [
        ("on_treatment", dt.date(2026, 11, 13), ""),
        ("end_of_treatment", dt.date(2026, 11, 18), "Progression"),
        ("follow_up", dt.date(2026, 11, 19), ""),
        ("off_study", dt.date(2026, 11, 20), "Death"),
    ]:
        reg = registration_change_status(
            registration=reg, to_status=status, on=on, by=nurse, reason=reason
        )
    assert list(reg.status_history.values_list("to_status", flat=True)) == [
        "registered",
        "on_treatment",
        "end_of_treatment",
        "follow_up",
        "off_study",
    ]
    assert reg.treatment_start == dt.date(2026, 11, 13)


def test_identity_is_kept_apart_and_each_read_is_audited(journey):
    patient = journey.patient
    assert "Martin" not in str(patient.__dict__)
    identity = identity_read(
        patient=patient, user=journey.unit.users["nurse"], purpose="appointment call"
    )
    assert identity.family_name == "Martin"
    event = AuditEvent.objects.filter(action="read").get()
    assert event.reason == "appointment call"
    assert event.actor_username == "nurse"
    with pytest.raises(PermissionDeniedError):
        identity_read(patient=patient, user=journey.unit.users["datamanager"], purpose="curiosity")
    assert AuditEvent.objects.filter(action="read").count() == 1


def test_partner_site_staff_neither_see_nor_act_on_main_site_patients(journey):
    partner = journey.unit.users["partner_investigator"]
    assert list(patients_for_user(user=partner)) == [journey.partner_patient]
    with pytest.raises(PermissionDeniedError):
        consent_sign(
            patient=journey.patient, form=journey.form, signed_on=dt.date(2026, 11, 2), by=partner
        )
    with pytest.raises(PermissionDeniedError):
        identity_read(patient=journey.patient, user=partner, purpose="x")


def test_monitor_sees_only_patients_of_the_trial_monitored(journey, screen):
    from oncotrials.apps.accounts.models import Role
    from oncotrials.apps.accounts.services import membership_grant

    monitor = journey.unit.users["monitor_other"]
    assert list(patients_for_user(user=monitor)) == []
    membership_grant(
        user=journey.unit.users["monitor"],
        role=Role.SPONSOR_MONITOR,
        site=journey.unit.main,
        trial=journey.cohort.trial,
    )
    screen(journey, journey.patient, journey.unit.users["nurse"])
    from oncotrials.apps.accounts.models import User

    fresh = User.objects.get(pk=journey.unit.users["monitor"].pk)
    assert list(patients_for_user(user=fresh)) == [journey.patient]
    with pytest.raises(PermissionDeniedError):
        identity_read(patient=journey.patient, user=fresh, purpose="monitoring")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        ("no_consent", "no valid signed consent"),
        ("closed_cohort", "is closed"),
        ("future", "cannot be in the future"),
        ("late", "within 28 days"),
        ("no_screening", "no eligible screening"),
        ("trial_on_hold", "not open to accrual"),
        ("missing_dose", "needs the dose level"),
    ],
)
def test_registration_refused_with_a_clear_error_and_nothing_changed(
    journey, mutate, message, screen
):
    nurse = journey.unit.users["nurse"]
    kwargs = {
        "patient": journey.patient,
        "cohort": journey.cohort,
        "dose_level": journey.dose_level,
        "registered_on": dt.date(2026, 11, 12),
        "by": nurse,
    }
    if mutate != "no_consent" and mutate != "no_screening":
        screen(journey, journey.patient, nurse)
    if mutate == "no_screening":
        consent_sign(
            patient=journey.patient, form=journey.form, signed_on=dt.date(2026, 11, 2), by=nurse
        )
    if mutate == "closed_cohort":
        type(journey.cohort).objects.filter(pk=journey.cohort.pk).update(is_open=False)
        journey.cohort.refresh_from_db()
    if mutate == "future":
        kwargs["registered_on"] = TODAY + dt.timedelta(days=1)
    if mutate == "late":
        kwargs["registered_on"] = dt.date(2026, 11, 9)  # before eligibility was confirmed
    if mutate == "trial_on_hold":
        from oncotrials.apps.trials.services import trial_change_status

        trial_change_status(
            trial=journey.cohort.trial,
            to_status="on_hold",
            by=journey.unit.users["admin"],
            reason="halt",
        )
    if mutate == "missing_dose":
        kwargs["dose_level"] = None
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError, match=message):
        registration_create(**kwargs)
    assert not Registration.objects.exists()
    assert AuditEvent.objects.count() == events


def test_second_registration_to_the_same_cohort_is_a_conflict(journey, screen):
    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    with pytest.raises(ConflictError, match="already registered"):
        registration_create(
            patient=journey.patient,
            cohort=journey.cohort,
            dose_level=journey.dose_level,
            registered_on=dt.date(2026, 11, 12),
            by=nurse,
        )


def test_consent_of_a_version_not_in_force_is_refused(journey):
    with pytest.raises(ValidationError, match="not in force"):
        consent_sign(
            patient=journey.patient,
            form=journey.form,
            signed_on=dt.date(2026, 1, 15),
            by=journey.unit.users["nurse"],
        )


def test_withdrawal_of_treatment_consent_blocks_treatment_but_not_follow_up(journey, screen):
    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    reg = registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    consent = journey.patient.consents.get()
    consent_withdraw(
        consent=consent,
        on=dt.date(2026, 11, 13),
        scope=["treatment"],
        reason="Patient's decision",
        by=nurse,
    )
    with pytest.raises(ValidationError, match="withdrew consent to study treatment"):
        registration_change_status(
            registration=reg, to_status="on_treatment", on=dt.date(2026, 11, 14), by=nurse
        )
    reg = registration_change_status(
        registration=reg,
        to_status="off_study",
        on=dt.date(2026, 11, 14),
        by=nurse,
        reason="Consent withdrawn",
    )
    assert reg.status == "off_study"


def test_full_withdrawal_blocks_new_screening_and_registration(journey):
    nurse = journey.unit.users["nurse"]
    consent_sign(
        patient=journey.patient, form=journey.form, signed_on=dt.date(2026, 11, 2), by=nurse
    )
    consent_withdraw(
        consent=journey.patient.consents.get(),
        on=dt.date(2026, 11, 3),
        scope=[],
        reason="not given",
        by=nurse,
    )
    with pytest.raises(ValidationError, match="no signed consent"):
        screening_start(
            patient=journey.patient,
            trial=journey.cohort.trial,
            kind="screening",
            started_on=dt.date(2026, 11, 4),
            by=nurse,
        )


def test_screen_failure_needs_a_listed_reason_and_releases_the_held_slot(journey):
    nurse = journey.unit.users["nurse"]
    consent_sign(
        patient=journey.patient, form=journey.form, signed_on=dt.date(2026, 11, 2), by=nurse
    )
    slot_allocate(
        cohort=journey.cohort,
        site=journey.unit.main,
        slots=1,
        open_from=dt.date(2026, 11, 1),
        by=journey.unit.users["admin"],
    )
    booking = slot_book(
        patient=journey.patient, cohort=journey.cohort, by=nurse, on=dt.date(2026, 11, 3)
    )
    episode = screening_start(
        patient=journey.patient,
        trial=journey.cohort.trial,
        kind="screening",
        started_on=dt.date(2026, 11, 3),
        by=nurse,
    )
    with pytest.raises(ValidationError, match="needs a reason"):
        screening_close(episode=episode, outcome="failed", closed_on=dt.date(2026, 11, 5), by=nurse)
    screening_close(
        episode=episode,
        outcome="failed",
        failure_reason="organ_function",
        closed_on=dt.date(2026, 11, 5),
        by=nurse,
    )
    booking.refresh_from_db()
    assert booking.status == "released"
    assert "Inadequate organ function" in booking.released_reason


def test_no_slot_left_is_a_conflict(journey):
    nurse = journey.unit.users["nurse"]
    slot_allocate(
        cohort=journey.cohort,
        site=journey.unit.main,
        slots=1,
        open_from=dt.date(2026, 11, 1),
        by=journey.unit.users["admin"],
    )
    from oncotrials.apps.subjects.services import patient_create

    other = patient_create(
        site=journey.unit.main,
        by=nurse,
        family_name="B",
        given_name="B",
        birth_date=dt.date(1950, 1, 1),
        hospital_number="H-2",
        sex="M",
        referral_source="department",
        referral_date=dt.date(2026, 11, 1),
    )
    slot_book(patient=journey.patient, cohort=journey.cohort, by=nurse, on=dt.date(2026, 11, 3))
    with pytest.raises(ConflictError, match="No free slot"):
        slot_book(patient=other, cohort=journey.cohort, by=nurse, on=dt.date(2026, 11, 3))
    assert SlotBooking.objects.count() == 1


def test_reconsent_worklist_lists_active_patients_on_a_superseded_version(journey, screen):
    nurse = journey.unit.users["nurse"]
    screen(journey, journey.patient, nurse)
    registration_create(
        patient=journey.patient,
        cohort=journey.cohort,
        dose_level=journey.dose_level,
        registered_on=dt.date(2026, 11, 12),
        by=nurse,
    )
    assert reconsent_worklist(user=nurse, today=dt.date(2026, 11, 20)) == []
    v2 = consent_form_create(
        kind="trial",
        trial=journey.cohort.trial,
        version="2.0",
        version_date=dt.date(2026, 11, 1),
        ethics_approval_date=dt.date(2026, 11, 14),
        valid_from=dt.date(2026, 11, 15),
        by=journey.unit.users["admin"],
        supersedes=journey.form,
    )
    rows = reconsent_worklist(user=nurse, today=dt.date(2026, 11, 20))
    assert [(r["patient"], r["current"]) for r in rows] == [(journey.patient, v2)]
    journey.form.refresh_from_db()
    assert journey.form.valid_to == dt.date(2026, 11, 14)
    consent_sign(patient=journey.patient, form=v2, signed_on=dt.date(2026, 11, 16), by=nurse)
    assert reconsent_worklist(user=nurse, today=dt.date(2026, 11, 20)) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("birth_date", dt.date(2030, 1, 1), "cannot be in the future"),
        ("referral_date", dt.date(1950, 1, 1), "before the date of birth"),
        ("sex", "X", "sex must be one of"),
    ],
)
def test_bad_patient_input(journey, field, value, message):
    from oncotrials.apps.subjects.models import Patient
    from oncotrials.apps.subjects.services import patient_create

    kwargs = {
        "site": journey.unit.main,
        "by": journey.unit.users["nurse"],
        "family_name": "A",
        "given_name": "B",
        "birth_date": dt.date(1960, 1, 1),
        "hospital_number": "H-9",
        "sex": "F",
        "referral_source": "department",
        "referral_date": dt.date(2026, 11, 1),
        field: value,
    }
    before = Patient.objects.count()
    with pytest.raises(ValidationError, match=message):
        patient_create(**kwargs)
    assert Patient.objects.count() == before


def test_screening_checklist_is_generated_from_the_trials_eligibility(journey):
    from oncotrials.apps.trials.services import trial_update

    trial = journey.cohort.trial
    trial.refresh_from_db()
    trial = trial_update(
        trial=trial,
        changes={
            "eligibility": [
                {"kind": "inclusion", "text": "ECOG 0-1"},
                {"kind": "exclusion", "text": "Brain metastases"},
            ]
        },
        by=journey.unit.users["admin"],
        reason="Protocol v2",
        expected_version=trial.version,
    )
    nurse = journey.unit.users["nurse"]
    consent_sign(
        patient=journey.patient, form=journey.form, signed_on=dt.date(2026, 11, 2), by=nurse
    )
    episode = screening_start(
        patient=journey.patient,
        trial=trial,
        kind="screening",
        started_on=dt.date(2026, 11, 2),
        by=nurse,
    )
    assert [c["criterion"] for c in episode.checklist] == [
        "Inclusion: ECOG 0-1",
        "Exclusion (must not apply): Brain metastases",
    ]
    with pytest.raises(ValidationError, match="Every checklist criterion must be met"):
        screening_close(
            episode=episode,
            outcome="eligible",
            closed_on=dt.date(2026, 11, 5),
            by=nurse,
            checklist=[
                {"criterion": "Inclusion: ECOG 0-1", "met": True},
                {"criterion": "Exclusion (must not apply): Brain metastases", "met": False},
            ],
        )
