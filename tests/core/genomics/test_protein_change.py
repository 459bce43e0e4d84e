"""Protein-change notation, both directions (HGVS 2016, den Dunnen et al., Hum Mutat 37:564)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncotrials.core.genomics.protein import (
    ONE_TO_THREE,
    ProteinChangeKind,
    normalise_protein_change,
    parse_protein_change,
    to_long,
    to_short,
)


@pytest.mark.parametrize(
    ("text", "short", "long", "kind"),
    [
        ("p.G12C", "p.G12C", "p.Gly12Cys", ProteinChangeKind.MISSENSE),
        ("p.Gly12Cys", "p.G12C", "p.Gly12Cys", ProteinChangeKind.MISSENSE),
        ("G12C", "p.G12C", "p.Gly12Cys", ProteinChangeKind.MISSENSE),
        ("p.(Gly12Cys)", "p.G12C", "p.Gly12Cys", ProteinChangeKind.MISSENSE),
        ("p.R175*", "p.R175*", "p.Arg175Ter", ProteinChangeKind.NONSENSE),
        ("p.Arg175Ter", "p.R175*", "p.Arg175Ter", ProteinChangeKind.NONSENSE),
        ("E946X", "p.E946*", "p.Glu946Ter", ProteinChangeKind.NONSENSE),  # legacy X stop (APL MAF)
        ("p.S406=", "p.S406=", "p.Ser406=", ProteinChangeKind.SYNONYMOUS),
        ("p.I167I", "p.I167=", "p.Ile167=", ProteinChangeKind.SYNONYMOUS),
        # vcf2maf test_b38_output.maf: HGVSp p.Asn139GlnfsTer5 / HGVSp_Short p.N139Qfs*5
        ("p.Asn139GlnfsTer5", "p.N139Qfs*5", "p.Asn139GlnfsTer5", ProteinChangeKind.FRAMESHIFT),
        ("p.N139Qfs*5", "p.N139Qfs*5", "p.Asn139GlnfsTer5", ProteinChangeKind.FRAMESHIFT),
        ("p.WQ288fs", "p.WQ288fs", "p.TrpGln288fs", ProteinChangeKind.FRAMESHIFT),  # TCGA NPM1
        ("N146_A147fs", "p.N146_A147fs", "p.Asn146_Ala147fs", ProteinChangeKind.FRAMESHIFT),
        ("p.X168_splice", "p.X168_splice", "p.Xaa168_splice", ProteinChangeKind.SPLICE),
        ("p.E746_A750del", "p.E746_A750del", "p.Glu746_Ala750del", ProteinChangeKind.DELETION),
        ("p.Glu746_Ala750del", "p.E746_A750del", "p.Glu746_Ala750del", ProteinChangeKind.DELETION),
        (
            "p.L747_P753delinsS",
            "p.L747_P753delinsS",
            "p.Leu747_Pro753delinsSer",
            ProteinChangeKind.DELINS,
        ),
        (
            "p.A763_Y764insFQEA",
            "p.A763_Y764insFQEA",
            "p.Ala763_Tyr764insPheGlnGluAla",
            ProteinChangeKind.INSERTION,
        ),
        ("p.A767_V769dup", "p.A767_V769dup", "p.Ala767_Val769dup", ProteinChangeKind.DUPLICATION),
        ("p.*757Lext*?", "p.*757Lext*?", "p.Ter757LeuextTer?", ProteinChangeKind.EXTENSION),
        ("p.Met1?", "p.M1?", "p.Met1?", ProteinChangeKind.START_LOSS),
        (".E546K", "p.E546K", "p.Glu546Lys", ProteinChangeKind.MISSENSE),  # stray dot in APL MAF
    ],
)
def test_protein_change_is_normalised_both_ways(
    text: str, short: str, long: str, kind: ProteinChangeKind
) -> None:
    parsed = parse_protein_change(text)
    assert parsed is not None
    assert (parsed.short, parsed.long, parsed.kind) == (short, long, kind)
    assert to_short(long) == short
    assert to_long(short) == long


@pytest.mark.parametrize("text", ["", "NA", "645_645M>MISENMNM", "p.A195V;p.I196T", "spam"])
def test_unrecognisable_protein_change_gives_none(text: str) -> None:
    assert normalise_protein_change(text) is None


def test_to_short_names_the_text_it_cannot_parse() -> None:
    with pytest.raises(ValueError, match="645_645M>MISENMNM"):
        to_short("645_645M>MISENMNM")


_AA = [a for a in ONE_TO_THREE if a not in "*X"]


@given(st.sampled_from(_AA), st.integers(1, 5000), st.sampled_from(_AA))
def test_any_substitution_round_trips_through_three_letters(ref: str, pos: int, alt: str) -> None:
    short = f"p.{ref}{pos}{alt}"
    expected = f"p.{ref}{pos}=" if ref == alt else short
    assert to_short(to_long(short)) == expected


@given(st.text(max_size=40))
def test_parser_never_raises_on_arbitrary_text(text: str) -> None:
    parsed = parse_protein_change(text)
    if parsed is not None:
        # whatever it accepted must be stable under both spellings
        assert to_short(parsed.long) == parsed.short
        assert to_short(parsed.short) == parsed.short
