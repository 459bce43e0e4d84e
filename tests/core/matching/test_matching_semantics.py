"""Semantics of every criterion kind, checked on the compiled engine and the direct evaluator.

Behaviours marked "MatchMiner" are those the reference note (shared/reference/matching.md §1.2)
records for the DFCI engine (matchengine-V2 / CTIMS, run on mongomock), re-stated here as the
specification of our language.
"""

from __future__ import annotations

from typing import Any

import pytest

from oncotrials.core.matching import (
    Alteration,
    GenomicReport,
    Matcher,
    OncoTreeMap,
    Patient,
    Truth,
    evaluate,
    parse_criteria,
    trial_from_dict,
)


def report(*alts: Alteration, **kw: Any) -> GenomicReport:
    return GenomicReport(alterations=alts, **kw)


def mut(gene: str, protein: str | None = None, **kw: Any) -> Alteration:
    return Alteration(gene, "mutation", protein_change=protein, **kw)


def matched(criteria: dict[str, Any], patients: list[Patient], tree: OncoTreeMap) -> set[str]:
    """Ids matched by the compiled engine; asserts the direct evaluator agrees."""
    node = parse_criteria(criteria, oncotree=tree)
    trial = trial_from_dict({"trial_id": "T", "criteria": criteria}, source="t", oncotree=tree)
    got = set(Matcher([trial], patients, tree).match_sets()[("T", "")])
    assert got == {p.id for p in patients if evaluate(node, p, tree) == Truth.TRUE}
    return got


# --- protein changes ---------------------------------------------------------------------------


def test_wildcard_protein_change_is_one_residue_after_the_codon(oncotree: OncoTreeMap) -> None:
    # MatchMiner V2 regex ^p.V600[ACDEFGHIKLMNPQRSTVWY]$ (reference §1.2, [ran])
    changes = ["p.V600E", "p.V600K", "p.V600*", "p.V600fs", "p.V600_K601delinsE", "p.V6000E"]
    pts = [Patient(c, report=report(mut("BRAF", c))) for c in changes]
    crit = {"genomic": {"gene": "BRAF", "wildcard_protein_change": "p.V600"}}
    assert matched(crit, pts, oncotree) == {"p.V600E", "p.V600K"}


def test_wildcard_without_p_prefix_and_in_lower_case(oncotree: OncoTreeMap) -> None:
    pts = [Patient("a", report=report(mut("BRAF", "p.v600e")))]
    crit = {"genomic": {"gene": "BRAF", "wildcard_protein_change": "V600"}}
    assert matched(crit, pts, oncotree) == {"a"}


def test_exact_protein_change_is_exact(oncotree: OncoTreeMap) -> None:
    pts = [
        Patient("g12c", report=report(mut("KRAS", "p.G12C"))),
        Patient("g12d", report=report(mut("KRAS", "p.G12D"))),
        Patient("other-gene", report=report(mut("NRAS", "p.G12C"))),
    ]
    crit = {"genomic": {"gene": "KRAS", "protein_change": "p.G12C"}}
    assert matched(crit, pts, oncotree) == {"g12c"}


# --- exclusions and patients without a report ----------------------------------------------------


def test_exclusion_of_a_gene_mutation(oncotree: OncoTreeMap) -> None:
    # MatchMiner: {hugo_symbol: KRAS, variant_category: '!Mutation'} = "no KRAS mutation";
    # KRAS amplification only passes; zero variant rows passes (reference §1.2, [ran]).
    pts = [
        Patient("kras-mut", report=report(mut("KRAS", "p.G12C"))),
        Patient("kras-amp", report=report(Alteration("KRAS", "cnv", cn_call="amplification"))),
        Patient("empty-report", report=report()),
        Patient("no-report"),
    ]
    crit = {"not": {"genomic": {"gene": "KRAS", "category": "mutation"}}}
    assert matched(crit, pts, oncotree) == {"kras-amp", "empty-report"}


def test_patient_without_report_is_unknown_for_genomic_criteria(oncotree: OncoTreeMap) -> None:
    p = Patient("untested", diagnosis="LUAD")
    pos = parse_criteria({"genomic": {"gene": "KRAS"}})
    assert evaluate(pos, p, oncotree) == Truth.UNKNOWN
    assert evaluate(parse_criteria({"not": {"genomic": {"gene": "KRAS"}}}), p, oncotree) == (
        Truth.UNKNOWN
    )
    # an 'or' with a true clinical branch still matches
    crit = {"or": [{"genomic": {"gene": "KRAS"}}, {"diagnosis": "NSCLC"}]}
    assert matched(crit, [p], oncotree) == {"untested"}


