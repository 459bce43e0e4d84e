"""A collection, a split and a derivation write their specimens' custody events in one
statement and check their labels in one query, and refuse what one-by-one writes refused: a
label or a barcode already used, named, with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oncotrials.core.errors import ValidationError


def _statements(sqls: list[str]) -> tuple[int, int]:
    """(custody inserts, label reads)"""
    custody = sum(1 for s in sqls if s.startswith('INSERT INTO "biobank_custodyevent"'))
    labels = sum(
        1
        for s in sqls
        if s.startswith("SELECT") and '"biobank_specimen"."label" ' in s.split("WHERE", 1)[-1]
    )
    return custody, labels


def _counts() -> tuple[int, int, int]:
    from oncotrials.apps.audit.models import AuditEvent
    from oncotrials.apps.biobank.models import CustodyEvent, Specimen

    return Specimen.objects.count(), CustodyEvent.objects.count(), AuditEvent.objects.count()


def test_a_split_of_three_inserts_its_custody_events_at_once(bank: Any, collect: Any) -> None:
    from oncotrials.apps.biobank.models import CustodyEvent
    from oncotrials.apps.biobank.services import specimen_aliquot

    with CaptureQueriesContext(connection) as ctx:
        tissue = collect(bank)
    assert _statements([q["sql"] for q in ctx.captured_queries]) == (1, 1)  # the next label
    with CaptureQueriesContext(connection) as ctx:
        kids = specimen_aliquot(parent=tissue, count=3, quantity="4", unit="mg", by=bank.tech)
    assert _statements([q["sql"] for q in ctx.captured_queries]) == (1, 1)
    events = CustodyEvent.objects.order_by("pk")
    assert [(e.specimen_id, e.kind) for e in events] == [
        (tissue.pk, "collected"),
        (tissue.pk, "received"),
        *((k.pk, "aliquoted") for k in kids),
    ]
    assert {e.note for e in events if e.kind == "aliquoted"} == {f"from {tissue.label}"}


def test_a_split_whose_later_label_is_used_is_refused_naming_it(bank: Any, collect: Any) -> None:
    from oncotrials.apps.biobank.services import specimen_aliquot

    tissue = collect(bank)
    collect(bank, label=f"{tissue.label}.2")  # a label given by hand, as a split would make it
    before = _counts()
    with pytest.raises(ValidationError, match=rf"{tissue.label}\.2 is already used") as exc:
        specimen_aliquot(parent=tissue, count=3, quantity="4", unit="mg", by=bank.tech)
    assert exc.value.extra["field"] == "label"
    assert _counts() == before


def test_a_derivative_whose_label_is_used_is_refused(bank: Any, collect: Any) -> None:
    from oncotrials.apps.biobank.services import specimen_derive

    tissue = collect(bank)
    collect(bank, label=f"{tissue.label}.1")
    before = _counts()
    with pytest.raises(ValidationError, match="DUP_LABEL"):
        specimen_derive(
            parent=tissue,
            specimen_type="dna",
            consumed="4",
            consumed_unit="mg",
            quantity="850",
            unit="ng",
            by=bank.tech,
        )
    assert _counts() == before


def test_a_collection_refuses_a_used_label_before_a_used_barcode(bank: Any, collect: Any) -> None:
    collect(bank, label="SPZ-1", barcode="BC-1")
    before = _counts()
    with pytest.raises(ValidationError, match="SPZ-1 is already used") as exc:
        collect(bank, label="SPZ-1", barcode="BC-1")
    assert exc.value.extra["field"] == "label"
    with pytest.raises(ValidationError, match="BC-1 is already used") as exc:
        collect(bank, label="SPZ-2", barcode="BC-1")
    assert exc.value.extra["field"] == "barcode"
    with pytest.raises(ValidationError, match="barcode BC-1 is already used"):
        collect(bank, label="BC-1")  # its barcode is its label, another's barcode
    assert _counts() == before
