"""CTCAE v6.0 where it differs from v5.0.

Source: NCI CTCAE v6.0 lab criteria as transcribed in pharmaverse/admiral
``data-raw/adlb_grading/ncictcaev6.json`` (term and grade text cited per case).
"""

from __future__ import annotations

import pytest

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.grading.ctcae import grade_lab

V6 = "6.0"

CASES = [
    # Neutrophil count decreased v6: G1 <1.5-1.0; G2 <1.0-0.5; G3 <0.5-0.1; G4 <0.1 x 10^9/L
    ("neutrophils", "1.5", "10^9/L", {}, 0, "v6 Neutrophil: no LLN band, 1.5 is grade 0"),
    ("neutrophils", "1.49", "10^9/L", {}, 1, "v6 Neutrophil G1 <1.5 - 1.0"),
    ("neutrophils", "1.0", "10^9/L", {}, 1, "v6 Neutrophil G1 includes 1.0"),
    ("neutrophils", "0.99", "10^9/L", {}, 2, "v6 Neutrophil G2 <1.0 - 0.5"),
    ("neutrophils", "0.49", "10^9/L", {}, 3, "v6 Neutrophil G3 <0.5 - 0.1"),
    ("neutrophils", "0.1", "10^9/L", {}, 3, "v6 Neutrophil G3 includes 0.1"),
    ("neutrophils", "0.09", "10^9/L", {}, 4, "v6 Neutrophil G4 <0.1"),
    # Thrombocytopenia v6: G3 <50.0-10.0; G4 <10.0 x 10^9/L
    ("platelets", "10", "10^9/L", {}, 3, "v6 Thrombocytopenia G3 includes 10.0"),
    ("platelets", "9.9", "10^9/L", {}, 4, "v6 Thrombocytopenia G4 <10.0"),
    # ALT v6, baseline > ULN: G1 1.0-1.5 x BL; G2 >1.5-2.0; G3 >2.0-4.0; G4 >4.0 x BL
    ("alt", "59", "U/L", {"uln": "40", "baseline": "60"}, 0, "v6 ALT below baseline"),
    ("alt", "60", "U/L", {"uln": "40", "baseline": "60"}, 1, "v6 ALT G1 1.0 - 1.5 x BL"),
    ("alt", "91", "U/L", {"uln": "40", "baseline": "60"}, 2, "v6 ALT G2 >1.5 - 2.0 x BL"),
    ("alt", "120", "U/L", {"uln": "40", "baseline": "60"}, 2, "v6 ALT G2 includes 2.0 x BL"),
    ("alt", "121", "U/L", {"uln": "40", "baseline": "60"}, 3, "v6 ALT G3 >2.0 - 4.0 x BL"),
    ("alt", "241", "U/L", {"uln": "40", "baseline": "60"}, 4, "v6 ALT G4 >4.0 x BL"),
    ("alt", "121", "U/L", {"uln": "40", "baseline": "30"}, 2, "v6 ALT baseline normal: x ULN"),
    # Blood bilirubin increased v6, baseline > ULN: G2 >1.5-2.5 x BL; G3 >2.5-10.0 x BL
    ("bilirubin", "75", "umol/L", {"uln": "20", "baseline": "30"}, 2, "v6 bili G2 to 2.5 x BL"),
    ("bilirubin", "76", "umol/L", {"uln": "20", "baseline": "30"}, 3, "v6 bili G3 >2.5 x BL"),
    # Alkaline phosphatase increased v6: G1 ">Baseline and ULN"; grades 2-4 do not exist
    ("alp", "1000", "U/L", {"uln": "100", "baseline": "80"}, 1, "v6 ALP only grade 1"),
    ("alp", "140", "U/L", {"uln": "100", "baseline": "150"}, 0, "v6 ALP not above baseline"),
    # Creatinine increased v6: "x baseline" criteria only if baseline is below LLN
    (
        "creatinine",
        "76",
        "umol/L",
        {"lln": "60", "uln": "100", "baseline": "50"},
        2,
        "v6 creat BL<LLN",
    ),
    (
        "creatinine",
        "106",
        "umol/L",
        {"lln": "60", "uln": "100", "baseline": "70"},
        1,
        "v6 creat BL normal",
    ),
    # Hyperglycemia v6: G3 >13.9-27.8 mmol/L (>250-500 mg/dL); G4 >27.8 (>500)
    ("glucose", "13.9", "mmol/L", {"lln": "3.9", "uln": "7.8"}, 0, "v6 Hyperglycemia needs >13.9"),
    ("glucose", "14.0", "mmol/L", {"lln": "3.9"}, 3, "v6 Hyperglycemia G3 >13.9"),
    ("glucose", "27.9", "mmol/L", {"lln": "3.9"}, 4, "v6 Hyperglycemia G4 >27.8"),
    ("glucose", "251", "mg/dL", {"lln": "70"}, 3, "v6 Hyperglycemia G3 >250 mg/dL"),
    # Hyperglycemia (Fasting) v6: G1 >ULN-8.9 mmol/L; G2 >8.9-13.9
    ("glucose_fasting", "5.6", "mmol/L", {"lln": "3.9", "uln": "5.5"}, 1, "v6 fasting G1"),
    ("glucose_fasting", "9.0", "mmol/L", {"lln": "3.9", "uln": "5.5"}, 2, "v6 fasting G2 >8.9"),
    # Lipase increased v6: G2 >1.5-3.0 x ULN; G3 >3.0-5.0 x ULN with signs or symptoms
    ("lipase", "180", "U/L", {"uln": "60", "symptomatic": True}, 2, "v6 lipase G2 to 3.0 x ULN"),
    (
        "lipase",
        "181",
        "U/L",
        {"uln": "60", "symptomatic": True},
        3,
        "v6 lipase G3 >3.0 symptomatic",
    ),
    ("lipase", "181", "U/L", {"uln": "60", "symptomatic": False}, 2, "v6 lipase G2 asymptomatic"),
    # Serum amylase increased v6: G3 >2.0-5.0 x ULN with moderate or severe signs or symptoms
    ("amylase", "201", "U/L", {"uln": "100", "symptomatic": True}, 3, "v6 amylase G3"),
]


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "refs", "expected", "source"),
    CASES,
    ids=[f"{c[0]}-{c[1]}-{c[5]}" for c in CASES],
)
def test_ctcae_v6_grade_at_boundary(analyte, value, unit, refs, expected, source):
    result = grade_lab(analyte, value, unit, version=V6, **refs)
    assert result.grade == expected, (source, result.rule, result.criterion)
    if expected:
        assert result.rule.startswith(f"CTCAE v6.0 {result.term}, grade {expected}")


