"""Random CTML match trees: import + compiled engine == a direct reading of MatchMiner's rules.

The direct evaluator below restates, per patient and per row, how the DFCI engine reads a CTML
leaf (shared/reference/matching.md §1.2): keys of a leaf hold on one document (a structural
variant document names both partner genes, and either may be the ``hugo_symbol``); in a genomic
leaf any ``!`` turns the leaf into "no row matches the positive leaf"; in a clinical leaf each
``!`` negates its own key. Patients here always have a genomic report (as every MatchMiner
sample does), so two-valued and three-valued logic agree.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from matching_strategies import SMALL_TREE, alterations

from oncotrials.core.matching import (
    Alteration,
    GenomicReport,
    Matcher,
    Patient,
    trial_from_ctml,
)
from oncotrials.core.matching.oncotree import ancestors, is_liquid
from oncotrials.core.matching.records import wildcard_key

CATEGORY = {
    "Mutation": {"mutation"},
    "Copy Number Variation": {"cnv"},
    "Structural Variation": {"sv"},
    "Any Variation": {"mutation", "cnv"},
}
CNV = {"High Amplification": "amplification", "Low Amplification": "gain"}
NAMES = {"Lung": "LUNG", "Non-Small Cell Lung Cancer": "NSCLC", "Breast": "BREAST"}


def neg(value: str, negate: bool) -> str:
    return "!" + value if negate else value


genomic_keys = st.fixed_dictionaries(
    {"hugo_symbol": st.sampled_from(["KRAS", "EGFR", "ALK"])},
    optional={
        "variant_category": st.sampled_from(sorted(CATEGORY)),
        "protein_change": st.sampled_from(["p.G12C", "p.G12D", "p.T790M"]),
        "wildcard_protein_change": st.sampled_from(["p.G12", "G12", "p.T790"]),
        "cnv_call": st.sampled_from(sorted(CNV)),
        "exon": st.sampled_from([13, 19]),
    },
)


@st.composite
def genomic_leaf(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(genomic_keys)
    flip = draw(st.sampled_from([None, *sorted(k for k in keys if k != "exon")]))
    return {"genomic": {k: neg(v, k == flip) if isinstance(v, str) else v for k, v in keys.items()}}


@st.composite
def clinical_leaf(draw: st.DrawFn) -> dict[str, Any]:
    leaf: dict[str, Any] = {}
    if draw(st.booleans()):
        leaf["oncotree_primary_diagnosis"] = neg(
            draw(st.sampled_from([*sorted(NAMES), "_SOLID_", "_LIQUID_"])), draw(st.booleans())
        )
    if draw(st.booleans()) or not leaf:
        leaf["age_numerical"] = draw(st.sampled_from([">=18", ">18", "<18", "<=18"]))
    if draw(st.booleans()):
        leaf["gender"] = neg(draw(st.sampled_from(["Male", "Female"])), draw(st.booleans()))
    return {"clinical": leaf}


ctml_trees = st.recursive(
    st.one_of(genomic_leaf(), clinical_leaf()),
    lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=3).map(lambda c: {"and": c}),
        st.lists(kids, min_size=1, max_size=3).map(lambda c: {"or": c}),
    ),
    max_leaves=6,
)


def row_ok(keys: dict[str, Any], a: Alteration) -> bool:
    # a structural variant names both partner genes (DFCI: left or right partner)
    genes = {a.gene, a.fusion_partner} if a.category == "sv" else {a.gene}
    for key, value in keys.items():
        if key == "hugo_symbol" and value not in genes:
            return False
        if key == "variant_category" and a.category not in CATEGORY[value]:
            return False
        if key == "protein_change" and a.protein_change != value:
            return False
        if key == "wildcard_protein_change":
            code = value if value.startswith("p.") else "p." + value
            if wildcard_key(a.protein_change) != code.upper():
                return False
        if key == "cnv_call" and a.cn_call != CNV[value]:
            return False
        if key == "exon" and a.exon != value:
            return False
    return True


def age_ok(rule: str, age: float) -> bool:
    op, number = rule[:-2], float(rule[-2:])
    return {">=": age >= number, ">": age > number, "<": age < number, "<=": age <= number}[op]


def direct(node: dict[str, Any], p: Patient) -> bool:
    ((kind, body),) = node.items()
    if kind == "and":
        return all(direct(c, p) for c in body)
    if kind == "or":
        return any(direct(c, p) for c in body)
    if kind == "genomic":
        negated = any(isinstance(v, str) and v.startswith("!") for v in body.values())
        positive = {k: v.lstrip("!") if isinstance(v, str) else v for k, v in body.items()}
        assert p.report is not None
        # MatchMiner is fed the somatic calls of tumour sequencing: a germline row is never
        # seen by a CTML leaf, negated or not (docs/formats/criteria.md, "origin").
        somatic = [a for a in p.report.alterations if a.origin != "germline"]
        found = any(row_ok(positive, a) for a in somatic)
        return not found if negated else found
    ok = True
    for key, raw in body.items():
        value, negated = raw.lstrip("!"), raw.startswith("!")
        if key == "age_numerical":
            hit = p.age is not None and age_ok(value, p.age)
        elif key == "gender":
            hit = p.sex == value.lower()
        elif value == "_SOLID_":
            hit = p.diagnosis is not None and not is_liquid(SMALL_TREE, p.diagnosis)
            hit = hit and SMALL_TREE.parent(p.diagnosis) is not None
        elif value == "_LIQUID_":
            hit = p.diagnosis is not None and is_liquid(SMALL_TREE, p.diagnosis)
        else:
            hit = p.diagnosis is not None and NAMES[value] in ancestors(SMALL_TREE, p.diagnosis)
        ok = ok and (hit != negated)
    return ok


@st.composite
def reported_patients(draw: st.DrawFn, pid: str) -> Patient:
    return Patient(
        pid,
        diagnosis=draw(st.sampled_from(["LUAD", "LUSC", "NSCLC", "LUNG", "IDC", "BRCA", "AML"])),
        age=draw(st.sampled_from([17.0, 18.0, 18.5, 60.0])),
        sex=draw(st.sampled_from(["female", "male"])),
        report=GenomicReport(tuple(draw(st.lists(alterations(), max_size=4)))),
    )


@settings(max_examples=80, deadline=None)
@given(
    tree=ctml_trees,
    pts=st.integers(1, 8).flatmap(
        lambda n: st.tuples(*[reported_patients(f"P{i}") for i in range(n)]).map(list)
    ),
)
def test_ctml_import_equals_direct_matchminer_reading(
    tree: dict[str, Any], pts: list[Patient]
) -> None:
    doc = {
        "protocol_no": "X",
        "_summary": {"status": [{"value": "open to accrual"}]},
        "treatment_list": {"step": [{"arm": [{"arm_code": "A", "match": [tree]}]}]},
    }
    trial = trial_from_ctml(doc, source="random.yaml", oncotree=SMALL_TREE)
    got = set(Matcher([trial], pts, SMALL_TREE).match_sets()[("X", "A")])
    assert got == {p.id for p in pts if direct(tree, p)}
