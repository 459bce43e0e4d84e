"""ASTCT consensus grading of CRS and ICANS.

Source: Lee DW et al. ASTCT consensus grading for cytokine release syndrome and neurologic
toxicity associated with immune effector cells. Biol Blood Marrow Transplant 2019;25:625-638:
the "ASTCT CRS Consensus Grading" table and its footnotes, the ICE score table ("Encephalopathy
assessment tools"), and the "ASTCT ICANS Consensus Grading for Adults" table and footnotes.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.grading.astct import (
    Consciousness,
    CrsAssessment,
    IcansAssessment,
    IceItems,
    MotorFindings,
    OxygenDevice,
    RaisedIcp,
    Seizure,
    grade_assessments,
    grade_crs,
    grade_icans,
    ice_score,
)

FEVER = Decimal("38.5")


def crs(**kw) -> int:
    return grade_crs(CrsAssessment(**kw)).grade


# ------------------------------------------------------------------------------------ CRS


def test_worked_example_fever_one_vasopressor_low_flow_is_grade_3():
    # CRS table footnote example: temperature 39.5 °C, hypotension requiring one vasopressor
    # and hypoxia requiring low-flow nasal cannula -> grade 3 CRS
    result = grade_crs(
        CrsAssessment(
            temperature_c=Decimal("39.5"),
            vasopressors=("norepinephrine",),
            oxygen_device=OxygenDevice.NASAL_CANNULA,
            oxygen_flow_l_min=Decimal(2),
        )
    )
    assert result.grade == 3
    assert result.decided_by == ("hypotension",)
    assert result.domains == {"fever": 1, "hypotension": 3, "hypoxia": 2}
    assert "vasopressor" in result.rule


@pytest.mark.parametrize(
    ("kw", "grade"),
    [
        # Fever >= 38.0 °C, no hypotension, no hypoxia: grade 1
        ({"temperature_c": Decimal("38.0")}, 1),
        ({"temperature_c": Decimal("37.9")}, 0),
        # Hypotension not requiring vasopressors: grade 2
        ({"temperature_c": FEVER, "hypotension": True}, 2),
        # Requiring a vasopressor with or without vasopressin: grade 3
        ({"temperature_c": FEVER, "vasopressors": ("norepinephrine", "vasopressin")}, 3),
        ({"temperature_c": FEVER, "vasopressors": ("vasopressin",)}, 3),
        # Requiring multiple vasopressors (excluding vasopressin): grade 4
        ({"temperature_c": FEVER, "vasopressors": ("norepinephrine", "phenylephrine")}, 4),
        # Hypoxia: low-flow nasal cannula (<= 6 L/min) or blow-by: grade 2
        ({"temperature_c": FEVER, "oxygen_device": OxygenDevice.BLOW_BY}, 2),
        (
            {
                "temperature_c": FEVER,
                "oxygen_device": OxygenDevice.NASAL_CANNULA,
                "oxygen_flow_l_min": Decimal(6),
            },
            2,
        ),
        # high-flow nasal cannula (> 6 L/min), facemask, non-rebreather, Venturi: grade 3
        (
            {
                "temperature_c": FEVER,
                "oxygen_device": OxygenDevice.NASAL_CANNULA,
                "oxygen_flow_l_min": Decimal("6.5"),
            },
            3,
        ),
        ({"temperature_c": FEVER, "oxygen_device": OxygenDevice.FACEMASK}, 3),
        ({"temperature_c": FEVER, "oxygen_device": OxygenDevice.NON_REBREATHER}, 3),
        ({"temperature_c": FEVER, "oxygen_device": OxygenDevice.VENTURI}, 3),
        # positive pressure (CPAP, BiPAP, intubation and mechanical ventilation): grade 4
        ({"temperature_c": FEVER, "oxygen_device": OxygenDevice.CPAP}, 4),
        ({"temperature_c": FEVER, "oxygen_device": OxygenDevice.MECHANICAL_VENTILATION}, 4),
        # Grade 5: death from CRS in which another cause is not the principal factor
        ({"temperature_c": FEVER, "death_from_crs": True}, 5),
    ],
)
def test_crs_table_rows(kw, grade):
    assert crs(**kw) == grade


def test_the_more_severe_of_hypotension_and_hypoxia_decides():
    # CRS table: grade determined by the more severe event
    assert crs(temperature_c=FEVER, hypotension=True, oxygen_device=OxygenDevice.BIPAP) == 4


def test_no_fever_means_no_crs_unless_fever_was_treated():
    # Footnote: fever not attributable to another cause; once antipyretic or anti-cytokine
    # therapy is given, fever is no longer required and grading follows hypotension/hypoxia.
    untreated = grade_crs(CrsAssessment(temperature_c=Decimal("37.2"), hypotension=True))
    assert untreated.grade == 0
    assert "without fever" in untreated.notes[0]
    treated = CrsAssessment(
        temperature_c=Decimal("37.2"),
        antipyretic_or_anticytokine_given=True,
        vasopressors=("norepinephrine",),
    )
    assert grade_crs(treated).grade == 3


def test_fever_from_another_cause_does_not_count():
    assert crs(temperature_c=Decimal(39), fever_other_cause=True) == 0


def test_hypoxia_from_another_cause_does_not_count():
    assert (
        crs(temperature_c=FEVER, oxygen_device=OxygenDevice.FACEMASK, hypoxia_other_cause=True) == 1
    )


def test_nasal_cannula_needs_its_flow():
    with pytest.raises(ValidationError, match="needs oxygen_flow_l_min"):
        crs(temperature_c=FEVER, oxygen_device=OxygenDevice.NASAL_CANNULA)


def test_implausible_temperature_is_refused():
    with pytest.raises(ValidationError, match="body temperature"):
        crs(temperature_c=Decimal(101))


# ------------------------------------------------------------------------------------ ICE


def test_ice_score_is_the_sum_of_its_five_items():
    # ICE: orientation 4, naming 3, following commands 1, writing 1, attention 1 = 10
    assert ice_score(IceItems(4, 3, 1, 1, 1)) == 10
    assert ice_score(IceItems(2, 3, 1, 0, 0)) == 6
    assert IceItems(0, 0, 0, 0, 0).score() == 0


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ((5, 3, 1, 1, 1), "orientation"),
        ((4, 4, 1, 1, 1), "naming"),
        ((4, 3, 2, 1, 1), "following"),
        ((4, 3, 1, -1, 1), "writing"),
        ((4, 3, 1, 1, 2), "attention"),
    ],
)
def test_ice_items_out_of_range_are_refused(items, field):
    with pytest.raises(ValidationError, match=f"ICE item {field}"):
        ice_score(IceItems(*items))


# ---------------------------------------------------------------------------------- ICANS


def test_worked_example_ice_3_with_generalised_seizure_is_grade_3():
    # ICANS table note: "a patient with an ICE score of 3 who has a generalized seizure is
    # classified as grade 3 ICANS"
    result = grade_icans(IcansAssessment(ice=3, seizure=Seizure.RAPIDLY_RESOLVING))
    assert result.grade == 3
    assert result.decided_by == ("seizure",)
    assert result.domains["ice"] == 2


@pytest.mark.parametrize(
    ("ice", "grade"),
    # ICE score: 7-9 grade 1; 3-6 grade 2; 0-2 grade 3; 10 no ICANS
    [(10, 0), (9, 1), (7, 1), (6, 2), (3, 2), (2, 3), (0, 3)],
)
def test_ice_score_rows(ice, grade):
    assert grade_icans(IcansAssessment(ice=ice)).grade == grade


def test_ice_0_awake_is_grade_3_but_unarousable_is_grade_4():
    # Footnote: ICE 0 may be grade 3 if awake with global aphasia; grade 4 if unarousable
    assert grade_icans(IcansAssessment(ice=0)).grade == 3
    unarousable = grade_icans(IcansAssessment(consciousness=Consciousness.UNAROUSABLE))
    assert unarousable.grade == 4
    assert "consciousness" in unarousable.decided_by


@pytest.mark.parametrize(
    ("kw", "grade"),
    [
        # Depressed level of consciousness rows
        ({"consciousness": Consciousness.AWAKENS_SPONTANEOUSLY}, 1),
        ({"consciousness": Consciousness.AWAKENS_TO_VOICE}, 2),
        ({"consciousness": Consciousness.AWAKENS_TO_TACTILE}, 3),
        # Seizure rows (N/A for grades 1-2)
        ({"seizure": Seizure.LIFE_THREATENING}, 4),
        # Motor findings: deep focal motor weakness is grade 4
        ({"motor": MotorFindings.DEEP_FOCAL_WEAKNESS}, 4),
        # Elevated ICP / cerebral oedema rows
        ({"raised_icp": RaisedIcp.FOCAL_EDEMA}, 3),
        ({"raised_icp": RaisedIcp.DIFFUSE_EDEMA_OR_SIGNS}, 4),
    ],
)
def test_icans_domain_rows(kw, grade):
    assert grade_icans(IcansAssessment(ice=10, **kw)).grade == grade


def test_depressed_consciousness_from_sedation_is_not_counted():
    # Footnote: depressed consciousness should be attributable to no other cause
    result = grade_icans(
        IcansAssessment(
            ice=9, consciousness=Consciousness.AWAKENS_TO_TACTILE, consciousness_other_cause=True
        )
    )
    assert result.grade == 1
    assert result.decided_by == ("ice",)


def test_icans_needs_an_ice_score_unless_unarousable():
    with pytest.raises(ValidationError, match="needs the ICE score"):
        grade_icans(IcansAssessment())


def test_icans_death_is_grade_5():
    assert grade_icans(IcansAssessment(death_from_icans=True)).grade == 5


# ----------------------------------------------------------------------------- from files


def test_grade_assessments_from_mappings_reports_the_worst():
    course = grade_assessments(
        [
            {"id": "D1", "time": "2026-03-10T08:00:00Z", "temperature_c": 38.2},
            {"id": "D2", "temperature_c": 39.5, "vasopressors": ["norepinephrine"]},
            {"id": "D3", "antipyretic_or_anticytokine_given": True, "oxygen_device": "blow_by"},
        ],
        scale="crs",
        subject_id="101-002",
    )
    assert [a.result.grade for a in course.assessments] == [1, 3, 2]
    assert course.worst_grade == 3
    assert course.worst_assessment == "D2"


def test_icans_from_mapping_with_ice_items():
    course = grade_assessments(
        [
            {
                "ice": {
                    "orientation": 3,
                    "naming": 3,
                    "following_commands": 1,
                    "writing": 0,
                    "attention": 1,
                }
            }
        ],
        scale="icans",
    )
    assert course.assessments[0].result.ice_score == 8
    assert course.worst_grade == 1


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"temperature_c": 39, "oxygen": "mask"}, "unknown field"),
        ({"temperature_c": 39, "oxygen_device": "helmet"}, "oxygen_device 'helmet' is not one of"),
        ({"temperature_c": -39}, "cannot be negative"),
        ({"temperature_c": 39, "hypotension": "yes"}, "must be true or false"),
    ],
)
def test_bad_crs_records_name_the_assessment_and_field(item, message):
    with pytest.raises(ValidationError, match=message) as info:
        grade_assessments([item], scale="crs")
    assert "assessment 1" in info.value.message


def test_bad_icans_items_are_refused():
    with pytest.raises(ValidationError, match="missing item"):
        grade_assessments([{"ice": {"orientation": 4}}], scale="icans")
    with pytest.raises(ValidationError, match="not both"):
        grade_assessments([{"ice_score": 4, "ice": {}}], scale="icans")
    with pytest.raises(ValidationError, match="No assessments"):
        grade_assessments([], scale="icans")
