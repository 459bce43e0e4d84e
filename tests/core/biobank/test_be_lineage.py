"""SDTM BE (biospecimen events) lineage: the pharmaversesdtm example in and out.

Fixture: tests/fixtures/biobank/pharmaversesdtm/be.csv (pharmaverse/pharmaversesdtm, Apache-2.0;
source in that directory's README). Known facts: 43 rows x 13 columns, 7 subjects; BETERM
Specimen Collection 10, Aliquoting 18, Culturing 15; lineage SPEC1.1 -> ALIQ1.1.1 / ALIQ1.1.2 ->
ALIQ1.1.2-C.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter

import pytest

from fixtures import FIXTURES
from oncotrials.core.biobank.be import read_be, write_be
from oncotrials.core.errors import ValidationError

BE = FIXTURES / "biobank" / "pharmaversesdtm" / "be.csv"


def _rows(text: str) -> Counter[tuple[str, ...]]:
    return Counter(tuple(r) for r in list(csv.reader(io.StringIO(text)))[1:])


@pytest.fixture(scope="module")
def lineage():
    return read_be(BE)


def test_the_known_counts(lineage):
    events = lineage.events()
    assert len(events) == 43
    assert len(lineage.columns) == 13
    assert len({s.usubjid for s in lineage.specimens.values()}) == 7
    assert Counter(e.term for e in events) == {
        "Specimen Collection": 10,
        "Aliquoting": 18,
        "Culturing": 15,
    }
    # 43 events, 42 specimens: ALIQ7.1.1 of 01-701-1057 has two aliquoting events.
    assert len(lineage.specimens) == 42
    assert len(lineage.specimens[("01-701-1057", "ALIQ7.1.1")].events) == 2


def test_the_documented_lineage(lineage):
    subject = "01-701-1015"
    spec = lineage.specimens[(subject, "SPEC1.1")]
    assert spec.parent_ref_id is None
    assert spec.kind == "new"
    assert sorted(s.ref_id for s in lineage.children(subject, "SPEC1.1")) == [
        "ALIQ1.1.1",
        "ALIQ1.1.2",
        "ALIQ1.1.3",
    ]
    culture = lineage.specimens[(subject, "ALIQ1.1.2-C")]
    assert culture.parent_ref_id == "ALIQ1.1.2"
    assert culture.kind == "derived"
    assert lineage.level(subject, "ALIQ1.1.2-C") == 3
    assert len(lineage.roots()) == 10  # one per collection
    assert Counter(s.kind for s in lineage.specimens.values()) == {
        "new": 10,
        "aliquot": 17,
        "derived": 15,
    }


def test_export_is_identical_to_the_file(lineage):
    original = BE.read_text(encoding="utf-8")
    assert write_be(lineage) == original  # byte for byte, quoting included
    assert _rows(write_be(lineage)) == _rows(original)


def test_a_shuffled_file_exports_the_same_rows():
    original = BE.read_text(encoding="utf-8")
    header, *body = original.splitlines()
    random.Random(17).shuffle(body)
    shuffled = "\n".join([header, *body]) + "\n"
    again = write_be(read_be(shuffled))
    assert _rows(again) == _rows(original)  # order-insensitive identity
    assert again == original  # and the export order is (STUDYID, USUBJID, BESEQ)


def test_relspec_rows(lineage):
    rel = {(r["USUBJID"], r["REFID"]): r for r in lineage.relspec()}
    assert rel[("01-701-1015", "ALIQ1.1.2-C")]["PARENT"] == "ALIQ1.1.2"
    assert rel[("01-701-1015", "SPEC1.1")]["LEVEL"] == "1"


def test_an_explicit_relspec_parent_wins_over_the_naming_rule():
    lineage = read_be(BE, parents={("01-701-1015", "ALIQ1.1.2-C"): "ALIQ1.1.1"})
    assert lineage.specimens[("01-701-1015", "ALIQ1.1.2-C")].parent_ref_id == "ALIQ1.1.1"


def _edit(line: int, column: str, value: str) -> str:
    rows = list(csv.reader(io.StringIO(BE.read_text(encoding="utf-8"))))
    rows[line - 1][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("line", "column", "value", "message"),
    [
        (3, "BEREFID", "ORPHAN9", "line 3, BEREFID ORPHAN9 of 01-701-1015 is not a collection"),
        (3, "BESEQ", "1", "line 3, BESEQ 1 of 01-701-1015 is already on line 2"),
        (3, "BESEQ", "two", "line 3, BESEQ is 'two'"),
        (3, "USUBJID", "", "line 3, column USUBJID is empty"),
        (3, "DOMAIN", "BS", "line 3, DOMAIN is 'BS'"),
        (3, "BESTDTC", "2025-06-13T08:00", "line 3, ALIQ1.1.1 starts 2025-06-13T08:00, before"),
    ],
)
def test_bad_rows_are_refused_with_line_and_field(line, column, value, message):
    with pytest.raises(ValidationError, match=message):
        read_be(_edit(line, column, value), name="be.csv")


def test_a_collected_specimen_cannot_be_given_a_parent():
    with pytest.raises(ValidationError, match="collected"):
        read_be(BE, parents={("01-701-1015", "SPEC1.1"): "SPEC1.2"})


def test_a_file_without_the_be_columns_is_refused():
    with pytest.raises(ValidationError, match="line 1 lacks the column"):
        read_be('"STUDYID","USUBJID"\n"S","1"\n')
