"""CancerModels (PDX-MI) submission: the layout we write and the dictionary checker.

Dictionary: CancerModels_Dictionary 1.0 (tests/fixtures/biobank/cancermodels, from
PDCMFinder/pdcm-lectern-validator; source and licence in that directory's README).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fixtures import FIXTURES
from oncotrials.core.biobank import cancermodels as cm
from oncotrials.core.errors import ValidationError

DICTIONARY = FIXTURES / "biobank" / "cancermodels" / "CancerModels_dictionary_1.0.json"


def _records() -> list[cm.Record]:
    out: list[cm.Record] = []
    for i, (site, kind) in enumerate([("breast", "primary"), ("liver", "metastatic")], 1):
        model = f"OT-PDX-{i:03d}"
        out += [
            cm.CmPatient("P-0042", "female", initial_diagnosis="breast carcinoma"),
            cm.CmPatientSample(
                patient_id="P-0042",
                sample_id=f"SPEC-{i:06d}",
                age_in_years_at_collection="54",
                diagnosis="invasive breast carcinoma",
                tumour_type=kind,
                primary_site="breast",
                collection_site=site,
                model_id=model,
                sharable="yes",
                treatment_naive_at_collection="no",
                collection_date="Oct 2025",
                collection_event=f"collection event {i}",
            ),
            cm.CmPdxModel(
                model_id=model,
                host_strain_name="NSG",
                host_strain_nomenclature="NOD.Cg-Prkdcscid Il2rgtm1Wjl/SzJ",
                engraftment_site="subcutaneous flank",
                engraftment_type="heterotopic",
                sample_type="tissue fragment",
                passage_number="0",
                sample_state="fresh",
                publications="PMID: 26479923",
            ),
            cm.CmModelValidation(
                model_id=model,
                validation_technique="STR",
                description="high concordance between xenograft and patient tumour",
                passages_tested="1, 2",
                validation_host_strain_nomenclature="NOD.Cg-Prkdcscid Il2rgtm1Wjl/SzJ",
            ),
            cm.CmSharing(
                model_id=model,
                accessibility="academia",
                email="pdx@example.org",
                name="Translational Research Unit",
                database_url="https://pdx.example.org/models",
            ),
            cm.CmDrugDosing(
                model_id=model,
                treatment_name="binimetinib",
                treatment_dose="30.0mg/kg",
                treatment_response="stable disease",
                response_classification="mRECIST",
            ),
        ]
    return out


def _rows() -> dict[str, list[dict[str, str]]]:
    return cm.submission_rows(_records())


def _issues(rows: dict[str, list[dict[str, str]]]) -> list[cm.SubmissionIssue]:
    return cm.check_submission(cm.sheets_from_rows(rows))


def test_the_shipped_dictionary_is_the_fixture():
    shipped = json.loads(cm.DICTIONARY_PATH.read_text(encoding="utf-8"))
    assert shipped == json.loads(DICTIONARY.read_text(encoding="utf-8"))
    d = cm.load_dictionary(DICTIONARY)
    assert (d.name, d.version) == ("CancerModels_Dictionary", "1.0")
    required = {n: [f.name for f in s.fields if f.required] for n, s in d.sheets.items()}
    # The required fields listed in the fixtures' README (known facts).
    assert required["patient"] == ["patient_id", "sex"]
    assert required["sharing"] == ["model_id", "accessibility", "email", "name"]
    assert d.sheets["patient_sample"].unique_key == ("patient_id", "sample_id", "model_id")


def test_a_complete_submission_round_trips_through_files_without_issue(tmp_path: Path):
    rows = _rows()
    assert len(rows["patient"]) == 1  # one patient, two models
    paths = cm.write_submission(tmp_path, "OTX", rows)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in paths)
    assert names == [
        "OTX_metadata-model_validation.tsv",
        "OTX_metadata-patient.tsv",
        "OTX_metadata-patient_sample.tsv",
        "OTX_metadata-pdx_model.tsv",
        "OTX_metadata-sharing.tsv",
        "drug/OTX_drugdosing-Sheet1.tsv",
    ]
    header = (tmp_path / "OTX_metadata-pdx_model.tsv").read_text().splitlines()[0].split("\t")
    assert header == ["Field", *cm.load_dictionary().sheets["pdx_model"].columns]
    provider, sheets, issues = cm.check_directory(tmp_path)
    assert provider == "OTX"
    assert issues == []
    assert [r["model_id"] for _, r in sheets["pdx_model"].rows] == ["OT-PDX-001", "OT-PDX-002"]
    assert [line for line, _ in sheets["pdx_model"].rows] == [6, 7]  # after 4 comment rows


def _one(issues, code):
    found = [i for i in issues if i.code == code]
    assert len(found) == 1, issues
    return found[0]


def test_a_value_outside_the_code_list_names_sheet_line_and_field():
    rows = _rows()
    rows["pdx_model"][1]["engraftment_type"] = "subcutaneous"
    issue = _one(_issues(rows), "INVALID_ENUM_VALUE")
    assert (issue.sheet, issue.line, issue.field) == ("pdx_model", 7, "engraftment_type")
    assert "heterotopic, orthotopic" in issue.message
    assert str(issue).startswith("pdx_model, line 7, engraftment_type:")


def test_code_lists_are_case_sensitive_as_in_the_dictionary():
    rows = _rows()
    rows["patient"][0]["sex"] = "not provided"  # the code list spells "Not provided"
    assert _one(_issues(rows), "INVALID_ENUM_VALUE").field == "sex"


@pytest.mark.parametrize(
    ("sheet", "field", "value"),
    [
        ("patient_sample", "collection_date", "2025-10-01"),  # MMM YYYY
        ("sharing", "email", "not an email"),
        ("pdx_model", "publications", "26479923"),  # needs "PMID:"
        ("patient", "patient_id", "P-0042é"),  # JavaScript \w is ASCII
        ("sharing", "database_url", "ftp://pdx.example.org"),
    ],
)
def test_patterns_follow_the_dictionary(sheet, field, value):
    rows = _rows()
    rows[sheet][0][field] = value
    issues = _issues(rows)
    regex = [i for i in issues if i.code == "INVALID_BY_REGEX"]
    assert [(i.sheet, i.line, i.field) for i in regex] == [(sheet, 6, field)]


def test_an_empty_required_field_and_a_missing_required_column():
    rows = _rows()
    rows["patient_sample"][0]["diagnosis"] = ""
    issue = _one(_issues(rows), "MISSING_REQUIRED_FIELD")
    assert (issue.sheet, issue.line, issue.field) == ("patient_sample", 6, "diagnosis")
    sheets = cm.sheets_from_rows(_rows())
    sharing = sheets["sharing"]
    sheets["sharing"] = cm.Sheet(
        "sharing",
        tuple(c for c in sharing.header if c != "email"),
        tuple((n, {k: v for k, v in r.items() if k != "email"}) for n, r in sharing.rows),
    )
    issue = _one(cm.check_submission(sheets), "MISSING_REQUIRED_FIELD")
    assert (issue.sheet, issue.line, issue.field) == ("sharing", 1, "email")


def test_unique_fields_unique_keys_and_foreign_keys():
    rows = _rows()
    rows["pdx_model"][1]["model_id"] = "OT-PDX-001"
    rows["patient_sample"].append(dict(rows["patient_sample"][0]))
    rows["model_validation"][0]["model_id"] = "OT-PDX-999"
    issues = _issues(rows)
    unique = _one(issues, "INVALID_BY_UNIQUE")
    assert (unique.sheet, unique.line, unique.field) == ("pdx_model", 7, "model_id")
    assert "line 6" in unique.message
    key = _one(issues, "INVALID_BY_UNIQUE_KEY")
    assert (key.sheet, key.line) == ("patient_sample", 8)
    fk = [i for i in issues if i.code == "INVALID_BY_FOREIGN_KEY"]
    # OT-PDX-999 does not exist; OT-PDX-002 no longer does once both models are OT-PDX-001.
    assert [(i.sheet, i.line, i.field) for i in fk] == [
        ("model_validation", 6, "model_id"),
        ("model_validation", 7, "model_id"),
        ("drug_dosing", 3, "model_id"),
    ]
    assert "OT-PDX-999" in fk[0].message


def test_unknown_columns_unknown_sheets_and_missing_sheets():
    sheets = cm.sheets_from_rows(_rows())
    model = sheets["pdx_model"]
    sheets["pdx_model"] = cm.Sheet("pdx_model", (*model.header, "mouse_colour"), model.rows)
    sheets["biobank"] = cm.Sheet("biobank", ("x",), ())
    del sheets["model_validation"]
    issues = cm.check_submission(sheets)
    assert _one(issues, "UNRECOGNIZED_FIELD").field == "mouse_colour"
    assert _one(issues, "UNKNOWN_SHEET").sheet == "biobank"
    assert _one(issues, "MISSING_SHEET").sheet == "model_validation"


def test_drug_dosing_rows_need_a_known_model():
    rows = _rows()
    rows[cm.DRUG_DOSING][0]["model_id"] = "OT-PDX-404"
    issue = _one(_issues(rows), "INVALID_BY_FOREIGN_KEY")
    assert (issue.sheet, issue.line) == ("drug_dosing", 2)


def test_the_reader_skips_template_comment_rows_and_keeps_file_lines(tmp_path: Path):
    cm.write_submission(tmp_path, "OTX", _rows())
    path = tmp_path / "OTX_metadata-patient.tsv"
    lines = path.read_text().splitlines()
    assert [line.split("\t")[0] for line in lines[:6]] == [
        "Field",
        "#Description",
        "#Example",
        "#Format",
        "#Essential?",
        "",
    ]
    lines[5] = lines[5].replace("female", "woman")
    path.write_text("\n".join(lines) + "\n")
    issue = _one(cm.check_directory(tmp_path)[2], "INVALID_ENUM_VALUE")
    assert (issue.sheet, issue.line, issue.field) == ("patient", 6, "sex")


def test_writer_and_reader_refuse_bad_input(tmp_path: Path):
    with pytest.raises(ValidationError, match="provider"):
        cm.write_submission(tmp_path, "O T X", _rows())
    with pytest.raises(ValidationError, match="not a column"):
        cm.write_submission(tmp_path, "OTX", {"patient": [{"patient_id": "P", "age": "3"}]})
    with pytest.raises(ValidationError, match="no <provider>_metadata"):
        cm.read_submission(tmp_path)
