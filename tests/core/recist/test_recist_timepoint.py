"""RECIST 1.1 time-point response: target thresholds, non-target response, Tables 1 and 2.

Source for every rule: Eisenhauer EA et al. New response evaluation criteria in solid tumours:
revised RECIST guideline (version 1.1). Eur J Cancer 2009;45:228-247 (section 4.3, Tables 1-2).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from oncotrials.core.recist import RecistOptions, Response, evaluate_recist


def _one(b, baseline, values, new_lesions=(), **kwargs):
    record = b.patient(baseline, [b.visit(56, values, new_lesions, **kwargs)])
    return evaluate_recist(record).timepoints[0]


# --- target thresholds (section 4.3.1) -------------------------------------------------------


def test_exactly_30_percent_decrease_from_baseline_is_pr(b):
    # Section 4.3.1: PR is "at least a 30% decrease"; 50 mm → 35 mm is exactly -30 %.
    tp = _one(b, [b.target("T1", 30), b.target("T2", 20)], {"T1": 20, "T2": 15})
    assert tp.target is Response.PR
    assert tp.change_from_baseline_pct == Decimal("-30.00")


def test_just_under_30_percent_decrease_is_sd(b):
    tp = _one(b, [b.target("T1", 30), b.target("T2", 20)], {"T1": "20.1", "T2": 15})
    assert tp.target is Response.SD


def test_exactly_20_percent_and_5_mm_over_nadir_is_pd(b):
    # Section 4.3.1: PD needs ≥ 20 % over the nadir and ≥ 5 mm absolute; 25 → 30 mm meets both.
    tp = _one(b, [b.target("T1", 25)], {"T1": 30})
    assert tp.target is Response.PD
    assert tp.change_from_nadir_pct == Decimal("20.00")


def test_float_trap_25_2_over_21_reads_as_exactly_20_percent(b):
    # Reference file, pyrecist vector R-1d: in binary floats (25.2 - 21) / 21 = 0.19999999999999996.
    # Exact arithmetic reads it as +20.00 % (still SD: +4.2 mm is under the 5 mm rule).
    tp = _one(b, [b.target("T1", 21)], {"T1": 25.2})
    assert tp.change_from_nadir_pct == Decimal("20.00")
    assert tp.target is Response.SD


def test_float_input_at_exactly_20_percent_and_5_mm_is_pd(b):
    # 26.0 → 31.2 mm: +5.2 mm and +20 % exactly; (31.2 - 26) / 26 >= 0.2 is False in binary
    # floats, so a float implementation would miss this PD.
    assert (31.2 - 26) / 26 < 0.2
    tp = _one(b, [b.target("T1", 13.0), b.target("T2", 13.0)], {"T1": 15.6, "T2": 15.6})
    assert tp.target is Response.PD


def test_20_percent_but_under_5_mm_is_not_pd(b):
    # Section 4.3.1: "the sum must also demonstrate an absolute increase of at least 5 mm".
    tp = _one(b, [b.target("T1", 10)], {"T1": 12})
    assert tp.change_from_nadir_pct == Decimal("20.00")
    assert tp.target is Response.SD


def test_5_mm_but_under_20_percent_is_not_pd(b):
    tp = _one(b, [b.target("T1", 30)], {"T1": 35})
    assert tp.target is Response.SD


def test_pd_is_measured_from_the_nadir_not_from_baseline(b):
    # Section 4.3.1: PD takes "as reference the smallest sum on study (this includes the baseline
    # sum if that is the smallest on study)". 100 → 60 (nadir) → 72: +20 % and +12 mm.
    record = b.patient(
        [b.target("T1", 100)],
        [b.visit(42, {"T1": 60}), b.visit(84, {"T1": 72})],
    )
    tps = evaluate_recist(record).timepoints
    assert tps[0].target is Response.PR
    assert tps[1].target is Response.PD
    assert tps[1].nadir_mm == Decimal("60.00")
    assert tps[1].change_from_baseline_pct == Decimal("-28.00")


def test_lymph_node_target_below_10_mm_counts_as_cr_although_the_sum_is_not_zero(b):
    # Section 4.3.1 note: nodal targets keep their actual short axis, so at CR the sum "may not be
    # zero" if nodes have regressed to < 10 mm.
    tp = _one(
        b,
        [b.target("T1", 30, organ="liver"), b.target("N1", 20, nodal=True)],
        {"T1": 0, "N1": "9.9"},
    )
    assert tp.target is Response.CR
    assert tp.sum_mm == Decimal("9.90")


def test_node_at_exactly_10_mm_is_still_pathological(b):
    tp = _one(
        b,
        [b.target("T1", 30, organ="liver"), b.target("N1", 20, nodal=True)],
        {"T1": 0, "N1": 10},
    )
    assert tp.target is Response.PR


def test_too_small_to_measure_counts_as_5_mm(b):
    # EORTC clarification: a lesion present but too small to measure is recorded as 5 mm.
    tp = _one(b, [b.target("T1", 20)], {"T1": "too_small"})
    assert tp.sum_mm == Decimal("5.00")
    assert tp.target is Response.PR


def test_target_not_evaluated_gives_ne(b):
    tp = _one(b, [b.target("T1", 20), b.target("T2", 20)], {"T1": 18, "T2": "not_evaluated"})
    assert tp.target is Response.NE
    assert tp.sum_mm is None


def test_target_not_evaluated_but_assessed_lesions_alone_meet_pd_gives_pd(b):
    # Section 4.3.1 (NE): the missing lesion cannot hide progression the others already show.
    tp = _one(b, [b.target("T1", 20), b.target("T2", 20)], {"T1": 50, "T2": "not_evaluated"})
    assert tp.target is Response.PD
    assert tp.target_rule is not None
    assert "alone" in tp.target_rule


def test_continuing_pr_is_the_default_and_strict_reading_gives_sd(b):
    # EORTC FAQ "Managing PR when TP measurements change slightly over time": after PR the
    # response stays PR while PD is not met. 100 → 60 (PR) → 71 (29 % below baseline, +18 %).
    record = b.patient(
        [b.target("T1", 100)],
        [b.visit(42, {"T1": 60}), b.visit(84, {"T1": 71})],
    )
    eortc = evaluate_recist(record).timepoints[1]
    strict = evaluate_recist(record, RecistOptions(continuing_pr=False)).timepoints[1]
    assert eortc.target is Response.PR
    assert "continuing PR" in (eortc.target_rule or "")
    assert strict.target is Response.SD


# --- non-target response (section 4.3.2) ----------------------------------------------------


@pytest.mark.parametrize(
    ("status", "markers", "expected"),
    [
        ("absent", None, Response.CR),
        ("absent", True, Response.CR),
        ("absent", False, Response.NON_CR_NON_PD),  # raised tumour marker blocks CR
        ("present", None, Response.NON_CR_NON_PD),
        ("increased", None, Response.NON_CR_NON_PD),  # not unequivocal
        ("unequivocal_progression", None, Response.PD),
        ("not_evaluated", None, Response.NE),
    ],
)
def test_non_target_response(b, status, markers, expected):
    tp = _one(b, [b.non_target("NT1")], {"NT1": status}, tumour_markers_normal=markers)
    assert tp.non_target is expected


def test_non_target_node_that_shrinks_under_10_mm_is_normal(b):
    # Section 4.3.2: non-target CR needs "all lymph nodes non-pathological in size (<10 mm short
    # axis)"; a node still present at 8 mm no longer blocks CR.
    shrunk = _one(b, [b.non_target("N1", nodal=True, mm=12)], {"N1": "present"})
    assert shrunk.non_target is Response.NON_CR_NON_PD
    gone = _one(b, [b.non_target("N1", nodal=True, mm=12)], {"N1": ("present", 8)})
    assert gone.non_target is Response.CR


# --- Table 1: target disease ± non-target ---------------------------------------------------


TABLE_1 = [
    # (target values, non-target status, new lesion?, expected overall, Table 1 row)
    ({"T1": 0}, "absent", False, Response.CR, "row 1"),
    ({"T1": 0}, "present", False, Response.PR, "row 2"),
    ({"T1": 0}, "not_evaluated", False, Response.PR, "row 3"),
    ({"T1": 12}, "present", False, Response.PR, "row 4"),
    ({"T1": 12}, "not_evaluated", False, Response.PR, "row 4"),
    ({"T1": 18}, "present", False, Response.SD, "row 5"),
    ({"T1": 18}, "not_evaluated", False, Response.SD, "row 5"),
    ({"T1": "not_evaluated"}, "present", False, Response.NE, "row 6"),
    ({"T1": 30}, "absent", False, Response.PD, "row 7"),
    ({"T1": 0}, "unequivocal_progression", False, Response.PD, "row 8"),
    ({"T1": 0}, "absent", True, Response.PD, "row 9"),
]


@pytest.mark.parametrize(("targets", "nt", "has_new", "expected", "row"), TABLE_1)
def test_table_1(b, targets, nt, has_new, expected, row):
    new_lesions = [b.new("NEW1", 12, organ="lung")] if has_new else []
    tp = _one(b, [b.target("T1", 20), b.non_target("NT1")], {**targets, "NT1": nt}, new_lesions)
    assert tp.overall is expected
    assert f"Table 1 {row}:" in tp.rule


TABLE_2 = [
    ("absent", False, Response.CR, "row 1"),
    ("present", False, Response.NON_CR_NON_PD, "row 2"),
    ("not_evaluated", False, Response.NE, "row 3"),
    ("unequivocal_progression", False, Response.PD, "row 4"),
    ("present", True, Response.PD, "row 5"),
]


@pytest.mark.parametrize(("nt", "has_new", "expected", "row"), TABLE_2)
def test_table_2_non_target_disease_only(b, nt, has_new, expected, row):
    new_lesions = [b.new("NEW1", 12, organ="lung")] if has_new else []
    tp = _one(b, [b.non_target("NT1")], {"NT1": nt}, new_lesions)
    assert tp.overall is expected
    assert f"Table 2 {row}:" in tp.rule


# --- new lesions (section 4.3.3) ------------------------------------------------------------


def test_equivocal_new_lesion_does_not_count_until_confirmed_and_pd_is_backdated(b):
    # Section 4.3.3: "If a new lesion is equivocal ... continue therapy and follow-up ... If
    # repeat scans confirm there is definitely a new lesion, then progression should be declared
    # using the date of the initial scan."
    record = b.patient(
        [b.target("T1", 30)],
        [
            b.visit(42, {"T1": 20}, [b.new("N1", 6, organ="liver", equivocal=True)]),
            b.visit(84, {"T1": 20}, [b.new("N1", 14, organ="liver")]),
        ],
    )
    result = evaluate_recist(record)
    assert result.timepoints[0].overall is Response.PR
    assert result.timepoints[1].overall is Response.PD
    assert result.progression_date == b.day(42)


def test_new_lymph_node_under_10_mm_is_not_a_new_lesion(b):
    # EORTC clarification on new lesions: a new node counts only with short axis ≥ 10 mm.
    small = _one(b, [b.target("T1", 30)], {"T1": 30}, [b.new("N1", 9, nodal=True)])
    large = _one(b, [b.target("T1", 30)], {"T1": 30}, [b.new("N1", 10, nodal=True)])
    assert small.overall is Response.SD
    assert large.overall is Response.PD


def test_reappearance_after_overall_cr_is_pd_but_not_after_pr(b):
    # EORTC FAQ "Does a new lesion always result in PD?": reappearance after a definitive CR is
    # PD even below the +20 % / +5 mm thresholds.
    after_cr = b.patient(
        [b.target("T1", 30)],
        [b.visit(42, {"T1": 0}), b.visit(84, {"T1": 3})],
    )
    assert evaluate_recist(after_cr).timepoints[1].overall is Response.PD
    off = RecistOptions(reappearance_after_cr_is_pd=False)
    assert evaluate_recist(after_cr, off).timepoints[1].overall is Response.PR
    after_pr = b.patient(
        [b.target("T1", 30), b.non_target("NT1")],
        [b.visit(42, {"T1": 0, "NT1": "present"}), b.visit(84, {"T1": 3, "NT1": "present"})],
    )
    assert evaluate_recist(after_pr).timepoints[1].overall is Response.PR
