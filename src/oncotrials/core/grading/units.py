"""Units of the lab analytes CTCAE grades, and their explicit conversions.

Every analyte belongs to one *family* (cell counts, enzyme activity, ...). A unit is accepted for
an analyte only if it belongs to that family; a unit of another family (U/L for a neutrophil
count) and a unit nobody knows are both clear errors. Conversions are exact decimal factors to
the *scale* the CTCAE thresholds are written in; where CTCAE prints its own thresholds in a
second unit (calcium and glucose in mg/dL, haemoglobin in mmol/L) the value is graded on that
printed scale rather than converted, so that a printed boundary stays a boundary.

References
----------
Molar masses for conversions: calcium 40.08 g/mol, magnesium 24.305 g/mol (1 mEq/L = 0.5 mmol/L
for both divalent ions), glucose 180.16 g/mol, bilirubin 584.7 g/mol (1 mg/dL = 17.1 µmol/L),
creatinine 113.12 g/mol (1 mg/dL = 88.4 µmol/L); 1 µkat/L = 60 U/L.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from oncotrials.core.errors import ValidationError


@dataclass(frozen=True, slots=True)
class UnitFamily:
    """A kind of quantity, with the units accepted for it.

    ``units`` maps a normalised unit spelling to ``(scale unit, factor)``: value in the scale
    unit = value × factor.
    """

    name: str
    description: str
    units: Mapping[str, tuple[str, Decimal]]
    also: tuple[str, ...] = ()  # conventional spellings shown in messages

    def accepted(self) -> str:
        seen: list[str] = []
        for scale, _ in self.units.values():
            if scale not in seen:
                seen.append(scale)
        text = ", ".join(seen)
        return f"{text} (also {', '.join(self.also)})" if self.also else text


def _d(text: str | int) -> Decimal:
    return Decimal(str(text))


ONE = Decimal(1)
_COUNT_SI = "10^9/L"
_COUNT_SI_SPELLINGS = (
    "10^9/l",
    "10e9/l",
    "10*9/l",
    "x10^9/l",
    "x10e9/l",
    "x10*9/l",
    "10^3/ul",
    "10e3/ul",
    "x10^3/ul",
    "10*3/ul",
    "k/ul",
    "10^3/mm3",
    "x10^3/mm3",
    "giga/l",
    "gpt/l",
)
_COUNT_UNITS: dict[str, tuple[str, Decimal]] = dict.fromkeys(_COUNT_SI_SPELLINGS, (_COUNT_SI, ONE))
_COUNT_UNITS.update(
    {
        u: (_COUNT_SI, _d("0.001"))
        for u in ("/mm3", "/mm^3", "/ul", "cells/ul", "cells/mm3", "cells/mm^3", "mm-3")
    }
)

FAMILIES: dict[str, UnitFamily] = {
    "count": UnitFamily(
        "count", "a cell count", _COUNT_UNITS, ("G/L", "10^3/uL", "/mm3", "cells/uL")
    ),
    "hemoglobin": UnitFamily(
        "hemoglobin",
        "a haemoglobin concentration",
        {
            "g/l": ("g/L", ONE),
            "g/dl": ("g/L", _d(10)),
            "mmol/l": ("mmol/L", ONE),
        },
        ("g/dL",),
    ),
    "enzyme": UnitFamily(
        "enzyme",
        "an enzyme activity",
        {
            "u/l": ("U/L", ONE),
            "iu/l": ("U/L", ONE),
            "ui/l": ("U/L", ONE),
            "ukat/l": ("U/L", _d(60)),
        },
        ("IU/L", "ukat/L"),
    ),
    "bilirubin": UnitFamily(
        "bilirubin",
        "a bilirubin concentration",
        {
            "umol/l": ("umol/L", ONE),
            "mmol/l": ("umol/L", _d(1000)),
            "mg/dl": ("umol/L", _d("17.1")),
            "mg/l": ("umol/L", _d("1.71")),
        },
    ),
    "creatinine": UnitFamily(
        "creatinine",
        "a creatinine concentration",
        {
            "umol/l": ("umol/L", ONE),
            "mmol/l": ("umol/L", _d(1000)),
            "mg/dl": ("umol/L", _d("88.4")),
            "mg/l": ("umol/L", _d("8.84")),
        },
    ),
    "monovalent_ion": UnitFamily(
        "monovalent_ion",
        "a sodium or potassium concentration",
        {"mmol/l": ("mmol/L", ONE), "meq/l": ("mmol/L", ONE)},
    ),
    "calcium": UnitFamily(
        "calcium",
        "a calcium concentration",
        {
            "mmol/l": ("mmol/L", ONE),
            "meq/l": ("mmol/L", _d("0.5")),
            "umol/l": ("mmol/L", _d("0.001")),
            "mg/dl": ("mg/dL", ONE),
        },
    ),
    "ionized_calcium": UnitFamily(
        "ionized_calcium",
        "an ionised calcium concentration",
        {
            "mmol/l": ("mmol/L", ONE),
            "meq/l": ("mmol/L", _d("0.5")),
            # CTCAE prints ionised calcium only in mmol/L: 1 mg/dL = 10/40.08 mmol/L.
            "mg/dl": ("mmol/L", _d("0.2495")),
        },
    ),
    "magnesium": UnitFamily(
        "magnesium",
        "a magnesium concentration",
        {
            "mmol/l": ("mmol/L", ONE),
            "meq/l": ("mmol/L", _d("0.5")),
            "mg/dl": ("mg/dL", ONE),
        },
    ),
    "glucose": UnitFamily(
        "glucose",
        "a glucose concentration",
        {"mmol/l": ("mmol/L", ONE), "mg/dl": ("mg/dL", ONE)},
    ),
    "qtc": UnitFamily(
        "qtc",
        "an ECG interval",
        {"ms": ("ms", ONE), "msec": ("ms", ONE), "s": ("ms", _d(1000))},
    ),
}


def normalise_unit(unit: str) -> str:
    """Normalise spelling: micro signs to ``u``, no spaces, lower case."""
    text = unit.strip().replace("µ", "u").replace("μ", "u").replace(" ", "")
    text = text.replace("×", "x").replace("³", "3").replace("⁹", "9")
    return text.lower()


def _is_giga_per_litre(unit: str) -> bool:
    # "G/L" (giga per litre, French and German lab reports) is a count; "g/L" is grams.
    return unit.strip().replace(" ", "") == "G/L"


def resolve_unit(unit: str, *, family: UnitFamily, what: str) -> tuple[str, Decimal]:
    """Return ``(scale unit, factor)`` for ``unit`` in ``family``, or a clear error.

    ``what`` names the analyte in messages (e.g. "neutrophils").
    """
    if not unit or not unit.strip():
        raise ValidationError(
            f"No unit given for {what}; give {family.description} in one of: {family.accepted()}."
        )
    key = "giga/l" if _is_giga_per_litre(unit) else normalise_unit(unit)
    if key in family.units:
        return family.units[key]
    if any(key in other.units for other in FAMILIES.values()):
        raise ValidationError(
            f"Unit {unit!r} does not fit {what}: {what} needs {family.description} in one of: "
            f"{family.accepted()}."
        )
    raise ValidationError(
        f"Unknown unit {unit!r} for {what}; use one of: {family.accepted()} "
        f"(conventional spellings such as mg/dL, /mm3 and U/L are converted explicitly)."
    )
