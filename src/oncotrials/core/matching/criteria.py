"""The eligibility-criteria language: a tree of ``and`` / ``or`` / ``not`` over criteria.

The grammar, its JSON Schema and the exact semantics are in ``docs/formats/criteria.md``. In
short: a node is one of ::

    {"and": [node, ...]}  {"or": [node, ...]}  {"not": node}
    {"genomic": {gene, category, protein_change, wildcard_protein_change, exon, cn_call,
                 fusion_partner, kb_class, variant_classification}}     # one alteration row
    {"tmb": range}  {"msi": "high"|"stable"}  {"signature": name}      # report biomarkers
    {"diagnosis": ONCOTREE_CODE | "_SOLID_" | "_LIQUID_"}  {"sex": "female"|"male"}
    {"age": range}  {"ecog": range}  {"prior_lines": range}  {"prior_therapy": agent}
    {"lab": {"name": lab, <range>}}

where ``range`` is an object with one or more of ``gt``, ``gte``, ``lt``, ``lte``. Evaluation is
three-valued (Kleene): a criterion on a fact the patient lacks (no genomic report, ECOG not
recorded, ...) is *unknown*; ``not`` swaps true and false and keeps unknown; a patient matches
when the whole tree is *true*.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from oncotrials.core.errors import ValidationError
from oncotrials.core.matching.oncotree import LIQUID, SOLID, OncoTreeLike
from oncotrials.core.matching.records import (
    ANY_GENE,
    CATEGORIES,
    CN_CALLS,
    DEFAULT_ORIGINS,
    INTERGENIC,
    MSI_STATUSES,
    ORIGINS,
    SEXES,
    normalise_gene,
)


class Truth(enum.IntEnum):
    """Kleene truth values, ordered so that ``and`` is ``min`` and ``or`` is ``max``."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2

    def negate(self) -> Truth:
        return Truth(2 - self.value)


