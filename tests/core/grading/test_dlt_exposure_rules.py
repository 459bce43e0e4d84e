"""DLT rules over exposure: dose delays within the window and dose intensity due to toxicity.

Protocol definitions modelled (clinical-rules reference, section 5, "typical phase I
definitions", after Le Tourneau, Lee & Siu, J Natl Cancer Inst 2009;101:708-720):
(a) the NCI-sponsored example (https://pmc.ncbi.nlm.nih.gov/articles/PMC3839288/table/T1):
"toxicity causing > 14-day delay", only events in cycle 1 — the cycle 1 toxicity shows as a
late start of cycle 2 (planned on the day after a 21-day window);
the evaluability threshold of the same reference ("min_fraction_planned_dose: 0.75"), which
protocols also state as a DLT: "less than 75 % of the planned cycle 1 dose because of toxicity".
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.grading.dlt import (
    DoseDelay,
    Outcome,
    SubjectData,
    dlt_rules_from_dict,
    evaluate_subject,
    read_structured_file,
    subjects_from_dict,
)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_RULES = ROOT / "docs" / "formats" / "examples" / "dlt-rules.example.yaml"


def _rules(*extra: dict[str, Any]) -> Any:
    data = copy.deepcopy(read_structured_file(EXAMPLE_RULES))
    data["dlt"]["rules"] += list(extra)
    return dlt_rules_from_dict(data)


@pytest.fixture(scope="module")
def rules():
    return _rules({"id": "DOSE_INTENSITY", "dose_intensity_lt": 0.75})


def subject(**parts: Any) -> Any:
    data = {"subject_id": "S1", "first_dose": "2026-01-05", "followed_through_day": 28, **parts}
    return subjects_from_dict(data)[0]


def dose(at: int, given: float, toxicity: bool = False, attribution: str | None = None) -> dict:
    d: dict[str, Any] = {"agent": "drug-x", "at": at, "dose": given, "planned_dose": 100}
    if toxicity:
        d["due_to_toxicity"] = True
    if attribution:
        d["attribution"] = attribution
    return d


def _event(decision: Any, rule_id: str) -> Any:
    (event,) = [e for e in decision.events if e.rule_id == rule_id]
    return event


def test_the_delay_of_the_next_cycle_start_counts_and_a_later_one_does_not(rules):
    # 21-day window: day 22 is the planned start of cycle 2 (counts), day 43 of cycle 3 (not).
    c2 = {"days": 16, "planned": 22, "due_to_toxicity": True, "attribution": "possible"}
    d = evaluate_subject(subject(dose_delays=[c2]), rules)
    assert (d.outcome, d.rule_id) == (Outcome.DLT, "DOSE_DELAY")
    assert d.events[0].onset_day == 22
    c3 = {**c2, "planned": 43}
    d = evaluate_subject(subject(dose_delays=[c3]), rules)
    assert d.outcome is Outcome.NOT_DLT
    assert "planned on day 43, outside the DLT window" in d.events[0].reason


def test_a_delay_for_toxicity_of_unknown_length_is_pending(rules):
    s = subject()
    unknown = DoseDelay("D1", None, True, "probable")
    d = evaluate_subject(SubjectData(s.subject_id, s.first_dose, (), dose_delays=(unknown,)), rules)
    assert d.outcome is Outcome.PENDING
    assert "cannot be told" in d.events[0].reason
    unrelated = DoseDelay("D1", None, True, "unrelated")
    d = evaluate_subject(
        SubjectData(s.subject_id, s.first_dose, (), dose_delays=(unrelated,)), rules
    )
    assert d.outcome is Outcome.NOT_DLT


def test_below_75_percent_of_the_window_dose_because_of_toxicity_is_a_dlt(rules):
    doses = [dose(1, 100), dose(8, 0, True, "probable"), dose(15, 50, True, "probable")]
    d = evaluate_subject(subject(administrations=doses), rules)
    event = _event(d, "DOSE_INTENSITY")
    assert event.outcome is Outcome.DLT
    assert event.onset_day == 8  # the first dose lost to toxicity
    assert "50 % of the planned dose" in event.reason  # 150 of 300 mg


def test_exactly_75_percent_is_not_below_the_threshold(rules):
    doses = [dose(1, 100), dose(8, 100), dose(15, 100), dose(18, 0, True, "probable")]
    event = _event(evaluate_subject(subject(administrations=doses), rules), "DOSE_INTENSITY")
    assert event.outcome is Outcome.NOT_DLT
    assert "75 % of the planned dose" in event.reason


def test_shortfalls_not_due_to_toxicity_are_forgiven(rules):
    # 150 of 300 mg received (50 %); 100 mg were missed for a supply problem and 50 mg for
    # toxicity: (300 - 50) / 300 = 83.3 % counts.
    doses = [dose(1, 100), dose(8, 0), dose(15, 50, True, "probable")]
    event = _event(evaluate_subject(subject(administrations=doses), rules), "DOSE_INTENSITY")
    assert event.outcome is Outcome.NOT_DLT
    assert "83.3 %" in event.reason
    assert "(50 % received" in event.reason


def test_doses_after_the_window_and_attribution_decide(rules):
    outside = [dose(1, 100), dose(22, 0, True, "probable"), dose(29, 0, True, "probable")]
    assert not [
        e
        for e in evaluate_subject(subject(administrations=outside), rules).events
        if e.outcome is not Outcome.NOT_DLT
    ]
    missing = [dose(1, 100), dose(8, 0, True), dose(15, 0, True)]
    event = _event(evaluate_subject(subject(administrations=missing), rules), "DOSE_INTENSITY")
    assert event.outcome is Outcome.PENDING
    unlikely = [dose(1, 100), dose(8, 0, True, "unlikely"), dose(15, 0, True, "unlikely")]
    event = _event(evaluate_subject(subject(administrations=unlikely), rules), "DOSE_INTENSITY")
    assert event.outcome is Outcome.NOT_DLT
    assert "attribution 'unlikely'" in event.reason


def test_an_open_window_leaves_a_low_intensity_pending(rules):
    doses = [dose(1, 100), dose(8, 0, True, "probable")]
    d = evaluate_subject(subject(administrations=doses, followed_through_day=10), rules)
    assert _event(d, "DOSE_INTENSITY").outcome is Outcome.PENDING
    assert "the window is open until day 21" in _event(d, "DOSE_INTENSITY").reason


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"id": "DI", "dose_intensity_lt": 1.5}, "rules/.*1.5"),
        ({"id": "DI", "dose_intensity_lt": 0}, "rules/"),
        ({"id": "DI", "dose_intensity_lt": 0.75, "min_grade": 3}, "rules/"),
    ],
)
def test_bad_dose_intensity_rules_are_refused_with_the_field(rule, message):
    with pytest.raises(ValidationError, match=message):
        _rules(rule)


def test_bad_administrations_in_the_input_are_refused_with_their_path():
    with pytest.raises(ValidationError, match="administrations/0"):
        subjects_from_dict(
            {
                "subject_id": "S1",
                "first_dose": "2026-01-05",
                "administrations": [{"agent": "x", "at": 1, "dose": -5, "planned_dose": 100}],
            }
        )
    with pytest.raises(ValidationError, match="study day 0"):
        subjects_from_dict(
            {
                "subject_id": "S1",
                "first_dose": "2026-01-05",
                "administrations": [{"agent": "x", "at": 0, "dose": 5, "planned_dose": 100}],
            }
        )
