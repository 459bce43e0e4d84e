"""The instance format: the schema, the fixture, and errors that name the field."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from fixtures.scheduling import bed, chair, tiny_doc, week_doc
from oncotrials.core.errors import ValidationError
from oncotrials.core.scheduling import instance_schema, load_instance

DOCS = Path(__file__).resolve().parents[3] / "docs" / "formats"

#: SHA-256 of the canonical JSON of onc-week-s1.json, as its README states.
CANONICAL_SHA256 = "8c5927efc9ee5b8414e2f94807521e018b7c7f89b8f4594cd4dcaf0f84de5698"


def test_fixture_is_the_published_week():
    canonical = json.dumps(week_doc(), sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == CANONICAL_SHA256


def test_fixture_loads_with_its_resources(week):
    assert (week.chairs, week.beds, week.pharmacy_capacity, week.days) == (17, 11, 4, 5)
    assert len(week.visits) == 400
    assert sum(v.unit == "bed" for v in week.visits) == 26
    assert week.slots_per_day == 288
    b00 = week.visit("B00")
    assert b00.pk
    assert b00.fixed_day
    assert b00.locked
    assert not week.visit("C000").pk


def test_documented_schema_is_the_packaged_one():
    documented = json.loads((DOCS / "schedule-instance.schema.json").read_text("utf-8"))
    assert documented == instance_schema()
    assert (DOCS / "schedule-instance.md").exists()


def _error(doc: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        load_instance(doc, source="in.json")
    return caught.value


def test_unknown_resource_names_the_field():
    err = _error(tiny_doc([chair("A", [0]), chair("B", [0], unit="couch")]))
    assert "$.visits[1].unit" in err.message
    assert "unknown resource 'couch'" in err.message
    assert err.extra["path"] == "$.visits[1].unit"


def test_window_outside_opening_hours_names_the_field():
    err = _error(tiny_doc([chair("A", [0], window=[60, 120])]))
    assert "$.visits[0].window" in err.message
    assert "opening hours" in err.message


def test_ward_admission_window_outside_admission_hours():
    err = _error(tiny_doc([bed("W", [0], window=[90, 130])]))
    assert "$.visits[0].window" in err.message
    assert "admission hours" in err.message


def test_chair_visit_longer_than_a_day():
    err = _error(tiny_doc([chair("A", [0], dur=300, samples=[])]))
    assert "$.visits[0].dur" in err.message
    assert "longer than a day" in err.message


def test_chair_visit_longer_than_opening_hours():
    err = _error(tiny_doc([chair("A", [0], dur=140, samples=[])]))
    assert "$.visits[0].dur" in err.message
    assert "longer than the day unit is open" in err.message


@pytest.mark.parametrize("field", ["chairs", "beds", "pharmacy_capacity"])
def test_negative_capacity(field):
    err = _error(tiny_doc([chair("A", [0])], **{field: -1}))
    assert f"$.{field}" in err.message
    assert "negative capacity" in err.message


def test_negative_nurses_in_the_profile():
    err = _error(tiny_doc([chair("A", [0])], nurse_profile=[[96, 228, -2]]))
    assert "$.nurse_profile[0][2]" in err.message
    assert "negative capacity" in err.message


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"chairs": "17"}, "$.chairs"),
        ({"days": 2.5}, "$.days"),
        ({"bed_admit_window": "96-144"}, "$.bed_admit_window"),
    ],
)
def test_wrong_types(change, path):
    err = _error(tiny_doc([chair("A", [0])], **change))
    assert path in err.message
    assert "wrong type" in err.message


def test_wrong_type_inside_a_visit():
    err = _error(tiny_doc([chair("A", [0], dur="18")]))
    assert "$.visits[0].dur" in err.message
    assert "wrong type" in err.message


def test_misspelt_field_is_reported():
    err = _error(tiny_doc([chair("A", [0], durr=4)]))
    assert "$.visits[0]" in err.message
    assert "durr" in err.message


def test_missing_field_is_reported():
    doc = tiny_doc([chair("A", [0])])
    del doc["beds"]
    assert "'beds' is a required property" in _error(doc).message


@pytest.mark.parametrize(
    ("visit", "path", "words"),
    [
        (chair("A", [0, 1], target=3), "$.visits[0].target_day", "not one of its allowed days"),
        (chair("A", [7]), "$.visits[0].days[0]", "outside the horizon"),
        (chair("A", [0], samples=[30]), "$.visits[0].samples[0]", "after its end"),
        (bed("W", [0], dose_at=400), "$.visits[0].dose_at", "not before discharge"),
        (bed("W", [0], dur=1500, samples=[]), "$.visits[0].dur", "longer than the ward"),
        (chair("A", [0], prep=200), "$.visits[0].prep", "longer than the pharmacy is open"),
    ],
)
def test_rules_beyond_the_schema(visit, path, words):
    err = _error(tiny_doc([visit]))
    assert path in err.message
    assert words in err.message


def test_duplicate_ids():
    err = _error(tiny_doc([chair("A", [0]), chair("A", [1])]))
    assert "$.visits[1].id" in err.message
    assert "also visit 0" in err.message


def test_opening_hours_must_be_a_range():
    err = _error(tiny_doc([chair("A", [0])], chair_open=230))
    assert "$.chair_close" in err.message


def test_slot_length_must_divide_a_day():
    err = _error(tiny_doc([chair("A", [0])], slot_minutes=7))
    assert "$.slot_minutes" in err.message


def test_loading_does_not_alter_the_document():
    doc = week_doc()
    before = json.dumps(doc, sort_keys=True)
    instance = load_instance(doc)
    assert json.dumps(doc, sort_keys=True) == before
    assert instance.data == doc
    assert instance.data is not doc
