"""CTCAE v5.0 lab grades at every threshold, on both sides of each boundary.

Each case cites the CTCAE v5.0 term and grade whose text sets the boundary (NCI CTCAE v5.0,
2017; the texts are those of the shipped term list, data/ctcae_v5.csv). "x" marks the value
just beyond a boundary.
"""

from __future__ import annotations

import pytest

from oncotrials.core.grading.ctcae import grade_lab

V5 = "5.0"

# (analyte, value, unit, refs, expected grade, CTCAE v5.0 term and grade text that decides)
CASES = [
    # Neutrophil count decreased: G1 <LLN-1.5; G2 <1.5-1.0; G3 <1.0-0.5; G4 <0.5 x 10e9/L
    ("neutrophils", "2.0", "10^9/L", {"lln": "2.0"}, 0, "Neutrophil count decreased: not <LLN"),
    ("neutrophils", "1.99", "10^9/L", {"lln": "2.0"}, 1, "Neutrophil G1 <LLN - 1.5"),
    ("neutrophils", "1.5", "10^9/L", {"lln": "2.0"}, 1, "Neutrophil G1 includes 1.5"),
    ("neutrophils", "1.49", "10^9/L", {"lln": "2.0"}, 2, "Neutrophil G2 <1.5 - 1.0"),
    ("neutrophils", "1.0", "10^9/L", {"lln": "2.0"}, 2, "Neutrophil G2 includes 1.0"),
    ("neutrophils", "0.99", "10^9/L", {"lln": "2.0"}, 3, "Neutrophil G3 <1.0 - 0.5"),
    ("neutrophils", "0.5", "10^9/L", {"lln": "2.0"}, 3, "Neutrophil G3 includes 0.5"),
    ("neutrophils", "0.49", "10^9/L", {"lln": "2.0"}, 4, "Neutrophil G4 <0.5"),
    ("neutrophils", "0", "10^9/L", {}, 4, "Neutrophil G4 <0.5 (no LLN needed)"),
    ("neutrophils", "1500", "/mm3", {"lln": "2000"}, 1, "Neutrophil G1 <LLN - 1500/mm3"),
    ("neutrophils", "1499", "/mm3", {"lln": "2000"}, 2, "Neutrophil G2 <1500 - 1000/mm3"),
    ("neutrophils", "500", "/mm3", {}, 3, "Neutrophil G3 <1000 - 500/mm3"),
    ("neutrophils", "499", "/mm3", {}, 4, "Neutrophil G4 <500/mm3"),
    # Platelet count decreased: G1 <LLN-75.0; G2 <75.0-50.0; G3 <50.0-25.0; G4 <25.0 x 10e9/L
    ("platelets", "150", "10^9/L", {"lln": "150"}, 0, "Platelet: not <LLN"),
    ("platelets", "149", "10^9/L", {"lln": "150"}, 1, "Platelet G1 <LLN - 75.0"),
    ("platelets", "75", "10^9/L", {"lln": "150"}, 1, "Platelet G1 includes 75.0"),
    ("platelets", "74.9", "10^9/L", {"lln": "150"}, 2, "Platelet G2 <75.0 - 50.0"),
    ("platelets", "50", "10^9/L", {}, 2, "Platelet G2 includes 50.0"),
    ("platelets", "49.9", "10^9/L", {}, 3, "Platelet G3 <50.0 - 25.0"),
    ("platelets", "25", "10^9/L", {}, 3, "Platelet G3 includes 25.0"),
    ("platelets", "24.9", "10^9/L", {}, 4, "Platelet G4 <25.0"),
    ("platelets", "75000", "/mm3", {"lln": "150000"}, 1, "Platelet G1 <LLN - 75,000/mm3"),
    ("platelets", "24999", "/mm3", {}, 4, "Platelet G4 <25,000/mm3"),
    # Anemia: G1 Hgb <LLN-100 g/L (10.0 g/dL; 6.2 mmol/L); G2 <100-80 g/L; G3 <80 g/L
    ("hemoglobin", "120", "g/L", {"lln": "120"}, 0, "Anemia: not <LLN"),
    ("hemoglobin", "119", "g/L", {"lln": "120"}, 1, "Anemia G1 <LLN - 100 g/L"),
    ("hemoglobin", "100", "g/L", {"lln": "120"}, 1, "Anemia G1 includes 100 g/L"),
    ("hemoglobin", "99", "g/L", {"lln": "120"}, 2, "Anemia G2 <100 - 80 g/L"),
    ("hemoglobin", "80", "g/L", {}, 2, "Anemia G2 includes 80 g/L"),
    ("hemoglobin", "79", "g/L", {}, 3, "Anemia G3 <80 g/L"),
    ("hemoglobin", "10.0", "g/dL", {"lln": "12.0"}, 1, "Anemia G1 <LLN - 10.0 g/dL"),
    ("hemoglobin", "9.9", "g/dL", {"lln": "12.0"}, 2, "Anemia G2 <10.0 - 8.0 g/dL"),
    ("hemoglobin", "7.9", "g/dL", {}, 3, "Anemia G3 <8.0 g/dL"),
    ("hemoglobin", "6.2", "mmol/L", {"lln": "7.4"}, 1, "Anemia G1 <LLN - 6.2 mmol/L"),
    ("hemoglobin", "6.1", "mmol/L", {"lln": "7.4"}, 2, "Anemia G2 <6.2 - 4.9 mmol/L"),
    ("hemoglobin", "4.9", "mmol/L", {}, 2, "Anemia G2 includes 4.9 mmol/L"),
    ("hemoglobin", "4.8", "mmol/L", {}, 3, "Anemia G3 <4.9 mmol/L"),
    # White blood cell decreased: G1 <LLN-3.0; G2 <3.0-2.0; G3 <2.0-1.0; G4 <1.0 x 10e9/L
    ("wbc", "4.0", "10^9/L", {"lln": "4.0"}, 0, "WBC: not <LLN"),
    ("wbc", "3.0", "10^9/L", {"lln": "4.0"}, 1, "WBC G1 <LLN - 3.0"),
    ("wbc", "2.99", "10^9/L", {}, 2, "WBC G2 <3.0 - 2.0"),
    ("wbc", "2.0", "10^9/L", {}, 2, "WBC G2 includes 2.0"),
    ("wbc", "1.99", "10^9/L", {}, 3, "WBC G3 <2.0 - 1.0"),
    ("wbc", "1.0", "10^9/L", {}, 3, "WBC G3 includes 1.0"),
    ("wbc", "0.99", "10^9/L", {}, 4, "WBC G4 <1.0"),
    # Lymphocyte count decreased: G1 <LLN-0.8; G2 <0.8-0.5; G3 <0.5-0.2; G4 <0.2 x 10e9/L
    ("lymphocytes", "1.0", "10^9/L", {"lln": "1.0", "uln": "4.0"}, 0, "Lymphocyte: normal"),
    ("lymphocytes", "0.8", "10^9/L", {"lln": "1.0"}, 1, "Lymphocyte decreased G1 <LLN - 0.8"),
    ("lymphocytes", "0.79", "10^9/L", {}, 2, "Lymphocyte decreased G2 <0.8 - 0.5"),
    ("lymphocytes", "0.5", "10^9/L", {}, 2, "Lymphocyte decreased G2 includes 0.5"),
    ("lymphocytes", "0.49", "10^9/L", {}, 3, "Lymphocyte decreased G3 <0.5 - 0.2"),
    ("lymphocytes", "0.2", "10^9/L", {}, 3, "Lymphocyte decreased G3 includes 0.2"),
    ("lymphocytes", "0.19", "10^9/L", {}, 4, "Lymphocyte decreased G4 <0.2"),
    # Lymphocyte count increased: G1 -; G2 >4000/mm3 - 20,000/mm3; G3 >20,000/mm3
    ("lymphocytes", "4000", "/mm3", {"lln": "1000"}, 0, "Lymphocyte increased: G2 needs >4000"),
    ("lymphocytes", "4001", "/mm3", {"lln": "1000"}, 2, "Lymphocyte increased G2 >4000/mm3"),
    ("lymphocytes", "20000", "/mm3", {"lln": "1000"}, 2, "Lymphocyte increased G2 to 20,000"),
    ("lymphocytes", "20001", "/mm3", {"lln": "1000"}, 3, "Lymphocyte increased G3 >20,000/mm3"),
    # ALT increased, baseline normal: G1 >ULN-3.0xULN; G2 >3.0-5.0; G3 >5.0-20.0; G4 >20.0xULN
    ("alt", "40", "U/L", {"uln": "40"}, 0, "ALT: not >ULN"),
    ("alt", "41", "U/L", {"uln": "40"}, 1, "ALT G1 >ULN - 3.0 x ULN"),
    ("alt", "120", "U/L", {"uln": "40"}, 1, "ALT G1 includes 3.0 x ULN"),
    ("alt", "121", "U/L", {"uln": "40"}, 2, "ALT G2 >3.0 - 5.0 x ULN"),
    ("alt", "200", "U/L", {"uln": "40"}, 2, "ALT G2 includes 5.0 x ULN"),
    ("alt", "201", "U/L", {"uln": "40"}, 3, "ALT G3 >5.0 - 20.0 x ULN"),
    ("alt", "800", "U/L", {"uln": "40"}, 3, "ALT G3 includes 20.0 x ULN"),
    ("alt", "801", "U/L", {"uln": "40"}, 4, "ALT G4 >20.0 x ULN"),
    ("alt", "120", "U/L", {"uln": "40", "baseline": "30"}, 1, "ALT G1, baseline normal"),
    # ALT increased, baseline abnormal (60 > ULN 40): G1 1.5-3.0 x BL; G2 >3.0-5.0 x BL; ...
    ("alt", "89", "U/L", {"uln": "40", "baseline": "60"}, 0, "ALT BL abnormal: <1.5 x BL"),
    ("alt", "90", "U/L", {"uln": "40", "baseline": "60"}, 1, "ALT G1 1.5 - 3.0 x baseline"),
    ("alt", "180", "U/L", {"uln": "40", "baseline": "60"}, 1, "ALT G1 includes 3.0 x BL"),
    ("alt", "181", "U/L", {"uln": "40", "baseline": "60"}, 2, "ALT G2 >3.0 - 5.0 x baseline"),
    ("alt", "300", "U/L", {"uln": "40", "baseline": "60"}, 2, "ALT G2 includes 5.0 x BL"),
    ("alt", "301", "U/L", {"uln": "40", "baseline": "60"}, 3, "ALT G3 >5.0 - 20.0 x baseline"),
    ("alt", "1200", "U/L", {"uln": "40", "baseline": "60"}, 3, "ALT G3 includes 20.0 x BL"),
    ("alt", "1201", "U/L", {"uln": "40", "baseline": "60"}, 4, "ALT G4 >20.0 x baseline"),
    # AST increased: same criteria as ALT
    ("ast", "121", "U/L", {"uln": "40"}, 2, "AST G2 >3.0 - 5.0 x ULN"),
    ("ast", "90", "U/L", {"uln": "40", "baseline": "60"}, 1, "AST G1 1.5 - 3.0 x baseline"),
    ("ast", "801", "U/L", {"uln": "40"}, 4, "AST G4 >20.0 x ULN"),
    # Alkaline phosphatase increased: G1 >ULN-2.5xULN (BL abnormal: 2.0-2.5 x BL); G2 >2.5-5.0;
    # G3 >5.0-20.0; G4 >20.0
    ("alp", "100", "U/L", {"uln": "100"}, 0, "ALP: not >ULN"),
    ("alp", "101", "U/L", {"uln": "100"}, 1, "ALP G1 >ULN - 2.5 x ULN"),
    ("alp", "250", "U/L", {"uln": "100"}, 1, "ALP G1 includes 2.5 x ULN"),
    ("alp", "251", "U/L", {"uln": "100"}, 2, "ALP G2 >2.5 - 5.0 x ULN"),
    ("alp", "501", "U/L", {"uln": "100"}, 3, "ALP G3 >5.0 - 20.0 x ULN"),
    ("alp", "2000", "U/L", {"uln": "100"}, 3, "ALP G3 includes 20.0 x ULN"),
    ("alp", "2001", "U/L", {"uln": "100"}, 4, "ALP G4 >20.0 x ULN"),
    ("alp", "299", "U/L", {"uln": "100", "baseline": "150"}, 0, "ALP BL abnormal: <2.0 x BL"),
    ("alp", "300", "U/L", {"uln": "100", "baseline": "150"}, 1, "ALP G1 2.0 - 2.5 x baseline"),
    ("alp", "376", "U/L", {"uln": "100", "baseline": "150"}, 2, "ALP G2 >2.5 - 5.0 x baseline"),
    ("alp", "751", "U/L", {"uln": "100", "baseline": "150"}, 3, "ALP G3 >5.0 - 20.0 x BL"),
    ("alp", "3001", "U/L", {"uln": "100", "baseline": "150"}, 4, "ALP G4 >20.0 x baseline"),
    # Blood bilirubin increased: G1 >ULN-1.5xULN (BL abnormal: >1.0-1.5 x BL); G2 >1.5-3.0;
    # G3 >3.0-10.0; G4 >10.0
    ("bilirubin", "20", "umol/L", {"uln": "20"}, 0, "Bilirubin: not >ULN"),
    ("bilirubin", "21", "umol/L", {"uln": "20"}, 1, "Bilirubin G1 >ULN - 1.5 x ULN"),
    ("bilirubin", "30", "umol/L", {"uln": "20"}, 1, "Bilirubin G1 includes 1.5 x ULN"),
    ("bilirubin", "31", "umol/L", {"uln": "20"}, 2, "Bilirubin G2 >1.5 - 3.0 x ULN"),
    ("bilirubin", "60", "umol/L", {"uln": "20"}, 2, "Bilirubin G2 includes 3.0 x ULN"),
    ("bilirubin", "61", "umol/L", {"uln": "20"}, 3, "Bilirubin G3 >3.0 - 10.0 x ULN"),
    ("bilirubin", "200", "umol/L", {"uln": "20"}, 3, "Bilirubin G3 includes 10.0 x ULN"),
    ("bilirubin", "201", "umol/L", {"uln": "20"}, 4, "Bilirubin G4 >10.0 x ULN"),
    ("bilirubin", "1.8", "mg/dL", {"uln": "1.2"}, 1, "Bilirubin G1 includes 1.5 x ULN (mg/dL)"),
    ("bilirubin", "1.81", "mg/dL", {"uln": "1.2"}, 2, "Bilirubin G2 >1.5 x ULN (mg/dL)"),
    ("bilirubin", "30", "umol/L", {"uln": "20", "baseline": "30"}, 0, "Bili: not >1.0 x BL"),
    ("bilirubin", "31", "umol/L", {"uln": "20", "baseline": "30"}, 1, "Bili G1 >1.0 - 1.5 x BL"),
    ("bilirubin", "46", "umol/L", {"uln": "20", "baseline": "30"}, 2, "Bili G2 >1.5 - 3.0 x BL"),
    ("bilirubin", "91", "umol/L", {"uln": "20", "baseline": "30"}, 3, "Bili G3 >3.0 - 10.0 x BL"),
    ("bilirubin", "301", "umol/L", {"uln": "20", "baseline": "30"}, 4, "Bili G4 >10.0 x BL"),
    # Creatinine increased: G1 >ULN-1.5xULN; G2 >1.5-3.0 x baseline; >1.5-3.0 x ULN;
    # G3 >3.0 x baseline; >3.0-6.0 x ULN; G4 >6.0 x ULN
    ("creatinine", "100", "umol/L", {"uln": "100"}, 0, "Creatinine: not >ULN"),
    ("creatinine", "101", "umol/L", {"uln": "100"}, 1, "Creatinine G1 >ULN - 1.5 x ULN"),
    ("creatinine", "150", "umol/L", {"uln": "100"}, 1, "Creatinine G1 includes 1.5 x ULN"),
    ("creatinine", "151", "umol/L", {"uln": "100"}, 2, "Creatinine G2 >1.5 - 3.0 x ULN"),
    ("creatinine", "301", "umol/L", {"uln": "100"}, 3, "Creatinine G3 >3.0 - 6.0 x ULN"),
    ("creatinine", "600", "umol/L", {"uln": "100"}, 3, "Creatinine G3 includes 6.0 x ULN"),
    ("creatinine", "601", "umol/L", {"uln": "100"}, 4, "Creatinine G4 >6.0 x ULN"),
    ("creatinine", "90", "umol/L", {"uln": "100", "baseline": "60"}, 0, "Creat: not >1.5 x BL"),
    ("creatinine", "91", "umol/L", {"uln": "100", "baseline": "60"}, 2, "Creat G2 >1.5 x BL"),
    ("creatinine", "181", "umol/L", {"uln": "100", "baseline": "60"}, 3, "Creat G3 >3.0 x BL"),
    ("creatinine", "1.51", "mg/dL", {"uln": "1.0"}, 2, "Creatinine G2 >1.5 x ULN (mg/dL)"),
    # Hyponatremia: G1 <LLN-130; G2 125-129 asymptomatic; G3 125-129 symptomatic, 120-124;
    # G4 <120 mmol/L
    ("sodium", "135", "mmol/L", {"lln": "135", "uln": "145"}, 0, "Sodium normal"),
    ("sodium", "134", "mmol/L", {"lln": "135", "uln": "145"}, 1, "Hyponatremia G1 <LLN - 130"),
    ("sodium", "130", "mmol/L", {"lln": "135", "uln": "145"}, 1, "Hyponatremia G1 includes 130"),
    ("sodium", "129", "mmol/L", {"uln": "145", "symptomatic": False}, 2, "HypoNa G2 asympt"),
    ("sodium", "129", "mmol/L", {"uln": "145", "symptomatic": True}, 3, "HypoNa G3 symptomatic"),
    ("sodium", "125", "mmol/L", {"uln": "145", "symptomatic": False}, 2, "Hypona G2 to 125"),
    ("sodium", "124", "mmol/L", {"uln": "145", "symptomatic": False}, 3, "Hyponatremia G3 120-124"),
    ("sodium", "120", "mmol/L", {"uln": "145"}, 3, "Hyponatremia G3 includes 120"),
    ("sodium", "119", "mmol/L", {"uln": "145"}, 4, "Hyponatremia G4 <120"),
    # Hypernatremia: G1 >ULN-150; G2 >150-155; G3 >155-160; G4 >160 mmol/L
    ("sodium", "145", "mmol/L", {"lln": "135", "uln": "145"}, 0, "Sodium: not >ULN"),
    ("sodium", "146", "mmol/L", {"lln": "135", "uln": "145"}, 1, "Hypernatremia G1 >ULN - 150"),
    ("sodium", "150", "mmol/L", {"lln": "135", "uln": "145"}, 1, "Hypernatremia G1 includes 150"),
    ("sodium", "151", "mmol/L", {"lln": "135"}, 2, "Hypernatremia G2 >150 - 155"),
    ("sodium", "155", "mmol/L", {"lln": "135"}, 2, "Hypernatremia G2 includes 155"),
    ("sodium", "156", "mmol/L", {"lln": "135"}, 3, "Hypernatremia G3 >155 - 160"),
    ("sodium", "160", "mmol/L", {"lln": "135"}, 3, "Hypernatremia G3 includes 160"),
    ("sodium", "161", "mmol/L", {"lln": "135"}, 4, "Hypernatremia G4 >160"),
    # Hypokalemia: G1 <LLN-3.0; G2 symptomatic with <LLN-3.0; G3 <3.0-2.5; G4 <2.5 mmol/L
    ("potassium", "3.5", "mmol/L", {"lln": "3.5", "uln": "5.1"}, 0, "Potassium normal"),
    (
        "potassium",
        "3.4",
        "mmol/L",
        {"lln": "3.5", "uln": "5.1", "symptomatic": False},
        1,
        "HypoK G1",
    ),
    (
        "potassium",
        "3.4",
        "mmol/L",
        {"lln": "3.5", "uln": "5.1", "symptomatic": True},
        2,
        "HypoK G2",
    ),
    (
        "potassium",
        "3.0",
        "mmol/L",
        {"lln": "3.5", "uln": "5.1", "symptomatic": False},
        1,
        "HypoK G1 to 3.0",
    ),
    ("potassium", "2.99", "mmol/L", {"uln": "5.1"}, 3, "Hypokalemia G3 <3.0 - 2.5"),
    ("potassium", "2.5", "mmol/L", {"uln": "5.1"}, 3, "Hypokalemia G3 includes 2.5"),
    ("potassium", "2.49", "mmol/L", {"uln": "5.1"}, 4, "Hypokalemia G4 <2.5"),
    # Hyperkalemia: G1 >ULN-5.5; G2 >5.5-6.0; G3 >6.0-7.0; G4 >7.0 mmol/L
    ("potassium", "5.1", "mmol/L", {"lln": "3.5", "uln": "5.1"}, 0, "Potassium: not >ULN"),
    ("potassium", "5.2", "mmol/L", {"lln": "3.5", "uln": "5.1"}, 1, "Hyperkalemia G1 >ULN - 5.5"),
    ("potassium", "5.5", "mmol/L", {"lln": "3.5", "uln": "5.1"}, 1, "Hyperkalemia G1 incl 5.5"),
    ("potassium", "5.6", "mmol/L", {"lln": "3.5"}, 2, "Hyperkalemia G2 >5.5 - 6.0"),
    ("potassium", "6.0", "mEq/L", {"lln": "3.5"}, 2, "Hyperkalemia G2 includes 6.0 (mEq/L)"),
    ("potassium", "6.1", "mmol/L", {"lln": "3.5"}, 3, "Hyperkalemia G3 >6.0 - 7.0"),
    ("potassium", "7.0", "mmol/L", {"lln": "3.5"}, 3, "Hyperkalemia G3 includes 7.0"),
    ("potassium", "7.1", "mmol/L", {"lln": "3.5"}, 4, "Hyperkalemia G4 >7.0"),
    # Hypocalcemia (corrected): G1 <LLN-2.0 mmol/L (8.0 mg/dL); G2 <2.0-1.75 (7.0);
    # G3 <1.75-1.5 (6.0); G4 <1.5 (6.0); ionized G1 <LLN-1.0; G2 <1.0-0.9; G3 <0.9-0.8; G4 <0.8
    ("calcium", "2.15", "mmol/L", {"lln": "2.15", "uln": "2.6"}, 0, "Calcium normal"),
    ("calcium", "2.0", "mmol/L", {"lln": "2.15", "uln": "2.6"}, 1, "Hypocalcemia G1 <LLN - 2.0"),
    ("calcium", "1.99", "mmol/L", {"uln": "2.6"}, 2, "Hypocalcemia G2 <2.0 - 1.75"),
    ("calcium", "1.75", "mmol/L", {"uln": "2.6"}, 2, "Hypocalcemia G2 includes 1.75"),
    ("calcium", "1.74", "mmol/L", {"uln": "2.6"}, 3, "Hypocalcemia G3 <1.75 - 1.5"),
    ("calcium", "1.5", "mmol/L", {"uln": "2.6"}, 3, "Hypocalcemia G3 includes 1.5"),
    ("calcium", "1.49", "mmol/L", {"uln": "2.6"}, 4, "Hypocalcemia G4 <1.5"),
    ("calcium", "8.0", "mg/dL", {"lln": "8.6", "uln": "10.2"}, 1, "Hypocalcemia G1 to 8.0 mg/dL"),
    ("calcium", "7.9", "mg/dL", {"uln": "10.2"}, 2, "Hypocalcemia G2 <8.0 - 7.0 mg/dL"),
    ("calcium", "6.9", "mg/dL", {"uln": "10.2"}, 3, "Hypocalcemia G3 <7.0 - 6.0 mg/dL"),
    ("calcium", "5.9", "mg/dL", {"uln": "10.2"}, 4, "Hypocalcemia G4 <6.0 mg/dL"),
    ("calcium", "4.0", "mEq/L", {"lln": "4.3", "uln": "5.2"}, 1, "mEq/L: 4.0 mEq/L = 2.0 mmol/L"),
    ("ionized_calcium", "1.0", "mmol/L", {"lln": "1.15", "uln": "1.3"}, 1, "Ionized G1 to 1.0"),
    ("ionized_calcium", "0.99", "mmol/L", {"uln": "1.3"}, 2, "Ionized hypocalcemia G2"),
    ("ionized_calcium", "0.89", "mmol/L", {"uln": "1.3"}, 3, "Ionized hypocalcemia G3"),
    ("ionized_calcium", "0.79", "mmol/L", {"uln": "1.3"}, 4, "Ionized hypocalcemia G4 <0.8"),
    # Hypercalcemia (corrected): G1 >ULN-2.9 mmol/L (11.5 mg/dL); G2 >2.9-3.1 (12.5);
    # G3 >3.1-3.4 (13.5); G4 >3.4; ionized G1 >ULN-1.5; G2 >1.5-1.6; G3 >1.6-1.8; G4 >1.8
    ("calcium", "2.6", "mmol/L", {"lln": "2.15", "uln": "2.6"}, 0, "Calcium: not >ULN"),
    ("calcium", "2.9", "mmol/L", {"lln": "2.15", "uln": "2.6"}, 1, "Hypercalcemia G1 to 2.9"),
    ("calcium", "2.91", "mmol/L", {"lln": "2.15"}, 2, "Hypercalcemia G2 >2.9 - 3.1"),
    ("calcium", "3.11", "mmol/L", {"lln": "2.15"}, 3, "Hypercalcemia G3 >3.1 - 3.4"),
    ("calcium", "3.4", "mmol/L", {"lln": "2.15"}, 3, "Hypercalcemia G3 includes 3.4"),
    ("calcium", "3.41", "mmol/L", {"lln": "2.15"}, 4, "Hypercalcemia G4 >3.4"),
    ("calcium", "11.5", "mg/dL", {"lln": "8.6", "uln": "10.2"}, 1, "Hypercalcemia G1 to 11.5"),
    ("calcium", "11.6", "mg/dL", {"lln": "8.6"}, 2, "Hypercalcemia G2 >11.5 - 12.5 mg/dL"),
    ("calcium", "12.6", "mg/dL", {"lln": "8.6"}, 3, "Hypercalcemia G3 >12.5 - 13.5 mg/dL"),
    ("calcium", "13.6", "mg/dL", {"lln": "8.6"}, 4, "Hypercalcemia G4 >13.5 mg/dL"),
    ("ionized_calcium", "1.5", "mmol/L", {"lln": "1.15", "uln": "1.3"}, 1, "Ionized G1 to 1.5"),
    ("ionized_calcium", "1.51", "mmol/L", {"lln": "1.15"}, 2, "Ionized hypercalcemia G2"),
    ("ionized_calcium", "1.61", "mmol/L", {"lln": "1.15"}, 3, "Ionized hypercalcemia G3"),
    ("ionized_calcium", "1.81", "mmol/L", {"lln": "1.15"}, 4, "Ionized hypercalcemia G4"),
    # Hypomagnesemia: G1 <LLN-0.5 mmol/L (1.2 mg/dL); G2 <0.5-0.4 (0.9); G3 <0.4-0.3 (0.7);
    # G4 <0.3 (0.7)
    ("magnesium", "0.7", "mmol/L", {"lln": "0.7", "uln": "1.0"}, 0, "Magnesium normal"),
    ("magnesium", "0.5", "mmol/L", {"lln": "0.7", "uln": "1.0"}, 1, "Hypomagnesemia G1 to 0.5"),
    ("magnesium", "0.49", "mmol/L", {"uln": "1.0"}, 2, "Hypomagnesemia G2 <0.5 - 0.4"),
    ("magnesium", "0.39", "mmol/L", {"uln": "1.0"}, 3, "Hypomagnesemia G3 <0.4 - 0.3"),
    ("magnesium", "0.3", "mmol/L", {"uln": "1.0"}, 3, "Hypomagnesemia G3 includes 0.3"),
    ("magnesium", "0.29", "mmol/L", {"uln": "1.0"}, 4, "Hypomagnesemia G4 <0.3"),
    ("magnesium", "1.2", "mg/dL", {"lln": "1.7", "uln": "2.4"}, 1, "Hypomagnesemia G1 to 1.2"),
    ("magnesium", "1.19", "mg/dL", {"uln": "2.4"}, 2, "Hypomagnesemia G2 <1.2 - 0.9 mg/dL"),
    ("magnesium", "0.89", "mg/dL", {"uln": "2.4"}, 3, "Hypomagnesemia G3 <0.9 - 0.7 mg/dL"),
    ("magnesium", "0.69", "mg/dL", {"uln": "2.4"}, 4, "Hypomagnesemia G4 <0.7 mg/dL"),
    # Hypermagnesemia: G1 >ULN-1.23 mmol/L (3.0 mg/dL); G2 does not exist; G3 >1.23-3.30 (8.0);
    # G4 >3.30 (8.0)
    ("magnesium", "1.0", "mmol/L", {"lln": "0.7", "uln": "1.0"}, 0, "Magnesium: not >ULN"),
    ("magnesium", "1.23", "mmol/L", {"lln": "0.7", "uln": "1.0"}, 1, "Hypermagnesemia G1"),
    ("magnesium", "1.24", "mmol/L", {"lln": "0.7"}, 3, "Hypermagnesemia G3 >1.23 (no G2)"),
    ("magnesium", "3.30", "mmol/L", {"lln": "0.7"}, 3, "Hypermagnesemia G3 includes 3.30"),
    ("magnesium", "3.31", "mmol/L", {"lln": "0.7"}, 4, "Hypermagnesemia G4 >3.30"),
    ("magnesium", "3.1", "mg/dL", {"lln": "1.7"}, 3, "Hypermagnesemia G3 >3.0 mg/dL"),
    ("magnesium", "8.1", "mg/dL", {"lln": "1.7"}, 4, "Hypermagnesemia G4 >8.0 mg/dL"),
    # Hypoglycemia: G1 <LLN-3.0 mmol/L (55 mg/dL); G2 <3.0-2.2 (40); G3 <2.2-1.7 (30); G4 <1.7
    ("glucose", "3.9", "mmol/L", {"lln": "3.9", "uln": "6.1"}, 0, "Glucose normal"),
    ("glucose", "3.0", "mmol/L", {"lln": "3.9", "uln": "6.1"}, 1, "Hypoglycemia G1 to 3.0"),
    ("glucose", "2.99", "mmol/L", {"uln": "6.1"}, 2, "Hypoglycemia G2 <3.0 - 2.2"),
    ("glucose", "2.2", "mmol/L", {"uln": "6.1"}, 2, "Hypoglycemia G2 includes 2.2"),
    ("glucose", "2.19", "mmol/L", {"uln": "6.1"}, 3, "Hypoglycemia G3 <2.2 - 1.7"),
    ("glucose", "1.69", "mmol/L", {"uln": "6.1"}, 4, "Hypoglycemia G4 <1.7"),
    ("glucose", "55", "mg/dL", {"lln": "70", "uln": "110"}, 1, "Hypoglycemia G1 to 55 mg/dL"),
    ("glucose", "54", "mg/dL", {"uln": "110"}, 2, "Hypoglycemia G2 <55 - 40 mg/dL"),
    ("glucose", "39", "mg/dL", {"uln": "110"}, 3, "Hypoglycemia G3 <40 - 30 mg/dL"),
    ("glucose", "29", "mg/dL", {"uln": "110"}, 4, "Hypoglycemia G4 <30 mg/dL"),
    # Lipase increased: G1 >ULN-1.5xULN; G2 >1.5-2.0xULN, >2.0-5.0xULN asymptomatic;
    # G3 >2.0-5.0xULN with signs or symptoms, >5.0xULN asymptomatic; G4 >5.0xULN with symptoms
    ("lipase", "60", "U/L", {"uln": "60"}, 0, "Lipase: not >ULN"),
    ("lipase", "61", "U/L", {"uln": "60"}, 1, "Lipase G1 >ULN - 1.5 x ULN"),
    ("lipase", "90", "U/L", {"uln": "60"}, 1, "Lipase G1 includes 1.5 x ULN"),
    ("lipase", "91", "U/L", {"uln": "60"}, 2, "Lipase G2 >1.5 - 2.0 x ULN"),
    ("lipase", "120", "U/L", {"uln": "60", "symptomatic": True}, 2, "Lipase G2 to 2.0 x ULN"),
    ("lipase", "121", "U/L", {"uln": "60", "symptomatic": False}, 2, "Lipase G2 asymptomatic"),
    ("lipase", "121", "U/L", {"uln": "60", "symptomatic": True}, 3, "Lipase G3 with symptoms"),
    ("lipase", "300", "U/L", {"uln": "60", "symptomatic": False}, 2, "Lipase G2 to 5.0 x ULN"),
    ("lipase", "301", "U/L", {"uln": "60", "symptomatic": False}, 3, "Lipase G3 >5.0 asympt"),
    ("lipase", "301", "U/L", {"uln": "60", "symptomatic": True}, 4, "Lipase G4 >5.0 with symptoms"),
    # Serum amylase increased: same criteria as lipase
    ("amylase", "101", "U/L", {"uln": "100"}, 1, "Amylase G1 >ULN - 1.5 x ULN"),
    ("amylase", "201", "U/L", {"uln": "100", "symptomatic": True}, 3, "Amylase G3 with symptoms"),
    ("amylase", "501", "U/L", {"uln": "100", "symptomatic": True}, 4, "Amylase G4"),
    # CPK increased: G1 >ULN-2.5xULN; G2 >2.5-5xULN; G3 >5-10xULN; G4 >10xULN
    ("cpk", "200", "U/L", {"uln": "200"}, 0, "CPK: not >ULN"),
    ("cpk", "201", "U/L", {"uln": "200"}, 1, "CPK G1 >ULN - 2.5 x ULN"),
    ("cpk", "500", "U/L", {"uln": "200"}, 1, "CPK G1 includes 2.5 x ULN"),
    ("cpk", "501", "U/L", {"uln": "200"}, 2, "CPK G2 >2.5 - 5 x ULN"),
    ("cpk", "1000", "U/L", {"uln": "200"}, 2, "CPK G2 includes 5 x ULN"),
    ("cpk", "1001", "U/L", {"uln": "200"}, 3, "CPK G3 >5 - 10 x ULN"),
    ("cpk", "2000", "U/L", {"uln": "200"}, 3, "CPK G3 includes 10 x ULN"),
    ("cpk", "2001", "U/L", {"uln": "200"}, 4, "CPK G4 >10 x ULN"),
    ("cpk", "0.6", "ukat/L", {"uln": "3.3"}, 0, "CPK in µkat/L: 36 U/L vs ULN 198 U/L"),
    # Electrocardiogram QT corrected interval prolonged: G1 450-480 ms; G2 481-500 ms;
    # G3 >=501 ms; >60 ms change from baseline
    ("qtc", "449", "ms", {}, 0, "QTc below 450 ms"),
    ("qtc", "450", "ms", {}, 1, "QTc G1 450 - 480 ms"),
    ("qtc", "480", "ms", {}, 1, "QTc G1 includes 480 ms"),
    ("qtc", "481", "ms", {}, 2, "QTc G2 481 - 500 ms"),
    ("qtc", "500", "ms", {}, 2, "QTc G2 includes 500 ms"),
    ("qtc", "501", "ms", {}, 3, "QTc G3 >= 501 ms"),
    ("qtc", "0.501", "s", {}, 3, "QTc G3 >= 501 ms (0.501 s)"),
    ("qtc", "460", "ms", {"baseline": "400"}, 1, "QTc: change of 60 ms is not >60 ms"),
    ("qtc", "461", "ms", {"baseline": "400"}, 3, "QTc G3 >60 ms change from baseline"),
]


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "refs", "expected", "source"),
    CASES,
    ids=[f"{c[0]}-{c[1]}{c[2]}-{c[5]}" for c in CASES],
)
def test_ctcae_v5_grade_at_boundary(analyte, value, unit, refs, expected, source):
    result = grade_lab(analyte, value, unit, version=V5, **refs)
    assert result.grade == expected, (source, result.rule, result.criterion)
    if expected:
        # the rule names version, term and grade, and quotes the NCI grade text
        assert result.rule.startswith(f"CTCAE v5.0 {result.term}, grade {expected}: ")
        assert result.grade_text
        assert result.grade_text in result.rule


