"""Specimen types, lineage and the quantity rules of a specimen tree.

Rules (rule ids from OpenSpecimen ``SpecimenErrorCode``; see the project's biobank reference §A.3):

- a primary ("new") specimen has no parent; an aliquot or a derivative needs one
  (``PARENT_REQUIRED``), which must still be in stock;
- an aliquot keeps its parent's type, anatomic site, laterality and pathological status
  (``ANATOMIC_SITE_NOT_SAME_AS_PARENT`` …); a derivative changes type along the derivation table;
- available ≤ initial (``AVBL_QTY_GT_INIT_QTY``), never below zero;
- conservation: what a parent lost (initial − available) is exactly what its children took plus
  what was consumed from it directly; an aliquot holds no more than what its parent gave
  (``INVALID_QTY_OR_CNT``);
- depleted, distributed and disposed are states, never deletes; a specimen leaves its storage
  position when it is distributed or disposed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from oncotrials.core.errors import ValidationError

from .units import convert, unit_get


class Lineage(StrEnum):
    NEW = "new"
    ALIQUOT = "aliquot"
    DERIVED = "derived"


class Status(StrEnum):
    AVAILABLE = "available"
    DEPLETED = "depleted"
    DISTRIBUTED = "distributed"
    PENDING_DISPOSAL = "pending_disposal"
    DISPOSED = "disposed"


# States a specimen can be used from (aliquot, derive, consume, move, distribute).
IN_STOCK = frozenset({Status.AVAILABLE})
# Terminal states: nothing more happens to the specimen.
TERMINAL = frozenset({Status.DISTRIBUTED, Status.DISPOSED})


@dataclass(frozen=True, slots=True)
class SpecimenType:
    code: str
    label: str
    specimen_class: str  # tissue, fluid, cell, molecular
    dimensions: frozenset[str]  # allowed unit dimensions
    primary: bool
    frozen: bool = False  # stored frozen: check-out/check-in counts freeze-thaw cycles
    miabis: str = ""  # MIABIS-SAMPLE-02 material type


def _t(
    code: str,
    label: str,
    cls: str,
    dims: str,
    *,
    primary: bool = False,
    frozen: bool = False,
    miabis: str = "",
) -> SpecimenType:
    return SpecimenType(code, label, cls, frozenset(dims.split()), primary, frozen, miabis)


SPECIMEN_TYPES: dict[str, SpecimenType] = {
    t.code: t
    for t in (
        _t(
            "tissue_ffpe",
            "Tissue (FFPE)",
            "tissue",
            "mass count",
            primary=True,
            miabis="TISSUE_FFPE",
        ),
        _t(
            "tissue_frozen",
            "Tissue (fresh frozen)",
            "tissue",
            "mass count",
            primary=True,
            frozen=True,
            miabis="TISSUE_FROZEN",
        ),
        _t("whole_blood", "Whole blood", "fluid", "volume", primary=True, miabis="WHOLE_BLOOD"),
        _t("bone_marrow", "Bone marrow aspirate", "fluid", "volume", primary=True, miabis="OTHER"),
        _t("plasma", "Plasma", "fluid", "volume", frozen=True, miabis="PLASMA"),
        _t("serum", "Serum", "fluid", "volume", frozen=True, miabis="SERUM"),
        _t("buffy_coat", "Buffy coat", "fluid", "volume", frozen=True, miabis="BUFFY_COAT"),
        _t("pbmc", "PBMC", "cell", "count volume", frozen=True, miabis="PBMC"),
        _t(
            "ctc",
            "Circulating tumour cells",
            "cell",
            "count",
            frozen=True,
            miabis="ISOLATED_TUMOR_CELLS",
        ),
        _t("dna", "DNA", "molecular", "mass volume", frozen=True, miabis="DNA"),
        _t("rna", "RNA", "molecular", "mass volume", frozen=True, miabis="RNA"),
        _t("cfdna", "cfDNA", "molecular", "mass volume", frozen=True, miabis="DNA"),
        _t("slide", "Tissue section (slide)", "tissue", "count", miabis="TISSUE_FFPE"),
        _t(
            "culture",
            "Cell culture / organoid",
            "cell",
            "count volume",
            frozen=True,
            miabis="OTHER",
        ),
    )
}
TYPE_CHOICES = tuple((t.code, t.label) for t in SPECIMEN_TYPES.values())

# What may be derived from what (a derivative changes type; an aliquot never does).
DERIVATIONS: dict[str, frozenset[str]] = {
    "tissue_ffpe": frozenset({"dna", "rna", "slide"}),
    "tissue_frozen": frozenset({"dna", "rna", "culture", "slide"}),
    "whole_blood": frozenset({"plasma", "serum", "buffy_coat", "pbmc", "ctc", "dna"}),
    "bone_marrow": frozenset({"dna", "rna", "pbmc", "culture"}),
    "plasma": frozenset({"cfdna"}),
    "buffy_coat": frozenset({"dna"}),
    "pbmc": frozenset({"dna", "rna", "culture"}),
    "ctc": frozenset({"dna", "rna"}),
    "culture": frozenset({"dna", "rna"}),
    "slide": frozenset({"dna", "rna"}),
}


def specimen_type_get(code: str, *, field: str = "specimen_type") -> SpecimenType:
    t = SPECIMEN_TYPES.get(code)
    if t is None:
        raise ValidationError(
            f"Unknown specimen type {code!r}; use one of {', '.join(SPECIMEN_TYPES)}.",
            field=field,
            code="specimen_type_unknown",
        )
    return t


def check_unit_for_type(type_code: str, unit: str, *, field: str = "unit") -> None:
    t, u = specimen_type_get(type_code), unit_get(unit, field=field)
    if u.dimension not in t.dimensions:
        raise ValidationError(
            f"{t.label} is measured as {' or '.join(sorted(t.dimensions))}; {u.code} is a "
            f"{u.dimension}.",
            field=field,
            code="unit_not_for_type",
        )


def check_primary_type(type_code: str) -> None:
    t = specimen_type_get(type_code)
    if not t.primary:
        raise ValidationError(
            f"{t.label} is not collected from a patient; derive it from a primary specimen.",
            field="specimen_type",
            code="not_primary_type",
        )


def check_derivation(parent_type: str, child_type: str) -> None:
    allowed = DERIVATIONS.get(parent_type, frozenset())
    if child_type not in allowed:
        parent = specimen_type_get(parent_type).label
        child = specimen_type_get(child_type, field="child_type").label
        raise ValidationError(
            f"{child} cannot be derived from {parent}; from {parent} derive "
            f"{', '.join(sorted(allowed)) or 'nothing'}.",
            field="specimen_type",
            code="derivation_not_allowed",
        )


def _n(value: Decimal) -> str:
    return f"{value.normalize():f}"


def take(available: Decimal, unit: str, amount: Decimal, amount_unit: str, *, what: str) -> Decimal:
    """What is left after taking ``amount`` (in ``amount_unit``) out of ``available`` (in
    ``unit``): a ``ValidationError`` (``INVALID_QTY_OR_CNT``) when it is more than there is."""
    taken = convert(amount, amount_unit, unit)
    if taken > available:
        raise ValidationError(
            f"{what} needs {_n(amount)} {amount_unit} but only {_n(available)} {unit} is available; "
            "nothing was recorded.",
            field="quantity",
            code="over_consumption",
            available=str(available),
        )
    return available - taken


@dataclass(frozen=True, slots=True)
class Node:
    """One specimen as the invariants see it (from the database or from a model of it)."""

    id: int
    parent_id: int | None
    lineage: str
    specimen_type: str
    initial: Decimal
    available: Decimal
    unit: str
    parent_consumed: Decimal | None  # in the parent's unit; None for a primary specimen
    consumed: Decimal  # used directly (not by children), in its own unit
    anatomic_site: str
    laterality: str
    pathology: str
    status: str
    positioned: bool


def tree_violations(nodes: Iterable[Node]) -> list[str]:
    """Every broken invariant of a specimen forest, as sentences (empty: all hold)."""
    nodes = list(nodes)
    by_id = {n.id: n for n in nodes}
    children: dict[int, list[Node]] = defaultdict(list)
    out: list[str] = []
    for n in nodes:
        if n.parent_id is not None:
            children[n.parent_id].append(n)
    for n in nodes:
        name = f"specimen {n.id}"
        if n.available < 0:
            out.append(f"{name}: available {n.available} < 0")
        if n.available > n.initial:
            out.append(
                f"{name}: available {n.available} > initial {n.initial} (AVBL_QTY_GT_INIT_QTY)"
            )
        if (n.lineage == Lineage.NEW) != (n.parent_id is None):
            out.append(f"{name}: lineage {n.lineage} with parent {n.parent_id}")
        given = sum((c.parent_consumed or Decimal(0) for c in children[n.id]), Decimal(0))
        if n.initial - n.available != given + n.consumed:
            out.append(
                f"{name}: lost {n.initial - n.available} {n.unit} but children took {given} "
                f"and {n.consumed} was consumed"
            )
        if n.status == Status.DEPLETED and n.available != 0:
            out.append(f"{name}: depleted with {n.available} left")
        if n.status == Status.AVAILABLE and n.available == 0:
            out.append(f"{name}: available with nothing left")
        if n.status in TERMINAL and n.positioned:
            out.append(f"{name}: {n.status} but still holds a storage position")
        parent = by_id.get(n.parent_id) if n.parent_id is not None else None
        if parent is not None and n.lineage == Lineage.ALIQUOT:
            for attr in ("specimen_type", "anatomic_site", "laterality", "pathology"):
                if getattr(n, attr) != getattr(parent, attr):
                    out.append(f"{name}: aliquot {attr} differs from its parent's")
            gave = n.parent_consumed or Decimal(0)
            if convert(n.initial, n.unit, parent.unit) > gave:
                out.append(
                    f"{name}: aliquot holds more than its parent gave ({gave} {parent.unit})"
                )
    return out
