"""iRECIST: iUPD, its confirmation (iCPD) or reset, and iBOR.

Sources: Seymour L et al. iRECIST. Lancet Oncol 2017;18:e143-e152 — Table 2 (time-point
response) and Table 3 (eight scenarios of iBOR, PMC5648544/table/T3); EORTC iRECIST FAQs as
cited per test.
"""

from __future__ import annotations

import pytest

from oncotrials.core.recist import (
    IRecistOptions,
    IResponse,
    RecistOptions,
    Response,
    evaluate_irecist,
    evaluate_recist,
)

DAYS = (56, 84, 112, 140, 168)


def _series(b, sums, *, baseline=50, days=DAYS, extra=None):
    """One 50 mm target; sums per time point ("NE" for not evaluated)."""
    visits = []
    for i, (day, value) in enumerate(zip(days, sums, strict=False)):
        new_lesions = (extra or {}).get(i, [])
        visits.append(
            b.visit(day, {"T1": "not_evaluated" if value == "NE" else value}, new_lesions)
        )
    return b.patient([b.target("T1", baseline)], visits)


def _responses(result):
    return [tp.overall for tp in result.timepoints]


# --- Seymour 2017 Table 3: scenarios of iBOR --------------------------------------------------


def test_table_3_example_1_icr_then_iupd_and_icpd_gives_icr(b):
    record = _series(
        b,
        [0, 0, 0, 0, 0],
        extra={3: [b.new("N1", 12, organ="lung")], 4: [b.new("N1", 12), b.new("N2", 11)]},
    )
    result = evaluate_irecist(record)
    assert _responses(result) == [
        IResponse.ICR,
        IResponse.ICR,
        IResponse.ICR,
        IResponse.IUPD,
        IResponse.ICPD,
    ]
    assert result.ibor.response is IResponse.ICR
    assert result.progression_date == b.day(140)  # the iUPD that was confirmed
    assert result.icpd_date == b.day(168)


def test_table_3_example_2_iupd_then_ipr_then_icr_gives_icr(b):
    result = evaluate_irecist(_series(b, [70, 30, 0, 0, 0]))
    assert _responses(result)[:3] == [IResponse.IUPD, IResponse.IPR, IResponse.ICR]
    assert "reset" in result.timepoints[1].rule
    assert result.ibor.response is IResponse.ICR


def test_table_3_example_3_iupd_then_ipr_gives_ipr(b):
    result = evaluate_irecist(_series(b, [70, 30, 32, "NE", 33]))
    assert result.ibor.response is IResponse.IPR


def test_table_3_example_5_iupd_isd_isd_iupd_icpd_gives_isd(b):
    result = evaluate_irecist(_series(b, [70, 50, 52, 62, 68]))
    assert _responses(result) == [
        IResponse.IUPD,
        IResponse.ISD,
        IResponse.ISD,
        IResponse.IUPD,  # after the reset, RECIST 1.1 PD again: +24 % and +12 mm over the nadir
        IResponse.ICPD,  # +6 mm over the second iUPD
    ]
    assert result.ibor.response is IResponse.ISD
    assert result.progression_date == b.day(140)


def test_table_3_example_6_iupd_then_icpd_gives_icpd(b):
    result = evaluate_irecist(_series(b, [70, 76]))
    assert _responses(result) == [IResponse.IUPD, IResponse.ICPD]
    assert result.ibor.response is IResponse.ICPD
    assert result.progression_date == b.day(56)


def test_table_3_example_7_iupd_remains_then_icpd_with_additive_increases(b):
    # EORTC FAQ "How do new lesions define progression?": increases add up, +4 mm then +2 mm
    # confirms; here 70 → 72 (+2, remains iUPD) → 75 (+5 from the iUPD assessment: iCPD).
    result = evaluate_irecist(_series(b, [70, 72, 75]))
    assert _responses(result) == [IResponse.IUPD, IResponse.IUPD, IResponse.ICPD]
    assert result.ibor.response is IResponse.ICPD


