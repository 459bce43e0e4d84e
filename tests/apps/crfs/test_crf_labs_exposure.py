"""Lab results are graded with CTCAE v5 on save; exposure feeds the dose-intensity summary."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from oncotrials.apps.crfs.models import DrugAdministration, LabResult
from oncotrials.apps.crfs.selectors import dose_intensity
from oncotrials.apps.crfs.services import (
    administration_record,
    lab_result_create,
    lab_result_update,
)
from oncotrials.core.errors import ConflictError, PermissionDeniedError, ValidationError

DAY = dt.date(2026, 11, 13)


def _lab(cb, user="nurse", **kw):
    args = {"analyte": "ALT", "value": "200", "unit": "U/L", "uln": "40", "sampled_on": DAY}
    return lab_result_create(registration=cb.registration, by=cb.users[user], **(args | kw))


def test_a_lab_value_is_graded_with_the_rule_that_decided(cb):
    lab = _lab(cb)
    # CTCAE v5.0 ALT increased grade 2: >3.0-5.0 x ULN (200 U/L = 5 x 40).
    assert lab.grade == 2
    assert lab.term == "Alanine aminotransferase increased"
    assert "grade 2" in lab.rule


def test_neutrophils_in_conventional_units_are_converted_before_grading(cb):
    # CTCAE v5.0 neutrophil count decreased grade 3: <1000-500/mm3; 700/mm3 = 0.7 x 10^9/L.
    lab = _lab(cb, analyte="ANC", value="700", unit="/mm3", uln=None)
    assert lab.grade == 3


def test_a_unit_that_does_not_fit_the_analyte_is_refused_and_nothing_saved(cb):
    with pytest.raises(ValidationError, match="does not fit") as exc:
        _lab(cb, analyte="ANC", value="0.7", unit="mg/dL", uln=None)
    assert exc.value.extra["field"] == "unit"
    with pytest.raises(ValidationError, match="Unknown analyte") as exc:
        _lab(cb, analyte="CEA", value="3", unit="ng/mL")
    assert exc.value.extra["field"] == "analyte"
    with pytest.raises(ValidationError, match="future"):
        _lab(cb, sampled_on=dt.date(2026, 12, 1))
    assert not LabResult.objects.exists()


def test_a_lab_correction_needs_the_current_version_and_a_reason_and_regrades(cb):
    lab = _lab(cb)
    with pytest.raises(ValidationError, match="reason"):
        lab_result_update(
            lab=lab,
            version=1,
            value="50",
            unit="U/L",
            sampled_on=DAY,
            uln="40",
            reason=" ",
            by=cb.users["nurse"],
        )
    fixed = lab_result_update(
        lab=lab,
        version=1,
        value="50",
        unit="U/L",
        sampled_on=DAY,
        uln="40",
        reason="typo",
        by=cb.users["nurse"],
    )
    assert (fixed.grade, fixed.version) == (1, 2)
    with pytest.raises(ConflictError, match="version 2"):
        lab_result_update(
            lab=lab,
            version=1,
            value="60",
            unit="U/L",
            sampled_on=DAY,
            uln="40",
            reason="again",
            by=cb.users["investigator"],
        )


def test_monitor_cannot_enter_labs(cb):
    with pytest.raises(PermissionDeniedError):
        _lab(cb, user="shared_monitor")


def _dose(cb, dose, on, **kw):
    args = {"agent": "Drug B", "unit": "mg"} | kw
    return administration_record(
        registration=cb.registration, dose=dose, administered_on=on, by=cb.users["nurse"], **args
    )


def test_dose_intensity_against_the_planned_dose_level(cb):
    # Dose level 1 of the journey cohort: Drug B 50 mg.
    _dose(cb, "50", dt.date(2026, 11, 13))
    _dose(cb, "25", dt.date(2026, 11, 14), modification="reduction", modification_reason="G3 ALT")
    _dose(cb, "0", dt.date(2026, 11, 15), modification="interruption", modification_reason="G3 ALT")
    _dose(cb, "50", dt.date(2026, 11, 18), modification="delay", modification_reason="holiday")
    (row,) = dose_intensity(registration=cb.registration)
    assert row.agent == "Drug B"
    assert row.planned_dose == Decimal("50")
    assert row.administrations == 4
    assert row.actual_total == Decimal("125")
    assert row.planned_total == Decimal("200")
    assert row.relative_dose_intensity == Decimal("0.625")  # 125 / (4 x 50)
    assert (row.delays, row.reductions, row.interruptions) == (1, 1, 1)


def test_exposure_bad_input_is_refused_and_nothing_saved(cb):
    cases = [
        ({"agent": "Drug Z"}, "not in this patient's regimen"),
        ({"unit": "mg/m2"}, "planned in mg"),
        ({"modification": "reduction"}, "needs a reason"),
        (
            {"modification": "reduction", "modification_reason": "tox", "dose_": "60"},
            "below the planned",
        ),
        ({"dose_": "0"}, "interruption"),
        ({"dose_": "-5"}, "negative"),
        ({"modification": "halved"}, "modification must be one of"),
    ]
    for kw, message in cases:
        dose = kw.pop("dose_", "50")
        with pytest.raises(ValidationError, match=message):
            _dose(cb, dose, DAY, **kw)
    assert not DrugAdministration.objects.exists()


def test_an_administration_correction_needs_its_version_and_a_reason(cb):
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.crfs.services import administration_update

    given = _dose(cb, "50", DAY)
    common = {"agent": "Drug B", "unit": "mg", "administered_on": DAY, "by": cb.users["nurse"]}
    with pytest.raises(ValidationError, match="reason"):
        administration_update(administration=given, version=1, dose="40", reason="", **common)
    with pytest.raises(ValidationError, match="below the planned"):
        administration_update(
            administration=given,
            version=1,
            dose="60",
            modification="reduction",
            modification_reason="tox",
            reason="x",
            **common,
        )
    fixed = administration_update(
        administration=given,
        version=1,
        dose="40",
        modification="reduction",
        modification_reason="G2 fatigue",
        reason="pharmacy record",
        **common,
    )
    assert (fixed.version, fixed.dose) == (2, Decimal("40"))
    with pytest.raises(ConflictError, match="version 2"):
        administration_update(administration=given, version=1, dose="30", reason="x", **common)
    ev = AuditEvent.objects.filter(object_type="crfs.drugadministration", action="update").get()
    assert ev.changes["dose"] == ["50.0000", "40.0000"]
    assert ev.reason == "pharmacy record"


def test_an_abnormal_pre_treatment_value_is_the_baseline_of_later_grades(cb):
    # Treatment started 2026-11-13. CTCAE v5.0 ALT increased with an abnormal baseline:
    # grade 1 is >1.5-3.0 x baseline; 200 U/L over a baseline of 100 U/L is 2 x baseline
    # (against ULN 40 alone it would be 5 x ULN: grade 2).
    _lab(cb, value="100", sampled_on=dt.date(2026, 11, 12))
    later = _lab(cb, value="200", sampled_on=dt.date(2026, 11, 16))
    assert later.grade == 1
    assert "baseline" in later.criterion
