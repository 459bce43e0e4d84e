"""A signed trial referral opens a referral whose state is read from the patient journey in the
referred trial (pre-screening → screening → included, or declined / ineligible), never typed
twice; a re-signed recommendation that is no longer a referral withdraws it."""

from __future__ import annotations

import datetime as dt

import pytest
from mtb_board_helpers import (
    PASSWORD,
    held_meeting,
    include,
    make_board,
    make_patient,
    pre_screen,
    screen,
    signed_referral,
)

pytestmark = pytest.mark.django_db
BOARD_DAY = dt.date(2026, 9, 17)


def _referred(unit, **kw):
    from oncotrials.apps.mtb.services import case_add

    board = make_board(unit)
    meeting = held_meeting(board, BOARD_DAY)
    patient = make_patient(unit.main, unit.users["nurse"])
    case = case_add(meeting=meeting, patient=patient, reason="G12C", by=board.coordinator)
    rec = signed_referral(board, case, **kw)
    return board, patient, rec


def _state(rec):
    from oncotrials.apps.mtb.selectors import referral_state

    rec.referral.refresh_from_db()
    return referral_state(rec.referral)


def test_signing_a_trial_referral_opens_a_referral_on_the_board_day(unit):
    board, patient, rec = _referred(unit)
    ref = rec.referral
    assert ref.patient == patient
    assert ref.trial == board.trial
    assert ref.opened_on == BOARD_DAY
    assert _state(rec).state == "referred"


def test_the_state_follows_pre_screening_screening_and_inclusion(unit):
    board, patient, rec = _referred(unit, cohort=None)
    pre_screen(board, patient, dt.date(2026, 9, 20))
    assert _state(rec).state == "pre_screening"
    screen(board, patient, dt.date(2026, 10, 1))
    assert (_state(rec).state, _state(rec).on) == ("screening", dt.date(2026, 10, 1))
    # Eligible: still screening until the registration.
    from oncotrials.apps.subjects.models import ScreeningEpisode
    from oncotrials.apps.subjects.services import screening_close

    ep = ScreeningEpisode.objects.get(patient=patient, kind="screening")
    screening_close(
        episode=ep,
        outcome="eligible",
        closed_on=dt.date(2026, 10, 8),
        by=unit.users["nurse"],
        checklist=[{"criterion": "ECOG 0-1", "met": True}],
    )
    assert _state(rec).state == "screening"
    include(board, patient, dt.date(2026, 10, 12))
    state = _state(rec)
    assert (state.state, state.on) == ("included", dt.date(2026, 10, 12))


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("patient_decision", "declined"),
        ("consent_withdrawn", "declined"),
        ("biomarker_negative", "ineligible"),
        ("performance_status", "ineligible"),
    ],
)
def test_a_failed_screening_reads_as_declined_or_ineligible(unit, reason, expected):
    board, patient, rec = _referred(unit)
    screen(board, patient, dt.date(2026, 10, 1), outcome="failed", reason=reason)
    assert _state(rec).state == expected


def test_a_failed_pre_screening_reads_as_ineligible(unit):
    board, patient, rec = _referred(unit)
    pre_screen(board, patient, dt.date(2026, 9, 20), outcome="failed", reason="biomarker_negative")
    assert _state(rec).state == "ineligible"


def test_the_journey_before_the_board_does_not_count(unit):
    from oncotrials.apps.mtb.services import case_add

    board = make_board(unit)
    patient = make_patient(unit.main, unit.users["nurse"])
    pre_screen(board, patient, dt.date(2026, 9, 1), outcome="failed", reason="other")
    meeting = held_meeting(board, BOARD_DAY)
    case = case_add(meeting=meeting, patient=patient, reason="new report", by=board.coordinator)
    rec = signed_referral(board, case)
    assert _state(rec).state == "referred"


def test_an_unsigned_referral_opens_nothing_and_a_kind_change_withdraws_it(unit):
    from oncotrials.apps.mtb.models import MtbReferral
    from oncotrials.apps.mtb.services import (
        case_add,
        recommendation_create,
        recommendation_sign,
        recommendation_update,
    )

    board = make_board(unit)
    meeting = held_meeting(board, BOARD_DAY)
    patient = make_patient(unit.main, unit.users["nurse"])
    case = case_add(meeting=meeting, patient=patient, reason="G12C", by=board.coordinator)
    rec = recommendation_create(
        case=case, kind="trial_referral", rationale="G12C", trial=board.trial, by=board.coordinator
    )
    assert not MtbReferral.objects.exists()
    inv = unit.users["investigator"]
    rec = recommendation_sign(recommendation=rec, meaning="approve", password=PASSWORD, by=inv)
    rec = recommendation_update(
        recommendation=rec,
        version=rec.version,
        kind="no_action",
        trial=None,
        cohort=None,
        rationale="Patient prefers standard care.",
        reason="patient's decision",
        by=board.coordinator,
    )
    # Changed but not re-signed: the referral stands until the board signs again.
    assert _state(rec).state == "referred"
    rec = recommendation_sign(recommendation=rec, meaning="approve", password=PASSWORD, by=inv)
    assert _state(rec).state == "withdrawn"
    rec = recommendation_update(
        recommendation=rec,
        version=rec.version,
        kind="trial_referral",
        trial=board.trial,
        cohort=board.cohort,
        rationale="Patient now agrees.",
        reason="patient changed their mind",
        by=board.coordinator,
    )
    rec = recommendation_sign(recommendation=rec, meaning="approve", password=PASSWORD, by=inv)
    ref = MtbReferral.objects.get()
    assert ref.withdrawn_at is None
    assert ref.cohort == board.cohort
    assert _state(rec).state == "referred"
