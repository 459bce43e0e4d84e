"""Units, lineage rules and chain-of-custody gaps (OpenSpecimen rule ids in the messages)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from oncotrials.core.biobank.consent import Answer, Use, refusal_for
from oncotrials.core.biobank.custody import Event, custody_gaps
from oncotrials.core.biobank.lineage import Node, check_derivation, take, tree_violations
from oncotrials.core.biobank.units import convert, quantity_parse, unit_get
from oncotrials.core.errors import ValidationError


def test_conversions_inside_a_dimension_only() -> None:
    assert convert(Decimal("1.5"), "mL", "uL") == Decimal("1500")
    assert convert(Decimal(250), "ng", "ug") == Decimal("0.25")
    assert unit_get("µL").code == "uL"
    with pytest.raises(ValidationError, match="Cannot convert mg"):
        convert(Decimal(1), "mg", "mL")
    with pytest.raises(ValidationError, match="Unknown unit 'gallon'"):
        unit_get("gallon")


def test_quantities_are_positive_numbers() -> None:
    with pytest.raises(ValidationError, match="more than zero; got -1"):
        quantity_parse("-1")
    with pytest.raises(ValidationError, match="must be a number"):
        quantity_parse("lots")
    assert quantity_parse("0", allow_zero=True) == 0


def test_taking_more_than_available_is_refused() -> None:
    assert take(Decimal("1.0"), "mL", Decimal(400), "uL", what="x") == Decimal("0.6")
    with pytest.raises(ValidationError, match="only 1 mL is available"):
        take(Decimal("1.0"), "mL", Decimal("1.1"), "mL", what="x")


def test_derivation_table() -> None:
    check_derivation("plasma", "cfdna")
    with pytest.raises(ValidationError, match="cannot be derived from Plasma"):
        check_derivation("plasma", "rna")


def _n(i: int, parent: int | None, **kw: object) -> Node:
    base = {
        "id": i,
        "parent_id": parent,
        "lineage": "new" if parent is None else "aliquot",
        "specimen_type": "plasma",
        "initial": Decimal(4),
        "available": Decimal(4),
        "unit": "mL",
        "parent_consumed": None if parent is None else Decimal(1),
        "consumed": Decimal(0),
        "anatomic_site": "",
        "laterality": "na",
        "pathology": "ns",
        "status": "available",
        "positioned": False,
    }
    base.update(kw)
    return Node(**base)  # type: ignore[arg-type]


def test_tree_violations_detect_each_broken_invariant() -> None:
    ok = [_n(1, None, available=Decimal(3)), _n(2, 1, initial=Decimal(1), available=Decimal(1))]
    assert tree_violations(ok) == []
    assert any(
        "AVBL_QTY_GT_INIT_QTY" in v for v in tree_violations([_n(1, None, available=Decimal(5))])
    )
    lost = [_n(1, None, available=Decimal(2)), _n(2, 1, initial=Decimal(1), available=Decimal(1))]
    assert any("children took 1" in v for v in tree_violations(lost))
    more = [_n(1, None, available=Decimal(3)), _n(2, 1, initial=Decimal(2), available=Decimal(2))]
    assert any("more than its parent gave" in v for v in tree_violations(more))
    site = [
        _n(1, None, available=Decimal(3)),
        _n(2, 1, initial=Decimal(1), available=Decimal(1), laterality="left"),
    ]
    assert any("laterality differs" in v for v in tree_violations(site))
    gone = [_n(1, None, status="disposed", positioned=True)]
    assert any("still holds a storage position" in v for v in tree_violations(gone))


def test_consent_refusal_names_the_tier() -> None:
    answers = {
        "sample_storage": Answer.YES,
        "future_research": Answer.YES,
        "genetic_analysis": Answer.WITHDRAWN,
    }
    assert refusal_for(Use.RESEARCH, answers) is None
    r = refusal_for(Use.SEQUENCING, answers)
    assert r is not None
    assert "withdrew the 'genetic_analysis' tier" in r.message()
    r = refusal_for(Use.DISTRIBUTION_NON_EU, answers)
    assert r is not None
    assert r.answer is Answer.NOT_SPECIFIED
    assert "outside_eu_sharing" in r.message()


T = dt.datetime(2026, 11, 10, 9, tzinfo=dt.UTC)


def test_a_whole_chain_has_no_gap() -> None:
    ev = [
        Event("collected", T),
        Event("received", T + dt.timedelta(hours=2)),
        Event("stored", T + dt.timedelta(hours=3), "", "F1 / R1 / B1 A1"),
        Event("moved", T + dt.timedelta(days=1), "F1 / R1 / B1 A1", "F1 / R1 / B1 B2"),
    ]
    assert (
        custody_gaps(ev, lineage="new", status="available", current_location="F1 / R1 / B1 B2")
        == []
    )


def test_gaps_are_named() -> None:
    ev = [
        Event("collected", T),
        Event("stored", T - dt.timedelta(hours=1), "", "B1 A1"),
        Event("moved", T + dt.timedelta(hours=1), "B1 C3", "B1 B2"),
    ]
    gaps = custody_gaps(ev, lineage="new", status="available", current_location="B1 D4")
    text = " | ".join(gaps)
    assert "never recorded as received" in text
    assert "dated before the preceding 'collected'" in text
    assert "starts from B1 C3 but the specimen was last recorded at B1 A1" in text
    assert "a move without a transfer event" in text
    assert custody_gaps([], lineage="aliquot", status="distributed", current_location="")[:1] == [
        "no 'aliquoted' event: the chain has no beginning"
    ]
