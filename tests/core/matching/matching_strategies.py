"""Shared test data: a small OncoTree and hypothesis strategies for patients and criteria."""

from __future__ import annotations

from hypothesis import strategies as st

from oncotrials.core.matching import (
    Alteration,
    And,
    Category,
    Genomic,
    GenomicReport,
    Node,
    Not,
    Numeric,
    OncoTreeMap,
    Or,
    Patient,
    Range,
)
from oncotrials.core.matching.records import CN_CALLS

# A miniature OncoTree with the shape of the real one (root, tissues, main types, subtypes).
SMALL_TREE = OncoTreeMap(
    {
        "TISSUE": None,
        "LUNG": "TISSUE",
        "NSCLC": "LUNG",
        "LUAD": "NSCLC",
        "LUSC": "NSCLC",
        "BREAST": "TISSUE",
        "BRCA": "BREAST",
        "IDC": "BRCA",
        "LYMPH": "TISSUE",
        "CLLSLL": "LYMPH",
        "MYELOID": "TISSUE",
        "AML": "MYELOID",
    },
    {
        "LUNG": "Lung",
        "NSCLC": "Non-Small Cell Lung Cancer",
        "LUAD": "Lung Adenocarcinoma",
        "BREAST": "Breast",
        "BRCA": "Invasive Breast Carcinoma",
        "LYMPH": "Lymphoid",
    },
)
CODES = [
    "TISSUE",
    "LUNG",
    "NSCLC",
    "LUAD",
    "LUSC",
    "BREAST",
    "BRCA",
    "IDC",
    "LYMPH",
    "CLLSLL",
    "MYELOID",
    "AML",
]
GENES = ["KRAS", "EGFR", "ALK", "EML4", "TP53"]
PROTEINS = ["p.G12C", "p.G12D", "p.G12*", "p.G12fs", "p.V600E", "p.T790M", "p.g12c", "p.G120C"]
CLASSES = ["oncogenic", "likely_oncogenic", "escat:ia"]
LABS = ["creatinine_clearance", "neutrophils"]
THERAPIES = ["osimertinib", "carboplatin"]
SIGNATURES = ["apobec", "pole"]

ages = st.sampled_from([None, 0.5, 17.0, 17.99, 18.0, 18.01, 40.0, 75.0])


@st.composite
def alterations(draw: st.DrawFn) -> Alteration:
    category = draw(st.sampled_from(["mutation", "cnv", "sv"]))
    return Alteration(
        gene=draw(st.sampled_from(GENES)),
        category=category,
        protein_change=draw(st.sampled_from([None, *PROTEINS])) if category == "mutation" else None,
        exon=draw(st.sampled_from([None, 13, 19, 20])),
        cn_call=draw(st.sampled_from([None, *CN_CALLS])) if category == "cnv" else None,
        fusion_partner=(
            draw(st.sampled_from([None, "intergenic", *GENES])) if category == "sv" else None
        ),
        variant_classification=draw(st.sampled_from([None, "Missense_Mutation", "Nonsense"])),
        classes=frozenset(draw(st.sets(st.sampled_from(CLASSES), max_size=2))),
        origin=draw(st.sampled_from(["unknown", "somatic", "germline"])),
        # the partner's exon at a fusion breakpoint: read when the criterion names the partner
        partner_exon=draw(st.sampled_from([None, 13, 20])) if category == "sv" else None,
    )


@st.composite
def reports(draw: st.DrawFn) -> GenomicReport:
    return GenomicReport(
        alterations=tuple(draw(st.lists(alterations(), max_size=5))),
        tmb=draw(st.sampled_from([None, 0.0, 9.99, 10.0, 25.0])),
        msi=draw(st.sampled_from([None, "high", "stable"])),
        signatures=frozenset(draw(st.sets(st.sampled_from(SIGNATURES), max_size=2))),
    )


