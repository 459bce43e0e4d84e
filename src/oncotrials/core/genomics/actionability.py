"""Actionability: ESCAT tiers from a shipped, cited table, plus MOAlmanac and CIViC evidence.

A knowledge-base entry says: in tumour type T (an OncoTree code, ``SOLID`` for any solid tumour,
``ANY`` for any tumour), alteration A of gene G has tier or level L for drugs D, with a citation.
Alteration rules understood:

- a protein change (``p.V600E``); ``X`` as the last residue means any substitution at that
  codon (``p.G719X``); several changes separated by ``;`` (a hotspot list);
- ``mutation`` (any protein-altering mutation), ``amplification``, ``deletion`` (deep),
  ``fusion`` (the gene in either partner; ``fusion:EML4::ALK`` for one pair);
- ``exon19_deletion`` (EGFR in-frame deletion starting in codons 729-761),
  ``exon20_insertion`` (EGFR in-frame insertion/duplication in codons 762-823),
  ``exon14_skipping`` (MET splice-site change or in-frame deletion in codons 963-1010);
- ``MSI-H`` and ``TMB-H`` (biomarkers; ``TMB-H`` is >= 10 mut/Mb when only a value is given).

Annotation is tumour-type aware through OncoTree ancestry: an entry for NSCLC applies to LUAD.
An alteration with tier I or II only in other tumour types is reported as III-A, following the
ESCAT definition.

References
----------
Mateo J, et al. A framework to rank genomic alterations as targets for cancer precision medicine:
the ESMO Scale for Clinical Actionability of molecular Targets (ESCAT). Ann Oncol
2018;29(9):1895-1902.
Mosele F, et al. Ann Oncol 2020;31(11):1491-1505; Mosele MF, et al. Ann Oncol 2024;35(7):588-606;
Condorelli R, et al. Ann Oncol 2019;30(3):365-373.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from oncotrials.core.errors import ValidationError
from oncotrials.core.genomics.genes import normalise_gene
from oncotrials.core.genomics.issues import IssueLog
from oncotrials.core.genomics.model import (
    Alteration,
    Biomarker,
    BiomarkerKind,
    CnaCall,
    CopyNumber,
    Mutation,
    StructuralVariant,
    VariantClass,
)
from oncotrials.core.genomics.oncotree import OncoTree, load_oncotree
from oncotrials.core.genomics.protein import (
    ProteinChangeKind,
    normalise_protein_change,
    parse_protein_change,
)

__all__ = [
    "ESCAT_TIERS",
    "Annotation",
    "Evidence",
    "KbEntry",
    "annotate",
    "annotate_all",
    "escat_table",
    "exon_event",
    "load_civic",
    "load_moalmanac",
    "matches",
    "summarise",
    "vendor_exon_event",
]

ESCAT_TIERS = ("I-A", "I-B", "I-C", "II-A", "II-B", "III-A", "III-B", "IV-A", "IV-B", "V", "X")
SOLID = "SOLID"
ANY = "ANY"


@dataclass(frozen=True, slots=True)
class KbEntry:
    """One knowledge-base assertion."""

    source: str  # "ESCAT", "MOAlmanac", "CIViC"
    tumour: str | None  # OncoTree code, SOLID, ANY, or None when the disease could not be mapped
    gene: str  # "" for genome-wide biomarkers
    alteration: str  # a rule, see the module docstring; "" when not supported
    level: str  # ESCAT tier, MOAlmanac predictive implication, CIViC evidence level
    drugs: tuple[str, ...]
    citation: str
    resistance: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class Evidence:
    entry: KbEntry
    tumour_match: str  # "same" (the tumour or an ancestor), "other" (another tumour type)


@dataclass(frozen=True, slots=True)
class Annotation:
    alteration: Alteration
    tier: str | None  # best ESCAT tier for this tumour, or III-A from other tumours, or None
    evidence: tuple[Evidence, ...]

    @property
    def drugs(self) -> tuple[str, ...]:
        out: dict[str, None] = {}
        for ev in self.evidence:
            if ev.tumour_match == "same" and not ev.entry.resistance:
                out.update(dict.fromkeys(ev.entry.drugs))
        return tuple(out)


@lru_cache(maxsize=1)
def escat_table() -> tuple[KbEntry, ...]:
    """The shipped ESCAT table (``data/escat.csv``), one citation per row."""
    ref = resources.files("oncotrials.core.genomics").joinpath("data/escat.csv")
    with ref.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        if r["tier"] not in ESCAT_TIERS:
            raise ValidationError(f"escat.csv: tier {r['tier']!r} is not an ESCAT tier.")
        out.append(
            KbEntry(
                source="ESCAT",
                tumour=r["tumour"],
                gene=r["gene"],
                alteration=r["alteration"],
                level=r["tier"],
                drugs=tuple(d for d in r["drugs"].split(";") if d),
                citation=r["citation"],
                note=r["note"],
            )
        )
    return tuple(out)


# ------------------------------------------------------------------------------ rule matching
_CODON_ANY = re.compile(r"^p\.([A-Z*])(\d+)X$")
_EXONS: dict[str, tuple[str, int, int, frozenset[ProteinChangeKind]]] = {
    "exon19_deletion": (
        "EGFR",
        729,
        761,
        frozenset({ProteinChangeKind.DELETION, ProteinChangeKind.DELINS}),
    ),
    "exon20_insertion": (
        "EGFR",
        762,
        823,
        frozenset(
            {ProteinChangeKind.INSERTION, ProteinChangeKind.DUPLICATION, ProteinChangeKind.DELINS}
        ),
    ),
    "exon14_skipping": (
        "MET",
        963,
        1010,
        frozenset({ProteinChangeKind.DELETION, ProteinChangeKind.DELINS, ProteinChangeKind.SPLICE}),
    ),
}


_VENDOR_EXON = (
    (re.compile(r"exon\s*19\s*(in[- ]?frame\s*)?del", re.IGNORECASE), "exon19_deletion"),
    (re.compile(r"exon\s*20\s*(in[- ]?frame\s*)?(ins|dup)", re.IGNORECASE), "exon20_insertion"),
    (re.compile(r"exon\s*14\s*skip", re.IGNORECASE), "exon14_skipping"),
)


def vendor_exon_event(text: str | None) -> str | None:
    """Exon-level rule named by a vendor's wording ("exon 19 deletion", "MET exon 14 skipping")."""
    if not text:
        return None
    for pattern, rule in _VENDOR_EXON:
        if pattern.search(text):
            return rule
    return None


