"""Rescheduling: cancelled and added requests, a penalty per moved booking, locked bookings."""

from __future__ import annotations

import pytest

from fixtures.scheduling import chair, tiny_doc, wednesday_doc
from oncotrials.core.errors import ValidationError
from oncotrials.core.scheduling import (
    apply_changes,
    first_fit,
    load_instance,
    objective,
    reschedule,
    validate,
)

FAST = {"time_limit": 0.3, "deterministic": True}


@pytest.fixture(scope="module")
def planned():
    instance = load_instance(wednesday_doc(20, 2))
    plan = first_fit(instance)
    assert validate(instance, plan) == []
    assert len(plan) == 22
    return instance, plan


def test_cancel_moves_nothing(planned):
    instance, plan = planned
    gone = sorted(plan)[0]
    result = reschedule(instance, plan, cancelled=[gone], **FAST)
    new = apply_changes(instance, cancelled=[gone])
    assert gone not in result.solution
    assert validate(new, result.solution) == []
    assert result.moved == ()
    assert result.objective <= objective(instance, plan)


def test_added_visit_is_planned_without_moving_others(planned):
    instance, plan = planned
    extra = chair("NEW1", [2], kind="standard")
    result = reschedule(instance, plan, added=[extra], **FAST)
    new = apply_changes(instance, added=[extra])
    assert "NEW1" in result.solution
    assert result.unscheduled == ()
    assert validate(new, result.solution) == []
    assert result.moved == ()
    assert all(result.solution[k][:2] == plan[k][:2] for k in plan)


def _one_chair_with_a_late_confirmed_booking(**a_fields):
    doc = tiny_doc([chair("A", [0], **a_fields)], chairs=1)
    instance = load_instance(doc)
    previous = {"A": (0, 180, -1)}  # ends at 198: makespan 102
    return instance, previous


def test_confirmed_booking_stays_without_a_reason():
    instance, previous = _one_chair_with_a_late_confirmed_booking(confirmed=True)
    result = reschedule(instance, previous, added=[chair("B", [0])], **FAST)
    assert result.solution["A"][:2] == (0, 180)
    assert result.moved == ()
    assert "B" in result.solution


def test_confirmed_booking_moves_with_a_reason():
    instance, previous = _one_chair_with_a_late_confirmed_booking(confirmed=True)
    result = reschedule(
        instance,
        previous,
        added=[chair("B", [0])],
        reasons={"A": "patient asked for the morning"},
        **FAST,
    )
    # moving A to the morning saves 102 - 36 = 66 of makespan for a penalty of 50
    assert result.moved == ("A",)
    assert result.reasons == {"A": "patient asked for the morning"}
    assert result.objective == 36


def test_move_penalty_is_weighed_against_the_gain():
    instance, previous = _one_chair_with_a_late_confirmed_booking()
    cheap = reschedule(instance, previous, added=[chair("B", [0])], move_penalty=10, **FAST)
    dear = reschedule(instance, previous, added=[chair("B", [0])], move_penalty=500, **FAST)
    assert cheap.moved == ("A",)
    assert cheap.objective == 36
    assert dear.moved == ()
    assert dear.solution["A"][:2] == (0, 180)


def test_fixed_day_pk_visit_is_locked():
    instance, previous = _one_chair_with_a_late_confirmed_booking(samples=[2, 4, 6])
    assert instance.visit("A").locked  # three samples, one allowed day
    result = reschedule(instance, previous, added=[chair("B", [0])], move_penalty=1, **FAST)
    assert result.solution["A"][:2] == (0, 180)
    assert result.moved == ()


def test_unknown_cancelled_id(planned):
    instance, plan = planned
    with pytest.raises(ValidationError, match="'NOPE' is not a visit"):
        reschedule(instance, plan, cancelled=["NOPE"], **FAST)


def test_bad_added_visit_names_its_field(planned):
    instance, plan = planned
    with pytest.raises(ValidationError) as caught:
        reschedule(instance, plan, added=[chair("X", [2], unit="sofa")], **FAST)
    assert "added[0].unit" in caught.value.message
    assert "unknown resource 'sofa'" in caught.value.message


def test_empty_reason_is_refused():
    instance, previous = _one_chair_with_a_late_confirmed_booking(confirmed=True)
    with pytest.raises(ValidationError, match="reason cannot be empty"):
        reschedule(instance, previous, reasons={"A": " "}, **FAST)


def test_locked_bookings_that_conflict_are_refused():
    doc = tiny_doc([chair("A", [0], confirmed=True), chair("B", [0], confirmed=True)], chairs=1)
    instance = load_instance(doc)
    with pytest.raises(ValidationError, match="locked bookings conflict"):
        reschedule(instance, {"A": (0, 100, -1), "B": (0, 105, -1)}, **FAST)
