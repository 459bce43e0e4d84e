"""The SPREC pre-analytical code, derived from stored raw values by a table-driven rule.

SPREC is seven elements separated by hyphens (ISBER Biospecimen Science Working Group):

- fluids: type of sample, primary container, pre-centrifugation delay and temperature,
  centrifugation, second centrifugation, post-centrifugation delay, long-term storage;
- solid tissue: type of sample, type of collection, warm ischaemia, cold ischaemia, fixation
  type, fixation time, long-term storage.

Each element's letters come from ``data/sprec.csv`` (one row per letter: a categorical key or a
half-open range ``[lo, hi)`` in minutes — hours for fixation time — with an optional
temperature). A missing raw value gives the element's "unknown" letter (``X``/``XXX``), a value
in no row gives "other" (``Z``/``ZZZ``) and an element that does not apply to the specimen (warm
ischaemia of a biopsy, fixation time of a snap-frozen core, a second centrifugation that did not
happen) gives "not applicable" (``N``).

The ``source`` column says where each row comes from: ``v2-T1`` rows were checked against SPREC
2.0 Table 1 (Lehmann et al., Biopreserv Biobank 2012;10(4):366-374, doi:10.1089/bio.2012.0012),
whose fluid codes SPREC 3.0 keeps; ``recalled`` rows must still be checked against SPREC 3.0
Tables 1-2 (Betsou et al., Biopreserv Biobank 2018;16(1):9-12, doi:10.1089/bio.2017.0109) by a
person; correcting the table corrects every derived code.

The two centrifugation elements are derived from each spin's recorded settings (temperature, × g,
minutes, braking; ``centrifugation.py``) by ``data/sprec_centrifugation.csv``: one row per letter
with half-open ranges ``[lo, hi)`` of temperature (°C), duration (minutes) and force (× g) and the
braking (``on``/``off``). Only rows whose source is ``v2-T1`` (checked against SPREC 2.0 Table 1)
are used. A spin that matches no such row is "unknown", never "other": "other" would claim the
settings are outside every SPREC row, which only the complete verified table could say. The
centrifugation rows of Table 1 have not been checked yet (the copy read stops at the
pre-centrifugation rows), so the table holds none and a recorded spin is coded ``X`` with its
settings in the meaning, until a person transcribes and checks the rows; no letter is guessed.

References
----------
Betsou F. et al. Standard PREanalytical Code version 3.0. Biopreserv Biobank 2018;16(1):9-12.
Lehmann S. et al. Standard preanalytical coding for biospecimens: review and implementation of
the SPREC. Biopreserv Biobank 2012;10(4):366-374.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources

from .centrifugation import Spin

SPREC_VERSION = "3.0"
FLUID_TYPES = frozenset({"whole_blood", "bone_marrow", "plasma", "serum", "buffy_coat", "pbmc"})
SOLID_TYPES = frozenset({"tissue_ffpe", "tissue_frozen"})
THREE_LETTER = frozenset({"type", "container", "collection", "fixation"})
FLUID_ELEMENTS = (
    "type",
    "container",
    "precentrifugation",
    "centrifugation",
    "second_centrifugation",
    "postcentrifugation",
    "storage",
)
SOLID_ELEMENTS = (
    "type",
    "collection",
    "warm_ischaemia",
    "cold_ischaemia",
    "fixation",
    "fixation_time",
    "storage",
)
_NOT_FIXED = frozenset({"SNP", "OCT"})  # frozen, not fixed: no fixation time
VERIFIED = frozenset({"v2-T1"})


@dataclass(frozen=True, slots=True)
class Row:
    matrix: str
    element: str
    code: str
    key: str
    lo: float | None
    hi: float | None
    temp: str
    label: str
    source: str


@cache
def sprec_table() -> tuple[Row, ...]:
    text = resources.files("oncotrials.core.biobank").joinpath("data/sprec.csv").read_text("utf-8")
    return tuple(
        Row(
            r["matrix"],
            r["element"],
            r["code"],
            r["key"],
            float(r["lo"]) if r["lo"] else None,
            float(r["hi"]) if r["hi"] else None,
            r["temp"],
            r["label"],
            r["source"],
        )
        for r in csv.DictReader(text.splitlines())
    )


@dataclass(frozen=True, slots=True)
class SpinRow:
    """A centrifugation letter: half-open ranges (``None`` = unbounded) and the braking."""

    element: str  # centrifugation | second_centrifugation
    code: str
    temp: tuple[float | None, float | None]
    minutes: tuple[float | None, float | None]
    g: tuple[float | None, float | None]
    braking: str  # on | off
    label: str
    source: str

    def matches(self, spin: Spin) -> bool:
        def within(value: float | None, bounds: tuple[float | None, float | None]) -> bool:
            lo, hi = bounds
            return value is not None and (lo is None or value >= lo) and (hi is None or value < hi)

        return (
            within(spin.temp_c, self.temp)
            and within(spin.minutes, self.minutes)
            and within(spin.g, self.g)
            and spin.braking is (self.braking == "on")
        )


def _bound(text: str) -> float | None:
    return float(text) if text.strip() else None


def spin_rows_parse(text: str) -> tuple[SpinRow, ...]:
    """The rows of a centrifugation table (CSV text with the header of
    ``data/sprec_centrifugation.csv``)."""
    rows = []
    for r in csv.DictReader(text.splitlines()):
        if r["braking"] not in {"on", "off"}:
            raise ValueError(f"sprec_centrifugation.csv: braking must be on or off: {r}")
        if r["element"] not in {"centrifugation", "second_centrifugation"}:
            raise ValueError(f"sprec_centrifugation.csv: unknown element: {r}")
        rows.append(
            SpinRow(
                r["element"],
                r["code"],
                (_bound(r["temp_lo"]), _bound(r["temp_hi"])),
                (_bound(r["min_lo"]), _bound(r["min_hi"])),
                (_bound(r["g_lo"]), _bound(r["g_hi"])),
                r["braking"],
                r["label"],
                r["source"],
            )
        )
    return tuple(rows)


@cache
def spin_table() -> tuple[SpinRow, ...]:
    path = resources.files("oncotrials.core.biobank").joinpath("data/sprec_centrifugation.csv")
    return spin_rows_parse(path.read_text("utf-8"))


def spin_element(
    element: str, spin: Spin | None, table: tuple[SpinRow, ...] | None = None
) -> tuple[str, str]:
    """The letter of one centrifugation from its settings; only verified rows are used."""
    if spin is None or not spin.complete:
        missing = ", ".join((spin or Spin()).missing())
        return "X", f"unknown (not recorded: {missing})"
    for row in spin_table() if table is None else table:
        if row.element == element and row.source in VERIFIED and row.matches(spin):
            return row.code, row.label
    return "X", f"unknown (no verified SPREC row for {spin.describe()})"


@dataclass(frozen=True, slots=True)
class SprecInput:
    specimen_type: str
    collection_procedure: str = ""
    warm_ischaemia_min: int | None = None
    cold_ischaemia_min: int | None = None
    fixative: str = ""
    fixation_hours: float | None = None
    container_type: str = ""
    precentrifugation_delay_min: int | None = None
    precentrifugation_temp: str = ""
    centrifugations: int | None = None
    postcentrifugation_delay_min: int | None = None
    storage_temperature: str = ""
    first_spin: Spin | None = None
    second_spin: Spin | None = None


@dataclass(frozen=True, slots=True)
class Sprec:
    code: str
    elements: tuple[tuple[str, str, str], ...]  # (element, letter(s), meaning)


def _unknown(element: str) -> str:
    return "XXX" if element in THREE_LETTER else "X"


def _other(element: str) -> str:
    return "ZZZ" if element in THREE_LETTER else "Z"


def _by_key(matrix: str, element: str, key: str | None) -> tuple[str, str]:
    if key is None or key == "":
        return _unknown(element), "unknown"
    for r in sprec_table():
        if r.matrix == matrix and r.element == element and r.key == key:
            return r.code, r.label
    return _other(element), f"other ({key})"


def _by_range(matrix: str, element: str, value: float | None, temp: str = "") -> tuple[str, str]:
    if value is None:
        return _unknown(element), "unknown"
    for r in sprec_table():
        if r.matrix != matrix or r.element != element:
            continue
        if r.temp and r.temp != temp:
            continue
        if (r.lo is None or value >= r.lo) and (r.hi is None or value < r.hi):
            return r.code, r.label
    return (_unknown(element), "unknown temperature") if not temp else (_other(element), "other")


NA = ("N", "not applicable")


def sprec_code(x: SprecInput, *, spin_rows: tuple[SpinRow, ...] | None = None) -> Sprec:
    """The 7-element SPREC of a specimen; ``"N/A"`` for types SPREC does not code (derivatives
    take the code of the primary specimen they come from). ``spin_rows`` replaces the shipped
    centrifugation table (tests)."""
    if x.specimen_type in FLUID_TYPES:
        spins = x.centrifugations
        kind = x.specimen_type
        if kind == "plasma" and spins is not None:
            kind = f"plasma:{min(spins, 2)}"
        parts = {
            "type": _by_key(
                "fluid", "type", kind if spins is not None or kind != "plasma" else None
            ),
            "container": _by_key("fluid", "container", x.container_type or None),
            "precentrifugation": NA
            if spins == 0
            else _by_range(
                "fluid",
                "precentrifugation",
                x.precentrifugation_delay_min,
                x.precentrifugation_temp,
            ),
            "centrifugation": NA
            if spins == 0
            else spin_element("centrifugation", x.first_spin, spin_rows),
            "second_centrifugation": NA
            if spins is not None and spins < 2
            else spin_element("second_centrifugation", x.second_spin, spin_rows),
            # The post-centrifugation letters pair delay with temperature, not recorded yet.
            "postcentrifugation": NA if spins == 0 else ("X", "unknown"),
            "storage": _by_key("fluid", "storage", x.storage_temperature or None),
        }
        order = FLUID_ELEMENTS
    elif x.specimen_type in SOLID_TYPES:
        fix = x.fixative.upper()
        parts = {
            "type": _by_key("solid", "type", x.specimen_type),
            "collection": _by_key("solid", "collection", x.collection_procedure or None),
            "warm_ischaemia": NA
            if x.collection_procedure in {"core_needle", "fna"}
            else _by_range("solid", "warm_ischaemia", x.warm_ischaemia_min),
            "cold_ischaemia": _by_range("solid", "cold_ischaemia", x.cold_ischaemia_min),
            "fixation": _by_key("solid", "fixation", fix or None),
            "fixation_time": NA
            if fix in _NOT_FIXED
            else _by_range("solid", "fixation_time", x.fixation_hours),
            "storage": ("Z", "other (paraffin block, room temperature)")
            if x.specimen_type == "tissue_ffpe" and x.storage_temperature in {"", "RT"}
            else _by_key("solid", "storage", x.storage_temperature or None),
        }
        order = SOLID_ELEMENTS
    else:
        return Sprec("N/A", ())
    elements = tuple((e, parts[e][0], parts[e][1]) for e in order)
    return Sprec("-".join(p[1] for p in elements), elements)
