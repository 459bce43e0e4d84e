"""Fusion exons (cBioPortal SV format, JSON report) and a declared limit of detection per assay:
read, validated, written back, and read by the resistance comparison as "not detected", never
as "absent"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.cbioportal import read_structural_variants
from oncotrials.core.genomics.issues import GenomicFileError
from oncotrials.core.genomics.model import (
    CnaCall,
    CopyNumber,
    Mutation,
    Sample,
    SampleKind,
    StructuralVariant,
    VariantClass,
    below_limit_of_detection,
    fusion_label,
    parse_limit_of_detection,
)
from oncotrials.core.genomics.report import read_report_json, write_report_json
from oncotrials.core.genomics.resistance import (
    Mechanism,
    SerialSample,
    alteration_label,
    classify_resistance,
)

SV_HEADER = (
    "Sample_Id\tSite1_Hugo_Symbol\tSite1_Ensembl_Transcript_Id\tSite1_Region\t"
    "Site1_Region_Number\tSite2_Hugo_Symbol\tSite2_Ensembl_Transcript_Id\tSite2_Region\t"
    "Site2_Region_Number\tSV_Status\tEvent_Info"
)


def _sv_file(tmp_path: Path, *rows: str, header: str = SV_HEADER) -> Path:
    p = tmp_path / "data_sv.txt"
    p.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return p


def test_sv_file_exons_and_transcripts_are_read_per_breakpoint(tmp_path: Path) -> None:
    p = _sv_file(
        tmp_path,
        "S1\tEML4\tENST00000318522\tEXON\t13\tALK\tENST00000389048\tEXON\t20\tSOMATIC\tFusion",
        "S2\tKIF5B\tNA\tINTRON\t15\tRET\tNA\tNA\t12\tSOMATIC\tFusion",
    )
    first, second = read_structural_variants(p)
    assert (first.site1_exon, first.site2_exon) == (13, 20)
    assert (first.site1_transcript, first.site2_transcript) == (
        "ENST00000318522",
        "ENST00000389048",
    )
    assert first.label == "EML4 (exon 13) :: ALK (exon 20)"
    # an intronic breakpoint names no exon; a number without its region is an exon
    assert (second.site1_exon, second.site2_exon) == (None, 12)
    assert second.label == "KIF5B :: RET (exon 12)"


def test_sv_file_older_exon_columns_are_read(tmp_path: Path) -> None:
    header = "Sample_Id\tSite1_Hugo_Symbol\tSite1_Exon\tSite2_Hugo_Symbol\tSite2_Exon\tSV_Status"
    p = _sv_file(tmp_path, "S1\tCD74\t6\tROS1\t34\tSOMATIC", header=header)
    (sv,) = read_structural_variants(p)
    assert (sv.site1_exon, sv.site2_exon) == (6, 34)


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "not plausible"), ("999", "not plausible"), ("13a", "not a whole number")],
)
def test_sv_file_implausible_exon_names_line_and_column(
    tmp_path: Path, value: str, message: str
) -> None:
    p = _sv_file(
        tmp_path,
        "S1\tEML4\tNA\tEXON\t13\tALK\tNA\tEXON\t20\tSOMATIC\tFusion",
        f"S2\tEML4\tNA\tEXON\t{value}\tALK\tNA\tEXON\t20\tSOMATIC\tFusion",
    )
    with pytest.raises(GenomicFileError) as exc:
        read_structural_variants(p)
    (issue,) = exc.value.issues
    assert (issue.line, issue.field) == (3, "Site1_Region_Number")
    assert message in issue.message


def test_fusion_label_without_exons_keeps_the_compact_form() -> None:
    assert fusion_label("EML4", None, "ALK", None) == "EML4::ALK"
    assert fusion_label(None, None, "ALK", 20) == "? :: ALK (exon 20)"
    sv = StructuralVariant("S", "EML4", "ALK", event_info="Fusion")
    assert alteration_label(sv) == "EML4::ALK fusion"  # the resistance label is unchanged


def _report(**over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format_version": "1.0",
        "report_id": "R-1",
        "patient_id": "P-1",
        "sample": {"sample_id": "P-1-cf", "kind": "cfdna"},
        "assay": {
            "name": "LiquidPanel",
            "covered_genes": ["ALK", "EGFR", "EML4", "KRAS"],
            "limit_of_detection": 0.002,
        },
        "short_variants": [
            {"gene": "EGFR", "protein_change": "p.L858R", "variant_class": "Missense_Mutation",
             "vaf": 0.0015},
        ],
        "structural_variants": [
            {"gene1": "EML4", "gene2": "ALK", "exon1": 13, "exon2": 20,
             "transcript1": "ENST00000318522", "transcript2": "ENST00000389048",
             "event_info": "Fusion"},
        ],
    }  # fmt: skip
    doc.update(over)
    return doc


def test_json_report_reads_and_writes_exons_and_the_limit_of_detection(tmp_path: Path) -> None:
    p = tmp_path / "r.json"
    p.write_text(json.dumps(_report(), indent=1), encoding="utf-8")
    report, notices = read_report_json(p)
    assert report.limit_of_detection == 0.002
    (sv,) = report.structural_variants
    assert (sv.site1_exon, sv.site2_exon, sv.site2_transcript) == (13, 20, "ENST00000389048")
    # a call below the declared limit is kept and flagged, naming its line and field
    flagged = [n for n in notices if "limit of detection" in n.message]
    assert [n.field for n in flagged] == ["short_variants/0/vaf"]
    out = tmp_path / "back.json"
    write_report_json(report, out)
    again, _ = read_report_json(out)
    assert again.structural_variants == report.structural_variants
    assert again.limit_of_detection == 0.002


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"assay": {"name": "X", "limit_of_detection": 2}}, "assay/limit_of_detection"),
        ({"assay": {"name": "X", "limit_of_detection": 0}}, "assay/limit_of_detection"),
        (
            {"structural_variants": [{"gene1": "EML4", "gene2": "ALK", "exon1": 0}]},
            "structural_variants/0/exon1",
        ),
    ],
)
def test_json_report_refuses_an_implausible_exon_or_limit(
    tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    p = tmp_path / "r.json"
    p.write_text(json.dumps(_report(**change), indent=1), encoding="utf-8")
    with pytest.raises(GenomicFileError) as exc:
        read_report_json(p)
    assert [i.field for i in exc.value.issues] == [field]


def test_limit_of_detection_is_a_fraction_and_percent_must_be_said() -> None:
    assert parse_limit_of_detection("0.002") == 0.002
    assert parse_limit_of_detection("0.2%") == pytest.approx(0.002)
    assert parse_limit_of_detection(0.05) == 0.05
    with pytest.raises(ValidationError, match="write 5%"):
        parse_limit_of_detection("5")  # 5 % written without its unit: refused, never guessed
    for bad in ("abc", "0", "-0.1", "nan", True, "60%"):
        with pytest.raises(ValidationError, match="limit_of_detection"):
            parse_limit_of_detection(bad)
    assert below_limit_of_detection(0.001, 0.002)
    assert not below_limit_of_detection(0.002, 0.002)
    assert not below_limit_of_detection(0.001, None)


# ------------------------------------------------------------------------------ resistance
def _mut(sample: str, gene: str, protein: str, vaf: float | None = None) -> Mutation:
    return Mutation(sample, gene, VariantClass.MISSENSE, protein_change=protein, vaf=vaf)


def _serial(
    sid: str,
    kind: SampleKind,
    alts: tuple[Any, ...],
    lod: float | None = None,
    covered: frozenset[str] | None = None,
) -> SerialSample:
    return SerialSample(Sample(sid, "P1", kind=kind), alts, covered, limit_of_detection=lod)


def test_a_driver_unseen_in_a_below_lod_liquid_biopsy_is_not_detected_not_lost() -> None:
    base = _serial("B", SampleKind.TISSUE, (_mut("B", "EGFR", "p.L858R", 0.4),))
    prog = _serial("P", SampleKind.CFDNA, (_mut("P", "MET", "p.D1228N", 0.01),), lod=0.002)
    report = classify_resistance(base, prog, "osimertinib")
    assert report.lost == ()
    (u,) = report.not_detected
    assert u.label == "EGFR p.L858R"
    assert u.reason == "not detected in cfDNA (below LoD 0.2 %)"
    # the same absence in a tissue biopsy that covered the gene is a loss
    tissue = _serial("P", SampleKind.TISSUE, prog.alterations)
    assert [a.gene for a in classify_resistance(base, tissue, "osimertinib").lost] == ["EGFR"]
    # and a progression assay that did not cover the gene says nothing of it
    narrow = _serial("P", SampleKind.TISSUE, prog.alterations, covered=frozenset({"MET"}))
    report = classify_resistance(base, narrow, "osimertinib")
    assert report.lost == ()
    assert report.not_detected[0].reason == "not covered by the progression assay"


def test_a_variant_below_the_baseline_liquid_biopsy_lod_is_not_called_acquired() -> None:
    base = _serial("B", SampleKind.CFDNA, (_mut("B", "EGFR", "p.L858R", 0.03),), lod=0.005)
    prog = _serial(
        "P",
        SampleKind.CFDNA,
        (
            _mut("P", "EGFR", "p.L858R", 0.05),
            _mut("P", "EGFR", "p.C797S", 0.003),  # could have been there below 0.5 %
            _mut("P", "MET", "p.Y1230C", 0.02),  # well above it: acquired
            _mut("P", "KRAS", "p.G12D", 0.0005),  # below the progression assay's own limit
        ),
        lod=0.001,
    )
    report = classify_resistance(base, prog, "osimertinib")
    by_label = {a.label: a for a in report.acquired}
    c797s = by_label["EGFR p.C797S"]
    assert c797s.mechanism is Mechanism.NOT_EVALUABLE
    assert "below the baseline assay's LoD 0.5 %" in c797s.reason
    assert by_label["MET p.Y1230C"].mechanism is Mechanism.BYPASS
    kras = by_label["KRAS p.G12D"]
    assert kras.mechanism is Mechanism.NOT_EVALUABLE
    assert "below the progression assay's LoD 0.1 %" in kras.reason
    # without declared limits the same pair calls C797S acquired on target
    plain = classify_resistance(
        _serial("B", SampleKind.CFDNA, base.alterations),
        _serial("P", SampleKind.CFDNA, prog.alterations),
        "osimertinib",
    )
    assert {a.label: a.mechanism for a in plain.acquired}["EGFR p.C797S"] is (
        Mechanism.ON_TARGET_SECONDARY
    )


def test_copy_number_and_fusions_follow_the_same_not_detected_rule() -> None:
    fusion = StructuralVariant("B", "EML4", "ALK", site1_exon=13, site2_exon=20)
    base = _serial("B", SampleKind.TISSUE, (fusion, CopyNumber("B", "MET", CnaCall.AMPLIFICATION)))
    prog = _serial("P", SampleKind.CFDNA, (), lod=0.002)
    report = classify_resistance(base, prog, "alectinib")
    assert report.lost == ()
    assert [u.label for u in report.not_detected] == [
        "EML4 (exon 13) :: ALK (exon 20) rearrangement"
    ]