def test_excluding_one_variant_is_not_requiring_another(oncotree: OncoTreeMap) -> None:
    # MatchMiner: {hugo_symbol: EGFR, protein_change: '!p.T790M'} = "no EGFR T790M" [ran]
    pts = [
        Patient("l858r", report=report(mut("EGFR", "p.L858R"))),
        Patient("l858r+t790m", report=report(mut("EGFR", "p.L858R"), mut("EGFR", "p.T790M"))),
        Patient("no-egfr", report=report(mut("TP53", "p.R273H"))),
    ]
    crit = {"not": {"genomic": {"gene": "EGFR", "protein_change": "p.T790M"}}}
    assert matched(crit, pts, oncotree) == {"l858r", "no-egfr"}


def test_exon_exclusion_keeps_other_exons_and_copy_number_rows(oncotree: OncoTreeMap) -> None:
    # MatchMiner V1 tests/test_genomic.py::test_build_exon: {exon: 13, variant_category:
    # '!Mutation'} excludes only the exon-13 mutation.
    pts = [
        Patient("ex13-mut", report=report(mut("KIT", "p.K642E", exon=13))),
        Patient("ex19-mut", report=report(mut("EGFR", "p.E746_A750del", exon=19))),
        Patient("ex13-cnv", report=report(Alteration("KIT", "cnv", exon=13, cn_call="gain"))),
    ]
    crit = {"not": {"genomic": {"exon": 13, "category": "mutation"}}}
    assert matched(crit, pts, oncotree) == {"ex19-mut", "ex13-cnv"}


def test_two_genomic_criteria_may_be_met_by_different_alterations(oncotree: OncoTreeMap) -> None:
    # MatchMiner [ran: and_two_genomic_same_patient]; fields inside one leaf share one row
    p = Patient("a", report=report(mut("KRAS", "p.G12C"), mut("TP53", "p.R273H")))
    both = {"and": [{"genomic": {"gene": "KRAS"}}, {"genomic": {"gene": "TP53"}}]}
    assert matched(both, [p], oncotree) == {"a"}
    same_row = {"genomic": {"gene": "KRAS", "protein_change": "p.R273H"}}
    assert matched(same_row, [p], oncotree) == set()


# --- diagnosis -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "diagnosis", "expected"),
    [
        ("NSCLC", "LUAD", True),  # a node matches its descendants
        ("LUNG", "LUAD", True),  # tissue level, two levels up (oncokb/oncokb#1902)
        ("LUAD", "NSCLC", False),  # a parent diagnosis does not match a child criterion
        ("BREAST", "LUAD", False),
        ("_SOLID_", "LUAD", True),
        ("_SOLID_", "CLLSLL", False),  # Lymphoid tissue is haematological
        ("_LIQUID_", "CLLSLL", True),
        ("_LIQUID_", "CML", True),  # Myeloid tissue
        ("_LIQUID_", "IDC", False),
    ],
)
def test_diagnosis_subtree(
    oncotree: OncoTreeMap, criterion: str, diagnosis: str, expected: bool
) -> None:
    p = Patient("p", diagnosis=diagnosis)
    assert matched({"diagnosis": criterion}, [p], oncotree) == ({"p"} if expected else set())


def test_negated_diagnosis_excludes_the_whole_subtree(oncotree: OncoTreeMap) -> None:
    pts = [Patient(c, diagnosis=c) for c in ("BREAST", "BRCA", "IDC", "LUAD")]
    assert matched({"not": {"diagnosis": "BREAST"}}, pts, oncotree) == {"LUAD"}


def test_unknown_oncotree_code_is_an_error_naming_the_path(oncotree: OncoTreeMap) -> None:
    from oncotrials.core.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        parse_criteria(
            {"and": [{"age": {"gte": 18}}, {"diagnosis": "LUNGX"}]},
            source="trial.yaml",
            oncotree=oncotree,
        )
    assert "trial.yaml" in err.value.message
    assert "criteria.and[1].diagnosis" in err.value.message
    assert "'LUNGX'" in err.value.message


# --- age, ECOG, lines, labs, sex, therapies --------------------------------------------------


