"""PFS, OS and DoR derivation: one test per row of the FDA PFS censoring table."""

from __future__ import annotations

import datetime as dt

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.survival import PfsRules, derive_dor, derive_os, derive_pfs

START = dt.date(2024, 1, 1)


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


SCANS = [day(56), day(112), day(168)]


def pfs(**kwargs):
    kwargs.setdefault("assessment_dates", SCANS)
    return derive_pfs(subject_id="S1", start_date=START, **kwargs)


def test_progression_is_an_event_at_the_date_it_was_documented():
    result = pfs(progression_date=day(200), assessment_dates=[*SCANS, day(200)])
    assert (result.days, result.event) == (200, True)
    assert "progression documented" in result.rule


def test_death_without_progression_is_an_event():
    result = pfs(death_date=day(130))
    assert (result.days, result.event) == (130, True)
    assert "death" in result.rule


def test_death_before_the_first_assessment_is_an_event():
    result = pfs(death_date=day(20), assessment_dates=[])
    assert (result.end_date, result.event) == (day(20), True)


def test_no_event_is_censored_at_the_last_adequate_assessment():
    result = pfs()
    assert (result.end_date, result.event) == (day(168), False)


def test_no_baseline_assessment_is_censored_at_start():
    result = pfs(has_baseline_assessment=False, progression_date=day(56))
    assert (result.days, result.event) == (0, False)
    assert pfs(
        has_baseline_assessment=False,
        progression_date=day(56),
        rules=PfsRules(censor_without_baseline=False),
    ).event


def test_new_therapy_before_progression_censors_at_the_last_assessment_before_it():
    result = pfs(new_therapy_date=day(150), progression_date=day(200))
    assert (result.end_date, result.event) == (day(112), False)
    assert "new anticancer therapy" in result.rule
    kept = pfs(
        new_therapy_date=day(150),
        progression_date=day(200),
        rules=PfsRules(censor_at_new_therapy=False),
    )
    assert (kept.end_date, kept.event) == (day(200), True)


def test_event_after_two_missed_visits_is_censored_before_the_gap():
    # 8-weekly scans, last adequate on day 56; the day-112 and day-168 visits are missed and
    # progression is found on day 200 (> 2 x 56 + 7 days later).
    rules = PfsRules(visit_interval_days=56)
    result = pfs(assessment_dates=[day(56)], progression_date=day(200), rules=rules)
    assert (result.end_date, result.event) == (day(56), False)
    assert "2 or more missed visits" in result.rule
    # one missed visit (day 112), progression on day 170: still an event
    one_missed = pfs(assessment_dates=[day(56)], progression_date=day(170), rules=rules)
    assert (one_missed.end_date, one_missed.event) == (day(170), True)
    # EMA-style: the gap does not matter
    ema = PfsRules(max_missed_visits=None, visit_interval_days=56)
    assert pfs(assessment_dates=[day(56)], progression_date=day(200), rules=ema).event


def test_dates_before_start_are_refused_with_the_field_named():
    with pytest.raises(ValidationError, match=r"Subject S1, field assessment_dates\[0\]"):
        pfs(assessment_dates=[day(-3)])
    with pytest.raises(ValidationError, match="Subject S1, field death_date"):
        pfs(death_date=day(-1))


def test_dor_runs_from_the_response_to_progression():
    result = derive_dor(
        subject_id="S1",
        response_date=day(56),
        assessment_dates=SCANS,
        progression_date=day(168),
    )
    assert result is not None
    assert (result.days, result.event, result.endpoint) == (112, True, "DoR")


def test_dor_is_undefined_for_non_responders():
    assert derive_dor(subject_id="S1", response_date=None, assessment_dates=SCANS) is None


def test_dor_refuses_progression_before_response():
    with pytest.raises(ValidationError, match="field progression_date"):
        derive_dor(
            subject_id="S1",
            response_date=day(112),
            assessment_dates=SCANS,
            progression_date=day(56),
        )


def test_os():
    died = derive_os(
        subject_id="S1", start_date=START, death_date=day(300), last_known_alive_date=day(290)
    )
    alive = derive_os(
        subject_id="S1", start_date=START, death_date=None, last_known_alive_date=day(400)
    )
    assert (died.days, died.event) == (300, True)
    assert (alive.days, alive.event) == (400, False)
    with pytest.raises(ValidationError, match="neither death_date nor last_known_alive_date"):
        derive_os(subject_id="S1", start_date=START, death_date=None, last_known_alive_date=None)