@dataclass(frozen=True, slots=True)
class Range:
    """Numeric bounds; absent bounds are open. ``gte``/``lte`` are inclusive."""

    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None

    def contains(self, value: float) -> bool:
        return (
            (self.gt is None or value > self.gt)
            and (self.gte is None or value >= self.gte)
            and (self.lt is None or value < self.lt)
            and (self.lte is None or value <= self.lte)
        )

    def to_dict(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for key in ("gt", "gte", "lt", "lte"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def describe(self) -> str:
        signs = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
        return " and ".join(f"{signs[k]} {_num(v)}" for k, v in self.to_dict().items())


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- nodes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class Genomic:
    """All given fields must hold on the *same* alteration row (absent fields: any value)."""

    gene: str | None = None
    categories: frozenset[str] = frozenset(CATEGORIES)
    protein_change: str | None = None
    wildcard_protein_change: str | None = None  # normalised key, e.g. "P.V600"
    exon: int | None = None
    cn_call: str | None = None
    fusion_partner: str | None = None
    kb_class: str | None = None
    variant_classification: str | None = None
    # Origins of the rows it accepts: somatic and unstated unless the criterion names others.
    origins: frozenset[str] = DEFAULT_ORIGINS


@dataclass(frozen=True, slots=True)
class Numeric:
    """``field``: ``age``, ``ecog``, ``prior_lines``, ``tmb`` or ``lab`` (``lab`` names it)."""

    field: str
    range: Range
    lab: str | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """Equality/membership criteria: ``diagnosis`` (subtree), ``sex``, ``msi``, ``signature``,
    ``prior_therapy``."""

    field: str
    value: str


Leaf: TypeAlias = Genomic | Numeric | Category
Node: TypeAlias = And | Or | Not | Leaf

GENOMIC_KEYS = (
    "gene",
    "category",
    "protein_change",
    "wildcard_protein_change",
    "exon",
    "cn_call",
    "fusion_partner",
    "kb_class",
    "variant_classification",
    "origin",
)
NUMERIC_FIELDS = ("age", "ecog", "prior_lines", "tmb", "lab")
CATEGORY_FIELDS = ("diagnosis", "sex", "msi", "signature", "prior_therapy")


# --- serialisation and description -------------------------------------------------------------


def to_dict(node: Node) -> dict[str, Any]:
    """The canonical JSON form of a node (parsing it gives back an equal node)."""
    if isinstance(node, And):
        return {"and": [to_dict(c) for c in node.children]}
    if isinstance(node, Or):
        return {"or": [to_dict(c) for c in node.children]}
    if isinstance(node, Not):
        return {"not": to_dict(node.child)}
    if isinstance(node, Genomic):
        out: dict[str, Any] = {}
        if node.gene is not None:
            out["gene"] = node.gene
        if node.categories != frozenset(CATEGORIES):
            cats = sorted(node.categories, key=CATEGORIES.index)
            out["category"] = cats[0] if len(cats) == 1 else cats
        for key in GENOMIC_KEYS[2:-1]:
            value = getattr(node, key)
            if key == "wildcard_protein_change" and value is not None:
                value = "p." + value[2:]
            if value is not None:
                out[key] = value
        if node.origins != DEFAULT_ORIGINS:
            origins = sorted(node.origins, key=ORIGINS.index)
            out["origin"] = origins[0] if len(origins) == 1 else origins
        return {"genomic": out or {"category": "any"}}
    if isinstance(node, Numeric):
        if node.field == "lab":
            return {"lab": {"name": node.lab, **node.range.to_dict()}}
        return {node.field: node.range.to_dict()}
    return {node.field: node.value}


def describe(node: Node, oncotree: Any = None) -> str:
    """One-line human description of a node (diagnoses by OncoTree name when ``oncotree``
    names them). A codon wildcard reads ``V600 (any substitution)``: ``p.V600*`` would be a
    stop codon in HGVS."""
    if isinstance(node, And):
        return "all of: " + "; ".join(describe(c, oncotree) for c in node.children)
    if isinstance(node, Or):
        return "any of: " + "; ".join(describe(c, oncotree) for c in node.children)
    if isinstance(node, Not):
        return "not (" + describe(node.child, oncotree) + ")"
    if isinstance(node, Category) and node.field == "diagnosis":
        from oncotrials.core.matching.oncotree import diagnosis_label

        return f"diagnosis {diagnosis_label(oncotree, node.value)}"
    if isinstance(node, Genomic):
        parts = [node.gene or "any gene"]
        if node.categories != frozenset(CATEGORIES):
            parts.append("/".join(sorted(node.categories, key=CATEGORIES.index)))
        for key, label in (
            ("protein_change", ""),
            ("wildcard_protein_change", ""),
            ("exon", "exon "),
            ("cn_call", ""),
            ("fusion_partner", "partner "),
            ("kb_class", "class "),
            ("variant_classification", ""),
        ):
            value = getattr(node, key)
            if value is not None:
                if key == "wildcard_protein_change":
                    value = str(value)[2:] + " (any substitution)"
                parts.append(f"{label}{value}")
        if node.origins != DEFAULT_ORIGINS:
            parts.append("(" + " or ".join(sorted(node.origins, key=ORIGINS.index)) + ")")
        return "alteration " + " ".join(str(p) for p in parts)
    if isinstance(node, Numeric):
        name = node.lab if node.field == "lab" else node.field
        return f"{name} {node.range.describe()}"
    return f"{node.field} {node.value}"


# --- parsing ------------------------------------------------------------------------------------


def _fail(
    source: str, path: str, message: str, value: Any, *, reason: str, **params: str
) -> ValidationError:
    """A refusal naming the file, the path in the tree and the value received.

    ``message`` is the English wording with ``%(name)s`` placeholders for ``params``; ``reason``
    is its stable code, which the apps use to word the whole refusal in the user's language
    (with ``source``, ``path`` and ``value`` as placeholders too). ``code`` stays
    ``invalid_criteria`` for every reason.
    """
    text = message % params if params else message
    return ValidationError(
        f"{source}: {path}: {text}; got {value!r}.",
        code="invalid_criteria",
        path=path,
        reason=reason,
        source=source,
        value=repr(value),
        **params,
    )


def _parse_range(
    data: Any, source: str, path: str, *, allow: tuple[str, ...] = ()
) -> tuple[Range, dict[str, Any]]:
    if not isinstance(data, Mapping):
        raise _fail(
            source,
            path,
            "expected an object with gt/gte/lt/lte bounds",
            data,
            reason="criteria_range_object",
        )
    bounds: dict[str, float] = {}
    rest: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("gt", "gte", "lt", "lte"):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise _fail(
                    source,
                    f"{path}.{key}",
                    "a bound must be a finite number",
                    value,
                    reason="criteria_bound_number",
                )
            bounds[key] = float(value)
        elif key in allow:
            rest[key] = value
        else:
            raise _fail(
                source,
                f"{path}.{key}",
                "unknown key; use gt, gte, lt or lte",
                key,
                reason="criteria_bound_key",
            )
    if not bounds:
        raise _fail(
            source,
            path,
            "give at least one of gt, gte, lt, lte",
            data,
            reason="criteria_bound_missing",
        )
    return Range(**bounds), rest


class Validator:
    """Semantic checks of codes and genes against optional catalogues."""

    def __init__(
        self, oncotree: OncoTreeLike | None = None, genes: Container[str] | None = None
    ) -> None:
        self.oncotree = oncotree
        self.genes = genes
        self._codes: set[str] | None = set(oncotree.codes()) if oncotree is not None else None

    def gene(self, value: Any, source: str, path: str) -> str:
        try:
            gene = normalise_gene(value, where=f"{source}: {path}")
        except ValidationError as exc:
            raise ValidationError(
                exc.message,
                code="invalid_criteria",
                path=path,
                reason="criteria_gene_symbol",
                source=source,
                value=repr(value),
            ) from None
        if self.genes is not None and gene not in self.genes:
            raise _fail(
                source,
                path,
                "unknown gene symbol (not in the gene catalogue)",
                value,
                reason="criteria_unknown_gene",
            )
        return gene

    def diagnosis(self, value: Any, source: str, path: str) -> str:
        if not isinstance(value, str) or not value:
            raise _fail(
                source,
                path,
                "expected an OncoTree code, _SOLID_ or _LIQUID_",
                value,
                reason="criteria_diagnosis",
            )
        if value in (SOLID, LIQUID):
            return value
        if self._codes is not None and value not in self._codes:
            raise _fail(
                source, path, "unknown OncoTree code", value, reason="criteria_unknown_oncotree"
            )
        return value


def parse_criteria(
    data: Any,
    *,
    source: str = "criteria",
    path: str = "criteria",
    oncotree: OncoTreeLike | None = None,
    genes: Container[str] | None = None,
) -> Node:
    """Parse a criteria tree from its JSON form.

    Errors are :class:`~oncotrials.core.errors.ValidationError` naming ``source`` (the file),
    the path in the tree (``criteria.and[1].genomic.gene``) and the offending value. When an
    ``oncotree`` or a gene catalogue ``genes`` is given, unknown codes and symbols are errors.
    """
    return _parse(data, source, path, Validator(oncotree, genes))


def _parse(data: Any, source: str, path: str, v: Validator) -> Node:
    if not isinstance(data, Mapping) or len(data) != 1:
        raise _fail(
            source,
            path,
            "a criterion is an object with exactly one key (and, or, not, genomic, diagnosis, ...)",
            data,
            reason="criteria_one_key",
        )
    ((key, value),) = data.items()
    here = f"{path}.{key}"
    if key in ("and", "or"):
        if not isinstance(value, list) or not value:
            raise _fail(
                source,
                here,
                "'%(key)s' takes a non-empty list of criteria",
                value,
                reason="criteria_list",
                key=key,
            )
        children = tuple(_parse(c, source, f"{here}[{i}]", v) for i, c in enumerate(value))
        return And(children) if key == "and" else Or(children)
    if key == "not":
        return Not(_parse(value, source, here, v))
    if key == "genomic":
        return _parse_genomic(value, source, here, v)
    if key == "lab":
        rng, rest = _parse_range(value, source, here, allow=("name",))
        name = rest.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail(
                source,
                f"{here}.name",
                "a lab criterion needs the lab name",
                name,
                reason="criteria_lab_name",
            )
        return Numeric("lab", rng, lab=name.strip().lower())
    if key in NUMERIC_FIELDS:
        rng, _ = _parse_range(value, source, here)
        return Numeric(key, rng)
    if key == "diagnosis":
        return Category("diagnosis", v.diagnosis(value, source, here))
    if key in CATEGORY_FIELDS:
        if not isinstance(value, str) or not value.strip():
            raise _fail(source, here, "expected a non-empty string", value, reason="criteria_text")
        text = value.strip().lower()
        allowed = {"sex": SEXES, "msi": MSI_STATUSES}.get(key)
        if allowed is not None and text not in allowed:
            raise _fail(
                source,
                here,
                "expected one of %(allowed)s",
                value,
                reason="criteria_one_of",
                allowed=", ".join(allowed),
            )
        return Category(key, text)
    raise _fail(
        source,
        path,
        "unknown criterion; expected and, or, not, genomic, tmb, msi, signature, diagnosis, "
        "sex, age, ecog, prior_lines, prior_therapy or lab",
        key,
        reason="criteria_unknown",
    )


def _one_or_more(
    value: Any, allowed: Sequence[str], noun: str, source: str, here: str
) -> frozenset[str]:
    """A value or a list of values of ``allowed`` (``any`` stands for all of them)."""
    chosen: set[str] = set()
    for item in value if isinstance(value, list) else [value]:
        if item == "any":
            chosen.update(allowed)
        elif item in allowed:
            chosen.add(item)
        else:
            raise _fail(
                source,
                here,
                "expected %(allowed)s or any",
                item,
                reason="criteria_one_or_any",
                allowed=", ".join(allowed),
            )
    if not chosen:
        raise _fail(
            source,
            here,
            "give at least one %(noun)s",
            value,
            reason="criteria_at_least_one",
            noun=noun,
        )
    return frozenset(chosen)


def _parse_genomic(data: Any, source: str, path: str, v: Validator) -> Genomic:
    if not isinstance(data, Mapping) or not data:
        raise _fail(
            source,
            path,
            "expected a non-empty object of alteration fields",
            data,
            reason="criteria_genomic_object",
        )
    fields: dict[str, Any] = {}
    for key, value in data.items():
        here = f"{path}.{key}"
        if key not in GENOMIC_KEYS:
            raise _fail(
                source,
                here,
                "unknown field; use %(keys)s",
                key,
                reason="criteria_genomic_field",
                keys=", ".join(GENOMIC_KEYS),
            )
        if key == "gene":
            fields["gene"] = v.gene(value, source, here)
        elif key == "category":
            fields["categories"] = _one_or_more(value, CATEGORIES, "category", source, here)
        elif key == "origin":
            fields["origins"] = _one_or_more(value, ORIGINS, "origin", source, here)
        elif key == "exon":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise _fail(
                    source, here, "an exon is a positive integer", value, reason="criteria_exon"
                )
            fields["exon"] = value
        elif key == "cn_call":
            if value not in CN_CALLS:
                raise _fail(
                    source,
                    here,
                    "expected one of %(allowed)s",
                    value,
                    reason="criteria_one_of",
                    allowed=", ".join(CN_CALLS),
                )
            fields["cn_call"] = value
        elif key == "fusion_partner":
            if value in (ANY_GENE, INTERGENIC):
                fields["fusion_partner"] = value
            else:
                fields["fusion_partner"] = v.gene(value, source, here)
        elif key == "wildcard_protein_change":
            if not isinstance(value, str) or not value.strip():
                raise _fail(
                    source,
                    here,
                    "expected a codon such as 'p.V600' or 'V600'",
                    value,
                    reason="criteria_codon",
                )
            text = value.strip()
            if not text.lower().startswith("p."):
                text = "p." + text
            fields[key] = text.upper()
        else:
            if not isinstance(value, str) or not value.strip():
                raise _fail(
                    source, here, "expected a non-empty string", value, reason="criteria_text"
                )
            fields[key] = value.strip().lower() if key == "kb_class" else value.strip()
    return Genomic(**fields)


def walk(node: Node) -> list[Node]:
    """Every node of the tree, parents before children."""
    out: list[Node] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        if isinstance(current, And | Or):
            stack.extend(reversed(current.children))
        elif isinstance(current, Not):
            stack.append(current.child)
    return out
