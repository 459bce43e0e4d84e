"""Protein-change notation: one-letter ``p.G12C`` and three-letter ``p.Gly12Cys``, both ways.

Accepts what real files carry: HGVSp (``p.Asn139GlnfsTer5``), HGVSp_Short (``p.N139Qfs*5``,
``p.X168_splice``), TCGA-era ``Protein_Change`` (``p.R132C``, ``p.WQ288fs``), bare
``amino_acid_change`` (``V536L``, ``E946X``), predicted parentheses (``p.(Gly12Cys)``), ``X`` as a
legacy stop, ``=`` and repeated residue (``p.I167I``) for synonymous changes, in-frame
deletions, insertions, duplications, delins, extensions and start loss.

References
----------
den Dunnen JT et al. HGVS recommendations for the description of sequence variants: 2016 update.
Hum Mutat 2016;37(6):564-569 (protein nomenclature, section p.).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "ProteinChange",
    "ProteinChangeKind",
    "normalise_protein_change",
    "parse_protein_change",
    "to_long",
    "to_short",
]

THREE_TO_ONE: dict[str, str] = {
    "Ala": "A",
    "Arg": "R",
    "Asn": "N",
    "Asp": "D",
    "Cys": "C",
    "Gln": "Q",
    "Glu": "E",
    "Gly": "G",
    "His": "H",
    "Ile": "I",
    "Leu": "L",
    "Lys": "K",
    "Met": "M",
    "Phe": "F",
    "Pro": "P",
    "Ser": "S",
    "Thr": "T",
    "Trp": "W",
    "Tyr": "Y",
    "Val": "V",
    "Sec": "U",
    "Pyl": "O",
    "Ter": "*",
    "Xaa": "X",
}
ONE_TO_THREE: dict[str, str] = {v: k for k, v in THREE_TO_ONE.items()}

_THREE_RE = re.compile("|".join(k for k in THREE_TO_ONE))
_AA = "ACDEFGHIKLMNPQRSTVWYUOX*"
_A = f"[{re.escape(_AA)}]"


class ProteinChangeKind(enum.StrEnum):
    MISSENSE = "missense"
    NONSENSE = "nonsense"
    SYNONYMOUS = "synonymous"
    FRAMESHIFT = "frameshift"
    DELETION = "deletion"
    INSERTION = "insertion"
    DUPLICATION = "duplication"
    DELINS = "delins"
    EXTENSION = "extension"  # stop loss
    START_LOSS = "start_loss"
    SPLICE = "splice"
    UNKNOWN = "unknown"  # p.? or p.0


@dataclass(frozen=True, slots=True)
class ProteinChange:
    """A parsed protein change. Residues are one-letter; ``ref`` may hold several (``WQ``)."""

    kind: ProteinChangeKind
    ref: str = ""
    position: int | None = None
    end_ref: str = ""
    end_position: int | None = None
    alt: str = ""
    tail: str = ""  # frameshift / extension stop: "" (not given), "5", "?"

    @property
    def short(self) -> str:
        return "p." + self._format(lambda s: s)

    @property
    def long(self) -> str:
        return "p." + self._format(_three)

    def _format(self, aa: Callable[[str], str]) -> str:
        k = self.kind
        if k is ProteinChangeKind.UNKNOWN:
            return self.ref or "?"
        start = f"{aa(self.ref)}{self.position if self.position is not None else ''}"
        rng = start
        if self.end_position is not None:
            rng += f"_{aa(self.end_ref)}{self.end_position}"
        if k is ProteinChangeKind.SYNONYMOUS:
            return f"{start}="
        if k in (ProteinChangeKind.MISSENSE, ProteinChangeKind.NONSENSE):
            return f"{start}{aa(self.alt)}"
        if k is ProteinChangeKind.START_LOSS:
            return f"{start}?"
        if k is ProteinChangeKind.SPLICE:
            return f"{rng}_splice"
        if k is ProteinChangeKind.FRAMESHIFT:
            tail = f"{aa('*')}{self.tail}" if self.tail else ""
            return f"{rng}{aa(self.alt)}fs{tail}"
        if k is ProteinChangeKind.DELETION:
            return f"{rng}del"
        if k is ProteinChangeKind.DUPLICATION:
            return f"{rng}dup"
        if k is ProteinChangeKind.INSERTION:
            return f"{rng}ins{aa(self.alt)}"
        if k is ProteinChangeKind.DELINS:
            return f"{rng}delins{aa(self.alt)}"
        # extension: p.*757Lext*? / p.Ter757LeuextTer?
        return f"{start}{aa(self.alt)}ext{aa('*')}{self.tail}"


def _three(residues: str) -> str:
    return "".join(ONE_TO_THREE.get(r, r) for r in residues)


_P = re.compile
_SYN = _P(rf"^({_A})(\d+)=$")
_POINT = _P(rf"^({_A})(\d+)({_A})$")
_START_LOSS = _P(r"^M1\?$")
_SPLICE = _P(rf"^({_A}?)(\d+)(?:_({_A}?)(\d+))?_?splice$")
_FS = _P(rf"^({_A}*)(\d+)(?:_({_A}?)(\d+))?({_A}?)fs(?:\*(\d+|\?)?)?$")
_DEL = _P(rf"^({_A})(\d+)(?:_({_A})(\d+))?del{_A}*$")
_DUP = _P(rf"^({_A})(\d+)(?:_({_A})(\d+))?dup{_A}*$")
_INS = _P(rf"^({_A}?)(\d+)_({_A}?)(\d+)ins({_A}+)$")
_DELINS = _P(rf"^({_A})(\d+)(?:_({_A})(\d+))?delins({_A}+)$")
_EXT = _P(rf"^\*(\d+)({_A})ext\*(\d+|\?)?$")


def _clean(text: str) -> str:
    t = text.strip()
    if t.startswith("p."):
        t = t[2:]
    elif t.startswith("."):  # seen in real files: ".E546K"
        t = t[1:]
    if t.startswith("(") and t.endswith(")"):
        t = t[1:-1]
    t = _THREE_RE.sub(lambda m: THREE_TO_ONE[m.group(0)], t)
    return t


def _int(s: str | None) -> int | None:
    return int(s) if s else None


@lru_cache(maxsize=65536)
def parse_protein_change(text: str) -> ProteinChange | None:
    """Parse a protein change in any common style; None when it is not recognisable.

    >>> parse_protein_change("p.Gly12Cys").short
    'p.G12C'
    >>> parse_protein_change("G12C").long
    'p.Gly12Cys'
    """
    if not text or text.strip() in {"", "NA", "N/A", ".", "-", "nan", "None"}:
        return None
    t = _clean(text)
    K = ProteinChangeKind
    if t in {"?", "0", "=", "0?"}:
        return ProteinChange(K.UNKNOWN, ref=t)
    if m := _SYN.match(t):
        return ProteinChange(K.SYNONYMOUS, m[1], int(m[2]))
    if _START_LOSS.match(t):
        return ProteinChange(K.START_LOSS, "M", 1)
    if m := _POINT.match(t):
        ref, pos, alt = m[1], int(m[2]), m[3]
        if ref == "*" and alt != "*":
            return ProteinChange(K.EXTENSION, "*", pos, alt=alt, tail="?")
        if alt == "X" and ref != "X":  # legacy stop: E946X
            alt = "*"
        if alt == ref:
            return ProteinChange(K.SYNONYMOUS, ref, pos)
        # p.M1V stays a substitution (the file said which residue); only p.M1? is start loss.
        kind = K.NONSENSE if alt == "*" else K.MISSENSE
        return ProteinChange(kind, ref, pos, alt=alt)
    if m := _SPLICE.match(t):
        return ProteinChange(K.SPLICE, m[1] or "X", int(m[2]), m[3] or "", _int(m[4]))
    if m := _DELINS.match(t):
        return ProteinChange(K.DELINS, m[1], int(m[2]), m[3] or "", _int(m[4]), alt=m[5])
    if m := _DEL.match(t):
        return ProteinChange(K.DELETION, m[1], int(m[2]), m[3] or "", _int(m[4]))
    if m := _DUP.match(t):
        return ProteinChange(K.DUPLICATION, m[1], int(m[2]), m[3] or "", _int(m[4]))
    if m := _INS.match(t):
        return ProteinChange(K.INSERTION, m[1], int(m[2]), m[3], int(m[4]), alt=m[5])
    if m := _FS.match(t):
        return ProteinChange(
            K.FRAMESHIFT, m[1], int(m[2]), m[3] or "", _int(m[4]), alt=m[5], tail=m[6] or ""
        )
    if m := _EXT.match(t):
        return ProteinChange(K.EXTENSION, "*", int(m[1]), alt=m[2], tail=m[3] or "?")
    return None


def normalise_protein_change(text: str | None) -> str | None:
    """The one-letter form (``p.G12C``) of any recognisable protein change, else None."""
    if text is None:
        return None
    parsed = parse_protein_change(text)
    return parsed.short if parsed else None


def to_short(text: str) -> str:
    """One-letter form; raises ValueError naming the text when it cannot be parsed."""
    parsed = parse_protein_change(text)
    if parsed is None:
        raise ValueError(f"Not a recognisable protein change: {text!r}")
    return parsed.short


def to_long(text: str) -> str:
    """Three-letter form (``p.Gly12Cys``); raises ValueError when it cannot be parsed."""
    parsed = parse_protein_change(text)
    if parsed is None:
        raise ValueError(f"Not a recognisable protein change: {text!r}")
    return parsed.long
