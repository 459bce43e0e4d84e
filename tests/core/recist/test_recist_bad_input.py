"""Bad input gives one clear error naming the record, the assessment, the lesion and the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist import evaluate_irecist, evaluate_recist


def test_assessment_dated_before_baseline(b):
    record = b.patient([b.target("T1", 20)], [b.visit(-10, {"T1": 18})])
    with pytest.raises(ValidationError) as info:
        evaluate_recist(record)
    message = info.value.message
    assert "Patient P1, assessment 1 (2023-12-22), field date" in message
    assert "before the baseline date 2023-12-25" in message


def test_duplicate_baseline_lesion_id(b):
    record = b.patient([b.target("T1", 20), b.target("T1", 30, organ="lung")], [])
    with pytest.raises(ValidationError, match="lesion T1, field lesion_id: the id is used twice"):
        evaluate_recist(record)


def test_duplicate_observation_in_one_assessment(b):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": 18})])
    visit = record.assessments[0]
    doubled = visit.__class__(visit.date, visit.lesions * 2)
    record = record.__class__("P1", record.start_date, record.baseline, (doubled,))
    with pytest.raises(ValidationError, match="lesion T1, field lesion_id: recorded twice"):
        evaluate_recist(record)


def test_target_missing_at_follow_up_without_status(b):
    record = b.patient([b.target("T1", 20), b.target("T2", 20)], [b.visit(42, {"T1": 18})])
    with pytest.raises(ValidationError) as info:
        evaluate_recist(record)
    assert "assessment 1 (2024-02-12), target lesion T2: missing" in info.value.message
    assert "not_evaluated" in info.value.message


def test_non_target_missing_at_follow_up(b):
    record = b.patient([b.target("T1", 20), b.non_target("NT1")], [b.visit(42, {"T1": 18})])
    with pytest.raises(ValidationError, match="non-target lesion NT1: missing"):
        evaluate_recist(record)


@pytest.mark.parametrize("value", [-1, Decimal("-0.1"), -3.5])
def test_negative_diameter_at_follow_up(b, value):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": value})])
    with pytest.raises(ValidationError, match="lesion T1, field diameter_mm: a diameter cannot be"):
        evaluate_recist(record)


def test_negative_diameter_at_baseline(b):
    record = b.patient([b.target("T1", -20)], [])
    with pytest.raises(ValidationError, match="lesion T1, field diameter_mm: a diameter cannot"):
        evaluate_recist(record)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), float("inf")])
def test_impossible_diameter(b, value):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": value})])
    with pytest.raises(ValidationError, match="field diameter_mm: expected a finite number"):
        evaluate_recist(record)


def test_diameter_finer_than_a_hundredth_of_a_mm(b):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": Decimal("12.345")})])
    with pytest.raises(ValidationError, match=r"recorded to 0\.01 mm at most, got 12\.345"):
        evaluate_recist(record)


def test_unknown_lesion_at_follow_up(b):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": 18, "T9": 5})])
    with pytest.raises(ValidationError, match="lesion T9, field lesion_id: not a baseline lesion"):
        evaluate_recist(record)


def test_new_lesion_reusing_a_baseline_id(b):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": 18}, [b.new("T1", 12)])])
    with pytest.raises(ValidationError, match="new lesion T1, field lesion_id: the id of a"):
        evaluate_recist(record)


def test_new_node_without_short_axis(b):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": 18}, [b.new("N1", nodal=True)])])
    with pytest.raises(ValidationError, match="new lesion N1, field diameter_mm"):
        evaluate_recist(record)


def test_status_not_allowed_for_a_target(b):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": "unequivocal_progression"})])
    with pytest.raises(ValidationError, match="target lesion T1, field status"):
        evaluate_recist(record)


def test_two_assessments_on_one_date(b):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": 18}), b.visit(42, {"T1": 17})])
    with pytest.raises(ValidationError, match=r"assessment 2 \(2024-02-12\), field date: two"):
        evaluate_recist(record)


def test_no_baseline_disease(b):
    record = b.patient([], [])
    with pytest.raises(ValidationError, match="no lesion recorded"):
        evaluate_recist(record)


def test_irecist_new_lesion_dropped_from_follow_up(b):
    record = b.patient(
        [b.target("T1", 20)],
        [b.visit(42, {"T1": 18}, [b.new("N1", 12)]), b.visit(84, {"T1": 18})],
    )
    evaluate_recist(record)  # RECIST 1.1 stops at the first PD and needs no follow-up of it
    with pytest.raises(ValidationError, match="new lesion N1: reported earlier but missing"):
        evaluate_irecist(record)


def test_error_is_raised_before_any_result_is_built(b):
    # the error of the third assessment surfaces even though the first two are valid
    record = b.patient(
        [b.target("T1", 20)],
        [b.visit(42, {"T1": 18}), b.visit(84, {"T1": 17}), b.visit(126, {"T1": -1})],
    )
    with pytest.raises(ValidationError, match=r"assessment 3 \(2024-05-06\)"):
        evaluate_recist(record)


def test_treatment_start_months_before_baseline_is_refused(b):
    # A start 7 months before the baseline scan: the scan is not a baseline (dates swapped?)
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": 18})])
    early = record.__class__(
        "P1", b.START.replace(year=2023, month=6), record.baseline, record.assessments
    )
    with pytest.raises(ValidationError) as info:
        evaluate_recist(early)
    assert "Patient P1, field start_date: 2023-06-01 is 207 days before the baseline" in (
        info.value.message
    )
    with pytest.raises(ValidationError, match="field start_date"):
        evaluate_irecist(early)


def test_treatment_start_a_few_days_before_baseline_is_accepted(b):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": 18})])
    early = record.__class__(
        "P1",
        record.baseline.date - dt.timedelta(days=3),
        record.baseline,
        record.assessments,
    )
    assert evaluate_recist(early).patient_id == "P1"


@pytest.mark.parametrize("value", [10**12, Decimal("1000.01"), 25000.0])
def test_implausible_diameter_is_refused(b, value):
    record = b.patient([b.target("T1", 20)], [b.visit(42, {"T1": value})])
    with pytest.raises(ValidationError, match=r"field diameter_mm: a diameter of .* mm is more"):
        evaluate_recist(record)
    baseline = b.patient([b.target("T1", value)], [])
    with pytest.raises(ValidationError, match="not a plausible lesion"):
        evaluate_recist(baseline)
