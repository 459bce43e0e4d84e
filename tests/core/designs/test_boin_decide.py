"""Live BOIN decisions: every action with its reason and table row."""

from __future__ import annotations

import pytest

from oncotrials.core.designs import BOIN, Action, DoseData
from oncotrials.core.errors import ValidationError

# Boundaries for target 0.3 at n = 3: escalate if 0 DLT, de-escalate if >= 2, eliminate if 3
# (BOIN::get.boundary(target=0.3, ncohort=10, cohortsize=3)).


def test_zero_of_three_escalates() -> None:
    dec = BOIN(0.3).decide([(3, 0), (0, 0), (0, 0)], current=0)
    assert dec.action is Action.ESCALATE
    assert dec.next_dose == 1
    assert "escalate if DLTs <= 0" in dec.rule


def test_one_of_three_stays() -> None:
    dec = BOIN(0.3).decide([(3, 0), (3, 1), (0, 0)], current=1)
    assert dec.action is Action.STAY
    assert dec.next_dose == 1


def test_two_of_three_deescalates() -> None:
    dec = BOIN(0.3).decide([(3, 0), (3, 2), (0, 0)], current=1)
    assert dec.action is Action.DE_ESCALATE
    assert dec.next_dose == 0


def test_three_of_three_eliminates_dose_and_above() -> None:
    dec = BOIN(0.3).decide([(3, 0), (3, 3), (0, 0)], current=1)
    assert dec.action is Action.ELIMINATE
    assert dec.next_dose == 0
    assert dec.eliminated == (1, 2)


def test_eliminated_next_dose_blocks_escalation() -> None:
    # brockk/escalation#2: after "2TTT 1NNN" BOIN must not go back to the eliminated dose 2.
    design = BOIN(0.3)
    dec = design.decide([(3, 0), (3, 3), (0, 0)], current=0)
    assert dec.action is Action.STAY
    assert dec.next_dose == 0
    assert "eliminated" in dec.reason
    assert design.select_mtd([(3, 0), (3, 3), (0, 0)]).dose == 0


def test_lowest_dose_too_toxic_stops_without_mtd() -> None:
    dec = BOIN(0.3).decide([(3, 3), (0, 0)], current=0)
    assert dec.action is Action.STOP
    assert dec.next_dose is None
    assert dec.mtd is None


def test_extrasafe_stops_earlier_at_lowest_dose() -> None:
    # stop_boundary at n=3 is 2 DLTs with extrasafe (cutoff 0.95 - 0.05), vs elimination at 3.
    assert BOIN(0.3).decide([(3, 2), (0, 0)], current=0).action is Action.STAY
    dec = BOIN(0.3, extrasafe=True).decide([(3, 2), (0, 0)], current=0)
    assert dec.action is Action.STOP


def test_deescalate_signal_at_lowest_dose_stays() -> None:
    dec = BOIN(0.3).decide([(6, 3), (0, 0)], current=0)
    assert dec.action is Action.STAY
    assert "lowest dose" in dec.reason


def test_top_dose_escalate_signal_stays() -> None:
    dec = BOIN(0.3).decide([(3, 0), (3, 0)], current=1)
    assert dec.action is Action.STAY
    assert "highest dose" in dec.reason


def test_n_earlystop_stops_only_on_stay() -> None:
    design = BOIN(0.3, n_earlystop=9)
    stay = design.decide([(3, 0), (9, 3), (0, 0)], current=1)  # 3/9 stays
    assert stay.action is Action.STOP
    assert stay.mtd == 1
    move = design.decide([(3, 0), (9, 1), (0, 0)], current=1)  # 1/9 escalates
    assert move.action is Action.ESCALATE


def test_sample_size_reached_stops_with_mtd() -> None:
    design = BOIN(0.3, n_cohorts=4)
    dec = design.decide([(3, 0), (6, 1), (3, 2)], current=2)
    assert dec.action is Action.STOP
    assert dec.mtd == 1


def test_no_patients_yet_treats_at_current_dose() -> None:
    dec = BOIN(0.3).decide([(0, 0), (0, 0), (0, 0)], current=0)
    assert dec.action is Action.STAY
    assert dec.next_dose == 0


def test_accepts_dose_data_objects() -> None:
    dec = BOIN(0.3).decide([DoseData(3, 0), DoseData(0, 0)], current=0)
    assert dec.action is Action.ESCALATE


@pytest.mark.parametrize(
    ("data", "current", "fragment"),
    [
        ([(3, 4), (0, 0)], 0, "DLTs cannot exceed"),
        ([(3, 0), (0, 0)], 5, "not one of the 2 dose levels"),
        ([(-1, 0)], 0, "non-negative"),
        ([], 0, "got none"),
    ],
)
def test_bad_data_errors_name_the_dose(data: list, current: int, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        BOIN(0.3).decide(data, current=current)
    assert fragment in exc.value.message