def test_age_boundaries(oncotree: OncoTreeMap) -> None:
    # the 18th birthday on the reference date is age 18.0
    pts = [Patient(str(a), age=a) for a in (17.99, 18.0, 18.01)] + [Patient("unknown")]
    assert matched({"age": {"gte": 18}}, pts, oncotree) == {"18.0", "18.01"}
    assert matched({"age": {"gt": 18}}, pts, oncotree) == {"18.01"}
    assert matched({"age": {"lt": 18}}, pts, oncotree) == {"17.99"}
    assert matched({"age": {"gte": 18, "lte": 18}}, pts, oncotree) == {"18.0"}
    # age unknown is neither in nor out of range
    assert matched({"not": {"age": {"gte": 18}}}, pts, oncotree) == {"17.99"}


def test_ecog_prior_lines_and_labs(oncotree: OncoTreeMap) -> None:
    pts = [
        Patient("fit", ecog=0, prior_lines=1, labs={"creatinine_clearance": 75.0}),
        Patient("ecog2", ecog=2, prior_lines=1, labs={"creatinine_clearance": 75.0}),
        Patient("heavily-treated", ecog=1, prior_lines=4, labs={"creatinine_clearance": 75}),
        Patient("renal", ecog=1, prior_lines=0, labs={"creatinine_clearance": 40.0}),
        Patient("no-lab", ecog=1, prior_lines=0),
    ]
    crit = {
        "and": [
            {"ecog": {"lte": 1}},
            {"prior_lines": {"lte": 2}},
            {"lab": {"name": "creatinine_clearance", "gte": 60}},
        ]
    }
    assert matched(crit, pts, oncotree) == {"fit"}


def test_sex_and_prior_therapy(oncotree: OncoTreeMap) -> None:
    pts = [
        Patient("f-osi", sex="female", prior_therapies=frozenset({"Osimertinib"})),
        Patient("m-none", sex="male", prior_therapies=frozenset()),
        Patient("f-unrecorded", sex="female"),
    ]
    assert matched({"sex": "female"}, pts, oncotree) == {"f-osi", "f-unrecorded"}
    assert matched({"prior_therapy": "osimertinib"}, pts, oncotree) == {"f-osi"}
    # "no prior osimertinib" needs the therapy history to be recorded
    assert matched({"not": {"prior_therapy": "osimertinib"}}, pts, oncotree) == {"m-none"}


# --- copy number, fusions, categories, classes, biomarkers ---------------------------------------


def test_copy_number_calls(oncotree: OncoTreeMap) -> None:
    calls = ["amplification", "gain", "heterozygous_deletion", "homozygous_deletion"]
    pts = [Patient(c, report=report(Alteration("ERBB2", "cnv", cn_call=c))) for c in calls]
    for call in calls:
        assert matched({"genomic": {"gene": "ERBB2", "cn_call": call}}, pts, oncotree) == {call}


def test_fusion_partner_in_either_orientation(oncotree: OncoTreeMap) -> None:
    pts = [
        Patient("eml4-alk", report=report(Alteration("EML4", "sv", fusion_partner="ALK"))),
        Patient(
            "alk-intergenic", report=report(Alteration("ALK", "sv", fusion_partner="intergenic"))
        ),
        Patient("alk-unknown-partner", report=report(Alteration("ALK", "sv"))),
    ]
    assert matched({"genomic": {"gene": "ALK", "fusion_partner": "EML4"}}, pts, oncotree) == {
        "eml4-alk"
    }
    assert matched({"genomic": {"gene": "EML4", "fusion_partner": "ALK"}}, pts, oncotree) == {
        "eml4-alk"
    }
    any_gene = {"genomic": {"gene": "ALK", "fusion_partner": "any_gene"}}
    assert matched(any_gene, pts, oncotree) == {"eml4-alk"}
    intergenic = {"genomic": {"gene": "ALK", "fusion_partner": "intergenic"}}
    assert matched(intergenic, pts, oncotree) == {"alk-intergenic"}
    assert matched({"genomic": {"gene": "ALK", "category": "sv"}}, pts, oncotree) == {
        "eml4-alk",
        "alk-intergenic",
        "alk-unknown-partner",
    }


def test_variant_categories(oncotree: OncoTreeMap) -> None:
    pts = [
        Patient("mut", report=report(mut("MET", "p.D1010N"))),
        Patient("cnv", report=report(Alteration("MET", "cnv", cn_call="amplification"))),
        Patient("sv", report=report(Alteration("MET", "sv", fusion_partner="KIF5B"))),
    ]
    assert matched({"genomic": {"gene": "MET", "category": "any"}}, pts, oncotree) == {
        "mut",
        "cnv",
        "sv",
    }
    crit = {"genomic": {"gene": "MET", "category": ["mutation", "cnv"]}}
    assert matched(crit, pts, oncotree) == {"mut", "cnv"}