def test_table_3_example_8_iupd_then_only_ne_gives_iupd(b):
    result = evaluate_irecist(_series(b, [70, "NE", "NE", "NE", "NE"]))
    assert _responses(result)[1:] == [IResponse.NE] * 4
    assert result.ibor.response is IResponse.IUPD
    assert result.progression_date is None  # never confirmed


def test_recist_calls_progression_where_irecist_waits(b):
    record = _series(b, [70, 30])
    assert evaluate_recist(record).bor.response is Response.PD
    assert evaluate_irecist(record).ibor.response is IResponse.IPR


def test_eortc_continuing_pr_example_holds_for_irecist(b):
    # EORTC FAQ "Managing PR when TP measurements change slightly over time": sums 100, 70, 70,
    # 80, 80, 80 with non-target unchanged give PR at every point, and iPR under iRECIST.
    visits = [
        b.visit(day, {"T1": value, "NT1": "present"})
        for day, value in zip((42, 84, 126, 168, 210), (70, 70, 80, 80, 80), strict=True)
    ]
    record = b.patient([b.target("T1", 100), b.non_target("NT1")], visits)
    assert [tp.overall for tp in evaluate_recist(record).timepoints] == [Response.PR] * 5
    assert _responses(evaluate_irecist(record)) == [IResponse.IPR] * 5


# --- Table 2: confirmation by category ------------------------------------------------------


def _nt_record(b, statuses, new_at=None):
    visits = []
    for i, (day, status) in enumerate(zip(DAYS, statuses, strict=False)):
        new_lesions = [b.new("N1", 12, organ="lung")] if new_at is not None and i >= new_at else []
        visits.append(b.visit(day, {"T1": 50, "NT1": status}, new_lesions))
    return b.patient([b.target("T1", 50), b.non_target("NT1")], visits)


def test_non_target_iupd_remains_without_change_and_is_confirmed_by_any_increase(b):
    # Table 2 row 6: remains iUPD unless a further increase in non-target disease, which "does
    # not need to meet RECIST 1.1 criteria for unequivocal progression".
    statuses = ["unequivocal_progression", "unequivocal_progression", "increased"]
    result = evaluate_irecist(_nt_record(b, statuses))
    assert _responses(result) == [IResponse.IUPD, IResponse.IUPD, IResponse.ICPD]
    assert "further increase of non-target disease" in result.timepoints[2].rule


def test_non_target_iupd_no_longer_unequivocal_resets(b):
    result = evaluate_irecist(_nt_record(b, ["unequivocal_progression", "present"]))
    assert _responses(result) == [IResponse.IUPD, IResponse.ISD]


def test_new_lesions_at_confirmation_are_progression_in_another_category(b):
    # EORTC FAQ "If iUPD is driven by non-target disease, how is progression confirmed?"
    result = evaluate_irecist(_nt_record(b, ["unequivocal_progression", "present"], new_at=1))
    assert _responses(result) == [IResponse.IUPD, IResponse.ICPD]
    assert "new category" in result.timepoints[1].rule


def _new_lesion_record(b, second):
    return b.patient(
        [b.target("T1", 50)],
        [
            b.visit(56, {"T1": 50}, [b.new("N1", 12, organ="lung"), b.new("M1", organ="bone")]),
            b.visit(84, {"T1": 50}, second),
        ],
    )


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        # no change in the new lesions: remains iUPD
        (lambda b: [b.new("N1", 12), b.new("M1")], IResponse.IUPD),
        # NLT sum +4 mm: remains iUPD; +5 mm: iCPD (Table 2: "≥5 mm in sum of measures")
        (lambda b: [b.new("N1", 16), b.new("M1")], IResponse.IUPD),
        (lambda b: [b.new("N1", 17), b.new("M1")], IResponse.ICPD),
        # any increase of a new non-target lesion
        (lambda b: [b.new("N1", 12), b.new("M1", status="increased")], IResponse.ICPD),
        # more new lesions
        (lambda b: [b.new("N1", 12), b.new("M1"), b.new("N2", 11)], IResponse.ICPD),
        # new lesions gone and target stable: reset to iSD
        (lambda b: [b.new("N1", status="absent"), b.new("M1", status="absent")], IResponse.ISD),
    ],
)
def test_new_lesion_iupd_confirmation(b, second, expected):
    lesions = second(b)
    result = evaluate_irecist(_new_lesion_record(b, lesions))
    assert result.timepoints[0].overall is IResponse.IUPD
    assert result.timepoints[0].iupd_categories == ("new_lesions",)
    assert result.timepoints[1].overall is expected