@st.composite
def patients(draw: st.DrawFn, pid: str) -> Patient:
    therapies = draw(st.one_of(st.none(), st.sets(st.sampled_from(THERAPIES), max_size=2)))
    return Patient(
        id=pid,
        diagnosis=draw(st.sampled_from([None, *CODES])),
        age=draw(ages),
        sex=draw(st.sampled_from([None, "female", "male"])),
        ecog=draw(st.sampled_from([None, 0, 1, 2, 3])),
        prior_lines=draw(st.sampled_from([None, 0, 1, 2, 4])),
        prior_therapies=None if therapies is None else frozenset(therapies),
        labs=draw(st.dictionaries(st.sampled_from(LABS), st.sampled_from([30.0, 60.0, 90.0]))),
        deceased=draw(st.booleans()),
        report=draw(st.one_of(st.none(), reports())),
    )


def patient_lists(max_size: int = 12) -> st.SearchStrategy[list[Patient]]:
    return st.integers(0, max_size).flatmap(
        lambda n: st.tuples(*[patients(f"P{i}") for i in range(n)]).map(list)
    )


ranges = st.builds(
    Range,
    gt=st.sampled_from([None, 18.0, 1.0]),
    gte=st.sampled_from([None, 18.0, 10.0, 60.0]),
    lt=st.sampled_from([None, 75.0, 2.0]),
    lte=st.sampled_from([None, 1.0, 18.0]),
).filter(lambda r: bool(r.to_dict()))


GENOMIC_VALUES = {
    "gene": [*GENES, "BRAF"],
    "protein_change": PROTEINS[:4],
    "wildcard_protein_change": ["P.G12", "P.V600", "P.G1"],
    "exon": [19, 13],
    "cn_call": list(CN_CALLS),
    "fusion_partner": ["any_gene", "intergenic", "ALK", "EML4"],
    "kb_class": [*CLASSES, "truncating"],
    "variant_classification": ["Missense_Mutation"],
}


@st.composite
def genomic_leaves(draw: st.DrawFn) -> Genomic:
    """Leaves with few constraints (like real criteria), so that they often match."""
    count = draw(st.integers(0, 3))
    keys = draw(st.permutations(sorted(GENOMIC_VALUES)))[:count]
    fields = {k: draw(st.sampled_from(GENOMIC_VALUES[k])) for k in keys}
    cats = draw(
        st.one_of(
            st.just({"mutation", "cnv", "sv"}),
            st.sets(st.sampled_from(["mutation", "cnv", "sv"]), min_size=1),
        )
    )
    origins = draw(
        st.one_of(
            st.just(frozenset({"somatic", "unknown"})),  # the default, most criteria
            st.sets(st.sampled_from(["somatic", "unknown", "germline"]), min_size=1),
        )
    )
    return Genomic(categories=frozenset(cats), origins=frozenset(origins), **fields)


leaves: st.SearchStrategy[Node] = st.one_of(
    genomic_leaves(),
    genomic_leaves(),
    genomic_leaves(),
    st.builds(Numeric, st.sampled_from(["age", "ecog", "prior_lines", "tmb"]), ranges),
    st.builds(
        lambda lab, r: Numeric("lab", r, lab=lab), st.sampled_from([*LABS, "bilirubin"]), ranges
    ),
    st.builds(Category, st.just("diagnosis"), st.sampled_from([*CODES, "_SOLID_", "_LIQUID_"])),
    st.builds(Category, st.just("sex"), st.sampled_from(["female", "male"])),
    st.builds(Category, st.just("msi"), st.sampled_from(["high", "stable"])),
    st.builds(Category, st.just("signature"), st.sampled_from([*SIGNATURES, "uva"])),
    st.builds(Category, st.just("prior_therapy"), st.sampled_from(THERAPIES)),
)

trees: st.SearchStrategy[Node] = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.lists(kids, min_size=1, max_size=4).map(lambda c: And(tuple(c))),
        st.lists(kids, min_size=1, max_size=4).map(lambda c: Or(tuple(c))),
        kids.map(Not),
    ),
    max_leaves=12,
)