def _exon_rule(rule: str, m: Mutation) -> bool:
    gene, lo, hi, kinds = _EXONS[rule]
    if m.gene != gene:
        return False
    if vendor_exon_event(m.protein_change_raw) == rule:
        return True
    if rule == "exon14_skipping" and m.variant_class in {VariantClass.SPLICE_SITE}:
        parsed = parse_protein_change(m.protein_change or "")
        return parsed is None or parsed.position is None or lo <= parsed.position <= hi
    parsed = parse_protein_change(m.protein_change or "")
    return (
        parsed is not None
        and parsed.kind in kinds
        and parsed.position is not None
        and lo <= parsed.position <= hi
    )


def exon_event(m: Mutation) -> str | None:
    """The exon-level event a mutation is (``exon19_deletion`` for EGFR p.E746_A750del or a
    vendor's "exon 19 deletion"), or None: one name for every spelling of the same driver."""
    if not m.variant_class.is_protein_altering:
        return None
    return next((rule for rule in _EXONS if _exon_rule(rule, m)), None)


def _protein_rule(rule: str, m: Mutation) -> bool:
    if m.protein_change is None:
        return False
    for part in rule.split(";"):
        part = part.strip()
        any_codon = _CODON_ANY.match(part)
        if any_codon:
            parsed = parse_protein_change(m.protein_change)
            if (
                parsed is not None
                and parsed.kind is ProteinChangeKind.MISSENSE
                and parsed.ref == any_codon[1]
                and parsed.position == int(any_codon[2])
            ):
                return True
        elif normalise_protein_change(part) == m.protein_change:
            return True
    return False