# --- the confirmation window ----------------------------------------------------------------


def test_scan_under_four_weeks_after_iupd_is_disregarded(b):
    # Seymour 2017 and EORTC FAQ: confirmation at the next assessment 4-8 weeks later; a scan
    # done earlier (beyond the ±2 day variance) is disregarded even if it shows growth.
    result = evaluate_irecist(_series(b, [70, 80, 70], days=(56, 70, 98)))
    assert _responses(result) == [IResponse.IUPD, IResponse.IUPD, IResponse.IUPD]
    assert "disregarded" in result.timepoints[1].rule


def test_the_two_day_variance_lets_a_scan_26_days_later_confirm(b):
    assert evaluate_irecist(_series(b, [70, 80], days=(56, 82))).timepoints[1].overall is (
        IResponse.ICPD
    )
    assert evaluate_irecist(_series(b, [70, 80], days=(56, 81))).timepoints[1].overall is (
        IResponse.IUPD
    )
    strict = IRecistOptions(confirm_tolerance_days=0)
    assert evaluate_irecist(_series(b, [70, 80], days=(56, 82)), strict).timepoints[1].overall is (
        IResponse.IUPD
    )


def test_early_scan_for_symptoms_with_a_further_new_lesion_confirms(b):
    # EORTC FAQ "Can imaging be used to confirm progression even when done less than four weeks
    # after the scans that showed iUPD?": yes, if done for a new symptom or sign and it shows an
    # additional new lesion; growth of existing lesions alone does not.
    liver = [b.new("L1", 15, organ="liver")]
    base = [b.target("T1", 50)]
    more = b.patient(
        base,
        [
            b.visit(56, {"T1": 50}, liver),
            b.visit(
                70, {"T1": 50}, [*liver, b.new("B1", 12, organ="brain")], clinical_symptoms=True
            ),
        ],
    )
    grown = b.patient(
        base,
        [
            b.visit(56, {"T1": 50}, liver),
            b.visit(70, {"T1": 50}, [b.new("L1", 25, organ="liver")], clinical_symptoms=True),
        ],
    )
    assert _responses(evaluate_irecist(more)) == [IResponse.IUPD, IResponse.ICPD]
    assert _responses(evaluate_irecist(grown)) == [IResponse.IUPD, IResponse.IUPD]


# --- iBOR -----------------------------------------------------------------------------------


def test_ibor_with_confirmation_needs_a_confirmed_ipr(b):
    record = _series(b, [70, 30, 30])
    opts = IRecistOptions(recist=RecistOptions(confirmation=True))
    result = evaluate_irecist(record, opts)
    assert result.ibor.response is IResponse.IPR
    assert result.ibor.confirmed_by == b.day(112)
    assert result.response_date == b.day(84)
    single = evaluate_irecist(_series(b, [70, 30, 70]), opts)
    assert single.ibor.response is IResponse.ISD  # iPR at day 84 not confirmed


