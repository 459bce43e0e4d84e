"""``oncotrials pdx mrecist``, ``pdx check-export`` and ``labels print``."""

from __future__ import annotations

import io
import json
from pathlib import Path

import zxingcpp
from PIL import Image
from typer.testing import CliRunner

from fixtures import FIXTURES
from oncotrials.cli.commands.biobank_labels import app as labels_app
from oncotrials.cli.commands.pdx import app
from oncotrials.core.biobank import cancermodels as cm

XEVA = FIXTURES / "biobank" / "xeva-pdxe" / "experiments.csv"
runner = CliRunner()


def test_mrecist_json_gives_xevas_calls():
    result = runner.invoke(app, ["mrecist", str(XEVA), "--format", "json"])
    assert result.exit_code == 0, result.output
    calls = {r["model_id"]: r["mrecist"] for r in json.loads(result.stdout)["results"]}
    assert calls == {
        "X.1004.biib": "PD",
        "X.1008.biib": "SD",
        "X.1286.biib": "SD",
        "X.1004.uned": "PD",
        "X.1008.uned": "PD",
        "X.1286.uned": "PD",
    }


def test_mrecist_human_output_names_the_rule():
    result = runner.invoke(app, ["mrecist", str(XEVA)], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "X.1008.uned (untreated): PD: SD needs BR < 35 and BAR < 30; BR 37.05" in result.stdout


def test_mrecist_bad_file_is_one_line_and_exit_1(tmp_path: Path):
    bad = tmp_path / "v.csv"
    bad.write_text("model.id,time,volume\nA,0,100\nA,three,120\n")
    result = runner.invoke(app, ["mrecist", str(bad)])
    assert result.exit_code == 1
    assert "line 3, column time is 'three'" in result.stderr


def _submission(tmp_path: Path) -> Path:
    rows = {
        "patient": [{"patient_id": "P1", "sex": "female"}],
        "patient_sample": [
            {
                "patient_id": "P1",
                "sample_id": "S1",
                "age_in_years_at_collection": "60",
                "diagnosis": "breast carcinoma",
                "tumour_type": "primary",
                "primary_site": "breast",
                "collection_site": "breast",
                "sharable": "no",
                "treatment_naive_at_collection": "yes",
                "model_id": "M1",
            }
        ],
        "pdx_model": [
            {
                "model_id": "M1",
                "host_strain_name": "NSG",
                "host_strain_nomenclature": "NOD.Cg-Prkdcscid Il2rgtm1Wjl/SzJ",
                "engraftment_site": "flank",
                "engraftment_type": "heterotopic",
                "sample_type": "tissue fragment",
                "passage_number": "0",
            }
        ],
        "model_validation": [
            {
                "model_id": "M1",
                "validation_technique": "STR",
                "description": "matched",
                "passages_tested": "1",
                "validation_host_strain_nomenclature": "NOD.Cg-Prkdcscid Il2rgtm1Wjl/SzJ",
            }
        ],
        "sharing": [
            {"model_id": "M1", "accessibility": "academia", "email": "a@b.org", "name": "Lab"}
        ],
    }
    cm.write_submission(tmp_path, "OTX", rows)
    return tmp_path


def test_check_export_passes_a_valid_directory(tmp_path: Path):
    result = runner.invoke(app, ["check-export", str(_submission(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "No issue: 5 sheets, 5 rows of OTX" in result.stdout


def test_check_export_lists_issues_and_exits_1(tmp_path: Path):
    directory = _submission(tmp_path)
    path = directory / "OTX_metadata-sharing.tsv"
    path.write_text(path.read_text().replace("academia", "everyone"))
    result = runner.invoke(app, ["check-export", str(directory), "--format", "json"])
    assert result.exit_code == 1
    issues = json.loads(result.stdout)["issues"]
    assert [(i["sheet"], i["line"], i["field"], i["code"]) for i in issues] == [
        ("sharing", 6, "accessibility", "INVALID_ENUM_VALUE")
    ]


def test_labels_print_writes_a_decodable_png_and_svg(tmp_path: Path):
    png = tmp_path / "l.png"
    result = runner.invoke(
        labels_app, ["print", "SPEC-000123", "--format", "qr", "--out", str(png), "-l", "P-1"]
    )
    assert result.exit_code == 0, result.output
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.read_bytes())))
    assert [(r.text, r.format) for r in decoded] == [("SPEC-000123", zxingcpp.BarcodeFormat.QRCode)]
    svg = tmp_path / "l.svg"
    result = runner.invoke(labels_app, ["print", "SPEC-1", "-f", "code128", "-o", str(svg)])
    assert result.exit_code == 0
    assert svg.read_text().startswith("<svg")


def test_labels_print_refuses_bad_input(tmp_path: Path):
    result = runner.invoke(labels_app, ["print", "SPEC-1", "-o", str(tmp_path / "l.pdf")])
    assert result.exit_code == 1
    assert "Name a .svg or .png file" in result.stderr
    result = runner.invoke(
        labels_app, ["print", "Prélèvement", "-f", "code128", "-o", str(tmp_path / "l.svg")]
    )
    assert result.exit_code == 1
    assert "printable ASCII" in result.stderr
