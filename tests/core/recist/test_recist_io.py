"""The RECIST input reader: exact decimals, options, and JSON paths in errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.recist.io import json_path, load_recist_input, read_json

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "formats" / "recist-input.example.json"


def test_reads_the_documented_example_with_exact_decimals():
    document = load_recist_input(read_json(EXAMPLE), source="example")
    assert [r.patient_id for r in document.records] == ["P001", "P002"]
    first = document.records[0].baseline.lesions[0]
    assert first.diameter_mm == Decimal("32.5")
    assert isinstance(first.diameter_mm, Decimal)
    assert document.options.confirmation is True
    assert document.irecist_options.recist is document.options


def test_json_path():
    assert (
        json_path(["patients", 0, "assessments", 2, "date"]) == "$.patients[0].assessments[2].date"
    )
    assert json_path([]) == "$"


def test_schema_error_carries_the_path():
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["patients"][0]["baseline"]["lesions"][0]["role"] = "main"
    with pytest.raises(ValidationError) as info:
        load_recist_input(data, source="f.json")
    assert info.value.extra["path"] == "$.patients[0].baseline.lesions[0].role"
    assert info.value.message.startswith("f.json: $.patients[0].baseline.lesions[0].role: 'main'")


def test_unknown_field_is_refused():
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["patients"][1]["assessments"][0]["lesions"][0]["diameter"] = 3
    with pytest.raises(ValidationError, match=r"\$\.patients\[1\]\.assessments\[0\]\.lesions\[0\]"):
        load_recist_input(data)
