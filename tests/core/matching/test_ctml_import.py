"""CTML import behaves as MatchMiner (DFCI matchengine-V2) on small CTML trials.

Expected behaviours are those recorded in shared/reference/matching.md §1.2 and §1.7 for the
DFCI engine ([ran] = checked there by running the CTIMS/DFCI engine on mongomock).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from oncotrials.core.errors import ValidationError
from oncotrials.core.matching import (
    Alteration,
    GenomicReport,
    Matcher,
    OncoTreeMap,
    Patient,
    load_trial,
    load_trials,
    trial_from_ctml,
)


def ctml(match: list[Any], **arm: Any) -> dict[str, Any]:
    return {
        "protocol_no": "99-999",
        "_summary": {"status": [{"value": "Open to Accrual"}]},
        "treatment_list": {"step": [{"arm": [{"arm_code": "A", "match": match, **arm}]}]},
    }


def arm_matches(doc: dict[str, Any], pts: list[Patient], tree: OncoTreeMap) -> set[str]:
    trial = trial_from_ctml(doc, source="ctml", oncotree=tree)
    return set(Matcher([trial], pts, tree).match_sets()[("99-999", "A")])


def rep(*alts: Alteration) -> GenomicReport:
    return GenomicReport(alts)


def test_readme_example_trial_levels_and_status(oncotree: OncoTreeMap, ctml_dir: Path) -> None:
    trial = load_trial(ctml_dir / "00-000_breast_pik3ca.yaml", oncotree=oncotree)
    assert trial.open
    assert [(lvl.kind, lvl.path, lvl.open) for lvl in trial.levels] == [
        ("arm", "A", True),
        ("dose_level", "A/DL1", True),
        ("dose_level", "A/DL2", False),  # level_suspended: Y
        ("arm", "B", False),  # arm_suspended: Y
    ]
    pts = [
        Patient(
            "idc-pik3ca",
            diagnosis="IDC",
            age=50,
            report=rep(Alteration("PIK3CA", protein_change="p.H1047R")),
        ),
        Patient(
            "brca-tp53",
            diagnosis="BRCA",
            age=50,
            report=rep(Alteration("TP53", protein_change="p.R175H")),
        ),
        Patient(
            "luad-tp53",
            diagnosis="LUAD",
            age=50,
            report=rep(Alteration("TP53", protein_change="p.R175H")),
        ),
        Patient(
            "idc-minor",
            diagnosis="IDC",
            age=17,
            report=rep(Alteration("TP53", protein_change="p.R175H")),
        ),
        Patient(
            "brca-erbb2",
            diagnosis="BRCA",
            age=50,
            report=rep(Alteration("ERBB2", "cnv", cn_call="amplification")),
        ),
    ]
    sets = Matcher([trial], pts, oncotree).match_sets()
    assert sets[("00-000", "A")] == {"idc-pik3ca", "brca-tp53"}
    assert sets[("00-000", "A/DL1")] == {"idc-pik3ca", "brca-tp53", "idc-minor", "brca-erbb2"}
    assert sets[("00-000", "B")] == {"brca-erbb2"}


def test_genomic_negation_turns_the_whole_leaf_into_an_exclusion(oncotree: OncoTreeMap) -> None:
    # {hugo_symbol: KRAS, variant_category: '!Mutation'}: KRAS amplification only passes, zero
    # variant rows passes (MatchMiner [ran])
    doc = ctml([{"genomic": {"hugo_symbol": "KRAS", "variant_category": "!Mutation"}}])
    pts = [
        Patient("mut", report=rep(Alteration("KRAS", protein_change="p.G12D"))),
        Patient("amp", report=rep(Alteration("KRAS", "cnv", cn_call="amplification"))),
        Patient("empty", report=rep()),
    ]
    assert arm_matches(doc, pts, oncotree) == {"amp", "empty"}


def test_negated_protein_change_is_no_such_variant(oncotree: OncoTreeMap) -> None:
    doc = ctml([{"genomic": {"hugo_symbol": "EGFR", "protein_change": "!p.T790M"}}])
    pts = [
        Patient("l858r", report=rep(Alteration("EGFR", protein_change="p.L858R"))),
        Patient("t790m", report=rep(Alteration("EGFR", protein_change="p.T790M"))),
    ]
    assert arm_matches(doc, pts, oncotree) == {"l858r"}


def test_clinical_negation_excludes_the_subtree(oncotree: OncoTreeMap) -> None:
    doc = ctml([{"clinical": {"oncotree_primary_diagnosis": "!Breast", "age_numerical": ">=18"}}])
    pts = [Patient("idc", diagnosis="IDC", age=40), Patient("luad", diagnosis="LUAD", age=40)]
    assert arm_matches(doc, pts, oncotree) == {"luad"}


def test_oncotree_names_expand_to_subtrees(oncotree: OncoTreeMap) -> None:
    doc = ctml([{"clinical": {"oncotree_primary_diagnosis": "Non-Small Cell Lung Cancer"}}])
    pts = [Patient(c, diagnosis=c) for c in ("LUAD", "NSCLC", "LUNG", "SCLC")]
    # a parent diagnosis (tissue Lung) does not match a child criterion (MatchMiner [ran])
    assert arm_matches(doc, pts, oncotree) == {"LUAD", "NSCLC"}


def test_solid_and_liquid(oncotree: OncoTreeMap) -> None:
    pts = [Patient(c, diagnosis=c) for c in ("LUAD", "AML", "CLLSLL", "SKCM")]
    solid = ctml([{"clinical": {"oncotree_primary_diagnosis": "_SOLID_"}}])
    liquid = ctml([{"clinical": {"oncotree_primary_diagnosis": "_LIQUID_"}}])
    assert arm_matches(solid, pts, oncotree) == {"LUAD", "SKCM"}
    assert arm_matches(liquid, pts, oncotree) == {"AML", "CLLSLL"}


def test_age_operators_follow_dfci_v2(oncotree: OncoTreeMap) -> None:
    # V2: '>18' strict; CTIMS would match the 18th birthday with both '>18' and '<18' (§1.7)
    pts = [Patient(str(a), age=a) for a in (17.5, 18.0, 18.5)]
    assert arm_matches(ctml([{"clinical": {"age_numerical": ">18"}}]), pts, oncotree) == {"18.5"}
    assert arm_matches(ctml([{"clinical": {"age_numerical": "<18"}}]), pts, oncotree) == {"17.5"}
    assert arm_matches(ctml([{"clinical": {"age_numerical": ">=18"}}]), pts, oncotree) == {
        "18.0",
        "18.5",
    }
    infants = [Patient("4mo", age=4 / 12), Patient("7mo", age=7 / 12)]
    assert arm_matches(ctml([{"clinical": {"age_numerical": "<.5"}}]), infants, oncotree) == {"4mo"}


def test_copy_number_labels(oncotree: OncoTreeMap) -> None:
    pts = [
        Patient(c, report=rep(Alteration("ERBB2", "cnv", cn_call=c)))
        for c in ("amplification", "gain", "homozygous_deletion", "heterozygous_deletion")
    ]
    for label, call in [
        ("High Amplification", "amplification"),
        ("Low Amplification", "gain"),
        ("Homozygous Deletion", "homozygous_deletion"),
        ("Heterozygous Deletion", "heterozygous_deletion"),
    ]:
        doc = ctml([{"genomic": {"hugo_symbol": "ERBB2", "cnv_call": label}}])
        assert arm_matches(doc, pts, oncotree) == {call}


def test_any_variation_excludes_structural_variants(oncotree: OncoTreeMap) -> None:
    # DFCI: Any Variation -> {$in: [MUTATION, CNV]} (MatchMiner [ran])
    pts = [
        Patient("mut", report=rep(Alteration("ALK", protein_change="p.F1174L"))),
        Patient("cnv", report=rep(Alteration("ALK", "cnv", cn_call="gain"))),
        Patient("sv", report=rep(Alteration("EML4", "sv", fusion_partner="ALK"))),
    ]
    doc = ctml([{"genomic": {"hugo_symbol": "ALK", "variant_category": "Any Variation"}}])
    assert arm_matches(doc, pts, oncotree) == {"mut", "cnv"}


def test_json_fixture_with_exclusion_wildcard_and_fusion(
    oncotree: OncoTreeMap, ctml_dir: Path
) -> None:
    trial = load_trial(ctml_dir / "11-111_kras_exclusion.json", oncotree=oncotree)
    pts = [
        Patient(
            "braf",
            diagnosis="COAD",
            age=60,
            report=rep(Alteration("BRAF", protein_change="p.V600E")),
        ),
        Patient(
            "braf+kras",
            diagnosis="COAD",
            age=60,
            report=rep(
                Alteration("BRAF", protein_change="p.V600E"),
                Alteration("KRAS", protein_change="p.G12D"),
            ),
        ),
        Patient(
            "braf-aml",
            diagnosis="AML",
            age=60,
            report=rep(Alteration("BRAF", protein_change="p.V600K")),
        ),
        Patient(
            "alk-eml4",
            diagnosis="LUAD",
            age=60,
            report=rep(Alteration("ALK", "sv", fusion_partner="EML4")),
        ),
    ]
    sets = Matcher([trial], pts, oncotree).match_sets()
    assert sets[("11-111", "SOLID-KRASWT")] == {"braf"}
    assert sets[("11-111", "ALK-FUSION")] == {"alk-eml4"}


def test_signatures_mmr_tmb_and_ignored_keys(oncotree: OncoTreeMap) -> None:
    doc = ctml(
        [
            {
                "or": [
                    {"genomic": {"mmr_status": "MMR-Deficient", "display_name": "MMR-D"}},
                    {"genomic": {"apobec_signature": "Yes"}},
                    {"clinical": {"tmb_numerical": ">=10", "her2_status": "Positive"}},
                ]
            }
        ]
    )
    pts = [
        Patient("msi", report=GenomicReport(msi="high")),
        Patient("apobec", report=GenomicReport(signatures=frozenset({"apobec"}))),
        Patient("tmb", report=GenomicReport(tmb=10.0)),
        Patient("none", report=GenomicReport(tmb=3.0, msi="stable")),
    ]
    assert arm_matches(doc, pts, oncotree) == {"msi", "apobec", "tmb"}


@pytest.mark.parametrize(
    ("match", "path", "value"),
    [
        (
            [{"genomic": {"hugo_symbol": "KRAS", "variant_category": "Mutant"}}],
            "match[0].genomic.variant_category",
            "'Mutant'",
        ),
        (
            [{"clinical": {"oncotree_primary_diagnosis": "Lung Cancer, NOS-ish"}}],
            "match[0].clinical.oncotree_primary_diagnosis",
            "'Lung Cancer, NOS-ish'",
        ),
        ([{"clinical": {"gender": "female"}}], "match[0].clinical.gender", "'female'"),
        ([{"clinical": {"age_numerical": "adult"}}], "match[0].clinical.age_numerical", "'adult'"),
        (
            [{"and": [{"genomic": {"hugo_symbol": "KRAS", "wildtype": True}}]}],
            "match[0].and[0].genomic.wildtype",
            "True",
        ),
        ([{"nand": []}], "match[0]", "'nand'"),
        (
            [{"genomic": {"hugo_symbol": "KRAS", "prior_treatment": "x"}}],
            "match[0].genomic.prior_treatment",
            "'prior_treatment'",
        ),
    ],
)
def test_malformed_ctml_names_file_path_and_value(
    oncotree: OncoTreeMap, match: list[Any], path: str, value: str
) -> None:
    with pytest.raises(ValidationError) as err:
        trial_from_ctml(ctml(match), source="trials/99-999.yaml", oncotree=oncotree)
    message = err.value.message
    assert message.startswith("trials/99-999.yaml: ")
    assert f"treatment_list.step[0].arm[0].{path}: " in message
    assert value in message


def test_an_invalid_trial_never_half_imports(oncotree: OncoTreeMap) -> None:
    bad_dir = Path(__file__).parent / "bad_ctml"
    with pytest.raises(ValidationError, match=r"02-bad\.yaml: .*variant_category.*'Mutant'"):
        load_trials(bad_dir, oncotree=oncotree)
    # a matcher keeps its previous trials when an amended file fails to parse
    good = load_trial(bad_dir / "01-good.yaml", oncotree=oncotree)
    m = Matcher([good], [Patient("p", report=rep(Alteration("EGFR", exon=19)))], oncotree)
    with pytest.raises(ValidationError):
        m.upsert_trial(load_trial(bad_dir / "02-bad.yaml", oncotree=oncotree))
    assert m.match_sets() == {("01-GOOD", "A"): frozenset({"p"})}


def test_closed_trial_by_summary_status(oncotree: OncoTreeMap) -> None:
    doc = ctml([{"genomic": {"hugo_symbol": "KRAS"}}])
    doc["_summary"] = {"status": [{"value": "Closed to Accrual"}]}
    trial = trial_from_ctml(doc, source="x", oncotree=oncotree)
    m = Matcher([trial], [Patient("p", report=rep(Alteration("KRAS")))], oncotree)
    assert m.matches() == []
    assert [lm.patient_ids for lm in m.matches(include_closed=True)] == [("p",)]


def test_ctml_exon_on_a_structural_variation_reads_the_named_gene_breakpoint(
    oncotree: OncoTreeMap,
) -> None:
    match = [
        {
            "genomic": {
                "hugo_symbol": "ALK",
                "variant_category": "Structural Variation",
                "exon": 20,
            }
        }
    ]
    pts = [
        Patient("typed", report=rep(Alteration("EML4", "sv", exon=13, fusion_partner="ALK", partner_exon=20))),
        Patient("other", report=rep(Alteration("EML4", "sv", exon=13, fusion_partner="ALK", partner_exon=19))),
        Patient("untyped", report=rep(Alteration("EML4", "sv", fusion_partner="ALK"))),
    ]  # fmt: skip
    assert arm_matches(ctml(match), pts, oncotree) == {"typed"}