def test_knowledge_base_class(oncotree: OncoTreeMap) -> None:
    pts = [
        Patient("onc", report=report(mut("KRAS", "p.G12C", classes=frozenset({"Oncogenic"})))),
        Patient("vus", report=report(mut("KRAS", "p.A18V"))),
        Patient(
            "other-gene", report=report(mut("TP53", "p.R175H", classes=frozenset({"oncogenic"})))
        ),
    ]
    crit = {"genomic": {"gene": "KRAS", "kb_class": "oncogenic"}}
    assert matched(crit, pts, oncotree) == {"onc"}


def test_tmb_msi_signatures(oncotree: OncoTreeMap) -> None:
    pts = [
        Patient("tmb10", report=report(tmb=10.0, msi="stable")),
        Patient("tmb9", report=report(tmb=9.99, msi="high", signatures=frozenset({"APOBEC"}))),
        Patient("no-tmb", report=report()),
        Patient("no-report"),
    ]
    # inclusive as written; missing TMB never matches (MatchMiner [ran])
    assert matched({"tmb": {"gte": 10}}, pts, oncotree) == {"tmb10"}
    assert matched({"not": {"tmb": {"gte": 10}}}, pts, oncotree) == {"tmb9"}
    assert matched({"msi": "high"}, pts, oncotree) == {"tmb9"}
    assert matched({"signature": "apobec"}, pts, oncotree) == {"tmb9"}
    assert matched({"not": {"signature": "apobec"}}, pts, oncotree) == {"tmb10", "no-tmb"}


# --- levels, status, slots ------------------------------------------------------------------------


def test_levels_inherit_criteria_and_carry_status_and_slots(oncotree: OncoTreeMap) -> None:
    trial = trial_from_dict(
        {
            "trial_id": "NCT-LEVELS",
            "criteria": {"age": {"gte": 18}},
            "cohorts": [
                {
                    "id": "A",
                    "slots": 2,
                    "criteria": {"genomic": {"gene": "KRAS"}},
                    "dose_levels": [
                        {"id": "DL1", "slots": 0},
                        {"id": "DL2", "criteria": {"ecog": {"lte": 1}}},
                    ],
                },
                {"id": "B", "status": "closed", "criteria": {"genomic": {"gene": "KRAS"}}},
            ],
        },
        source="levels.yaml",
        oncotree=oncotree,
    )
    pts = [
        Patient("adult", age=40, ecog=1, report=report(mut("KRAS", "p.G12C"))),
        Patient("adult-ecog2", age=40, ecog=2, report=report(mut("KRAS", "p.G12C"))),
        Patient("child", age=12, ecog=0, report=report(mut("KRAS", "p.G12C"))),
        Patient("dead", age=50, ecog=0, deceased=True, report=report(mut("KRAS", "p.G12C"))),
    ]
    m = Matcher([trial], pts, oncotree)
    rows = {lm.level.path: (set(lm.patient_ids), lm.level.slots) for lm in m.matches()}
    # the closed cohort B is left out; the patient matching two dose levels gets both rows
    assert rows == {
        "A": ({"adult", "adult-ecog2"}, 2),
        "A/DL1": ({"adult", "adult-ecog2"}, 0),
        "A/DL2": ({"adult"}, None),
    }
    every = {
        lm.level.path: set(lm.patient_ids)
        for lm in m.matches(include_closed=True, include_deceased=True)
    }
    assert every["B"] == {"adult", "adult-ecog2", "dead"}
    assert [lvl.path for lvl in m.levels_for_patient("adult")] == ["A", "A/DL1", "A/DL2"]


def test_explanation_names_the_matching_alteration_and_the_missing_fact(
    oncotree: OncoTreeMap,
) -> None:
    trial = trial_from_dict(
        {
            "trial_id": "T",
            "cohorts": [
                {
                    "id": "A",
                    "criteria": {
                        "and": [
                            {"genomic": {"gene": "KRAS", "protein_change": "p.G12C"}},
                            {"ecog": {"lte": 1}},
                        ]
                    },
                }
            ],
        },
        source="t",
    )
    p = Patient("p", report=report(mut("KRAS", "p.G12C")))
    ((_level, is_match, why),) = Matcher([trial], [p], oncotree).explain("p", "T")
    assert not is_match
    assert why.truth == Truth.UNKNOWN
    text = "\n".join(why.lines())
    assert "KRAS p.G12C" in why.children[0].evidence
    assert "ecog not recorded" in text


