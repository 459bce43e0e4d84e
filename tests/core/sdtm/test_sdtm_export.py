"""SDTM export: every file read back with kept readers and checked against the field's rules.

- XPT: SAS XPORT **v5** (first record "LIBRARY HEADER RECORD", member header "SAS     <name>  SASDATA";
  v8 files say "LIBV8"), names <= 8, labels <= 40, character widths <= 200 (FDA Study Data
  Technical Conformance Guide 3.3.2), read back with pyreadstat and with pandas.read_sas.
- Dataset-JSON: valid against CDISC's Dataset-JSON 1.1 schema (tests/fixtures/exports/cdisc).
- Define-XML: valid against the Define-XML 2.1 XSD; lengths equal the XPT widths; every
  Dataset-JSON itemOID is an ItemDef.
- --SEQ unique per subject; a 250-character AE term lands in SUPPAE, never cut (SDTMIG 3.4 4.5.3.2).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import pyreadstat
import pytest
from lxml import etree
from study_factory import LONG_TERM, make_study

from oncotrials.core.errors import ValidationError
from oncotrials.core.sdtm import (
    define_schema_errors,
    sdtm_datasets,
    sdtm_files,
    split_text,
    study_from_json,
    study_to_json,
)
from oncotrials.core.sdtm.model import Subject

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "exports" / "cdisc"
CREATED = dt.datetime(2026, 5, 1, 12, 30, 5, tzinfo=dt.UTC)
ODM = "{http://www.cdisc.org/ns/odm/v1.3}"


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return sdtm_files(make_study(), created=CREATED)


@pytest.fixture(scope="module")
def folder(files: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdtm")
    for name, data in files.items():
        (out / name).write_bytes(data)
    return out


def xpts(files: dict[str, bytes]) -> list[str]:
    return sorted(n for n in files if n.endswith(".xpt"))


def test_every_domain_is_written_in_three_formats(files: dict[str, bytes]) -> None:
    domains = ["ae", "dm", "ds", "ex", "lb", "rs", "suppae", "supplb", "tr", "tu", "vs"]
    assert xpts(files) == [f"{d}.xpt" for d in domains]
    assert sorted(n for n in files if n.endswith(".json")) == [f"{d}.json" for d in domains]
    assert "define.xml" in files


def test_xpt_files_are_sas_transport_version_5(files: dict[str, bytes]) -> None:
    for name in xpts(files):
        data = files[name]
        assert data[:80] == (
            b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b"0" * 30 + b"  "
        )
        assert b"LIBV8" not in data[:80]
        member = data[400:480]
        assert member.startswith(b"SAS     " + name[:-4].upper().ljust(8).encode())
        assert b"SASDATA " in member
        assert len(data) % 80 == 0  # records of 80 bytes


def test_xpt_files_read_back_with_kept_readers_within_v5_limits(
    files: dict[str, bytes], folder: Path
) -> None:
    for name in xpts(files):
        frame, meta = pyreadstat.read_xport(str(folder / name))
        assert meta.table_name == name[:-4].upper()
        assert all(len(c) <= 8 and c == c.upper() for c in meta.column_names)
        assert all(len(label) <= 40 for label in meta.column_names_to_labels.values())
        assert len(meta.file_label) <= 40
        assert all(w <= 200 for w in meta.variable_storage_width.values())
        other = pd.read_sas(str(folder / name), format="xport", encoding="utf-8")
        assert list(other.columns) == meta.column_names
        assert len(other) == len(frame)


def test_seq_is_unique_per_subject_in_every_domain(folder: Path, files: dict[str, bytes]) -> None:
    for name in xpts(files):
        frame, _ = pyreadstat.read_xport(str(folder / name))
        seq = f"{name[:2].upper()}SEQ"
        if seq not in frame.columns:
            continue
        keys = list(zip(frame["USUBJID"], frame[seq], strict=True))
        assert len(keys) == len(set(keys)), f"{name}: {seq} repeats within a subject"
        for _subject, group in frame.groupby("USUBJID"):
            assert sorted(group[seq]) == list(range(1, len(group) + 1))


def test_dataset_json_files_validate_against_cdisc_schema(files: dict[str, bytes]) -> None:
    schema = json.loads((FIXTURES / "dataset.schema.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    for name in sorted(n for n in files if n.endswith(".json")):
        doc = json.loads(files[name])
        errors = list(validator.iter_errors(doc))
        assert not errors, f"{name}: {errors[0].message}"
        assert doc["records"] == len(doc["rows"])
        assert doc["datasetJSONVersion"] == "1.1.0"


def test_shipped_schema_is_cdiscs_own() -> None:
    shipped = Path(__file__).resolve().parents[3] / "src/oncotrials/core/sdtm/schemas"
    assert (shipped / "dataset.schema.json").read_bytes() == (
        FIXTURES / "dataset.schema.json"
    ).read_bytes()


def test_define_xml_validates_and_matches_xpt_widths_and_json_oids(
    files: dict[str, bytes], folder: Path
) -> None:
    assert define_schema_errors(files["define.xml"]) == []
    root = etree.fromstring(files["define.xml"])
    items = {el.get("OID"): el for el in root.iter(f"{ODM}ItemDef")}
    for name in xpts(files):
        _frame, meta = pyreadstat.read_xport(str(folder / name), metadataonly=True)
        dataset = name[:-4].upper()
        for column, width in meta.variable_storage_width.items():
            item = items[f"IT.{dataset}.{column}"]
            if item.get("DataType") in ("text", "integer", "float"):
                assert int(item.get("Length")) == width, f"{dataset}.{column}"
        doc = json.loads(files[f"{name[:-4]}.json"])
        for col in doc["columns"]:
            assert col["itemOID"] in items, f"{col['itemOID']} is not defined in define.xml"
            if "length" in col:
                assert col["length"] == meta.variable_storage_width[col["name"]]
        groups = {el.get("Name") for el in root.iter(f"{ODM}ItemGroupDef")}
        assert dataset in groups


def test_a_250_character_ae_term_lands_in_suppae_never_cut(folder: Path) -> None:
    term = (LONG_TERM + " " + "x" * 300)[:250]
    assert len(term) == 250
    study = make_study(long_term=term)
    files = sdtm_files(study, created=CREATED)
    for name in ("ae.xpt", "suppae.xpt"):
        (folder / f"long-{name}").write_bytes(files[name])
    ae, _ = pyreadstat.read_xport(str(folder / "long-ae.xpt"))
    supp, meta = pyreadstat.read_xport(str(folder / "long-suppae.xpt"))
    assert meta.variable_storage_width["QVAL"] <= 200
    row = ae[ae["AETERM"].str.startswith("Grade 3 maculopapular")].iloc[0]
    assert len(row["AETERM"]) <= 200
    parts = supp[(supp["IDVARVAL"] == str(int(row["AESEQ"]))) & supp["QNAM"].str.match(r"AETERM\d")]
    assert list(parts["QNAM"]) == ["AETERM1"]
    assert row["AETERM"] + "".join(parts["QVAL"]) == term  # nothing lost, nothing added
    # the same holds in the Dataset-JSON files
    ae_json = json.loads(files["ae.json"])
    supp_json = json.loads(files["suppae.json"])
    names = [c["name"] for c in supp_json["columns"]]
    rest = [
        r[names.index("QVAL")] for r in supp_json["rows"] if r[names.index("QNAM")] == "AETERM1"
    ]
    first = [r[4] for r in ae_json["rows"] if str(r[4]).startswith("Grade 3 maculopapular")]
    assert first[0] + rest[0] == term


def test_a_700_character_term_takes_several_supp_records() -> None:
    term = " ".join([f"word{i:03d}" for i in range(90)])  # 719 characters
    datasets = {d.name: d for d in sdtm_datasets(make_study(long_term=term))}
    supp = datasets["SUPPAE"].records()
    parts = [r for r in supp if r["QNAM"].startswith("AETERM")]
    assert [r["QNAM"] for r in parts] == ["AETERM1", "AETERM2", "AETERM3"]
    assert all(len(r["QVAL"].encode()) <= 200 for r in parts)
    first = next(r["AETERM"] for r in datasets["AE"].records() if r["AETERM"].startswith("word"))
    assert first + "".join(r["QVAL"] for r in parts) == term


@pytest.mark.parametrize(
    "text", ["a" * 450, "é" * 150, "mot " * 120, "x" * 199 + " " + "y" * 50, " " * 10 + "z" * 400]
)
def test_split_text_never_loses_or_exceeds(text: str) -> None:
    parts = split_text(text)
    assert "".join(parts) == text
    assert all(len(p.encode("utf-8")) <= 200 for p in parts)
    assert all(not p.endswith(" ") for p in parts[:-1])


def test_ctcae_grade_and_version_are_exported(files: dict[str, bytes], folder: Path) -> None:
    ae, _ = pyreadstat.read_xport(str(folder / "ae.xpt"))
    assert sorted(ae["AETOXGR"]) == ["1", "3", "3"]
    supp, _ = pyreadstat.read_xport(str(folder / "suppae.xpt"))
    versions = supp[supp["QNAM"] == "CTCAEVER"]
    assert len(versions) == 3
    assert set(versions["QVAL"]) == {"5.0"}
    lb, _ = pyreadstat.read_xport(str(folder / "lb.xpt"))
    neut = lb[lb["LBTESTCD"] == "NEUT"].iloc[0]
    assert neut["LBTOXGR"] == "3"
    assert neut["LBNRIND"] == "LOW"
    assert neut["LBTOX"] == "NEUTROPHIL COUNT DECREASED"


def test_recist_domains_link_measurements_to_lesions(folder: Path) -> None:
    tu, _ = pyreadstat.read_xport(str(folder / "tu.xpt"))
    tr, _ = pyreadstat.read_xport(str(folder / "tr.xpt"))
    rs, _ = pyreadstat.read_xport(str(folder / "rs.xpt"))
    lesions = set(tu["TULNKID"])
    assert lesions == {"T1", "T2", "NT1", "N1"}
    linked = set(tr.loc[tr["TRLNKID"] != "", "TRLNKID"])
    assert linked <= lesions
    sums = tr[tr["TRTESTCD"] == "SUMDIAM"]
    assert list(sums["TRSTRESN"].fillna(-1)) == [50.5, 29.1, -1]  # baseline, FU1, FU2 not done
    assert set(tr.loc[tr["TRLNKID"] == "T2", "TRTESTCD"]) == {"SAXIS"}  # a lymph node
    overall = rs[rs["RSTESTCD"] == "OVRLRESP"]
    assert list(overall["RSORRES"]) == ["PR", "PD"]
    assert list(rs.loc[rs["RSTESTCD"] == "BESTRESP", "RSORRES"]) == ["PR"]


def test_no_identifying_data_reaches_any_file(files: dict[str, bytes]) -> None:
    """The input has no field for a name, birth date or hospital number; USUBJID is the
    research identifier under the study identifier."""
    assert {f.name for f in Subject.__dataclass_fields__.values()}.isdisjoint(
        {"name", "family_name", "given_name", "birth_date", "hospital_number", "phone", "email"}
    )
    dm = json.loads(files["dm.json"])
    names = [c["name"] for c in dm["columns"]]
    assert "BRTHDTC" not in names
    assert [r[names.index("USUBJID")] for r in dm["rows"]] == ["T-SDTM-P-0001", "T-SDTM-P-0002"]


def test_same_data_and_time_give_byte_identical_files(files: dict[str, bytes]) -> None:
    again = sdtm_files(study_from_json(study_to_json(make_study())), created=CREATED)
    assert again == files
    later = sdtm_files(make_study(), created=CREATED + dt.timedelta(days=1))
    differing = sorted(n for n in files if later[n] != files[n])
    assert differing == sorted(files)  # every file carries its timestamp...
    masked = {n: _mask(n, d) for n, d in later.items()}
    assert masked == {n: _mask(n, d) for n, d in files.items()}  # ...and only that differs


def _mask(name: str, data: bytes) -> bytes:
    if name.endswith(".xpt"):
        out = bytearray(data)
        for offset in (144, 160, 464, 480):
            out[offset : offset + 16] = b"#" * 16
        return bytes(out)
    text = data.decode()
    for stamp in ("2026-05-01T12:30:05", "2026-05-02T12:30:05"):
        text = text.replace(stamp, "#")
    return text.encode()


def test_study_data_survives_the_cut_snapshot() -> None:
    study = make_study()
    assert study_from_json(study_to_json(study)) == study


def test_bad_input_is_refused_with_the_field_named() -> None:
    study = make_study()
    twice = replace(study, subjects=(study.subjects[0], study.subjects[0]))
    with pytest.raises(ValidationError, match="appear twice"):
        sdtm_datasets(twice)
    bad_vital = replace(
        study.subjects[1],
        vitals=(replace(study.subjects[0].vitals[0], test="height_cm"),),
    )
    with pytest.raises(ValidationError, match="unknown vital sign 'height_cm'"):
        sdtm_datasets(replace(study, subjects=(study.subjects[0], bad_vital)))
    with pytest.raises(ValidationError, match="STUDYID"):
        sdtm_datasets(replace(study, study_id=""))


def test_define_validator_rejects_a_broken_document(files: dict[str, bytes]) -> None:
    broken = files["define.xml"].replace(b'Name="SDTMIG"', b'Name="SDTM-IG"')
    errors = define_schema_errors(broken)
    assert errors
    assert "SDTM-IG" in errors[0]
    assert define_schema_errors(b"<ODM")
    assert "not well-formed" in define_schema_errors(b"<ODM")[0]


def test_dataset_json_stream_is_utf8_json(files: dict[str, bytes]) -> None:
    doc: Any = json.load(io.BytesIO(files["dm.json"]))
    assert doc["name"] == "DM"
    assert doc["itemGroupOID"] == "IG.DM"
