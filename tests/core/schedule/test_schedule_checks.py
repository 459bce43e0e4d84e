"""Schedule rules with stable problem codes, the documented format and its schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.schedule import (
    PROBLEM_CODES,
    CycleDay,
    CycleSpec,
    FollowUpSpec,
    ImagingSpec,
    Reference,
    VisitSchedule,
    VisitSpec,
    Window,
    check_schedule,
    check_schedule_document,
    load_schedule,
    read_schedule_file,
    visit_schedule_schema,
)

FORMATS = Path(__file__).resolve().parents[3] / "docs" / "formats"
EXAMPLE = FORMATS / "visit-schedule.example.yaml"
EXAMPLE_FORMS = {
    "demographics", "medical_history", "eligibility", "vital_signs", "ecog", "labs", "exposure",
    "adverse_events", "recist", "end_of_treatment", "survival_status", "subsequent_therapy",
}  # fmt: skip


def _codes(problems):
    return [p.code for p in problems]


def _doc():
    return read_schedule_file(EXAMPLE)


def test_the_documented_schema_is_the_one_the_loader_uses():
    documented = json.loads((FORMATS / "visit-schedule.schema.json").read_text(encoding="utf-8"))
    assert documented == visit_schedule_schema()


def test_documented_example_has_no_problem_with_its_forms():
    assert check_schedule_document(_doc(), known_forms=EXAMPLE_FORMS) == []


def test_unknown_form_is_e001_naming_visit_and_form():
    doc = _doc()
    doc["cycles"]["days"][1]["forms"] = ["vitals", "labs"]
    problems = check_schedule_document(doc, known_forms=EXAMPLE_FORMS)
    assert _codes(problems) == ["E001"]
    assert problems[0].message == "Visit C1D8 lists an unknown form 'vitals'."
    assert problems[0].path == "$.cycles.days[1].forms[0]"
    assert problems[0].visit == "C1D8"
    assert problems[0].level == "error"
    # without a list of known forms the form rule is not run
    assert check_schedule_document(doc) == []


def test_duplicate_visit_codes_are_e002():
    schedule = VisitSchedule(
        trial="T",
        visits=(
            VisitSpec("SCR", -14, Window(14, 13), forms=("f",)),
            VisitSpec("SCR", -7, forms=("f",)),
            VisitSpec("C2D1", 21, forms=("f",)),  # also produced by the cycles
        ),
        cycles=CycleSpec(21, (CycleDay(1, forms=("f",)),), count=2),
    )
    problems = [p for p in check_schedule(schedule) if p.code == "E002"]
    assert [p.visit for p in problems] == ["SCR", "C2D1"]
    assert "used twice ($.visits[0].code and $.visits[1].code)" in problems[0].message


def test_imaging_and_follow_up_codes_clash_with_a_one_off_visit():
    schedule = VisitSchedule(
        trial="T",
        visits=(VisitSpec("IMG2", 90, forms=("f",)),),
        imaging=ImagingSpec(every_weeks=6, count=3, forms=("f",)),
    )
    assert [p.visit for p in check_schedule(schedule) if p.code == "E002"] == ["IMG2"]


def test_negative_window_is_e003_with_its_path():
    doc = _doc()
    doc["cycles"]["days"][2]["window"] = {"before": -1, "after": 1}
    problems = check_schedule_document(doc, known_forms=EXAMPLE_FORMS)
    assert _codes(problems) == ["E003"]
    assert problems[0].path == "$.cycles.days[2].window.before"
    assert "Visit C1D15 has a negative window: window.before is -1" in problems[0].message


def test_overlapping_windows_of_consecutive_visits_are_e004():
    schedule = VisitSchedule(
        trial="T",
        cycles=CycleSpec(
            21,
            (
                CycleDay(1, forms=("f",)),
                CycleDay(8, Window(4, 4), forms=("f",)),
                CycleDay(15, Window(3, 3), forms=("f",)),
            ),
            count=2,
        ),
    )
    problems = check_schedule(schedule)
    # D8 + 4 = day 12 reaches D15 - 3 = day 12; D8 - 4 = day 4 is clear of D1 (day 1, ±0)
    assert _codes(problems) == ["E004"]
    assert problems[0].visit == "C1D15"
    assert "Visits C1D8 and C1D15 have overlapping windows" in problems[0].message


def test_screening_window_reaching_c1d1_is_e004_and_touching_is_not():
    cycles = CycleSpec(21, (CycleDay(1, forms=("f",)),), count=1)
    clear = VisitSchedule(
        "T", visits=(VisitSpec("SCR", -14, Window(14, 13), forms=("f",)),), cycles=cycles
    )
    assert check_schedule(clear) == []
    late = VisitSchedule(
        "T", visits=(VisitSpec("SCR", -14, Window(14, 14), forms=("f",)),), cycles=cycles
    )
    assert _codes(check_schedule(late)) == ["E004"]


def test_cycle_day_outside_the_cycle_is_e005():
    doc = _doc()
    doc["cycles"]["days"][2]["day"] = 22
    problems = check_schedule_document(doc, known_forms=EXAMPLE_FORMS)
    assert _codes(problems) == ["E005"]
    assert "day 22 of a 21-day cycle" in problems[0].message
    doc["cycles"]["days"][2]["day"] = 0
    assert _codes(check_schedule_document(doc, known_forms=EXAMPLE_FORMS)) == ["E005"]


def test_structural_faults_are_e006_with_json_paths():
    doc = _doc()
    del doc["trial"]
    doc["cycles"]["length_days"] = "21"
    problems = check_schedule_document(doc)
    assert {p.code for p in problems} == {"E006"}
    paths = {p.path for p in problems}
    assert paths == {"$", "$.cycles.length_days"}
    assert any("'trial' is a required property" in p.message for p in problems)
    doc["trial"] = "T"
    with pytest.raises(ValidationError, match=r"\$\.cycles\.length_days: '21' is not of type"):
        load_schedule(doc, source="s.yaml")


def test_restriction_to_a_missing_cycle_is_e007_and_follow_up_without_eot_is_e008():
    doc = _doc()
    doc["cycles"]["count"] = 6
    doc["cycles"]["days"][1]["only_cycles"] = [1, 7]
    del doc["end_of_treatment"]
    problems = check_schedule_document(doc, known_forms=EXAMPLE_FORMS)
    assert _codes(problems) == ["E007", "E008"]
    assert "restricted to cycle 7, but cycles run from 1 to 6" in problems[0].message


def test_same_cycle_day_twice_is_e009_and_not_also_a_duplicate_code():
    doc = _doc()
    doc["cycles"]["days"].append(copy.deepcopy(doc["cycles"]["days"][1]))
    problems = check_schedule_document(doc, known_forms=EXAMPLE_FORMS)
    assert "E009" in _codes(problems)
    assert "E002" not in _codes(problems)


def test_c1d1_reference_with_an_offset_c1d1_is_e010():
    schedule = VisitSchedule(
        "T",
        reference=Reference.C1D1,
        cycles=CycleSpec(21, (CycleDay(1, forms=("f",)),), count=1, start_offset_days=7),
    )
    assert _codes(check_schedule(schedule)) == ["E010"]
    registration = VisitSchedule(
        "T",
        reference=Reference.REGISTRATION,
        cycles=CycleSpec(21, (CycleDay(1, forms=("f",)),), count=1, start_offset_days=7),
    )
    assert check_schedule(registration) == []


def test_warnings_empty_visit_and_imaging_off_the_cycle_grid():
    schedule = VisitSchedule(
        "T",
        cycles=CycleSpec(21, (CycleDay(1),), count=2),
        imaging=ImagingSpec(every_weeks=8, forms=("recist",)),
    )
    problems = check_schedule(schedule)
    assert _codes(problems) == ["W001", "W002"]
    assert all(not p.is_error for p in problems)
    assert "Imaging every 8 weeks is not a whole number of 21-day cycles" in problems[1].message


def test_every_reported_code_is_documented():
    documented = (FORMATS / "visit-schedule.md").read_text(encoding="utf-8")
    for code in PROBLEM_CODES:
        assert f"`{code}`" in documented


def test_yaml_syntax_error_names_the_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("trial: T\ncycles: [\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"bad\.yaml: not valid YAML at line \d+"):
        read_schedule_file(path)


def test_json_documents_load_like_yaml(tmp_path):
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps(_doc()), encoding="utf-8")
    assert load_schedule(read_schedule_file(path)) == load_schedule(_doc())


def test_follow_up_spec_defaults():
    schedule = load_schedule(
        {"trial": "T", "follow_up": {"every_months": 3}, "end_of_treatment": {}}
    )
    assert schedule.follow_up == FollowUpSpec(every_months=3)
    assert schedule.end_of_treatment is not None
    assert schedule.end_of_treatment.code == "EOT"
