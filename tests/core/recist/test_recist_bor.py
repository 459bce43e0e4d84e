"""Best overall response with and without confirmation, and the dates duration of response needs.

Source: Eisenhauer 2009 section 4.4 and Table 3 (confirmation); the precise confirmation rules as
stated for pharmaverse/admiralonco ``derive_param_confirmed_bor`` in the reference file
(``ref_confirm``, ``max_nr_ne``, ``accept_sd``, ``ref_start_window``).
"""

from __future__ import annotations

import pytest

from oncotrials.core.recist import RecistOptions, Response, evaluate_recist

# Target sums that give each time-point response from a 100 mm baseline.
SUM = {"CR": 0, "PR": 60, "SD": 90, "NE": "not_evaluated"}


def _record(b, sequence, days=(56, 84, 112, 140, 168), **kwargs):
    visits = []
    for day, response in zip(days, sequence, strict=False):
        if response == "PD":
            visits.append(b.visit(day, {"T1": 60}, [b.new(f"N{day}", 15)]))
        else:
            visits.append(b.visit(day, {"T1": SUM[response]}))
    return b.patient([b.target("T1", 100)], visits, **kwargs)


# Table 3 of RECIST 1.1: (first, subsequent) → BOR, for minimum SD duration met / not met.
TABLE_3 = [
    ("CR", "CR", "CR", "CR"),
    ("CR", "PR", "SD", "PD"),  # footnote (a): after a true CR, disease at the next point is PD
    ("CR", "SD", "SD", "PD"),
    ("CR", "PD", "SD", "PD"),
    ("CR", "NE", "SD", "NE"),
    ("PR", "CR", "PR", "PR"),
    ("PR", "PR", "PR", "PR"),
    ("PR", "PD", "SD", "PD"),
    ("PR", "NE", "SD", "NE"),
    ("NE", "NE", "NE", "NE"),
]


@pytest.mark.parametrize(("first", "then", "met", "not_met"), TABLE_3)
def test_table_3(b, first, then, met, not_met):
    record = _record(b, [first, then])
    sd_met = evaluate_recist(record, RecistOptions(confirmation=True, min_sd_days=56))
    sd_not_met = evaluate_recist(record, RecistOptions(confirmation=True, min_sd_days=57))
    assert sd_met.bor.response.value == met
    assert sd_not_met.bor.response.value == not_met


def test_table_3_pr_then_sd_is_sd_under_the_strict_reading(b):
    # PR (60 mm) then 71 mm: +18 % over the nadir, 29 % under baseline. Strictly SD → BOR SD;
    # under the EORTC continuing-PR reading the second point is PR and confirms the first.
    record = b.patient([b.target("T1", 100)], [b.visit(56, {"T1": 60}), b.visit(84, {"T1": 71})])
    strict = evaluate_recist(record, RecistOptions(confirmation=True, continuing_pr=False))
    eortc = evaluate_recist(record, RecistOptions(confirmation=True))
    assert strict.bor.response is Response.SD
    assert eortc.bor.response is Response.PR


def test_unconfirmed_bor_takes_the_best_response(b):
    result = evaluate_recist(_record(b, ["SD", "CR", "PD"]))
    assert result.bor_unconfirmed.response is Response.CR
    assert result.bor_unconfirmed.date == b.day(84)
    assert result.bor_confirmed.response is Response.SD


def test_confirmation_needs_at_least_28_days(b):
    # Section 4.4: confirmation "no less than 4 weeks after the criteria for response are first
    # met"; 27 days is too early, 28 days is enough (inclusive).
    early = _record(b, ["PR", "PR"], days=(56, 83))
    enough = _record(b, ["PR", "PR"], days=(56, 84))
    opts = RecistOptions(confirmation=True)
    assert evaluate_recist(early, opts).bor.response is Response.SD
    confirmed = evaluate_recist(enough, opts).bor
    assert confirmed.response is Response.PR
    assert confirmed.confirmed_by == b.day(84)


def test_minimum_interval_is_configurable(b):
    record = _record(b, ["PR", "PR"], days=(56, 84))
    opts = RecistOptions(confirmation=True, min_confirmation_days=42)
    assert evaluate_recist(record, opts).bor.response is Response.SD