def matches(entry: KbEntry, alteration: Alteration) -> bool:
    """True when ``alteration`` is what ``entry`` describes (tumour type not considered)."""
    rule = entry.alteration
    if not rule:
        return False
    if isinstance(alteration, Biomarker):
        if rule == "MSI-H":
            return alteration.kind is BiomarkerKind.MSI and (alteration.status or "").upper() in {
                "MSI-H",
                "MSI-HIGH",
                "DMMR",
            }
        if rule == "TMB-H":
            if alteration.kind is not BiomarkerKind.TMB:
                return False
            if alteration.status:
                return alteration.status.upper() in {"TMB-H", "HIGH", "TMB-HIGH"}
            return alteration.value is not None and alteration.value >= 10.0
        return False
    if isinstance(alteration, StructuralVariant):
        if not rule.startswith("fusion"):
            return False
        if ":" in rule and "::" in rule:
            pair = rule.split(":", 1)[1]
            return f"{alteration.gene1}::{alteration.gene2}" == pair
        return entry.gene in alteration.genes
    if isinstance(alteration, CopyNumber):
        if alteration.gene != entry.gene:
            return False
        if rule == "amplification":
            return alteration.call is CnaCall.AMPLIFICATION
        if rule == "deletion":
            return alteration.call is CnaCall.DEEP_DELETION
        return False
    # Mutation
    if alteration.gene != entry.gene or not alteration.variant_class.is_protein_altering:
        return False
    if alteration.variant_class in {VariantClass.FUSION, VariantClass.UNKNOWN}:
        return False
    if rule == "mutation":
        return True
    if rule in _EXONS:
        return _exon_rule(rule, alteration)
    if rule.startswith("p."):
        return _protein_rule(rule, alteration)
    return False


def _tier_rank(tier: str) -> int:
    return ESCAT_TIERS.index(tier) if tier in ESCAT_TIERS else len(ESCAT_TIERS)


def _applies(entry: KbEntry, tumour: str, tree: OncoTree) -> bool:
    if entry.tumour is None:
        return False
    if entry.tumour == ANY:
        return True
    if entry.tumour == SOLID:
        return tree.is_solid(tumour)
    if entry.tumour not in tree:
        return False
    return tree.is_a(tumour, entry.tumour)


def annotate(
    alteration: Alteration,
    tumour: str,
    *,
    knowledge: Sequence[KbEntry] | None = None,
    oncotree: OncoTree | None = None,
) -> Annotation:
    """Tier and evidence for ``alteration`` in a tumour of OncoTree type ``tumour``.

    ``knowledge`` defaults to the shipped ESCAT table; pass ``escat_table() + load_moalmanac(...)``
    to add other sources (only ESCAT entries set the tier).
    """
    tree = oncotree or load_oncotree()
    code = tree.validate(tumour)
    entries = escat_table() if knowledge is None else knowledge
    evidence: list[Evidence] = []
    best: str | None = None
    other_tier_ok = False
    for e in entries:
        if not matches(e, alteration):
            continue
        same = _applies(e, code, tree)
        evidence.append(Evidence(e, "same" if same else "other"))
        if e.source != "ESCAT":
            continue
        if same:
            if best is None or _tier_rank(e.level) < _tier_rank(best):
                best = e.level
        elif e.level.startswith(("I-", "II-")):
            other_tier_ok = True
    if best is None and other_tier_ok:
        best = "III-A"
    evidence.sort(
        key=lambda ev: (
            ev.tumour_match != "same",
            ev.entry.source != "ESCAT",
            _tier_rank(ev.entry.level),
        )
    )
    return Annotation(alteration, best, tuple(evidence))


def annotate_all(
    alterations: Iterable[Alteration],
    tumour: str,
    *,
    knowledge: Sequence[KbEntry] | None = None,
    oncotree: OncoTree | None = None,
) -> tuple[Annotation, ...]:
    """Annotate every alteration, most actionable first (tier order, then unannotated)."""
    out = [annotate(a, tumour, knowledge=knowledge, oncotree=oncotree) for a in alterations]
    out.sort(
        key=lambda a: _tier_rank(a.tier) if a.tier else len(ESCAT_TIERS) + (0 if a.evidence else 1)
    )
    return tuple(out)


