"""Gene symbols and variant classes, normalised.

Gene symbols: official HGNC symbols are kept as written (trimmed); a small shipped alias table
(``data/gene_aliases.csv``, one source per row) maps previous symbols and vendor spellings seen
in real files (``ACPP`` -> ``ACP3``, ``FLT3_ITD`` -> ``FLT3``, ``HER2`` -> ``ERBB2``).

Variant classes: a controlled vocabulary. MAF ``Variant_Classification`` values are matched
exactly as the specification spells them (``missense_mutation`` is refused, with the canonical
spelling named); the Sequence Ontology consequence terms VEP writes (``missense_variant`` ...)
and a few vendor words are matched case-insensitively, because the vocabulary says so for them.
Whatever was read is stored in the canonical MAF spelling.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

from oncotrials.core.genomics.model import VariantClass

__all__ = [
    "canonical_spelling",
    "gene_aliases",
    "normalise_gene",
    "normalise_variant_class",
    "variant_class_needs_type",
]


@lru_cache(maxsize=1)
def gene_aliases() -> dict[str, str]:
    """Alias (upper case) -> official symbol, from the shipped table."""
    text = resources.files("oncotrials.core.genomics").joinpath("data/gene_aliases.csv")
    with text.open(encoding="utf-8") as fh:
        return {row["alias"].upper(): row["symbol"] for row in csv.DictReader(fh)}


def normalise_gene(symbol: str) -> str:
    """Official symbol for ``symbol`` (trimmed; aliases resolved); '' stays ''."""
    s = symbol.strip()
    return gene_aliases().get(s.upper(), s)


_EXACT: dict[str, VariantClass] = {vc.value: vc for vc in VariantClass}
_BY_LOWER: dict[str, VariantClass] = {vc.value.lower(): vc for vc in VariantClass}


def canonical_spelling(text: str) -> str | None:
    """The MAF spelling of a class written in another case (``MISSENSE_MUTATION``), else None."""
    vc = _BY_LOWER.get(text.strip().lower())
    return vc.value if vc is not None and vc.value != text.strip() else None


# Sequence Ontology consequences as VEP writes them (vcf2maf's mapping, re-derived from the SO
# term definitions), and vendor words: the part of the vocabulary matched case-insensitively.
_SYNONYMS: dict[str, VariantClass] = {
    "missense_variant": VariantClass.MISSENSE,
    "missense": VariantClass.MISSENSE,
    "stop_gained": VariantClass.NONSENSE,
    "nonsense": VariantClass.NONSENSE,
    "stop_lost": VariantClass.NONSTOP,
    "start_lost": VariantClass.TRANSLATION_START_SITE,
    "inframe_deletion": VariantClass.IN_FRAME_DEL,
    "inframe_insertion": VariantClass.IN_FRAME_INS,
    "splice_acceptor_variant": VariantClass.SPLICE_SITE,
    "splice_donor_variant": VariantClass.SPLICE_SITE,
    "splice": VariantClass.SPLICE_SITE,
    "splice_region_variant": VariantClass.SPLICE_REGION,
    "synonymous_variant": VariantClass.SILENT,
    "stop_retained_variant": VariantClass.SILENT,
    "synonymous": VariantClass.SILENT,
    "intron_variant": VariantClass.INTRON,
    "3_prime_utr_variant": VariantClass.UTR3,
    "5_prime_utr_variant": VariantClass.UTR5,
    "downstream_gene_variant": VariantClass.FLANK3,
    "upstream_gene_variant": VariantClass.FLANK5,
    "intergenic_variant": VariantClass.IGR,
    "non_coding_transcript_exon_variant": VariantClass.RNA,
    "mature_mirna_variant": VariantClass.RNA,
    # FLT3 internal tandem duplications are in-frame insertions (maftools APL fixtures use "ITD").
    "itd": VariantClass.IN_FRAME_INS,
    "fusion": VariantClass.FUSION,
}


def normalise_variant_class(text: str, variant_type: str | None = None) -> VariantClass | None:
    """The MAF class for ``text``; None when unrecognised.

    ``frameshift_variant`` needs ``variant_type`` (``DEL``/``INS``) to tell Del from Ins; without
    it Frame_Shift_Del is returned, as vcf2maf does when the alleles do not say.
    A VEP ``&``-joined list (``splice_region_variant&intron_variant``) is classed by its first
    term. MAF spellings must match exactly (see :func:`canonical_spelling` for the message).
    """
    t = text.strip()
    if not t:
        return None
    if t in _EXACT:
        return _EXACT[t]
    low = t.lower()
    first = low.split("&")[0].split(",")[0]
    if first in ("frameshift_variant", "frameshift"):
        if variant_type and variant_type.strip().upper() == "INS":
            return VariantClass.FRAME_SHIFT_INS
        return VariantClass.FRAME_SHIFT_DEL
    if first == "protein_altering_variant":
        if variant_type and variant_type.strip().upper() == "INS":
            return VariantClass.IN_FRAME_INS
        return VariantClass.IN_FRAME_DEL
    return _SYNONYMS.get(first)


_TYPE_DEPENDENT = frozenset({"frameshift_variant", "frameshift", "protein_altering_variant"})


def variant_class_needs_type(text: str) -> bool:
    """True when the class of ``text`` depends on the variant type (Del or Ins).

    The MAF spellings never do; VEP's ``frameshift_variant`` and ``protein_altering_variant``
    (first term of an ``&``-joined list) do. Readers normalise each distinct class once and
    look at the variant type only for these.
    """
    low = text.strip().lower()
    if low in _BY_LOWER:
        return False
    return low.split("&")[0].split(",")[0] in _TYPE_DEPENDENT