def test_one_ne_between_a_response_and_its_confirmation_is_allowed_by_default(b):
    one = _record(b, ["PR", "NE", "PR"])
    two = _record(b, ["PR", "NE", "NE", "PR"])
    opts = RecistOptions(confirmation=True)
    assert evaluate_recist(one, opts).bor.response is Response.PR
    assert evaluate_recist(two, opts).bor.response is Response.SD
    wider = RecistOptions(confirmation=True, max_ne_between=2)
    assert evaluate_recist(two, wider).bor.response is Response.PR


def test_sd_between_pr_and_its_confirmation_only_when_accepted(b):
    record = b.patient(
        [b.target("T1", 100)],
        [b.visit(56, {"T1": 60}), b.visit(84, {"T1": 71}), b.visit(112, {"T1": 65})],
    )
    strict = RecistOptions(confirmation=True, continuing_pr=False)
    assert evaluate_recist(record, strict).bor.response is Response.SD
    accept = RecistOptions(confirmation=True, continuing_pr=False, accept_sd_between=True)
    assert evaluate_recist(record, accept).bor.response is Response.PR


def test_sd_counts_only_after_the_minimum_duration(b):
    # Section 4.4: SD must be met at least once after a protocol-defined minimum interval
    # (inclusive: admiralonco ``ADT >= ref + ref_start_window``).
    early = _record(b, ["SD"], days=(41,))
    on_the_day = _record(b, ["SD"], days=(42,))
    assert evaluate_recist(early).bor.response is Response.NE
    assert "before day 42" in evaluate_recist(early).bor.rule
    assert evaluate_recist(on_the_day).bor.response is Response.SD


def test_unconfirmed_early_pr_followed_by_pd_is_pd_when_confirmation_is_required(b):
    record = _record(b, ["PR", "PD"], days=(28, 56))
    result = evaluate_recist(record, RecistOptions(confirmation=True))
    assert result.bor.response is Response.PD
    assert result.bor_unconfirmed.response is Response.PR


def test_assessments_after_progression_do_not_count(b):
    record = b.patient(
        [b.target("T1", 100)],
        [
            b.visit(56, {"T1": 100}, [b.new("N1", 15)]),
            b.visit(84, {"T1": 40}),
        ],
    )
    result = evaluate_recist(record)
    assert result.timepoints[1].overall is Response.PR  # evaluated, but after PD
    assert result.bor.response is Response.PD
    assert result.progression_date == b.day(56)


def test_assessments_on_or_after_new_therapy_do_not_count(b):
    record = _record(b, ["SD", "PR", "PR"], new_therapy_day=84)
    result = evaluate_recist(record)
    assert result.bor.response is Response.SD
    assert result.last_adequate_date == b.day(56)


def test_non_target_only_disease_gives_non_cr_non_pd(b):
    record = b.patient([b.non_target("NT1")], [b.visit(56, {"NT1": "present"})])
    result = evaluate_recist(record, RecistOptions(confirmation=True))
    assert result.bor.response is Response.NON_CR_NON_PD


def test_unconfirmed_cr_of_non_target_only_disease_falls_back_to_non_cr_non_pd(b):
    record = b.patient([b.non_target("NT1")], [b.visit(56, {"NT1": "absent"})])
    result = evaluate_recist(record, RecistOptions(confirmation=True))
    assert result.bor.response is Response.NON_CR_NON_PD
    assert result.bor_unconfirmed.response is Response.CR


def test_response_dates_for_duration_of_response(b):
    # DoR runs from the first date CR/PR criteria are met (the first of the confirming pair).
    record = b.patient(
        [b.target("T1", 100)],
        [
            b.visit(56, {"T1": 60}),
            b.visit(84, {"T1": 71}),  # strict SD: the PR of day 56 is not confirmed
            b.visit(112, {"T1": 65}),
            b.visit(140, {"T1": 60}),
            b.visit(168, {"T1": 80}),  # +33 % and +20 mm over the 60 mm nadir
        ],
    )
    unconfirmed = evaluate_recist(record, RecistOptions(continuing_pr=False))
    confirmed = evaluate_recist(record, RecistOptions(continuing_pr=False, confirmation=True))
    assert unconfirmed.response_date == b.day(56)
    assert confirmed.response_date == b.day(112)
    assert confirmed.bor.confirmed_by == b.day(140)
    assert confirmed.progression_date == b.day(168)
    assert confirmed.last_adequate_date == b.day(140)


def test_no_assessment_gives_ne(b):
    result = evaluate_recist(b.patient([b.target("T1", 100)], []))
    assert result.bor.response is Response.NE
    assert result.bor.date is None
