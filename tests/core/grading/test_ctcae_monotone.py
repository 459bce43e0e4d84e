"""Property: CTCAE grades are monotone in the lab value (everything else fixed)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from oncotrials.core.grading.ctcae import criteria_for, grade_lab

# analyte, unit, reference limits, value range (low, high)
SETUPS = [
    ("neutrophils", "10^9/L", {"lln": "1.8"}, ("0", "10")),
    ("platelets", "10^9/L", {"lln": "150"}, ("0", "600")),
    ("hemoglobin", "g/L", {"lln": "120"}, ("20", "200")),
    ("wbc", "10^9/L", {"lln": "4.0"}, ("0", "30")),
    ("lymphocytes", "10^9/L", {"lln": "1.0", "uln": "4.0"}, ("0", "60")),
    ("alt", "U/L", {"uln": "40"}, ("0", "2000")),
    ("alt", "U/L", {"uln": "40", "baseline": "70"}, ("0", "2000")),
    ("ast", "U/L", {"uln": "35", "baseline": "20"}, ("0", "2000")),
    ("alp", "U/L", {"uln": "120", "baseline": "300"}, ("0", "8000")),
    ("bilirubin", "umol/L", {"uln": "21", "baseline": "30"}, ("0", "600")),
    ("creatinine", "umol/L", {"uln": "100", "baseline": "70"}, ("0", "1000")),
    ("sodium", "mmol/L", {"lln": "135", "uln": "145"}, ("100", "180")),
    ("potassium", "mmol/L", {"lln": "3.5", "uln": "5.1"}, ("1", "9")),
    ("calcium", "mg/dL", {"lln": "8.6", "uln": "10.2"}, ("4", "16")),
    ("ionized_calcium", "mmol/L", {"lln": "1.15", "uln": "1.3"}, ("0.5", "2.5")),
    ("magnesium", "mmol/L", {"lln": "0.7", "uln": "1.0"}, ("0.1", "4")),
    ("glucose", "mmol/L", {"lln": "3.9", "uln": "6.1"}, ("0.5", "6.1")),
    ("lipase", "U/L", {"uln": "60"}, ("0", "1000")),
    ("amylase", "U/L", {"uln": "100"}, ("0", "1000")),
    ("cpk", "U/L", {"uln": "200"}, ("0", "5000")),
    ("qtc", "ms", {"baseline": "420"}, ("300", "700")),
]
SETUPS_V6 = [
    ("neutrophils", "10^9/L", {}, ("0", "10")),
    ("alt", "U/L", {"uln": "40", "baseline": "70"}, ("0", "2000")),
    ("glucose_fasting", "mmol/L", {"lln": "3.9", "uln": "5.5"}, ("0.5", "40")),
    ("creatinine", "umol/L", {"lln": "60", "uln": "100", "baseline": "50"}, ("0", "1000")),
]


def _signed(analyte: str, version: str, value: Decimal, unit: str, refs, facts) -> int:
    """+grade for an 'increased' term, -grade for a 'decreased' term."""
    result = grade_lab(analyte, value, unit, version=version, **refs, **facts)
    if result.term is None:
        return 0
    directions = {c.term: c.direction for c in criteria_for(analyte, version)}
    return result.grade if directions[result.term] == "high" else -result.grade


def _cases(setups, version):
    return st.sampled_from(setups).flatmap(
        lambda s: st.tuples(
            st.just(s),
            st.just(version),
            st.decimals(s[3][0], s[3][1], places=2, allow_nan=False, allow_infinity=False),
            st.decimals(s[3][0], s[3][1], places=2, allow_nan=False, allow_infinity=False),
            st.sampled_from([True, False, None]),
            st.booleans(),
        )
    )


@settings(max_examples=400, deadline=None)
@given(_cases(SETUPS, "5.0") | _cases(SETUPS_V6, "6.0"))
def test_grade_is_monotone_in_the_value(case):
    (analyte, unit, refs, _), version, a, b, symptomatic, life = case
    low, high = min(a, b), max(a, b)
    facts = {"symptomatic": symptomatic, "life_threatening": life}
    assert _signed(analyte, version, low, unit, refs, facts) <= _signed(
        analyte, version, high, unit, refs, facts
    )
