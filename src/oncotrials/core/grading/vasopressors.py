"""Controlled vocabulary of the vasopressors that ASTCT CRS grading counts.

ASTCT grades hypotension by the number of *distinct* vasopressors needed (Lee et al. 2019, CRS
table: grade 3 "a vasopressor with or without vasopressin", grade 4 "multiple vasopressors
(excluding vasopressin)"). Drug names arrive as free text, in English or French, generic or
brand, with or without the salt: each is resolved to one generic drug here, so that
"norepinephrine" and "noradrenaline" count once, "arginine vasopressin" is vasopressin, and a
name nobody knows is refused instead of being counted as a vasopressor.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping

from oncotrials.core.errors import ValidationError

VASOPRESSIN = "vasopressin"

#: Generic drug -> accepted names (generic, international and brand names).
VASOPRESSORS: Mapping[str, tuple[str, ...]] = {
    "norepinephrine": ("norepinephrine", "noradrenaline", "levophed", "levarterenol"),
    "epinephrine": ("epinephrine", "adrenaline", "adrenalin"),
    "phenylephrine": ("phenylephrine", "neosynephrine", "neo-synephrine"),
    "dopamine": ("dopamine", "intropin"),
    VASOPRESSIN: (
        "vasopressin",
        "arginine vasopressin",
        "8-arginine vasopressin",
        "argipressin",
        "avp",
        "vasostrict",
        "pitressin",
    ),
    "angiotensin II": ("angiotensin ii", "angiotensin 2", "giapreza"),
    "metaraminol": ("metaraminol", "aramine"),
}

#: Drugs given for shock that are not vasopressors: named in the refusal so the reason is clear.
NOT_VASOPRESSORS: Mapping[str, str] = {
    "dobutamine": "an inotrope, not a vasopressor",
    "milrinone": "an inotrope, not a vasopressor",
    "levosimendan": "an inotrope, not a vasopressor",
    "isoproterenol": "an inotrope/chronotrope, not a vasopressor",
    "isoprenaline": "an inotrope/chronotrope, not a vasopressor",
}

# Salt and formulation words dropped before matching ("norepinephrine bitartrate").
_SALTS = {"bitartrate", "tartrate", "hydrochloride", "hcl", "acetate", "sulfate", "sulphate"}


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = text.replace("_", " ").replace("-", " ")
    words = [w for w in text.split() if w not in _SALTS]
    return " ".join(words)


_BY_NAME: dict[str, str] = {}
for _drug, _names in VASOPRESSORS.items():
    for _name in _names:
        _BY_NAME[_key(_name)] = _drug
        _BY_NAME[_key(_name).replace(" ", "")] = _drug


def accepted_names() -> str:
    """The accepted names, grouped by drug, for messages and documentation."""
    return "; ".join(f"{drug} ({', '.join(names)})" for drug, names in VASOPRESSORS.items())


def canonical_vasopressor(name: str, *, where: str = "vasopressors") -> str:
    """The generic drug a vasopressor name stands for, or a clear error listing accepted names."""
    key = _key(name)
    drug = _BY_NAME.get(key) or _BY_NAME.get(key.replace(" ", ""))
    if drug is not None:
        return drug
    if key in NOT_VASOPRESSORS:
        raise ValidationError(
            f"{where}: {name!r} is {NOT_VASOPRESSORS[key]}; ASTCT CRS grading counts "
            f"vasopressors only. Accepted names: {accepted_names()}."
        )
    raise ValidationError(
        f"{where}: unknown vasopressor {name!r}; accepted names: {accepted_names()}."
    )


def distinct_vasopressors(names: Iterable[str], *, where: str = "vasopressors") -> tuple[str, ...]:
    """The distinct generic drugs of ``names``, in first-seen order; blank names are skipped."""
    seen: list[str] = []
    for name in names:
        if not name.strip():
            continue
        drug = canonical_vasopressor(name, where=where)
        if drug not in seen:
            seen.append(drug)
    return tuple(seen)