def test_growth_on_an_early_scan_counts_at_the_next_valid_assessment(b):
    # Increases add up from the iUPD assessment (EORTC FAQ): growth seen on a scan too early to
    # confirm is not lost; the next valid assessment confirms even without further growth.
    record = b.patient(
        [b.target("T1", 50), b.non_target("NT1")],
        [
            b.visit(56, {"T1": 50, "NT1": "unequivocal_progression"}),
            b.visit(70, {"T1": 50, "NT1": "increased"}),
            b.visit(98, {"T1": 50, "NT1": "unequivocal_progression"}),
        ],
    )
    assert _responses(evaluate_irecist(record)) == [
        IResponse.IUPD,
        IResponse.IUPD,
        IResponse.ICPD,
    ]


def test_after_a_reset_a_further_new_lesion_starts_a_new_iupd(b):
    # Seymour 2017: after the bar is reset, progression must again meet RECIST 1.1; for new
    # lesions (EORTC FAQ "How do new lesions define progression?") a further new lesion does.
    record = b.patient(
        [b.target("T1", 50)],
        [
            b.visit(56, {"T1": 50}, [b.new("N1", 12, organ="lung")]),
            b.visit(84, {"T1": 50}, [b.new("N1", status="absent")]),
            b.visit(112, {"T1": 50}, [b.new("N1", status="absent")]),
            b.visit(140, {"T1": 50}, [b.new("N1", status="absent"), b.new("N2", 11)]),
            b.visit(168, {"T1": 50}, [b.new("N1", status="absent"), b.new("N2", 17)]),
        ],
    )
    result = evaluate_irecist(record)
    assert _responses(result) == [
        IResponse.IUPD,
        IResponse.ISD,  # reset
        IResponse.ISD,
        IResponse.IUPD,  # a new iUPD, with its own confirmation
        IResponse.ICPD,  # new-lesion target sum +6 mm
    ]
    assert result.progression_date == b.day(140)
    assert result.ibor.response is IResponse.ISD


def test_reappearance_after_baseline_cr_counts_even_if_a_new_lesion_was_seen(b):
    from oncotrials.core.recist import evaluate_recist

    record = b.patient(
        [b.target("T1", 30)],
        [
            b.visit(42, {"T1": 0}, [b.new("N1", 12, organ="lung")]),
            b.visit(84, {"T1": 3}, [b.new("N1", status="absent")]),
        ],
    )
    second = evaluate_recist(record).timepoints[1]
    assert second.target is Response.PD
    assert "reappeared" in (second.target_rule or "")


def test_remaining_iupd_after_a_small_rise_names_the_rise_not_no_increase(b):
    # 70 (iUPD) → 74 (+4 mm, < 5 mm): remains iUPD; the rule states the rise and what iCPD needs
    result = evaluate_irecist(_series(b, [70, 74]))
    assert _responses(result) == [IResponse.IUPD, IResponse.IUPD]
    rule = result.timepoints[1].rule
    assert "no further increase" not in rule
    assert "target sum +4.00 mm since the iUPD assessment, < +5 mm" in rule
    assert "at least 5 mm" in rule


def test_confirming_scan_more_than_8_weeks_after_iupd_is_used_with_a_warning(b):
    # Seymour 2017: confirmation at the next assessment 4-8 weeks after iUPD; 70 days later
    result = evaluate_irecist(_series(b, [70, 76], days=(56, 126)))
    assert _responses(result) == [IResponse.IUPD, IResponse.ICPD]
    (warning,) = result.timepoints[1].warnings
    assert "confirming scan 70 days after the iUPD assessment of 2024-02-26" in warning
    assert "4-8 weeks" in warning
    assert result.timepoints[0].warnings == ()
    # within the window (8 weeks + 2 days of variance): no warning
    on_time = evaluate_irecist(_series(b, [70, 76], days=(56, 114)))
    assert on_time.timepoints[1].warnings == ()
    # the window is a protocol option
    wider = evaluate_irecist(
        _series(b, [70, 76], days=(56, 126)), IRecistOptions(confirm_max_days=70)
    )
    assert wider.timepoints[1].warnings == ()