def test_v5_and_v6_differ_for_the_same_neutrophil_count():
    # 0.3 x 10^9/L: v5.0 G4 "<0.5"; v6.0 G3 "<0.5 - 0.1"
    assert grade_lab("ANC", "0.3", "10^9/L").grade == 4
    assert grade_lab("ANC", "0.3", "10^9/L", version=V6).grade == 3


def test_platelet_term_is_renamed_in_v6():
    assert grade_lab("platelets", "20", "10^9/L", version=V6).term == "Thrombocytopenia"
    assert grade_lab("platelets", "20", "10^9/L").term == "Platelet count decreased"


def test_v6_alp_needs_the_baseline():
    with pytest.raises(ValidationError, match="baseline"):
        grade_lab("alp", "200", "U/L", uln="100", version=V6)


def test_v6_creatinine_with_baseline_needs_the_lln():
    with pytest.raises(ValidationError, match="LLN"):
        grade_lab("creatinine", "120", "umol/L", uln="100", baseline="50", version=V6)


@pytest.mark.parametrize("analyte", ["cpk", "qtc"])
def test_v6_criteria_not_in_the_source_are_a_clear_error(analyte):
    with pytest.raises(NotFoundError, match=r"grade it with version 5\.0"):
        grade_lab(analyte, "500", "U/L" if analyte == "cpk" else "ms", uln="200", version=V6)


def test_v6_lymphocytes_grade_only_the_increase():
    # admiral's v6.0 metadata lists "Lymphocyte count increased" but no "decreased" criteria
    assert grade_lab("lymphocytes", "0.1", "10^9/L", version=V6).grade == 0
    assert grade_lab("lymphocytes", "21", "10^9/L", version=V6).grade == 3


def test_unknown_version_is_refused():
    with pytest.raises(ValidationError, match=r"Unknown CTCAE version '4\.03'"):
        grade_lab("ANC", "1", "10^9/L", version="4.03")
