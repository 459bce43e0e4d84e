"""The remembered decisions of single events give what evaluating every event afresh gives:
whatever the order of subjects, with events changed between evaluations, with rules that weigh
concurrent events, and with times in other offsets than UTC."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrials.core.grading import dlt
from oncotrials.core.grading.dlt import (
    Episode,
    Outcome,
    SubjectData,
    evaluate_episode,
    evaluate_subject,
    load_dlt_rules,
)

ROOT = Path(__file__).resolve().parents[3]
RULES = load_dlt_rules(ROOT / "docs" / "formats" / "examples" / "dlt-rules.example.yaml")
FIRST = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
TERMS = [
    "Nausea",
    "Diarrhea",
    "Fatigue",
    "Colitis",
    "Neutrophil count decreased",
    "Platelet count decreased",
    "Sepsis",
    "Epistaxis",
    "Alopecia",
    "Febrile neutropenia",
]
ATTRIBUTIONS = [None, "unrelated", "unlikely", "possible", "probable", "definite"]


def _day(n: int, hours: int = 0) -> dt.datetime:
    return FIRST + dt.timedelta(days=n, hours=hours)


def _afresh(subject: SubjectData) -> list[dlt.EventDecision]:
    return [
        evaluate_episode(e, RULES, first_dose=subject.first_dose, others=subject.episodes)
        for e in subject.episodes
    ]


def _subject(*episodes: Episode, first: dt.datetime = FIRST) -> SubjectData:
    return SubjectData("S1", first, tuple(episodes), followed_through_day=30)


episodes = st.builds(
    lambda i, term, onset, grade, hours, recovers, attribution, care, progression: Episode(
        id=f"AE-{i}",
        term=term,
        scale="CTCAE",
        course=((_day(onset), grade), (_day(onset, hours), 0))
        if recovers
        else ((_day(onset), grade),),
        attribution=attribution,
        supportive_care=care,
        due_to_disease_progression=progression,
    ),
    st.integers(1, 12),
    st.sampled_from(TERMS),
    st.integers(-3, 30),
    st.integers(1, 5),
    st.integers(1, 24 * 10),
    st.booleans(),
    st.sampled_from(ATTRIBUTIONS),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(episodes, max_size=8), min_size=1, max_size=6))
def test_every_evaluation_is_that_of_each_event_afresh(subjects: list[list[Episode]]) -> None:
    # Successive saves of one patient: each list is the patient's events at one save; events
    # of one id that differ between saves are a changed AE.
    for events in subjects + subjects[::-1]:
        subject = _subject(*events)
        decision = evaluate_subject(subject, RULES)
        assert list(decision.events[: len(events)]) == _afresh(subject)


def test_an_event_that_weighs_concurrent_ones_follows_them() -> None:
    neutropenia = Episode(
        "AE-1", "Neutrophil count decreased", "CTCAE", ((_day(3), 3),), "possible"
    )
    infection = Episode("AE-2", "Sepsis", "CTCAE", ((_day(4), 4),), "possible")
    alone = evaluate_subject(_subject(neutropenia), RULES).events[0]
    assert alone.rule_id != "NEUT_G3_INFECTION"
    with_infection = evaluate_subject(_subject(neutropenia, infection), RULES).events[0]
    assert (with_infection.outcome, with_infection.rule_id) == (Outcome.DLT, "NEUT_G3_INFECTION")
    assert evaluate_subject(_subject(neutropenia), RULES).events[0] == alone


def test_a_changed_event_is_evaluated_again() -> None:
    colitis = Episode("AE-1", "Colitis", "CTCAE", ((_day(3), 3),), None)
    assert evaluate_subject(_subject(colitis), RULES).events[0].outcome is Outcome.PENDING
    related = dataclasses.replace(colitis, attribution="probable")
    assert evaluate_subject(_subject(related), RULES).events[0].outcome is Outcome.DLT
    late = dataclasses.replace(related, course=((_day(40), 3),))
    assert evaluate_subject(_subject(late), RULES).events[0].outcome is Outcome.NOT_DLT
    other_first = _subject(related, first=FIRST - dt.timedelta(days=30))
    assert evaluate_subject(other_first, RULES).events[0].outcome is Outcome.NOT_DLT


def test_equal_instants_in_another_offset_are_not_taken_for_utc_ones() -> None:
    # 23:00 UTC on day 21 (in the window) is 01:00 on day 22 at UTC+2 (outside it).
    utc = Episode("AE-1", "Colitis", "CTCAE", ((_day(20, 23), 3),), "probable")
    assert evaluate_subject(_subject(utc), RULES).events[0].outcome is Outcome.DLT
    plus2 = dt.timezone(dt.timedelta(hours=2))
    shifted = dataclasses.replace(utc, course=((_day(20, 23).astimezone(plus2), 3),))
    assert shifted == utc  # equal instants: equal keys, were they remembered
    subject = _subject(shifted, first=FIRST.astimezone(plus2))
    assert list(evaluate_subject(subject, RULES).events) == _afresh(subject)
    assert evaluate_subject(subject, RULES).events[0].outcome is Outcome.NOT_DLT
