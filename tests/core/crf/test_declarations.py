"""Form declarations and edit checks, framework-free (stable codes E101-E103; check codes)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from oncotrials.core.crf import (
    RECORD_FORMS,
    STANDARD_DECLARATIONS,
    STANDARD_FORMS,
    DeclarationError,
    declaration_problems,
    errors_of,
    form_spec_from_dict,
    run_checks,
    standard_problems,
)

TODAY = dt.date(2026, 11, 20)
QOL = {
    "name": "quality_of_life",
    "title": "EQ-5D",
    "fields": [
        {"name": "assessed_on", "type": "date", "required": True},
        {"name": "vas", "type": "integer", "min": 0, "max": 100, "required": True},
    ],
}


def _codes(doc):
    return sorted(p.code for p in declaration_problems(doc))


def test_the_standard_library_is_sound():
    assert standard_problems() == []
    assert {d["name"] for d in STANDARD_DECLARATIONS} >= {"vital_signs", "ecog", "eligibility"}
    assert set(RECORD_FORMS) <= set(STANDARD_FORMS)
    assert STANDARD_FORMS["labs"].kind == "records"
    assert STANDARD_FORMS["vital_signs"].kind == "fields"


def test_declaration_problems_carry_stable_codes():
    assert _codes({**QOL, "fields": [{"name": "vas", "type": "slider"}]}) == ["E101"]
    assert _codes({**QOL, "fields": QOL["fields"] + [QOL["fields"][0]]}) == ["E103"]
    assert _codes(
        {
            **QOL,
            "fields": [{"name": "x", "type": "text", "required_if": {"field": "y", "equals": 1}}],
        }
    ) == ["E103"]
    assert _codes({**QOL, "date_checks": [{"earlier": "vas", "later": "assessed_on"}]}) == ["E103"]
    assert _codes({**QOL, "fields": [{"name": "vas", "type": "integer", "min": 5, "max": 1}]}) == [
        "E103"
    ]
    assert _codes({**QOL, "fields": [{"name": "c", "type": "choice"}]}) == ["E103"]
    assert _codes({**QOL, "name": "labs"}) == ["E103"]  # reserved for record forms
    assert _codes(QOL) == []


@pytest.mark.parametrize(
    "doc",
    [
        [],
        {"name": "Bad Name", "fields": QOL["fields"]},
        {"name": "f", "fields": []},
        {"name": "f", "fields": ["text"]},
        {"name": "f", "fields": [{"name": "9x", "type": "text"}]},
        {"name": "f", "fields": [{"name": "x", "type": "text", "colour": "red"}]},
        {"name": "f", "fields": [{"name": "x", "type": "text", "min": 1}]},
        {"name": "f", "fields": [{"name": "x", "type": "integer", "min": "many"}]},
        {
            "name": "f",
            "fields": [{"name": "x", "type": "integer", "expected_min": 9, "expected_max": 1}],
        },
        {"name": "f", "fields": [{"name": "x", "type": "text", "required_if": {"field": "x"}}]},
        {"name": "f", "fields": QOL["fields"], "date_checks": {}},
        {"name": "f", "fields": QOL["fields"], "date_checks": [{"earlier": "assessed_on"}]},
    ],
)
def test_every_malformed_declaration_is_e103(doc):
    problems = declaration_problems(doc)
    assert problems
    assert {p.code for p in problems} == {"E103"}
    if isinstance(doc, dict):
        with pytest.raises(DeclarationError, match="E103"):
            form_spec_from_dict(doc)


def test_a_declaration_is_parsed_into_a_frozen_spec():
    spec = form_spec_from_dict(
        {
            **QOL,
            "fields": [
                *QOL["fields"],
                {"name": "note_on", "type": "date", "label": "Noted on"},
                {"name": "score", "type": "decimal", "expected_max": "7.5", "unit": "pts"},
            ],
            "date_checks": [{"earlier": "assessed_on", "later": "note_on"}],
        }
    )
    assert spec.title == "EQ-5D"
    assert spec.field_names == ("assessed_on", "vas", "note_on", "score")
    vas = spec.field("vas")
    assert vas is not None
    assert (vas.min, vas.max, vas.required, vas.title) == (Decimal(0), Decimal(100), True, "Vas")
    assert spec.field("note_on").title == "Noted on"
    assert spec.field("score").expected_max == Decimal("7.5")
    assert spec.field("missing") is None
    assert spec.date_checks[0].earlier == "assessed_on"
    untitled = form_spec_from_dict({"name": "side_note", "fields": [{"name": "t", "type": "text"}]})
    assert untitled.title == "Side note"


def test_values_are_normalised_and_a_clean_form_has_no_issue():
    clean, issues = run_checks(
        STANDARD_FORMS["vital_signs"],
        {
            "assessed_on": " 2026-11-13 ",
            "weight_kg": "72,50",
            "systolic_bp": "120",
            "temperature": "37.0",
            "heart_rate": "",
        },
        today=TODAY,
    )
    assert issues == []
    assert clean == {
        "assessed_on": "2026-11-13",
        "weight_kg": "72.50",
        "systolic_bp": 120,
        "temperature": "37",
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("100", "100"), ("100.0", "100"), ("1E+2", "100"), ("250,00", "250"), ("70.50", "70.50")],
)
def test_a_whole_decimal_is_stored_in_plain_notation(typed, stored):
    """A weight of 100 kg reads "100", never "1E+2" (as ``Decimal.normalize`` alone writes it)."""
    clean, issues = run_checks(
        STANDARD_FORMS["vital_signs"],
        {"assessed_on": "2026-11-13", "weight_kg": typed},
        today=TODAY,
    )
    assert clean["weight_kg"] == stored
    assert issues == []


def test_each_edit_check_has_its_stable_code():
    vitals = STANDARD_FORMS["vital_signs"]
    _, issues = run_checks(
        vitals,
        {"assessed_on": "2026-11-21", "systolic_bp": "12.5", "heart_rate": "400"},
        today=TODAY,
    )
    by_field = {i.field: i for i in issues}
    assert by_field["assessed_on"].code == "future_date"
    assert by_field["systolic_bp"].code == "type"
    assert by_field["systolic_bp"].message == "Systolic bp: expected a whole number; got '12.5'."
    assert by_field["heart_rate"].code == "range"
    assert by_field["heart_rate"].message == (
        "Heart rate must lie between 20 and 250 beats/min; got 400 beats/min."
    )

    _, issues = run_checks(vitals, {"assessed_on": "2026-11-13", "systolic_bp": "210"}, today=TODAY)
    (warning,) = issues
    assert (warning.code, warning.severity) == ("expected_range", "warning")
    assert errors_of(issues) == []
    assert warning.as_dict()["severity"] == "warning"

    _, issues = run_checks(STANDARD_FORMS["ecog"], {"performance_status": "5"}, today=TODAY)
    assert sorted(i.code for i in issues) == ["choice", "required"]

    history = STANDARD_FORMS["medical_history"]
    _, issues = run_checks(
        history, {"diagnosed_on": "2026-01-10", "metastatic": "yes"}, today=TODAY
    )
    assert [(i.field, i.code) for i in issues] == [("metastatic_on", "required_if")]
    assert issues[0].message == "Metastatic on is required when Metastatic is yes."

    _, issues = run_checks(
        history,
        {"diagnosed_on": "2026-01-10", "metastatic": "y", "metastatic_on": "2025-12-01"},
        today=TODAY,
    )
    assert [(i.field, i.code, i.message) for i in issues] == [
        ("metastatic_on", "date_order", "Metastatic disease cannot predate the diagnosis.")
    ]

    _, issues = run_checks(
        history, {"diagnosed_on": "10/01/2026", "metastatic": "maybe"}, today=TODAY
    )
    assert sorted((i.field, i.code) for i in issues) == [
        ("diagnosed_on", "type"),
        ("metastatic", "type"),
    ]


def test_unknown_fields_are_refused():
    with pytest.raises(KeyError, match="colour"):
        run_checks(STANDARD_FORMS["ecog"], {"colour": "red"}, today=TODAY)
