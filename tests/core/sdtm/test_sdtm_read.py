"""Reading SDTM back: CDISC's own XPT/Dataset-JSON pairs, CDISC's define.xml (a known XSD error),
encodings, and RECIST recomputed from pharmaverse TU/TR against the evaluators' RS."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.sdtm import (
    dataset_json_errors,
    decode_text,
    define_schema_errors,
    read_csv,
    read_define,
    read_table,
    read_xpt,
    xpt_to_dataset_json,
)
from oncotrials.core.sdtm.recist_check import recist_agreement

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "exports"
CDISC = FIX / "cdisc"
PV = FIX / "pharmaversesdtm"


# --- XPT -> Dataset-JSON, against CDISC's examples ------------------------------------------------


@pytest.mark.parametrize("name", ["dm", "ae", "ds", "ts"])
def test_xpt_to_dataset_json_equals_cdiscs_example(name: str) -> None:
    expected = json.loads((CDISC / f"{name}.json").read_text())
    got = xpt_to_dataset_json(
        CDISC / f"{name}.xpt",
        define=read_define(CDISC / "define.xml"),
        created=dt.datetime.fromisoformat(expected["datasetJSONCreationDateTime"]),
        originator=expected["originator"],
        source_system=(expected["sourceSystem"]["name"], expected["sourceSystem"]["version"]),
    )
    assert dataset_json_errors(got) == []
    assert got["columns"] == expected["columns"]
    assert len(got["rows"]) == len(expected["rows"]) == expected["records"]
    mismatches = [
        (i, expected["columns"][j]["name"], a, b)
        for i, (ra, rb) in enumerate(zip(expected["rows"], got["rows"], strict=True))
        for j, (a, b) in enumerate(zip(ra, rb, strict=True))
        if a != b or type(a) is not type(b)
    ]
    assert mismatches == []  # cell by cell, value and JSON type
    assert got == expected  # and every other attribute, timestamps included (given)


def test_xpt_to_dataset_json_without_define_infers_types() -> None:
    doc = xpt_to_dataset_json(CDISC / "dm.xpt", created=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert dataset_json_errors(doc) == []
    cols = {c["name"]: c for c in doc["columns"]}
    assert cols["AGE"]["dataType"] == "integer"
    assert cols["ACTARMUD"]["length"] == 200  # the XPT storage width
    assert cols["USUBJID"]["itemOID"] == "IT.DM.USUBJID"
    assert doc["dbLastModifiedDateTime"] == "2020-08-21T09:14:29"  # from the XPT header


def test_xpt_to_dataset_json_refuses_a_dataset_missing_from_define(tmp_path: Path) -> None:
    info = read_define(CDISC / "define.xml")
    info.groups.pop("DM")
    with pytest.raises(ValidationError, match="DM is not described in the Define-XML"):
        xpt_to_dataset_json(CDISC / "dm.xpt", define=info)


def test_not_an_xpt_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "dm.xpt"
    bad.write_bytes(b"STUDYID,DOMAIN\n")
    with pytest.raises(ValidationError, match="not a SAS transport"):
        read_xpt(bad)
    with pytest.raises(ValidationError, match="no such file"):
        read_table(tmp_path / "missing.xpt")


def test_cdisc_xpt_is_version_5() -> None:
    head = (CDISC / "dm.xpt").read_bytes()[:80]
    assert head.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD")
    table = read_xpt(CDISC / "dm.xpt")
    assert table.name == "DM"
    assert len(table.rows) == 18
    assert table.label == "Demographics"


# --- Define-XML validation -----------------------------------------------------------------------


def test_validator_rejects_cdiscs_define_xml_on_its_known_typo() -> None:
    """CDISC's MSG define.xml names its standard "STDTMIG" (line 63), not in the XSD's list."""
    errors = define_schema_errors(CDISC / "define.xml")
    assert len(errors) == 1
    assert errors[0].startswith("line 63:")
    assert "STDTMIG" in errors[0]


def test_validator_accepts_cdiscs_define_xml_once_fixed() -> None:
    fixed = (CDISC / "define.xml").read_bytes().replace(b'Name="STDTMIG"', b'Name="SDTMIG"')
    assert define_schema_errors(fixed) == []


# --- Encodings -----------------------------------------------------------------------------------


def test_windows_1252_csv_is_detected_and_said() -> None:
    table = read_csv(PV / "ts.csv")
    assert table.encoding == "windows-1252"
    assert table.notices == ("ts.csv is not UTF-8 (line 10: byte 0x92); read as Windows-1252.",)
    assert any("\u2019" in str(v) for row in table.rows for v in row.values())  # ’
    assert len(table.rows) == 33


def test_strict_utf8_fails_on_ts_csv_but_an_explicit_encoding_reads_it() -> None:
    with pytest.raises(ValidationError, match="cannot be read as utf-8"):
        read_csv(PV / "ts.csv", encoding="utf-8")
    assert len(read_csv(PV / "ts.csv", encoding="cp1252").rows) == 33


def test_bytes_neither_utf8_nor_windows_1252_are_a_clear_error() -> None:
    with pytest.raises(ValidationError, match=r"line 2: byte 0x81 is neither UTF-8 nor Windows"):
        decode_text(b"A,B\n\x81,x\n", source="x.csv")
    assert decode_text("é".encode(), source="u.csv").encoding == "utf-8"
    assert decode_text(b"\xef\xbb\xbfA", source="bom.csv").text == "A"


# --- RECIST recomputed from pharmaverse TU/TR -----------------------------------------------------


def _rows(name: str) -> tuple[dict[str, object], ...]:
    return read_csv(PV / f"{name}.csv").rows


def test_recist_recomputed_agrees_with_the_investigator_on_22_time_points() -> None:
    report = recist_agreement(
        _rows("tu_onco_recist"), _rows("tr_onco_recist"), _rows("rs_onco_recist"), _rows("dm")
    )
    assert report.not_evaluable == {}
    assert len(report.rows) == 22
    assert report.agreed == 22
    assert report.crosstab() == {
        ("SD", "SD"): 7,
        ("PR", "PR"): 4,
        ("CR", "CR"): 3,
        ("PD", "PD"): 3,
        ("NE", "NE"): 2,
        ("NON-CR/NON-PD", "NON-CR/NON-PD"): 3,
    }
    # every investigator OVRLRESP of the file was compared (the fixture README: 22 per evaluator)
    said = Counter(
        r["RSORRES"]
        for r in _rows("rs_onco_recist")
        if r["RSEVAL"] == "INVESTIGATOR" and r["RSTESTCD"] == "OVRLRESP"
    )
    assert said == Counter(r.reported for r in report.rows)
    assert "01-701-1015 WEEK 6: partial date 2014-02 read as 2014-02-01." in report.notes


def test_radiologist_2_disagreement_is_explained() -> None:
    """Radiologist 2 reads PR at week 9 for 01-701-1133 after a CR at week 6; a lesion came back
    (sum 4.95 mm from a nadir of 0), which RECIST 1.1 (EORTC FAQ) calls progression."""
    report = recist_agreement(
        _rows("tu_onco_recist"),
        _rows("tr_onco_recist"),
        _rows("rs_onco_recist"),
        _rows("dm"),
        evaluator="INDEPENDENT ASSESSOR",
        evaluator_id="RADIOLOGIST 2",
    )
    assert (report.agreed, len(report.rows)) == (21, 22)
    (row,) = [r for r in report.rows if not r.agrees]
    assert (row.subject, row.visit, row.reported, row.recomputed) == (
        "01-701-1133",
        "WEEK 9",
        "PR",
        "PD",
    )
    assert "4.95 mm" in row.explanation
    assert "nadir of 0 mm" in row.explanation
    assert all(r.explanation == "" for r in report.rows if r.agrees)


def test_recist_import_reads_xpt_and_dataset_json_the_same(tmp_path: Path) -> None:
    """The importer takes any of the three formats: a TU written as Dataset-JSON reads the same."""
    tu = read_csv(PV / "tu_onco_recist.csv")
    doc = {
        "name": "TU",
        "columns": [{"name": c, "dataType": "string"} for c in tu.columns],
        "rows": [[r[c] for c in tu.columns] for r in tu.rows],
    }
    (tmp_path / "tu.json").write_text(json.dumps(doc))
    again = read_table(tmp_path / "tu.json")
    assert again.rows == tu.rows


def test_missing_link_id_is_refused_with_the_record_named() -> None:
    tu = [dict(r) for r in _rows("tu_onco_recist")]
    tu[0]["TULNKID"] = ""
    tu[0]["TUEVAL"] = "INVESTIGATOR"
    with pytest.raises(ValidationError, match="TU record 1: TULNKID is empty"):
        recist_agreement(tu, _rows("tr_onco_recist"), _rows("rs_onco_recist"))


def test_an_equivocal_new_lesion_does_not_make_progression() -> None:
    """A NEW lesion in TU with TUMSTATE EQUIVOCAL in TR is imported as equivocal (not PD)."""
    from oncotrials.core.sdtm.recist_check import import_tumours

    tu = [r for r in _rows("tu_onco_recist") if r["USUBJID"] == "01-701-1015"]
    tr = [r for r in _rows("tr_onco_recist") if r["USUBJID"] == "01-701-1015"]
    new = dict(tu[-1], TULNKID="NEW01", TUORRES="NEW", TUSTRESC="NEW", VISIT="WEEK 3")
    mark = dict(
        tr[-1],
        TRLNKID="NEW01",
        TRGRPID="NEW",
        TRTESTCD="TUMSTATE",
        TRORRES="EQUIVOCAL",
        TRSTRESC="EQUIVOCAL",
        TRSTRESN="",
        VISIT="WEEK 3",
        TRDTC="2014-01-23",
    )
    record = import_tumours([*tu, new], [*tr, mark])["01-701-1015"].record
    (lesion,) = record.assessments[0].new_lesions
    assert lesion.lesion_id == "NEW01"
    assert lesion.equivocal