# ------------------------------------------------------------------------------ MOAlmanac
def load_moalmanac(path: str | Path, *, include_deprecated: bool = False) -> tuple[KbEntry, ...]:
    """Import the Molecular Oncology Almanac flat JSON export (``molecular-oncology-almanac.json``).

    Somatic variants become protein rules (or ``mutation`` when no protein change is given), copy
    number ``amplification``/``deletion``, rearrangements ``fusion`` of gene1 (``fusion:G1::G2``
    when both partners are named), MSI ``MSI-H``, mutational burden ``TMB-H``. Other features
    (signatures, knockdowns, aneuploidy, germline variants) are imported with an empty rule and
    never match. "Any solid tumor" maps to ``SOLID``.

    References
    ----------
    Reardon B, et al. Integrating molecular profiles into clinical frameworks through the
    Molecular Oncology Almanac. Nat Cancer 2021;2:1102-1112.
    """
    p = Path(path)
    log = IssueLog.for_path(p)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise log.fatal(
            exc.lineno,
            None,
            "not valid JSON (%(msg)s).",
            code="genomic_not_valid_json",
            msg=exc.msg,
        ) from None
    if not isinstance(data, list):
        raise log.fatal(
            1,
            None,
            "expected a JSON list of assertions (the flat MOAlmanac export).",
            code="genomic_expected_json_list_assertions_flat",
        )
    out: list[KbEntry] = []
    for i, a in enumerate(data):
        if not isinstance(a, dict) or "feature_type" not in a:
            log.error(
                None,
                f"[{i}]",
                "an assertion must be an object with feature_type.",
                code="genomic_assertion_object_with_feature_type",
            )
            continue
        if a.get("_deprecated") and not include_deprecated:
            continue
        out.append(_moa_entry(a))
    log.raise_if_errors()
    return tuple(out)


def _moa_entry(a: dict[str, Any]) -> KbEntry:
    ft = a["feature_type"]
    gene = normalise_gene(str(a.get("gene") or a.get("gene1") or ""))
    rule = ""
    if ft == "Somatic Variant":
        protein = str(a.get("protein_change") or "")
        rule = normalise_protein_change(protein) or ("mutation" if gene else "")
    elif ft == "Copy Number":
        rule = {"Amplification": "amplification", "Deletion": "deletion"}.get(
            str(a.get("direction")), ""
        )
    elif ft == "Rearrangement":
        g2 = normalise_gene(str(a.get("gene2") or ""))
        rule = f"fusion:{gene}::{g2}" if gene and g2 else "fusion"
        gene = gene or g2
    elif ft == "Microsatellite Stability":
        rule = "MSI-H" if "high" in str(a.get("status", "")).lower() else ""
    elif ft == "Mutational Burden":
        rule = "TMB-H" if str(a.get("classification", "")).lower() == "high" else ""
    code = str(a.get("oncotree_code") or "")
    term = str(a.get("oncotree_term") or "").lower()
    tumour: str | None = code or None
    if not code and term == "any solid tumor":
        tumour = SOLID
    elif not code and term in {"any cancer type", "any tumor"}:
        tumour = ANY
    cite = str(a.get("citation") or "")
    for key in ("doi", "pmid"):
        if a.get(key):
            cite += f" {key}:{a[key]}"
    return KbEntry(
        source="MOAlmanac",
        tumour=tumour,
        gene=gene,
        alteration=rule,
        level=str(a.get("predictive_implication") or ""),
        drugs=tuple(d.strip() for d in str(a.get("therapy_name") or "").split("+") if d.strip()),
        citation=cite.strip(),
        resistance=bool(a.get("therapy_resistance") == 1),
        note=ft,
    )


