"""Direct (per-patient) evaluation of a criteria tree, and explanations built from it.

This is the specification the compiled engine is tested against: a plain recursive walk in
three-valued logic, with no index. It also produces the criterion-by-criterion explanation of
a match or a non-match, naming the alteration rows that satisfied each genomic criterion.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from oncotrials.core.matching.criteria import (
    And,
    Category,
    Genomic,
    Node,
    Not,
    Numeric,
    Or,
    Truth,
    describe,
)
from oncotrials.core.matching.oncotree import OncoTreeLike, diagnosis_label, in_diagnosis
from oncotrials.core.matching.records import (
    ANY_GENE,
    INTERGENIC,
    Alteration,
    Patient,
    wildcard_key,
)


def oriented(alteration: Alteration) -> Iterator[tuple[str, str | None, int | None]]:
    """(gene, partner, exon of that gene) views of a row: both orientations of a gene-gene
    fusion, each with the exon of the gene it puts first."""
    yield alteration.gene, alteration.fusion_partner, alteration.exon
    if alteration.category == "sv" and alteration.fusion_partner not in (None, INTERGENIC):
        assert alteration.fusion_partner is not None
        if alteration.fusion_partner != alteration.gene:
            yield alteration.fusion_partner, alteration.gene, alteration.partner_exon


def row_matches(leaf: Genomic, alteration: Alteration) -> bool:
    """Whether one alteration row satisfies every field of a genomic criterion."""
    if alteration.category not in leaf.categories or alteration.origin not in leaf.origins:
        return False
    if leaf.protein_change is not None and alteration.protein_change != leaf.protein_change:
        return False
    if (
        leaf.wildcard_protein_change is not None
        and wildcard_key(alteration.protein_change) != leaf.wildcard_protein_change
    ):
        return False
    if leaf.cn_call is not None and alteration.cn_call != leaf.cn_call:
        return False
    if leaf.kb_class is not None and leaf.kb_class not in alteration.classes:
        return False
    if (
        leaf.variant_classification is not None
        and alteration.variant_classification != leaf.variant_classification
    ):
        return False
    for gene, partner, exon in oriented(alteration):
        if leaf.gene is not None and gene != leaf.gene:
            continue
        if leaf.exon is not None and exon != leaf.exon:
            continue
        if leaf.fusion_partner is not None:
            if leaf.fusion_partner == ANY_GENE:
                if partner in (None, INTERGENIC):
                    continue
            elif partner != leaf.fusion_partner:
                continue
        return True
    return False


@dataclass(frozen=True, slots=True)
class Explanation:
    """The value of one criterion for one patient, why, and the same for its sub-criteria."""

    criterion: str
    truth: Truth
    reason: str
    evidence: tuple[str, ...] = ()
    children: tuple[Explanation, ...] = ()

    def lines(self, indent: int = 0) -> list[str]:
        mark = {Truth.TRUE: "[yes]", Truth.FALSE: "[no]", Truth.UNKNOWN: "[?]"}[self.truth]
        text = f"{'  ' * indent}{mark} {self.criterion}"
        if self.reason:
            text += f" — {self.reason}"
        out = [text]
        for child in self.children:
            out.extend(child.lines(indent + 1))
        return out


def evaluate(node: Node, patient: Patient, oncotree: OncoTreeLike) -> Truth:
    """Three-valued value of ``node`` for ``patient``."""
    return explain(node, patient, oncotree).truth


def explain(node: Node, patient: Patient, oncotree: OncoTreeLike) -> Explanation:
    """Criterion-by-criterion explanation (Kleene logic: and = min, or = max, not = swap)."""
    if isinstance(node, And | Or):
        kids = tuple(explain(c, patient, oncotree) for c in node.children)
        values = [k.truth for k in kids]
        truth = min(values) if isinstance(node, And) else max(values)
        label = "all of" if isinstance(node, And) else "any of"
        counts = {t: values.count(t) for t in Truth}
        reason = (
            f"{counts[Truth.TRUE]} met, {counts[Truth.FALSE]} not met, "
            f"{counts[Truth.UNKNOWN]} unknown"
        )
        return Explanation(label, Truth(truth), reason, children=kids)
    if isinstance(node, Not):
        return _exclusion(node.child, explain(node.child, patient, oncotree), oncotree)
    text = describe(node, oncotree)
    if isinstance(node, Genomic):
        report = patient.report
        if report is None:
            return Explanation(text, Truth.UNKNOWN, "no genomic report")
        hits = tuple(a.label() for a in report.alterations if row_matches(node, a))
        if hits:
            return Explanation(text, Truth.TRUE, "found: " + ", ".join(hits), hits)
        n = len(report.alterations)
        return Explanation(text, Truth.FALSE, f"no matching alteration among {n} reported")
    if isinstance(node, Numeric):
        value, missing = _numeric_value(node, patient)
        if value is None:
            return Explanation(text, Truth.UNKNOWN, missing)
        ok = node.range.contains(value)
        return Explanation(text, Truth.TRUE if ok else Truth.FALSE, f"value {value:g}")
    return _category(node, patient, oncotree, text)


def _exclusion(child: Node, kid: Explanation, oncotree: OncoTreeLike) -> Explanation:
    """An exclusion read plainly, without a double negative: "no KRAS mutation — KRAS p.G12D
    present" (not met), "no KRAS mutation — none among 3 reported" (met)."""
    truth = kid.truth.negate()
    if isinstance(child, Genomic):
        what = describe(child, oncotree).removeprefix("alteration ")
        if what == (child.gene or "any gene"):
            what += " alteration"
        if kid.truth is Truth.TRUE:
            reason = ", ".join(kid.evidence) + " present"
        elif kid.truth is Truth.FALSE:
            reason = "none " + kid.reason.removeprefix("no matching alteration ")
        else:
            reason = kid.reason
        return Explanation(f"no {what}", truth, reason, kid.evidence)
    if isinstance(child, Category):
        if child.field == "diagnosis":
            text = f"diagnosis not {describe(child, oncotree).removeprefix('diagnosis ')}"
        elif child.field == "prior_therapy":
            text = f"no prior {child.value}"
        elif child.field == "signature":
            text = f"no {child.value} signature"
        else:
            text = f"{child.field} not {child.value}"
        return Explanation(text, truth, kid.reason, kid.evidence)
    if isinstance(child, Numeric):
        return Explanation(f"not {kid.criterion}", truth, kid.reason, kid.evidence)
    label = "none of" if isinstance(child, Or) else "not all of"
    return Explanation(label, truth, kid.reason, children=kid.children)


