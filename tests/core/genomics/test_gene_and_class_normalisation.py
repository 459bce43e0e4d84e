from __future__ import annotations

import pytest

from oncotrials.core.genomics.genes import (
    canonical_spelling,
    normalise_gene,
    normalise_variant_class,
)
from oncotrials.core.genomics.model import VariantClass


@pytest.mark.parametrize(
    ("raw", "symbol"),
    [
        ("FLT3_ITD", "FLT3"),  # maftools APL fixtures
        ("ACPP", "ACP3"),  # HGNC rename; study_es_0 already uses ACP3
        ("MLL2", "KMT2D"),  # TCGA LAML MAF uses the previous symbol
        (" her2 ", "ERBB2"),
        ("KRAS", "KRAS"),
        ("C10orf54", "C10orf54"),
    ],
)
def test_gene_symbols_resolve_to_official_symbols(raw: str, symbol: str) -> None:
    assert normalise_gene(raw) == symbol


@pytest.mark.parametrize(
    ("raw", "vtype", "expected"),
    [
        ("Missense_Mutation", None, VariantClass.MISSENSE),
        ("MISSENSE_VARIANT", None, VariantClass.MISSENSE),
        ("missense_variant", None, VariantClass.MISSENSE),
        ("stop_gained", None, VariantClass.NONSENSE),
        ("frameshift_variant", "INS", VariantClass.FRAME_SHIFT_INS),
        ("frameshift_variant", "DEL", VariantClass.FRAME_SHIFT_DEL),
        ("splice_region_variant&intron_variant", None, VariantClass.SPLICE_REGION),
        ("ITD", None, VariantClass.IN_FRAME_INS),
        ("3'UTR", None, VariantClass.UTR3),
    ],
)
def test_variant_classes_normalise(raw: str, vtype: str | None, expected: VariantClass) -> None:
    assert normalise_variant_class(raw, vtype) is expected


@pytest.mark.parametrize("raw", ["Missense_mUtAtioN", "missense_mutation", "FRAME_SHIFT_DEL"])
def test_case_mangled_maf_classes_are_outside_the_vocabulary(raw: str) -> None:
    """MAF spellings are case-sensitive; only the SO terms and vendor words are not."""
    assert normalise_variant_class(raw) is None
    assert canonical_spelling(raw) in {"Missense_Mutation", "Frame_Shift_Del"}
    assert canonical_spelling("Missense_Mutation") is None


def test_unknown_variant_class_is_none() -> None:
    assert normalise_variant_class("Bogus_Change") is None
    assert normalise_variant_class("") is None


def test_silent_classes_are_not_protein_altering() -> None:
    assert not VariantClass.SILENT.is_protein_altering
    assert not VariantClass.SPLICE_REGION.is_protein_altering
    assert VariantClass.SPLICE_SITE.is_protein_altering