# ------------------------------------------------------------------------------ CIViC
CIVIC_REQUIRED = (
    "molecular_profile",
    "disease",
    "therapies",
    "evidence_type",
    "evidence_direction",
    "evidence_level",
    "significance",
    "citation",
    "evidence_status",
)
# CIViC disease names (Disease Ontology) -> OncoTree, for names OncoTree spells differently.
_CIVIC_DISEASES = {
    "lung non-small cell carcinoma": "NSCLC",
    "lung adenocarcinoma": "LUAD",
    "lung squamous cell carcinoma": "LUSC",
    "melanoma": "MEL",
    "skin melanoma": "SKCM",
    "colorectal cancer": "COADREAD",
    "breast cancer": "BRCA",
    "prostate cancer": "PRAD",
    "ovarian cancer": "OVARY",
    "chronic myeloid leukemia": "CML",
    "acute myeloid leukemia": "AML",
    "gastrointestinal stromal tumor": "GIST",
    "cholangiocarcinoma": "CHOL",
    "pancreatic cancer": "PAAD",
    "thyroid cancer": "THYROID",
    "cancer": ANY,
    "solid tumor": SOLID,
}


def _civic_rule(profile: str) -> tuple[str, str]:
    parts = profile.strip().split(None, 1)
    if not parts:
        return "", ""
    if "::" in parts[0]:
        g1, g2 = parts[0].split("::", 1)
        return normalise_gene(g1), f"fusion:{normalise_gene(g1)}::{normalise_gene(g2)}"
    gene = normalise_gene(parts[0])
    rest = parts[1].strip() if len(parts) > 1 else ""
    low = rest.lower()
    simple = {
        "amplification": "amplification",
        "deletion": "deletion",
        "loss": "deletion",
        "fusion": "fusion",
        "mutation": "mutation",
        "exon 19 deletion": "exon19_deletion",
        "exon 20 insertion": "exon20_insertion",
        "exon 14 skipping mutation": "exon14_skipping",
    }
    if low in simple:
        return gene, simple[low]
    return gene, normalise_protein_change(rest) or ""


def load_civic(path: str | Path, *, oncotree: OncoTree | None = None) -> tuple[KbEntry, ...]:
    """Import a CIViC ClinicalEvidenceSummaries TSV (nightly or monthly release).

    Only accepted, predictive evidence is kept; ``Supports`` + ``Resistance`` marks resistance.
    Diseases are mapped to OncoTree by name (and a small table of CIViC spellings); unmapped
    diseases give ``tumour=None`` and never match a tumour type.
    """
    from oncotrials.core.genomics._tabular import load_table

    p = Path(path)
    log = IssueLog.for_path(p)
    t = load_table(p, log, kind="CIViC evidence file")
    missing = [c for c in CIVIC_REQUIRED if c not in t.header]
    if missing:
        raise log.fatal(
            t.header_line,
            missing[0],
            "CIViC columns missing: %(missing)s.",
            code="genomic_civic_columns_missing",
            missing=", ".join(missing),
        )
    tree = oncotree or load_oncotree()
    out: list[KbEntry] = []
    for r, rec in enumerate(t.frame.iter_rows(named=True)):
        if (rec["evidence_status"] or "").lower() not in {"accepted", ""}:
            continue
        if (rec["evidence_type"] or "").lower() != "predictive":
            continue
        profile = rec["molecular_profile"]
        if not profile:
            log.error(
                t.line_of(r),
                "molecular_profile",
                "the molecular profile is empty.",
                code="genomic_molecular_profile_empty",
            )
            continue
        gene, rule = _civic_rule(profile)
        disease = (rec["disease"] or "").strip()
        tumour = _CIVIC_DISEASES.get(disease.lower()) or tree.find_by_name(disease)
        significance = (rec["significance"] or "").lower()
        supports = (rec["evidence_direction"] or "").lower() == "supports"
        out.append(
            KbEntry(
                source="CIViC",
                tumour=tumour,
                gene=gene,
                alteration=rule,
                level=rec["evidence_level"] or "",
                drugs=tuple(d.strip() for d in (rec["therapies"] or "").split(",") if d.strip()),
                citation=rec["citation"] or "",
                resistance=supports and "resistance" in significance,
                note=profile,
            )
        )
    log.raise_if_errors()
    return tuple(out)


def summarise(entries: Iterable[KbEntry]) -> dict[str, int]:
    """Counts per source and rule kind, for import reports."""
    c: Counter[str] = Counter()
    for e in entries:
        c[e.source] += 1
        c[f"{e.source}:{'supported' if e.alteration else 'unsupported'}"] += 1
    return dict(c)