def first_failure(ex: Explanation) -> Explanation | None:
    """Why a level does not match, in one clause: the first criterion of an ``all of`` that is
    not met (else the first unknown), descending while it is itself an ``all of``; an
    ``any of`` none of whose branches holds is named as a whole. None when ``ex`` is met."""
    if ex.truth is Truth.TRUE:
        return None
    if ex.criterion == "all of":
        failed = [c for c in ex.children if c.truth is Truth.FALSE]
        unknown = [c for c in ex.children if c.truth is Truth.UNKNOWN]
        pick = (failed or unknown)[0]
        return first_failure(pick) or pick
    return ex


def _numeric_value(node: Numeric, patient: Patient) -> tuple[float | None, str]:
    if node.field == "tmb":
        if patient.report is None:
            return None, "no genomic report"
        if patient.report.tmb is None:
            return None, "TMB not reported"
        return patient.report.tmb, ""
    if node.field == "lab":
        assert node.lab is not None
        value = patient.labs.get(node.lab)
        if value is None or math.isnan(value):
            return None, f"{node.lab} not recorded"
        return value, ""
    raw = getattr(patient, node.field)
    if raw is None:
        return None, f"{node.field} not recorded"
    return float(raw), ""


def _category(node: Category, patient: Patient, oncotree: OncoTreeLike, text: str) -> Explanation:
    field = node.field
    if field in ("msi", "signature"):
        report = patient.report
        if report is None:
            return Explanation(text, Truth.UNKNOWN, "no genomic report")
        if field == "msi":
            if report.msi is None:
                return Explanation(text, Truth.UNKNOWN, "MSI not reported")
            ok = report.msi == node.value
            return Explanation(text, _t(ok), f"MSI {report.msi}")
        ok = node.value in report.signatures
        found = ", ".join(sorted(report.signatures)) or "none"
        return Explanation(text, _t(ok), f"signatures found: {found}")
    if field == "diagnosis":
        if patient.diagnosis is None:
            return Explanation(text, Truth.UNKNOWN, "diagnosis not recorded")
        ok = in_diagnosis(oncotree, patient.diagnosis, node.value)
        return Explanation(
            text, _t(ok), f"diagnosis {diagnosis_label(oncotree, patient.diagnosis)}"
        )
    if field == "sex":
        if patient.sex is None:
            return Explanation(text, Truth.UNKNOWN, "sex not recorded")
        return Explanation(text, _t(patient.sex == node.value), f"sex {patient.sex}")
    # prior_therapy
    if patient.prior_therapies is None:
        return Explanation(text, Truth.UNKNOWN, "prior therapies not recorded")
    ok = node.value in patient.prior_therapies
    return Explanation(text, _t(ok), "received" if ok else "not received")


def _t(ok: bool) -> Truth:
    return Truth.TRUE if ok else Truth.FALSE