def test_patient_with_unknown_oncotree_code_is_rejected(oncotree: OncoTreeMap) -> None:
    from oncotrials.core.errors import ValidationError

    with pytest.raises(ValidationError, match=r"patient 'P9': diagnosis 'NSCLC1'"):
        Matcher([], [Patient("P9", diagnosis="NSCLC1")], oncotree)


def test_upserting_a_patient_returns_the_levels_now_matched(oncotree: OncoTreeMap) -> None:
    trial = trial_from_dict(
        {"trial_id": "T", "cohorts": [{"id": "A", "criteria": {"genomic": {"gene": "BRAF"}}}]},
        source="t",
    )
    m = Matcher([trial], [Patient("p")], oncotree)
    assert m.match_sets() == {("T", "A"): frozenset()}
    now = m.upsert_patient(Patient("p", report=report(mut("BRAF", "p.V600E"))))
    assert [lvl.key for lvl in now] == [("T", "A")]
    assert m.match_sets() == {("T", "A"): frozenset({"p"})}


def test_exon_and_variant_classification_hold_on_the_same_row(oncotree: OncoTreeMap) -> None:
    pts = [
        Patient(
            "ex19-del",
            report=report(
                mut("EGFR", "p.E746_A750del", exon=19, variant_classification="In_Frame_Del")
            ),
        ),
        Patient(
            "ex19-missense+ex21-del",
            report=report(
                mut("EGFR", "p.L747P", exon=19, variant_classification="Missense_Mutation"),
                mut("EGFR", "p.L858_A859del", exon=21, variant_classification="In_Frame_Del"),
            ),
        ),
    ]
    crit = {"genomic": {"gene": "EGFR", "exon": 19, "variant_classification": "In_Frame_Del"}}
    assert matched(crit, pts, oncotree) == {"ex19-del"}


def test_fusion_exon_is_the_exon_of_the_gene_the_criterion_names(oncotree: OncoTreeMap) -> None:
    # An exon on a structural-variant leaf reads the breakpoint exon of the gene it names, in
    # either orientation; as in MatchMiner (TRUE_TRANSCRIPT_EXON, exact) a row without that
    # exon does not satisfy it, and a leaf without exon accepts any.
    def sv(g1: str, x1: int | None, g2: str, x2: int | None) -> Alteration:
        return Alteration(g1, "sv", exon=x1, fusion_partner=g2, partner_exon=x2)

    pts = [
        Patient("v1", report=report(sv("EML4", 13, "ALK", 20))),
        Patient("v3", report=report(sv("EML4", 6, "ALK", 20))),
        Patient("alk-first", report=report(sv("ALK", 20, "EML4", 13))),
        Patient("no-exon", report=report(sv("EML4", None, "ALK", None))),
        Patient("ret", report=report(sv("KIF5B", 15, "RET", 12))),
    ]
    alk20 = {"genomic": {"gene": "ALK", "category": "sv", "exon": 20}}
    assert matched(alk20, pts, oncotree) == {"v1", "v3", "alk-first"}
    eml4_13 = {"genomic": {"gene": "EML4", "category": "sv", "fusion_partner": "ALK", "exon": 13}}
    assert matched(eml4_13, pts, oncotree) == {"v1", "alk-first"}
    # the partner's exon is not the named gene's: ALK exon 13 matches no EML4 exon-13 fusion
    alk13 = {"genomic": {"gene": "ALK", "category": "sv", "exon": 13}}
    assert matched(alk13, pts, oncotree) == set()
    anyalk = {"genomic": {"gene": "ALK", "category": "sv"}}
    assert matched(anyalk, pts, oncotree) == {"v1", "v3", "alk-first", "no-exon"}
    # an exclusion: "no EML4-ALK variant 3" keeps variant 1, the untyped fusion and the RET one
    not_v3 = {"not": {"genomic": {"gene": "EML4", "fusion_partner": "ALK", "exon": 6}}}
    assert matched(not_v3, pts, oncotree) == {"v1", "alk-first", "no-exon", "ret"}
    assert sv("EML4", 13, "ALK", 20).label() == "EML4 (exon 13)-ALK (exon 20) fusion"


def test_partner_exon_is_validated(oncotree: OncoTreeMap) -> None:
    from oncotrials.core.errors import ValidationError

    with pytest.raises(ValidationError, match="partner_exon"):
        Alteration("EML4", "sv", fusion_partner="ALK", partner_exon=0)
    with pytest.raises(ValidationError, match="structural variants only"):
        Alteration("KIT", "mutation", partner_exon=11)
    with pytest.raises(ValidationError, match="exon must be a whole number"):
        Alteration("KIT", "mutation", exon=999)