def test_symptom_dependent_grade_reports_both_when_symptoms_are_unknown():
    # CTCAE v5.0 Hypokalemia: G1 "<LLN - 3.0 mmol/L"; G2 "Symptomatic with <LLN - 3.0 mmol/L;
    # intervention indicated". Without the clinical fact, both grades are possible.
    result = grade_lab("potassium", "3.2", "mmol/L", lln="3.5", uln="5.1")
    assert result.possible_grades == (1, 2)
    assert result.grade == 2
    assert result.missing_facts == ("symptomatic",)
    assert any("asymptomatic" in note for note in result.notes)


def test_hyponatremia_125_to_129_depends_on_symptoms():
    # CTCAE v5.0 Hyponatremia G2 "125-129 mmol/L and asymptomatic"; G3 "125-129 mmol/L symptomatic"
    result = grade_lab("sodium", "127", "mmol/L", uln="145")
    assert result.possible_grades == (2, 3)
    assert grade_lab("sodium", "127", "mmol/L", uln="145", symptomatic=False).grade == 2


def test_life_threatening_consequences_give_grade_4_only_with_an_abnormal_value():
    # CTCAE v5.0 Anemia G4 "Life-threatening consequences; urgent intervention indicated";
    # Hypokalemia G4 "<2.5 mmol/L; life-threatening consequences"
    assert grade_lab("hemoglobin", "75", "g/L", life_threatening=True).grade == 4
    normal = grade_lab("potassium", "4.0", "mmol/L", lln="3.5", uln="5.1", life_threatening=True)
    assert normal.grade == 0


def test_qtc_serious_arrhythmia_is_grade_4():
    # CTCAE v5.0 QTc prolonged G4 "Torsade de pointes; polymorphic ventricular tachycardia;
    # signs/symptoms of serious arrhythmia"
    assert grade_lab("qtc", "470", "ms", serious_arrhythmia=True).grade == 4


def test_baseline_abnormal_rule_is_stated_in_the_criterion():
    result = grade_lab("alt", "181", "U/L", uln="40", baseline="60")
    assert "baseline" in result.criterion
    assert "3 × baseline (180 U/L)" in result.criterion


def test_missing_baseline_is_stated():
    result = grade_lab("bilirubin", "31", "umol/L", uln="20")
    assert any("no baseline given" in note for note in result.notes)


def test_lymphocytes_grade_1_increased_does_not_exist():
    # CTCAE v5.0 Lymphocyte count increased: grade 1 is "-" (does not exist)
    result = grade_lab("lymphocytes", "4.5", "10^9/L", lln="1.0", uln="4.0")
    assert result.grade == 2
    assert result.term == "Lymphocyte count increased"
    assert result.meddra_code == 10025258
