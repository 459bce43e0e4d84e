"""The JSON genomic report format (docs/formats/genomic-report.md)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from oncotrials.core.genomics.issues import GenomicFileError, Severity
from oncotrials.core.genomics.model import CnaCall, SampleKind, Timepoint
from oncotrials.core.genomics.report import read_report_json, report_schema, write_report_json

DOCS = Path(__file__).resolve().parents[3] / "docs" / "formats"
EXAMPLE = DOCS / "genomic-report.example.json"


def test_shipped_schema_is_the_documented_one() -> None:
    assert json.loads((DOCS / "genomic-report.schema.json").read_text()) == report_schema()
    jsonschema.Draft202012Validator.check_schema(report_schema())


def test_example_reads() -> None:
    report, notices = read_report_json(EXAMPLE)
    assert report.sample.kind is SampleKind.CFDNA
    assert report.sample.timepoint is Timepoint.PROGRESSION
    assert [m.protein_change for m in report.mutations] == ["p.L858R", "p.C797S", "p.R882H"]
    assert report.mutations[0].protein_change_raw == "p.Leu858Arg"
    assert report.copy_numbers[0].call is CnaCall.AMPLIFICATION
    assert report.covered_genes is not None
    assert "MET" in report.covered_genes
    assert notices == ()


def test_round_trip(tmp_path: Path) -> None:
    report, _ = read_report_json(EXAMPLE)
    out = tmp_path / "r.json"
    write_report_json(report, out)
    assert read_report_json(out)[0] == report


def _bad(tmp_path: Path, change: object) -> Path:
    doc = json.loads(EXAMPLE.read_text())
    change(doc)  # type: ignore[operator]
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc, indent=2))
    return p


def test_schema_error_names_line_and_path(tmp_path: Path) -> None:
    p = _bad(tmp_path, lambda d: d["short_variants"][1].update(vaf=1.7))
    with pytest.raises(GenomicFileError) as exc:
        read_report_json(p)
    line = next(i for i, t in enumerate(p.read_text().splitlines(), 1) if '"vaf": 1.7' in t)
    assert (exc.value.extra["line"], exc.value.extra["field"]) == (line, "short_variants/1/vaf")


def test_missing_required_field(tmp_path: Path) -> None:
    p = _bad(tmp_path, lambda d: d.pop("patient_id"))
    with pytest.raises(GenomicFileError, match="'patient_id' is a required property"):
        read_report_json(p)


def test_unknown_oncotree_code(tmp_path: Path) -> None:
    p = _bad(tmp_path, lambda d: d["sample"].update(oncotree_code="LUADX"))
    with pytest.raises(GenomicFileError) as exc:
        read_report_json(p)
    assert exc.value.extra["field"] == "sample/oncotree_code"
    assert exc.value.extra["line"] == 11


def test_truncated_json_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "cut.json"
    p.write_text(EXAMPLE.read_text()[:400])
    with pytest.raises(GenomicFileError, match="not valid JSON"):
        read_report_json(p)


def test_gene_outside_the_panel_is_a_warning(tmp_path: Path) -> None:
    p = _bad(
        tmp_path,
        lambda d: d["short_variants"].append({"gene": "NF1", "variant_class": "Nonsense_Mutation"}),
    )
    report, notices = read_report_json(p)
    assert len(report.mutations) == 4
    assert any(n.severity is Severity.WARNING and "NF1" in n.message for n in notices)
