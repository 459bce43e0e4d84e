"""ESCAT annotation (Mateo 2018; Mosele 2020; Condorelli 2019) and knowledge-base importers."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.actionability import (
    ESCAT_TIERS,
    annotate,
    annotate_all,
    escat_table,
    load_civic,
    load_moalmanac,
)
from oncotrials.core.genomics.issues import GenomicFileError
from oncotrials.core.genomics.model import (
    Biomarker,
    BiomarkerKind,
    CnaCall,
    CopyNumber,
    Mutation,
    StructuralVariant,
    VariantClass,
)
from oncotrials.core.genomics.oncotree import load_oncotree


def _m(gene: str, protein: str, vc: VariantClass = VariantClass.MISSENSE) -> Mutation:
    return Mutation("S1", gene, vc, protein_change=protein)


@pytest.mark.parametrize(
    ("alteration", "tumour", "tier"),
    [
        # Mosele 2020 NSCLC: EGFR exon 19 deletion / L858R I-A, G719X I-B, BRAF V600E I-B
        (_m("EGFR", "p.E746_A750del", VariantClass.IN_FRAME_DEL), "LUAD", "I-A"),
        (_m("EGFR", "p.L858R"), "LUSC", "I-A"),
        (_m("EGFR", "p.G719S"), "LUAD", "I-B"),
        (_m("BRAF", "p.V600E"), "LUAD", "I-B"),
        (_m("EGFR", "p.A767_V769dup", VariantClass.IN_FRAME_INS), "NSCLC", "II-B"),
        (_m("MET", "p.X1010_splice", VariantClass.SPLICE_SITE), "LUAD", "I-B"),
        # Mateo 2018: BRAF V600E in melanoma I-A
        (_m("BRAF", "p.V600E"), "SKCM", "I-A"),
        # Condorelli 2019: PIK3CA hotspot I-A in breast cancer
        (_m("PIK3CA", "p.H1047R"), "IDC", "I-A"),
        (CopyNumber("S1", "ERBB2", CnaCall.AMPLIFICATION), "STAD", "I-A"),
        (StructuralVariant("S1", "EML4", "ALK"), "LUAD", "I-A"),
        (StructuralVariant("S1", "ETV6", "NTRK3"), "ACYC", "I-C"),
        (Biomarker("S1", BiomarkerKind.MSI, status="MSI-H"), "COAD", "I-A"),
        (Biomarker("S1", BiomarkerKind.MSI, status="MSI-H"), "UCEC", "I-C"),
    ],
)
def test_escat_tier_is_tumour_aware(alteration: object, tumour: str, tier: str) -> None:
    assert annotate(alteration, tumour).tier == tier  # type: ignore[arg-type]


def test_tier_in_another_tumour_type_is_iii_a() -> None:
    # ESCAT (Mateo 2018): III-A = tier I/II benefit shown in another tumour type
    a = annotate(_m("BRAF", "p.V600E"), "PAAD")
    assert a.tier == "III-A"
    assert {e.tumour_match for e in a.evidence} == {"other"}
    assert a.drugs == ()


def test_solid_tumour_agnostic_rows_do_not_apply_to_leukaemia() -> None:
    assert annotate(StructuralVariant("S1", "ETV6", "NTRK3"), "CML").tier == "III-A"


def test_wrong_codon_and_silent_do_not_match() -> None:
    assert annotate(_m("BRAF", "p.V600M"), "SKCM").tier is None
    assert annotate(_m("EGFR", "p.L858=", VariantClass.SILENT), "LUAD").evidence == ()
    assert (
        annotate(_m("EGFR", "p.E709_T710delinsD", VariantClass.IN_FRAME_DEL), "LUAD").tier is None
    )


def test_unknown_tumour_code_is_an_error() -> None:
    with pytest.raises(ValidationError, match="LUADX"):
        annotate(_m("EGFR", "p.L858R"), "LUADX")


def test_annotate_all_sorts_most_actionable_first() -> None:
    out = annotate_all(
        [_m("TP53", "p.R175H"), _m("EGFR", "p.G719A"), _m("EGFR", "p.L858R")], "LUAD"
    )
    assert [a.tier for a in out] == ["I-A", "I-B", None]


def test_every_escat_row_is_cited_and_valid() -> None:
    tree = load_oncotree()
    for e in escat_table():
        assert e.citation
        assert e.level in ESCAT_TIERS
        assert e.tumour in {"SOLID", "ANY"} or e.tumour in tree.nodes


def test_moalmanac_import_counts(fixtures: Path) -> None:
    path = fixtures / "moalmanac" / "molecular-oncology-almanac.json"
    everything = load_moalmanac(path, include_deprecated=True)
    # fixtures README: 1018 assertions; FDA-Approved 294, Guideline 207, Clinical evidence 175,
    # Inferential 146, Preclinical 142, Clinical trial 54; 106 with therapy_resistance = 1
    assert len(everything) == 1018
    assert Counter(e.level for e in everything) == {
        "FDA-Approved": 294,
        "Guideline": 207,
        "Clinical evidence": 175,
        "Inferential": 146,
        "Preclinical": 142,
        "Clinical trial": 54,
    }
    assert sum(e.resistance for e in everything) == 106
    assert len(load_moalmanac(path)) < 1018  # deprecated assertions are left out by default


def test_moalmanac_resistance_evidence_is_attached(fixtures: Path) -> None:
    kb = escat_table() + load_moalmanac(fixtures / "moalmanac" / "molecular-oncology-almanac.json")
    # fixtures README: ABL1 T315I is a resistance assertion (imatinib) in MOAlmanac
    a = annotate(_m("ABL1", "p.T315I"), "CML", knowledge=kb)
    assert any(e.entry.resistance and "Imatinib" in e.entry.drugs for e in a.evidence)
    assert a.tier is None  # only ESCAT entries set the tier
    egfr = annotate(_m("EGFR", "p.T790M"), "LUAD", knowledge=kb)
    assert egfr.tier == "I-A"
    assert egfr.evidence[0].entry.source == "ESCAT"
    assert any(e.entry.source == "MOAlmanac" and e.entry.resistance for e in egfr.evidence)


def test_moalmanac_bad_json_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "kb.json"
    p.write_text('[\n{"feature_type": "Somatic Variant",\n "gene": }\n]')
    with pytest.raises(GenomicFileError) as exc:
        load_moalmanac(p)
    assert exc.value.extra["line"] == 3


CIVIC_HEADER = [
    "molecular_profile", "molecular_profile_id", "disease", "doid", "phenotypes", "therapies",
    "therapy_interaction_type", "evidence_type", "evidence_direction", "evidence_level",
    "significance", "evidence_statement", "citation_id", "source_type", "asco_abstract_id",
    "citation", "nct_ids", "rating", "evidence_status", "evidence_id", "variant_origin",
    "last_review_date", "evidence_civic_url", "molecular_profile_civic_url", "is_flagged",
]  # fmt: skip


def _civic(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    p = tmp_path / "ClinicalEvidenceSummaries.tsv"
    with p.open("w", newline="") as fh:
        w = csv.DictWriter(fh, CIVIC_HEADER, delimiter="\t", restval="")
        w.writeheader()
        w.writerows(rows)
    return p


def test_civic_export_import(tmp_path: Path) -> None:
    # A hand-made export with CIViC's real header (project reference, section 3.2); rows are ours.
    p = _civic(
        tmp_path,
        [
            {"molecular_profile": "EGFR T790M", "disease": "Lung Non-small Cell Carcinoma", "therapies": "Gefitinib",
             "evidence_type": "Predictive", "evidence_direction": "Supports", "evidence_level": "B",
             "significance": "Resistance", "citation": "Example 2024", "evidence_status": "accepted"},
            {"molecular_profile": "ALK Fusion", "disease": "Lung Non-small Cell Carcinoma", "therapies": "Crizotinib",
             "evidence_type": "Predictive", "evidence_direction": "Supports", "evidence_level": "A",
             "significance": "Sensitivity/Response", "citation": "Example 2014", "evidence_status": "accepted"},
            {"molecular_profile": "KRAS G12C", "disease": "Colorectal Cancer", "therapies": "Sotorasib",
             "evidence_type": "Prognostic", "evidence_direction": "Supports", "evidence_level": "B",
             "significance": "Poor Outcome", "citation": "Example", "evidence_status": "accepted"},
        ],
    )  # fmt: skip
    entries = load_civic(p)
    assert len(entries) == 2  # prognostic evidence is not imported
    t790m, alk = entries
    assert (t790m.gene, t790m.alteration, t790m.tumour, t790m.resistance) == (
        "EGFR",
        "p.T790M",
        "NSCLC",
        True,
    )
    assert (alk.alteration, alk.level) == ("fusion", "A")
    a = annotate(StructuralVariant("S1", "EML4", "ALK"), "LUAD", knowledge=entries)
    assert [e.entry.drugs for e in a.evidence] == [("Crizotinib",)]


def test_civic_missing_columns(tmp_path: Path) -> None:
    p = tmp_path / "civic.tsv"
    p.write_text("molecular_profile\tdisease\nEGFR T790M\tLung\n")
    with pytest.raises(GenomicFileError, match="CIViC columns missing") as exc:
        load_civic(p)
    assert exc.value.extra["line"] == 1


@pytest.mark.parametrize(
    ("gene", "raw", "tumour", "tier"),
    [
        ("EGFR", "exon 19 deletion", "LUAD", "I-A"),  # vendor wording (reference section 2)
        ("EGFR", "Exon 20 insertion", "LUAD", "II-B"),
        ("MET", "MET exon 14 skipping", "LUAD", "I-B"),
        ("KRAS", "exon 19 deletion", "LUAD", None),
    ],
)
def test_vendor_exon_wording_matches_exon_rules(
    gene: str, raw: str, tumour: str, tier: str | None
) -> None:
    m = Mutation("S1", gene, VariantClass.IN_FRAME_DEL, protein_change=None, protein_change_raw=raw)
    assert annotate(m, tumour).tier == tier
