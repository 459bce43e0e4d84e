"""Quantity units of specimens: a controlled vocabulary with conversions inside one dimension.

A tissue core is weighed (mg), a plasma aliquot is a volume (mL), DNA is a mass (ng), cells and
slides are counted. Conversions are exact decimals and exist only inside a dimension (never mg
to mL: a density is not assumed).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from oncotrials.core.errors import ValidationError


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    dimension: str  # mass, volume, count
    factor: Decimal  # in the dimension's base unit (g, L, items)
    label: str


UNITS: dict[str, Unit] = {
    u.code: u
    for u in (
        Unit("g", "mass", Decimal(1), "gram"),
        Unit("mg", "mass", Decimal("0.001"), "milligram"),
        Unit("ug", "mass", Decimal("0.000001"), "microgram"),
        Unit("ng", "mass", Decimal("0.000000001"), "nanogram"),
        Unit("mL", "volume", Decimal("0.001"), "millilitre"),
        Unit("uL", "volume", Decimal("0.000001"), "microlitre"),
        Unit("cells", "count", Decimal(1), "cells"),
        Unit("cores", "count", Decimal(1), "cores"),
        Unit("slides", "count", Decimal(1), "slides"),
        Unit("blocks", "count", Decimal(1), "blocks"),
    )
}
UNIT_CHOICES: tuple[tuple[str, str], ...] = tuple((u.code, u.label) for u in UNITS.values())
# Aliases accepted on input (µ written either way, litre case).
_ALIASES = {"µg": "ug", "μg": "ug", "µL": "uL", "μL": "uL", "ml": "mL", "ul": "uL"}


def unit_get(code: str, *, field: str = "unit") -> Unit:
    """The unit of ``code``; a ``ValidationError`` naming the vocabulary otherwise."""
    unit = UNITS.get(_ALIASES.get(code.strip(), code.strip()))
    if unit is None:
        raise ValidationError(
            f"Unknown unit {code!r}; use one of {', '.join(UNITS)}.",
            field=field,
            code="unit_unknown",
        )
    return unit


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``value`` in ``from_unit`` expressed in ``to_unit`` (same dimension only)."""
    a, b = unit_get(from_unit), unit_get(to_unit)
    if a.dimension != b.dimension:
        raise ValidationError(
            f"Cannot convert {a.code} ({a.dimension}) to {b.code} ({b.dimension}).",
            field="unit",
            code="unit_incompatible",
        )
    return value * a.factor / b.factor


def quantity_parse(value: object, *, field: str = "quantity", allow_zero: bool = False) -> Decimal:
    """A non-negative (or positive) decimal quantity, or a ``ValidationError`` naming ``field``."""
    try:
        q = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(
            f"{field} must be a number; got {value!r}.", field=field, code="quantity_invalid"
        ) from None
    if not q.is_finite():
        raise ValidationError(
            f"{field} must be finite; got {value!r}.",
            code="biobank_not_finite",
            value=repr(value),
            field=field,
        )
    if q < 0 or (q == 0 and not allow_zero):
        raise ValidationError(
            f"{field} must be {'zero or more' if allow_zero else 'more than zero'}; got {q}.",
            field=field,
            code="quantity_negative" if q < 0 else "quantity_zero",
        )
    return q
