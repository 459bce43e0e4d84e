"""Units: explicit conversions, and clear errors for bad input."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.grading.ctcae import ANALYTES, grade_lab
from oncotrials.core.grading.units import FAMILIES, resolve_unit


@pytest.mark.parametrize(
    ("unit", "factor"),
    [
        ("10^9/L", "1"),
        ("x10^9/L", "1"),
        ("10e9/L", "1"),
        ("G/L", "1"),  # giga per litre
        ("10^3/µL", "1"),
        ("K/uL", "1"),
        ("/mm3", "0.001"),
        ("cells/µL", "0.001"),
    ],
)
def test_count_units_convert_to_10e9_per_litre(unit, factor):
    assert resolve_unit(unit, family=FAMILIES["count"], what="ANC") == ("10^9/L", Decimal(factor))


def test_conventional_and_si_counts_give_the_same_grade():
    # CTCAE v5.0 Neutrophil count decreased G3 "<1000 - 500/mm3; <1.0 - 0.5 x 10e9 /L"
    si = grade_lab("ANC", "0.75", "10^9/L")
    conv = grade_lab("ANC", "750", "/mm3")
    micro = grade_lab("ANC", "0.75", "10^3/uL")
    assert si.grade == conv.grade == micro.grade == 3
    assert conv.value_in_scale == Decimal("0.75")
    assert any("750 /mm3 = 0.75 10^9/L" in note for note in conv.notes)


def test_enzyme_in_microkatal_is_converted():
    # 1 µkat/L = 60 U/L; ALT 2.1 µkat/L with ULN 0.6 µkat/L = 126 vs 36 U/L: > 3.0 x ULN (G2)
    result = grade_lab("ALT", "2.1", "µkat/L", uln="0.6")
    assert result.value_in_scale == Decimal("126.0")
    assert result.grade == 2


def test_mg_per_dl_bilirubin_is_converted_with_its_molar_mass():
    result = grade_lab("bilirubin", "2.0", "mg/dL", uln="1.0")
    assert result.value_in_scale == Decimal("34.20")  # 17.1 µmol/L per mg/dL
    assert result.grade == 2  # CTCAE v5.0 Blood bilirubin increased G2 >1.5 - 3.0 x ULN


def test_ionised_calcium_in_mg_per_dl_is_converted():
    # 3.6 mg/dL x 0.2495 = 0.898 mmol/L: CTCAE v5.0 Hypocalcemia ionized G3 <0.9 - 0.8 mmol/L
    # ULN 5.3 mg/dL = 1.32 mmol/L, a plausible limit in the value's unit
    assert grade_lab("ionized_calcium", "3.6", "mg/dL", uln="5.3").grade == 3


@pytest.mark.parametrize(
    ("analyte", "unit"),
    [
        ("neutrophils", "U/L"),
        ("alt", "10^9/L"),
        ("sodium", "mg/dL"),
        ("hemoglobin", "G/L"),
        ("qtc", "mmol/L"),
        ("glucose", "U/L"),
    ],
)
def test_a_unit_that_does_not_fit_the_analyte_is_a_clear_error(analyte, unit):
    with pytest.raises(ValidationError, match=re.escape(f"Unit '{unit}' does not fit")):
        grade_lab(analyte, "1", unit, uln="2", lln="0.5")


def test_an_unknown_unit_is_a_clear_error():
    with pytest.raises(ValidationError, match="Unknown unit 'furlongs' for platelets"):
        grade_lab("platelets", "100", "furlongs")


def test_an_empty_unit_is_refused():
    with pytest.raises(ValidationError, match="No unit given for platelets"):
        grade_lab("platelets", "100", " ")


@pytest.mark.parametrize("value", ["-0.1", "nan", "inf", "abc", True])
def test_negative_or_impossible_values_are_refused(value):
    with pytest.raises(ValidationError, match="neutrophils"):
        grade_lab("ANC", value, "10^9/L", lln="1.8")


def test_negative_reference_limit_is_refused():
    with pytest.raises(ValidationError, match="ULN cannot be negative"):
        grade_lab("ALT", "50", "U/L", uln="-40")


def test_lln_above_uln_is_refused():
    with pytest.raises(ValidationError, match=r"LLN .* must be below ULN"):
        grade_lab("potassium", "4", "mmol/L", lln="5.1", uln="3.5")


def test_unknown_analyte_lists_the_gradable_ones():
    with pytest.raises(NotFoundError, match=r"Unknown analyte 'troponin'.*neutrophils"):
        grade_lab("troponin", "1", "ng/L")


def test_missing_uln_is_an_error_not_grade_0():
    with pytest.raises(ValidationError, match="depends on the ULN"):
        grade_lab("ALT", "500", "U/L")


def test_missing_lln_is_an_error_only_when_it_decides():
    # 1.8 x 10^9/L: grade 0 or 1 depending on LLN (CTCAE v5.0 Neutrophil G1 "<LLN - 1.5")
    with pytest.raises(ValidationError, match="depends on the LLN"):
        grade_lab("ANC", "1.8", "10^9/L")
    assert grade_lab("ANC", "0.8", "10^9/L").grade == 3


def test_v5_hyperglycemia_is_not_graded_from_the_value():
    # CTCAE v5.0 Hyperglycemia G1 "Abnormal glucose above baseline with no medical intervention",
    # G2-G4 by management: not lab-gradable.
    with pytest.raises(ValidationError, match="grades Hyperglycemia on clinical management"):
        grade_lab("glucose", "15", "mmol/L", lln="3.9", uln="6.1")
    assert grade_lab("glucose", "5.0", "mmol/L", lln="3.9", uln="6.1").grade == 0


@pytest.mark.parametrize("alias", ["ANC", "neut", "Absolute neutrophil count", "neutrophils"])
def test_analyte_aliases(alias):
    assert grade_lab(alias, "0.4", "10^9/L").analyte == "neutrophils"


def test_every_absolute_threshold_is_given_for_every_scale_of_its_unit_family():
    from oncotrials.core.grading.ctcae import Ref

    for analyte in ANALYTES.values():
        scales = {scale for scale, _ in analyte.family.units.values()}
        for terms in analyte.criteria.values():
            for criteria in terms:
                for band in criteria.bands:
                    if band.ref is Ref.ABSOLUTE:
                        assert set(band.limits) == scales, (analyte.key, criteria.term, band)
