"""DLT rules: the derived test vectors D-1 … D-14 of the clinical-rules reference (section 5,
"DLT test vectors", evaluated under its example rule set with a 21-day window and related
attribution), plus the rule model's own edge cases.

The rule set is the example protocol file shipped in docs/formats/examples/.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from oncotrials.core.errors import NotFoundError, ValidationError
from oncotrials.core.grading.dlt import (
    Outcome,
    dlt_rules_from_dict,
    evaluate_subject,
    load_dlt_rules,
    read_structured_file,
    subjects_from_dict,
)

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_RULES = ROOT / "docs" / "formats" / "examples" / "dlt-rules.example.yaml"


@pytest.fixture(scope="module")
def rules():
    return load_dlt_rules(EXAMPLE_RULES)


def rules_with(**changes):
    data = copy.deepcopy(read_structured_file(EXAMPLE_RULES))
    data["dlt"].update(changes)
    return dlt_rules_from_dict(data)


def subject(**parts):
    data = {"subject_id": "S1", "first_dose": "2026-01-05", **parts}
    return subjects_from_dict(data)[0]


def anc(*points, attribution="possible"):
    return {
        "analyte": "neutrophils",
        "unit": "10^9/L",
        "lln": 1.8,
        "attribution": attribution,
        "values": [{"at": day, "value": value} for day, value in points],
    }


def platelets(*points):
    return {
        "analyte": "platelets",
        "unit": "10^9/L",
        "lln": 150,
        "attribution": "possible",
        "values": [{"at": day, "value": value} for day, value in points],
    }


def ae(term, grade, onset, **kw):
    return {"term": term, "grade": grade, "onset": onset, "attribution": "possible", **kw}


def test_d1_grade_4_neutropenia_for_7_days_is_not_a_dlt(rules):
    # D-1: ANC 0.40 d10, 0.45 d14, 0.90 d17 -> G4 d10->d17 = 7 days -> not DLT
    s = subject(lab_series=[anc((10, 0.40), (14, 0.45), (17, 0.90))])
    d = evaluate_subject(s, rules)
    assert d.outcome is Outcome.NOT_DLT
    event = d.events[0]
    assert event.rule_id == "NEUT_G4_PROLONGED"
    assert "lasted 7 days" in event.reason


def test_d2_grade_4_neutropenia_for_8_days_is_a_dlt(rules):
    # D-2: ANC 0.40 d10, 0.45 d14, 0.48 d17, 0.90 d18 -> 8 days -> DLT (NEUT_G4_PROLONGED)
    s = subject(lab_series=[anc((10, 0.40), (14, 0.45), (17, 0.48), (18, 0.90))])
    d = evaluate_subject(s, rules)
    assert d.outcome is Outcome.DLT
    assert d.rule_id == "NEUT_G4_PROLONGED"
    assert "8 days" in d.reason


def test_d3_febrile_neutropenia_is_derived_and_is_a_dlt(rules):
    # D-3: ANC 0.8 + single temperature 38.5 °C on day 12 -> febrile neutropenia G3 -> DLT
    # (CTCAE v5.0 Febrile neutropenia G3: ANC <1000/mm3 with a single temperature >38.3 °C)
    s = subject(lab_series=[anc((12, 0.8))], temperatures=[{"at": 12, "celsius": 38.5}])
    d = evaluate_subject(s, rules)
    assert d.outcome is Outcome.DLT
    assert d.rule_id == "FEBRILE_NEUTROPENIA"


def test_febrile_neutropenia_needs_more_than_38_3_or_a_sustained_38():
    rules = load_dlt_rules(EXAMPLE_RULES)
    single_38_3 = subject(lab_series=[anc((12, 0.8))], temperatures=[{"at": 12, "celsius": 38.3}])
    assert evaluate_subject(single_38_3, rules).outcome is Outcome.NOT_DLT
    sustained = subject(
        lab_series=[anc((12, 0.8))],
        temperatures=[{"at": 12, "celsius": 38.0, "sustained_hours": 1.5}],
    )
    assert evaluate_subject(sustained, rules).rule_id == "FEBRILE_NEUTROPENIA"


def test_d4_grade_4_thrombocytopenia_is_a_dlt(rules):
    # D-4: PLT 22 x 10^9/L on day 15 -> G4 -> DLT
    d = evaluate_subject(subject(lab_series=[platelets((15, 22))]), rules)
    assert (d.outcome, d.rule_id) == (Outcome.DLT, "PLT_G4")


def test_d5_grade_3_thrombocytopenia_without_bleeding_is_not_a_dlt(rules):
    # D-5: PLT 40 on day 15, no bleeding, no transfusion -> not DLT
    d = evaluate_subject(subject(lab_series=[platelets((15, 40))]), rules)
    assert d.outcome is Outcome.NOT_DLT


def test_d6_grade_3_thrombocytopenia_with_grade_2_epistaxis_is_a_dlt(rules):
    # D-6: PLT 40 d15 + G2 epistaxis d15 -> DLT (PLT_G3_BLEEDING)
    s = subject(lab_series=[platelets((15, 40))], adverse_events=[ae("Epistaxis", 2, 15)])
    d = evaluate_subject(s, rules)
    assert (d.outcome, d.rule_id) == (Outcome.DLT, "PLT_G3_BLEEDING")
    assert "Epistaxis" in d.reason


def test_bleeding_must_overlap_the_thrombocytopenia(rules):
    s = subject(
        lab_series=[platelets((15, 40), (18, 160))],
        adverse_events=[ae("Epistaxis", 2, 20, end=21)],
    )
    assert evaluate_subject(s, rules).outcome is Outcome.NOT_DLT


def test_d7_grade_3_nausea_resolving_in_48_h_with_antiemetics_is_excepted(rules):
    # D-7: G3 nausea day 3, <= G1 by 48 h with antiemetics -> not DLT (exception)
    s = subject(
        adverse_events=[
            {
                "term": "Nausea",
                "course": [
                    {"at": "2026-01-07T08:00:00Z", "grade": 3},
                    {"at": "2026-01-09T08:00:00Z", "grade": 1},
                ],
                "attribution": "probable",
                "supportive_care": True,
            }
        ]
    )
    d = evaluate_subject(s, rules)
    assert d.outcome is Outcome.NOT_DLT
    assert d.events[0].rule_id == "NONHEME_G3"
    assert "exception GI_CONTROLLED" in d.events[0].reason


def test_d8_grade_3_nausea_for_96_h_despite_antiemetics_is_a_dlt(rules):
    # D-8: G3 nausea day 3 lasting 96 h despite antiemetics -> DLT
    s = subject(
        adverse_events=[
            {
                "term": "Nausea",
                "course": [
                    {"at": "2026-01-07T08:00:00Z", "grade": 3},
                    {"at": "2026-01-11T08:00:00Z", "grade": 1},
                ],
                "attribution": "probable",
                "supportive_care": True,
            }
        ]
    )
    d = evaluate_subject(s, rules)
    assert (d.outcome, d.rule_id) == (Outcome.DLT, "NONHEME_G3")


def test_nausea_exception_without_supportive_care_does_not_apply(rules):
    s = subject(adverse_events=[ae("Nausea", 3, 3, end=4)])
    assert evaluate_subject(s, rules).outcome is Outcome.DLT


def test_nausea_still_grade_3_at_24_h_is_pending(rules):
    s = subject(adverse_events=[ae("Nausea", 3, "2026-01-07T08:00:00Z", supportive_care=True)])
    d = evaluate_subject(s, rules)
    assert d.outcome is Outcome.PENDING
    assert "may apply" in d.reason


def test_d9_onset_outside_the_window(rules):
    # D-9: G3 rash onset day 25: outside a 21-day window -> not DLT; with 28 days -> DLT
    s = subject(adverse_events=[ae("Rash maculo-papular", 3, 25)])
    d21 = evaluate_subject(s, rules)
    assert d21.outcome is Outcome.NOT_DLT
    assert "outside the DLT window (days 1-21)" in d21.events[0].reason
    d28 = evaluate_subject(s, rules_with(window={"days": 28}))
    assert (d28.outcome, d28.rule_id) == (Outcome.DLT, "NONHEME_G3")


def test_window_is_inclusive_of_its_last_day(rules):
    assert (
        evaluate_subject(subject(adverse_events=[ae("Fever", 3, 21)]), rules).outcome is Outcome.DLT
    )
    assert (
        evaluate_subject(subject(adverse_events=[ae("Fever", 3, 22)]), rules).outcome
        is Outcome.NOT_DLT
    )


def test_d10_unlikely_attribution_is_not_a_dlt(rules):
    # D-10: G3 ALT, attribution "unlikely" -> not DLT
    s = subject(
        adverse_events=[ae("Alanine aminotransferase increased", 3, 8, attribution="unlikely")]
    )
    d = evaluate_subject(s, rules)
    assert d.outcome is Outcome.NOT_DLT
    assert "attribution 'unlikely'" in d.events[0].reason


def test_missing_attribution_is_pending_not_a_default(rules):
    event = ae("Alanine aminotransferase increased", 3, 8)
    del event["attribution"]
    d = evaluate_subject(subject(adverse_events=[event]), rules)
    assert d.outcome is Outcome.PENDING
    assert "attribution not recorded" in d.reason


def test_d11_grade_4_lymphopenia_is_not_a_dlt(rules):
    # D-11: G4 lymphocyte count decreased -> not DLT (haematological; no rule covers it)
    d = evaluate_subject(subject(adverse_events=[ae("Lymphocyte count decreased", 4, 8)]), rules)
    assert d.outcome is Outcome.NOT_DLT


def liver(alt=160, bili=50, alp=100, attribution="possible"):
    series = [
        {
            "analyte": "alt",
            "unit": "U/L",
            "uln": 40,
            "attribution": attribution,
            "values": [{"at": 8, "value": alt}],
        },
        {"analyte": "bilirubin", "unit": "umol/L", "uln": 20, "values": [{"at": 8, "value": bili}]},
    ]
    if alp is not None:
        series.append(
            {"analyte": "alp", "unit": "U/L", "uln": 120, "values": [{"at": 8, "value": alp}]}
        )
    return series


def test_d12_hys_law_is_a_dlt(rules):
    # D-12: ALT 4 x ULN + bilirubin 2.5 x ULN, ALP normal -> DLT (Hy's law)
    d = evaluate_subject(subject(lab_series=liver()), rules)
    assert (d.outcome, d.rule_id) == (Outcome.DLT, "HYS_LAW")
    assert "ALT 4 × ULN" in d.reason


def test_hys_law_with_cholestatic_alp_or_without_alp(rules):
    assert evaluate_subject(subject(lab_series=liver(alp=300)), rules).outcome is Outcome.NOT_DLT
    pending = evaluate_subject(subject(lab_series=liver(alp=None)), rules)
    assert pending.outcome is Outcome.PENDING
    assert "ALP not measured" in pending.reason
    # ALT exactly 3 x ULN does not meet "> 3 x ULN"
    assert evaluate_subject(subject(lab_series=liver(alt=120)), rules).outcome is Outcome.NOT_DLT


def test_d13_grade_4_neutropenia_without_follow_up_is_pending(rules):
    # D-13: ANC 0.3 d20, no further labs -> pending (duration unknown)
    d = evaluate_subject(subject(lab_series=[anc((20, 0.3))]), rules)
    assert d.outcome is Outcome.PENDING
    assert d.rule_id == "NEUT_G4_PROLONGED"
    assert "no recovery observed" in d.reason


def test_ongoing_grade_4_neutropenia_already_long_enough_is_a_dlt(rules):
    d = evaluate_subject(subject(lab_series=[anc((5, 0.3), (13, 0.2))]), rules)
    assert (d.outcome, d.rule_id) == (Outcome.DLT, "NEUT_G4_PROLONGED")


def crs_event(*course):
    return {
        "id": "CRS-1",
        "term": "Cytokine release syndrome",
        "scale": "ASTCT_CRS",
        "attribution": "probable",
        "course": [{"at": at, "grade": g} for at, g in course],
    }


def test_d14_astct_crs_rules(rules):
    # D-14: ASTCT CRS G3 for 48 h -> not DLT; G3 for 80 h -> DLT; any G4 -> DLT
    g3_48 = crs_event(("2026-01-06T00:00:00Z", 3), ("2026-01-08T00:00:00Z", 1))
    g3_80 = crs_event(("2026-01-06T00:00:00Z", 3), ("2026-01-09T08:00:00Z", 2))
    g4 = crs_event(("2026-01-06T00:00:00Z", 4), ("2026-01-06T12:00:00Z", 2))
    assert evaluate_subject(subject(adverse_events=[g3_48]), rules).outcome is Outcome.NOT_DLT
    d80 = evaluate_subject(subject(adverse_events=[g3_80]), rules)
    assert (d80.outcome, d80.rule_id) == (Outcome.DLT, "CRS_G3_PROLONGED")
    d4 = evaluate_subject(subject(adverse_events=[g4]), rules)
    assert d4.outcome is Outcome.DLT
    assert d4.rule_id in {"CRS_G3_PROLONGED", "CRS_G4"}


def test_astct_events_are_not_caught_by_ctcae_rules(rules):
    # A grade 3 CRS for 48 h must not become a DLT through the non-haematological CTCAE rule
    g3_48 = crs_event(("2026-01-06T00:00:00Z", 3), ("2026-01-08T00:00:00Z", 1))
    d = evaluate_subject(subject(adverse_events=[g3_48]), rules)
    assert d.events[0].rule_id == "CRS_G3_PROLONGED"


def test_icans_grade_3_is_a_dlt(rules):
    event = {
        "term": "ICANS",
        "scale": "ASTCT_ICANS",
        "grade": 3,
        "onset": 4,
        "attribution": "possible",
    }
    d = evaluate_subject(subject(adverse_events=[event]), rules)
    assert (d.outcome, d.rule_id) == (Outcome.DLT, "ICANS_G3")


def test_grade_5_unless_disease_progression(rules):
    death = ae("Sudden death NOS", 5, 9)
    assert evaluate_subject(subject(adverse_events=[death]), rules).outcome is Outcome.DLT
    progression = {**death, "due_to_disease_progression": True}
    d = evaluate_subject(subject(adverse_events=[progression]), rules)
    assert d.outcome is Outcome.NOT_DLT
    assert "due to disease progression" in d.events[0].reason


def test_dose_delay_over_14_days_for_toxicity(rules):
    def delay(days, toxicity=True):
        return {"days": days, "cycle": 2, "due_to_toxicity": toxicity, "attribution": "possible"}

    assert evaluate_subject(subject(dose_delays=[delay(15)]), rules).rule_id == "DOSE_DELAY"
    assert evaluate_subject(subject(dose_delays=[delay(14)]), rules).outcome is Outcome.NOT_DLT
    assert (
        evaluate_subject(subject(dose_delays=[delay(30, False)]), rules).outcome is Outcome.NOT_DLT
    )


def test_excluded_terms_and_electrolyte_exception(rules):
    assert (
        evaluate_subject(subject(adverse_events=[ae("Alopecia", 2, 5)]), rules).outcome
        is Outcome.NOT_DLT
    )
    # Hypokalemia grade 3 corrected to grade 1 within 24 h: exception ELECTROLYTES_CORRECTED
    s = subject(
        lab_series=[
            {
                "analyte": "potassium",
                "unit": "mmol/L",
                "lln": 3.5,
                "uln": 5.1,
                "attribution": "possible",
                "values": [
                    {"at": "2026-01-10T08:00:00Z", "value": 2.8},
                    {"at": "2026-01-11T08:00:00Z", "value": 3.6},
                ],
            }
        ]
    )
    d = evaluate_subject(s, rules)
    assert d.outcome is Outcome.NOT_DLT
    assert "ELECTROLYTES_CORRECTED" in d.events[0].reason


def test_subject_outcome_evaluability_and_incomplete_window(rules):
    low_dose = subject(fraction_planned_dose_received=0.5)
    assert evaluate_subject(low_dose, rules).outcome is Outcome.NOT_EVALUABLE
    # a DLT counts even when the dose was low
    dlt = subject(fraction_planned_dose_received=0.5, lab_series=[platelets((15, 22))])
    assert evaluate_subject(dlt, rules).outcome is Outcome.DLT
    early = subject(followed_through_day=10)
    d = evaluate_subject(early, rules)
    assert d.outcome is Outcome.PENDING
    assert "followed through day 10" in d.reason


# --------------------------------------------------------------------------- bad input


def test_unknown_ae_term_names_the_record():
    with pytest.raises(ValidationError, match=r"adverse_events/0 \(AE1\).*Unknown CTCAE v5.0 term"):
        subject(adverse_events=[ae("Nausee", 3, 3)])


def test_study_day_0_does_not_exist():
    with pytest.raises(ValidationError, match="study day 0 does not exist"):
        subject(adverse_events=[ae("Nausea", 3, 0)])


def test_end_before_onset_is_refused():
    with pytest.raises(ValidationError, match="is before onset"):
        subject(adverse_events=[ae("Nausea", 3, 5, end=4)])


def test_bad_lab_value_names_the_series_and_value():
    series = anc((10, -0.4))
    with pytest.raises(ValidationError, match=r"values/0") as info:
        subjects_from_dict({"subject_id": "S1", "first_dose": "2026-01-05", "lab_series": [series]})
    assert "negative" in info.value.message or "minimum" in info.value.message


def test_subject_file_schema_errors_name_the_path():
    with pytest.raises(ValidationError, match="adverse_events/0"):
        subjects_from_dict(
            {
                "subject_id": "S1",
                "first_dose": "2026-01-05",
                "adverse_events": [{"term": "Nausea", "grade": 7, "onset": 3}],
            }
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rules": [{"id": "X", "min_grade": 7}]}, "rules/0"),
        ({"rules": [{"id": "X", "min_grade": 3}, {"id": "X", "min_grade": 4}]}, "used twice"),
        ({"rules": [{"id": "X", "min_grade": 3, "terms": ["Nausee"]}]}, "Did you mean 'Nausea'"),
        ({"rules": [{"id": "X", "min_grade": 3, "hys_law": {}}]}, "rules/0"),
        ({"window": {"days": 0}}, "window"),
        (
            {"rules": [{"id": "X", "min_grade": 3, "min_duration_days": 2, "longer_than_days": 1}]},
            "not both",
        ),
    ],
)
def test_bad_rule_files_are_refused_with_the_field(change, message):
    data = copy.deepcopy(read_structured_file(EXAMPLE_RULES))
    data["dlt"].update(change)
    with pytest.raises((ValidationError, NotFoundError), match=message):
        dlt_rules_from_dict(data)


def test_docs_schemas_are_the_package_schemas():
    package = ROOT / "src" / "oncotrials" / "core" / "grading" / "schemas"
    for name in ("dlt-rules.schema.json", "dlt-subjects.schema.json"):
        docs = json.loads((ROOT / "docs" / "formats" / name).read_text(encoding="utf-8"))
        assert docs == json.loads((package / name).read_text(encoding="utf-8"))


def test_lab_values_out_of_order_in_the_file_are_sorted_by_time(rules):
    # Same data as D-2 (8 days at grade 4 -> DLT), listed in a shuffled order
    s = subject(lab_series=[anc((18, 0.90), (10, 0.40), (17, 0.48), (14, 0.45))])
    assert evaluate_subject(s, rules).rule_id == "NEUT_G4_PROLONGED"
    assert evaluate_subject(s, rules).outcome is Outcome.DLT
